// A RequestContext for stage-level unit tests: a real context around a request that never touched a
// socket and a response that records what the pipeline wrote. Stages see exactly the type they get in
// production; only the transport is missing, so nothing here opens a port.
import { IncomingMessage, type OutgoingHttpHeader, type OutgoingHttpHeaders } from 'node:http';
import { Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import type { ClientResponse, RequestObserver } from '../../src/gateway/context.ts';
import { RequestContext } from '../../src/gateway/context.ts';
import type { Resolution, RoutePhase, Shard, ShardState } from '../../src/routing/types.ts';

/** What the pipeline answered: status, headers (lower-case names) and body. */
export class RecordedResponse {
  statusCode = 0;
  readonly headers: Record<string, string> = {};
  body = '';
  headersSent = false;
  writableEnded = false;
  destroyed = false;

  setHeader(name: string, value: string | number | readonly string[]): this {
    this.headers[name.toLowerCase()] = String(value);
    return this;
  }

  writeHead(statusCode: number, headers: OutgoingHttpHeaders | OutgoingHttpHeader[]): this {
    this.statusCode = statusCode;
    for (const [name, value] of Object.entries(headers)) if (value !== undefined) this.setHeader(name, value as string);
    this.headersSent = true;
    return this;
  }

  write(chunk: Buffer | string): boolean {
    this.body += chunk.toString();
    return true;
  }

  end(chunk?: string): this {
    if (chunk !== undefined) this.body += chunk;
    this.writableEnded = true;
    return this;
  }

  once(): this {
    return this;
  }

  destroy(): void {
    this.destroyed = true;
  }

  /** The body as the Kubernetes Status (or other JSON) it is. */
  json<T = { code: number; reason: string; message: string }>(): T {
    return JSON.parse(this.body) as T;
  }
}

export interface FakeRequest {
  method?: string;
  /** Path and query, as the client sent them. */
  url: string;
  headers?: Record<string, string>;
  /** An HTTP/1.1 Upgrade: the context answers on a socket instead of a response. */
  upgrade?: boolean;
  body?: string;
}

export interface FakeExchange {
  ctx: RequestContext;
  res: RecordedResponse;
  /** For upgrades: what was written to the socket. */
  socketOutput(): string;
  /** How many times the observer was told the request finished. */
  finished(): number;
}

export function fakeContext(request: FakeRequest): FakeExchange {
  const req = new IncomingMessage(new Socket());
  req.method = request.method ?? 'GET';
  req.url = request.url;
  req.headers = Object.fromEntries(Object.entries(request.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  req.rawHeaders = Object.entries(request.headers ?? {}).flat();
  if (request.body !== undefined) req.push(request.body);
  req.push(null);
  let finished = 0;
  const observer: RequestObserver = { requestFinished: () => void finished++ };
  const res = new RecordedResponse();
  let written = '';
  const socket = new PassThrough();
  socket.on('data', (c: Buffer) => (written += c.toString()));
  const ctx = request.upgrade
    ? new RequestContext(req, undefined, { socket, head: Buffer.alloc(0) }, observer)
    : new RequestContext(req, res as unknown as ClientResponse, undefined, observer);
  return { ctx, res, socketOutput: () => written, finished: () => finished };
}

export function shard(name: string, state: ShardState = 'active'): Shard {
  return { name, url: `https://${name}.invalid:6443`, state, labels: {} };
}

export function resolution(path: string, on: Shard, cluster: string, phase: RoutePhase = 'Ready'): Resolution {
  return { route: { path, shard: on.name, cluster, phase, rev: 1 }, shard: on };
}
