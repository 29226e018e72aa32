// The upstream every target forwards to: one Node HTTPS worker standing in for a KCP shard's list
// endpoint. It answers the fixed ConfigMapList, honours requestheader authentication the way
// kube-apiserver does (X-Remote-* headers only from a verified client certificate), and counts the TLS
// connections it accepts so the bench can see a proxy reconnecting mid-run. Watches (`watch=1`) stay
// open and receive an event, stamped with its send time, each time the bench says "emit".
// Run as a child with IPC.
import type { ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import { readFileSync } from 'node:fs';
import type { TLSSocket } from 'node:tls';
import { LIST_BODY, LIST_PATH } from './body.ts';

export interface UpstreamOptions {
  certFile: string;
  keyFile: string;
  /** CA of the client certificates a front proxy presents (requestheader authentication). */
  clientCaFile: string;
}

export type UpstreamMessage =
  | { type: 'listening'; port: number }
  | { type: 'stats'; connections: number; requests: number; watchers: number }
  | { type: 'emitted'; seq: number; watchers: number };

const options = JSON.parse(process.argv[2] ?? '{}') as UpstreamOptions;
let connections = 0;
let requests = 0;
/** Connections that carried bench traffic; health probes of the gateway's shard-health checker do not count. */
const counted = new WeakSet<object>();
const watchers = new Set<ServerResponse>();

/** One watch event per open watch, each stamped just before its own write (ms since the epoch, µs precision). */
function emit(seq: number): void {
  const head = `{"type":"MODIFIED","object":{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"settings-0","namespace":"default","resourceVersion":"${5000 + seq}","annotations":{"bench.kcp-edge.io/sent":"`;
  const tail = '"}},"data":{"log-level":"debug"}}}\n';
  for (const res of watchers) res.write(head + (performance.timeOrigin + performance.now()).toFixed(3) + tail);
}

function forbidden(message: string): Buffer {
  return Buffer.from(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason: 'Forbidden', code: 403 }));
}

const server = createServer(
  {
    cert: readFileSync(options.certFile),
    key: readFileSync(options.keyFile),
    ca: readFileSync(options.clientCaFile),
    requestCert: true,
    rejectUnauthorized: false,
    // A shard keeps idle connections for a long time; the bench's pauses must not close them.
    keepAliveTimeout: 120_000,
  },
  (req, res) => {
    const [path, query = ''] = (req.url ?? '').split('?', 2) as [string, string?];
    if (path === '/readyz' || path === '/livez') {
      // A shard's health endpoints, which the gateway's shard-health checker probes.
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 2 });
      res.end('ok');
      return;
    }
    requests += 1;
    if (!counted.has(req.socket)) {
      counted.add(req.socket);
      connections += 1;
    }
    if (req.headers['x-remote-user'] !== undefined && !(req.socket as TLSSocket).authorized) {
      const body = forbidden('X-Remote-User from a client without a verified front-proxy certificate');
      res.writeHead(403, { 'content-type': 'application/json', 'content-length': body.length });
      res.end(body);
      return;
    }
    if (req.method === 'GET' && path === LIST_PATH && /(?:^|&)watch=(1|true)(?:&|$)/.test(query)) {
      res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked', 'audit-id': 'bench' });
      res.flushHeaders();
      watchers.add(res);
      res.on('close', () => watchers.delete(res));
      return;
    }
    if (req.method !== 'GET' || path !== LIST_PATH) {
      res.writeHead(404, { 'content-type': 'text/plain', 'content-length': 10 });
      res.end('not found\n');
      return;
    }
    const send = () => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': LIST_BODY.length, 'audit-id': 'bench' });
      res.end(LIST_BODY);
    };
    // `slow=<ms>` holds the answer: one slow request per connection fills a proxy's upstream pool.
    const slow = /(?:^|&)slow=(\d+)/.exec(query);
    if (slow !== null) setTimeout(send, Number(slow[1]));
    else send();
  },
);
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (address !== null && typeof address !== 'string') process.send?.({ type: 'listening', port: address.port } satisfies UpstreamMessage);
});
process.on('message', (message: { type?: string; seq?: number }) => {
  if (message.type === 'stats') process.send?.({ type: 'stats', connections, requests, watchers: watchers.size } satisfies UpstreamMessage);
  if (message.type === 'emit') {
    emit(message.seq ?? 0);
    process.send?.({ type: 'emitted', seq: message.seq ?? 0, watchers: watchers.size } satisfies UpstreamMessage);
  }
});
process.on('disconnect', () => process.exit(0));
