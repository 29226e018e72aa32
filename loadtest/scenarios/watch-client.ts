// A child process holding many watches open (one TLS connection each, like many kubectl/controller
// processes) and timing every event: the stand-in shard stamps each event with its send time.
import { request, Agent } from 'node:https';
import type { IncomingMessage } from 'node:http';

export interface WatchClientOptions {
  port: number;
  path: string;
  headers: Record<string, string>;
  ca: string;
  count: number;
}

export type WatchClientMessage =
  { type: 'ready'; open: number; failed: number; firstError?: string } | { type: 'latencies'; latencies: number[]; bytes: number } | { type: 'count'; received: number };

const options = JSON.parse(process.argv[2] ?? '{}') as WatchClientOptions;
const agent = new Agent({ keepAlive: false, maxSockets: Infinity, ca: options.ca });
const now = () => performance.timeOrigin + performance.now();
const sentPattern = /"bench\.kcp-edge\.io\/sent":"([\d.]+)"/g;
let latencies: number[] = [];
let bytes = 0;
const responses: IncomingMessage[] = [];

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
      let pending = '';
      res.on('data', (chunk: string) => {
        const at = now();
        bytes += chunk.length;
        pending += chunk;
        const lastNewline = pending.lastIndexOf('\n');
        if (lastNewline === -1) return;
        const complete = pending.slice(0, lastNewline);
        pending = pending.slice(lastNewline + 1);
        for (const match of complete.matchAll(sentPattern)) latencies.push(at - Number(match[1]));
      });
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
  // In batches: thousands of simultaneous handshakes would only measure the listen backlog.
  for (let i = 0; i < options.count; i += 100) {
    const batch = Array.from({ length: Math.min(100, options.count - i) }, () => openWatch());
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
    process.send?.({ type: 'latencies', latencies, bytes } satisfies WatchClientMessage);
    latencies = [];
  } else if (message.type === 'close') {
    for (const res of responses) res.destroy();
    agent.destroy();
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));
void main();
