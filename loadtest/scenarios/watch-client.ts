// A child process holding many watches open and timing every event: the stand-in shard stamps each
// event with its send time. HTTP/1.1: one TLS connection per watch, like many kubectl/controller
// processes. HTTP/2 (`streamsPerConnection`): that many watches as streams of one connection, as
// client-go's informers of one process share theirs.
import { request, Agent } from 'node:https';
import type { IncomingMessage } from 'node:http';
import { connect, type ClientHttp2Session } from 'node:http2';
import { monotonicMs } from '../lib/clock.ts';

export interface WatchClientOptions {
  port: number;
  path: string;
  headers: Record<string, string>;
  ca: string;
  count: number;
  /** Open the watches over HTTP/2, this many per connection. */
  streamsPerConnection?: number;
}

export type WatchClientMessage =
  | { type: 'ready'; open: number; failed: number; firstError?: string }
  | { type: 'latencies'; latencies: number[]; bytes: number; lastAt: number }
  | { type: 'count'; received: number };

const options = JSON.parse(process.argv[2] ?? '{}') as WatchClientOptions;
const agent = new Agent({ keepAlive: false, maxSockets: Infinity, ca: options.ca });
const sentPattern = /"bench\.kcp-edge\.io\/sent":"([\d.]+)"/g;
let latencies: number[] = [];
let bytes = 0;
/** When the last event was read (see monotonicMs). */
let lastAt = 0;
const responses: IncomingMessage[] = [];
const sessions: ClientHttp2Session[] = [];

/** Feeds one watch's chunks to the latency record. */
function timing(): (chunk: string) => void {
  let pending = '';
  return (chunk: string) => {
    const at = monotonicMs();
    bytes += chunk.length;
    pending += chunk;
    const lastNewline = pending.lastIndexOf('\n');
    if (lastNewline === -1) return;
    const complete = pending.slice(0, lastNewline);
    pending = pending.slice(lastNewline + 1);
    for (const match of complete.matchAll(sentPattern)) latencies.push(at - Number(match[1]));
    lastAt = at;
  };
}

function openH2Watch(session: ClientHttp2Session): Promise<void> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':method': 'GET', ':path': options.path, ...options.headers });
    stream.on('response', (headers) => {
      if (headers[':status'] !== 200) {
        reject(new Error(`watch answered ${String(headers[':status'])}`));
        stream.resume();
        return;
      }
      stream.setEncoding('utf8');
      stream.on('data', timing());
      resolve();
    });
    stream.on('error', reject);
  });
}

function openSession(): Promise<ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = connect(`https://127.0.0.1:${options.port}`, { ca: options.ca, servername: 'localhost' });
    session.once('connect', () => resolve(session));
    session.once('error', reject);
    session.on('error', () => {});
    sessions.push(session);
  });
}

function openWatch(): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: options.port, path: options.path, headers: options.headers, agent, servername: 'localhost' }, (res) => {
      if (res.statusCode !== 200) {
        reject(new Error(`watch answered ${res.statusCode}`));
        res.resume();
        return;
      }
      responses.push(res);
      res.setEncoding('utf8');
      res.on('data', timing());
      res.on('error', () => {});
      resolve();
    });
    req.on('error', reject);
    req.end();
  });
}

async function main(): Promise<void> {
  let open = 0;
  let failed = 0;
  let firstError: string | undefined;
  const perConnection = options.streamsPerConnection;
  let session: ClientHttp2Session | undefined;
  // In batches: thousands of simultaneous handshakes would only measure the listen backlog.
  for (let i = 0; i < options.count; i += 100) {
    const batch: Promise<void>[] = [];
    for (let j = i; j < Math.min(i + 100, options.count); j++) {
      if (perConnection === undefined) batch.push(openWatch());
      else {
        if (j % perConnection === 0) session = await openSession();
        batch.push(openH2Watch(session!));
      }
    }
    for (const result of await Promise.allSettled(batch)) {
      if (result.status === 'fulfilled') open += 1;
      else {
        failed += 1;
        firstError ??= String(result.reason);
      }
    }
  }
  process.send?.({ type: 'ready', open, failed, ...(firstError === undefined ? {} : { firstError }) } satisfies WatchClientMessage);
}

process.on('message', (message: { type?: string }) => {
  if (message.type === 'count') {
    process.send?.({ type: 'count', received: latencies.length } satisfies WatchClientMessage);
  } else if (message.type === 'latencies') {
    process.send?.({ type: 'latencies', latencies, bytes, lastAt } satisfies WatchClientMessage);
    latencies = [];
  } else if (message.type === 'close') {
    for (const res of responses) res.destroy();
    for (const session of sessions) session.destroy();
    agent.destroy();
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));
void main();
