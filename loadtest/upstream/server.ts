// The upstream every target forwards to: one Node HTTPS worker standing in for a KCP shard's list
// endpoint, speaking HTTP/1.1 and HTTP/2 (ALPN) like kube-apiserver. It answers the fixed ConfigMapList,
// honours requestheader authentication the way kube-apiserver does (X-Remote-* headers only from a
// verified client certificate), and counts the TLS connections it accepts so the bench can see a proxy
// reconnecting mid-run. Watches (`watch=1`) stay open and receive an event, stamped with its send time,
// each time the bench says "emit". Run as a child with IPC.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createSecureServer, type Http2ServerRequest } from 'node:http2';
import { readFileSync } from 'node:fs';
import type { TLSSocket } from 'node:tls';
import { cancelHandlersOnReset, goResetTolerance } from '../../src/sim/go-http2-server.ts';
import { monotonicMs } from '../lib/clock.ts';
import { LIST_BODY, LIST_PATH } from './body.ts';

export interface UpstreamOptions {
  certFile: string;
  keyFile: string;
  /** CA of the client certificates a front proxy presents (requestheader authentication). */
  clientCaFile: string;
}

export type UpstreamMessage =
  | { type: 'listening'; port: number }
  | { type: 'stats'; connections: number; requests: number; h2Requests: number; withAuthorization: number; watchers: number }
  | { type: 'emitted'; seq: number; watchers: number };

const options = JSON.parse(process.argv[2] ?? '{}') as UpstreamOptions;
let connections = 0;
let requests = 0;
/** Requests that arrived over HTTP/2: only direct clients and the targets told to (kcp-edge-h2up) may speak it. */
let h2Requests = 0;
/** Requests that still carried the client's Authorization header: a front proxy vouches with X-Remote-* instead. */
let withAuthorization = 0;
/** Connections that carried bench traffic; health probes of the gateway's shard-health checker do not count. */
const counted = new WeakSet<object>();
const watchers = new Set<{ write(chunk: string): boolean }>();

/**
 * The TLS connection a request came on. Under HTTP/2, `req.socket` is a fresh proxy for each stream, so
 * the session stands for the connection; under HTTP/1.1 the socket itself does.
 */
function connectionOf(req: IncomingMessage | Http2ServerRequest): { key: object; tls: TLSSocket } {
  if ('stream' in req) return { key: req.stream.session!, tls: req.stream.session!.socket as TLSSocket };
  return { key: req.socket, tls: req.socket as TLSSocket };
}

/**
 * Watches written to per turn of the event loop. node:http2 sends what a session has queued only once
 * the JS that queued it returns: one loop over 50 000 watches held every event until its end (~0.5 s
 * of this process's CPU on its own), a delay a shard writing from one goroutine per watch does not
 * have, which the fan-out latency then charged to the path under test.
 */
const EMIT_SLICE = 256;

/** One watch event per open watch, each stamped just before its own write (monotonicMs, µs precision). */
async function emit(seq: number): Promise<void> {
  const head = `{"type":"MODIFIED","object":{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"settings-0","namespace":"default","resourceVersion":"${5000 + seq}","annotations":{"bench.kcp-edge.io/sent":"`;
  const tail = '"}},"data":{"log-level":"debug"}}}\n';
  const open = [...watchers];
  for (let i = 0; i < open.length; i += EMIT_SLICE) {
    if (i > 0) await new Promise((resolve) => setImmediate(resolve));
    for (let j = i; j < Math.min(i + EMIT_SLICE, open.length); j++) {
      const res = open[j]!;
      if (watchers.has(res)) res.write(head + monotonicMs().toFixed(3) + tail);
    }
  }
}

function forbidden(message: string): Buffer {
  return Buffer.from(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason: 'Forbidden', code: 403 }));
}

const server = createSecureServer(
  {
    cert: readFileSync(options.certFile),
    key: readFileSync(options.keyFile),
    ca: readFileSync(options.clientCaFile),
    requestCert: true,
    rejectUnauthorized: false,
    allowHTTP1: true,
    // The client's preference decides. undici (node-floor, kcp-edge) offers http/1.1 before h2, and a
    // server-preference choice would silently move those proxies' upstream hop to HTTP/2; h2load and
    // node's http2 client offer h2 first. nginx and caddy offer http/1.1 only or nothing (HTTP/1.1).
    ALPNCallback: ({ protocols }) => protocols.find((p) => p === 'h2' || p === 'http/1.1'),
    ...goResetTolerance,
    // A shard keeps idle connections for a long time; the bench's pauses must not close them.
    http1Options: { keepAliveTimeout: 120_000 },
    // Go's http2.Server default, which kube-apiserver keeps: a proxy multiplexing watches must open
    // another connection past it.
    settings: { maxConcurrentStreams: 250 },
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
    if (req.httpVersionMajor === 2) h2Requests += 1;
    if (req.headers.authorization !== undefined) withAuthorization += 1;
    const connection = connectionOf(req);
    if (!counted.has(connection.key)) {
      counted.add(connection.key);
      connections += 1;
    }
    if (req.headers['x-remote-user'] !== undefined && !connection.tls.authorized) {
      const body = forbidden('X-Remote-User from a client without a verified front-proxy certificate');
      res.writeHead(403, { 'content-type': 'application/json', 'content-length': body.length });
      res.end(body);
      return;
    }
    if (req.method === 'GET' && path === LIST_PATH && /(?:^|&)watch=(1|true)(?:&|$)/.test(query)) {
      // HTTP/2 has no transfer-encoding (and refuses the header): its frames delimit the body.
      res.writeHead(200, { 'content-type': 'application/json', ...(req.httpVersionMajor === 2 ? {} : { 'transfer-encoding': 'chunked' }), 'audit-id': 'bench' });
      // HTTP/2's writeHead sends the headers at once; HTTP/1.1 holds them for the first chunk. (The
      // handler's types describe HTTP/2 only; with allowHTTP1, HTTP/1.1 requests get an http ServerResponse.)
      if (req.httpVersionMajor !== 2) (res as unknown as ServerResponse).flushHeaders();
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
// A shard is a Go server: a reset stream ends its handler whatever the code.
cancelHandlersOnReset(server);
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (address !== null && typeof address !== 'string') process.send?.({ type: 'listening', port: address.port } satisfies UpstreamMessage);
});
process.on('message', (message: { type?: string; seq?: number }) => {
  if (message.type === 'stats') process.send?.({ type: 'stats', connections, requests, h2Requests, withAuthorization, watchers: watchers.size } satisfies UpstreamMessage);
  if (message.type === 'emit') {
    const watching = watchers.size;
    void emit(message.seq ?? 0).then(() => process.send?.({ type: 'emitted', seq: message.seq ?? 0, watchers: watching } satisfies UpstreamMessage));
  }
});
process.on('disconnect', () => process.exit(0));
