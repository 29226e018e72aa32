// The floor for any Node gateway on this box: an HTTPS server (HTTP/2 and HTTP/1.1 by ALPN, like
// kcp-edge's) that forwards every request over HTTP/1.1 to one upstream with undici's Pool.dispatch()
// and a minimal handler — no parsing, routing, auth or metrics.
// kcp-edge's distance to this line is what its own pipeline costs; this line's distance to nginx is
// what Node's HTTP and TLS machinery costs.
import { readFileSync } from 'node:fs';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { createSecureServer, type Http2ServerResponse, type OutgoingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import { Pool, type Dispatcher } from 'undici';

interface FloorOptions {
  port: number;
  certFile: string;
  keyFile: string;
  upstream: string;
  caFile: string;
  clientCertFile: string;
  clientKeyFile: string;
}

const o = JSON.parse(process.argv[2] ?? '{}') as FloorOptions;
const pool = new Pool(o.upstream, {
  connections: null,
  pipelining: 1,
  allowH2: false, // the upstream hop stays HTTP/1.1 whatever the client speaks
  keepAliveTimeout: 60_000,
  connect: { ca: readFileSync(o.caFile), cert: readFileSync(o.clientCertFile), key: readFileSync(o.clientKeyFile), servername: 'localhost' },
});
// Hop-by-hop headers, and the client's credential: a front proxy vouches for the caller with identity
// headers instead (kube-apiserver's authentication filter and kcp-edge drop it too), so the upstream
// hop carries no more bytes than kcp-edge's does.
const notForwarded = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'expect', 'proxy-connection', 'te', 'trailer', 'host', 'authorization']);

class Relay implements Dispatcher.DispatchHandler {
  // With allowHTTP1, HTTP/1.1 requests get an http.ServerResponse; the calls used here are common to both.
  readonly res: Http2ServerResponse;
  constructor(res: Http2ServerResponse) {
    this.res = res;
  }
  onRequestStart(): void {}
  onResponseStart(_c: Dispatcher.DispatchController, status: number, headers: Record<string, string | string[] | undefined>): void {
    // Connection-specific headers: HTTP/2 refuses them, and HTTP/1.1 sets its own.
    delete headers['connection'];
    delete headers['keep-alive'];
    delete headers['transfer-encoding'];
    this.res.writeHead(status, headers);
  }
  onResponseData(c: Dispatcher.DispatchController, chunk: Buffer): void {
    if (!this.res.write(chunk)) {
      // A client that went away (a load generator stopping mid-request resets its streams) never drains:
      // give up the upstream request rather than hold its connection paused for ever.
      // (HTTP/2's compatibility response has no `destroyed` of its own; its stream has. HTTP/1.1's has no stream.)
      if ((this.res.stream as Http2ServerResponse['stream'] | undefined)?.destroyed ?? this.res.destroyed) return c.abort(new Error('client went away'));
      c.pause();
      this.res.once('drain', () => c.resume());
    }
  }
  onResponseEnd(): void {
    this.res.end();
  }
  onResponseError(_c: Dispatcher.DispatchController, err: Error): void {
    if (this.res.headersSent) this.res.destroy(err);
    else {
      this.res.writeHead(502, { 'content-type': 'text/plain' });
      this.res.end(`bad gateway: ${err.message}\n`);
    }
  }
}

/** Client headers for the upstream: no pseudo-headers (:method, :path, …), nothing hop-by-hop, no credential. */
function upstreamHeaders(raw: readonly string[]): string[] {
  const headers: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.charCodeAt(0) !== 58 /* ':' */ && !notForwarded.has(name.toLowerCase())) headers.push(name, raw[i + 1]!);
  }
  return headers;
}

/** HTTP/2 on the core stream API, as kcp-edge serves it (the compatibility layer costs about 60 µs a request). */
class StreamRelay implements Dispatcher.DispatchHandler {
  readonly stream: ServerHttp2Stream;
  constructor(stream: ServerHttp2Stream) {
    this.stream = stream;
  }
  onRequestStart(): void {}
  onResponseStart(_c: Dispatcher.DispatchController, status: number, headers: Record<string, string | string[] | undefined>): void {
    if (this.stream.destroyed) return;
    const out: OutgoingHttpHeaders = { ':status': status };
    for (const name in headers) {
      if (name !== 'connection' && name !== 'keep-alive' && name !== 'transfer-encoding') out[name] = headers[name];
    }
    this.stream.respond(out);
  }
  onResponseData(c: Dispatcher.DispatchController, chunk: Buffer): void {
    if (!this.stream.write(chunk)) {
      if (this.stream.destroyed) return c.abort(new Error('client went away'));
      c.pause();
      this.stream.once('drain', () => c.resume());
    }
  }
  onResponseEnd(): void {
    this.stream.end();
  }
  onResponseError(_c: Dispatcher.DispatchController, err: Error): void {
    if (this.stream.headersSent || this.stream.destroyed) this.stream.destroy(err);
    else {
      this.stream.respond({ ':status': 502, 'content-type': 'text/plain' });
      this.stream.end(`bad gateway: ${err.message}\n`);
    }
  }
}

const server = createSecureServer({ cert: readFileSync(o.certFile), key: readFileSync(o.keyFile), allowHTTP1: true, http1Options: { keepAliveTimeout: 120_000 } });
// HTTP/1.1 requests; listening for them also makes node:http2 add its compatibility layer for HTTP/2
// streams, which the 'stream' listener below replaces.
server.on('request', (req: IncomingMessage, res: Http2ServerResponse) => {
  pool.dispatch({ path: req.url ?? '/', method: req.method as Dispatcher.HttpMethod, headers: upstreamHeaders(req.rawHeaders), body: null }, new Relay(res));
});
server.removeAllListeners('stream');
server.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, _flags: number, raw: string[]) => {
  stream.on('error', () => undefined);
  const path = (headers[':path'] as string | undefined) ?? '/';
  pool.dispatch({ path, method: headers[':method'] as Dispatcher.HttpMethod, headers: upstreamHeaders(raw), body: null }, new StreamRelay(stream));
});
server.listen(o.port, '127.0.0.1');
process.on('SIGTERM', () => {
  server.close();
  void pool.close().finally(() => process.exit(0));
});
