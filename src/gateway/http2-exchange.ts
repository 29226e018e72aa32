// HTTP/2 requests straight off node:http2's core stream API, shaped like the HTTP/1.1 request and
// response the pipeline already reads. The compatibility layer (Http2ServerRequest/Response) built two
// stream wrappers per request and cost about as much CPU again as the whole forward: kubectl and
// client-go speak HTTP/2, so this is the common path.
import type { IncomingHttpHeaders, OutgoingHttpHeader, OutgoingHttpHeaders } from 'node:http';
import type { OutgoingHttpHeaders as Http2Headers, ServerHttp2Session, ServerHttp2Stream } from 'node:http2';
import type { TLSSocket } from 'node:tls';
import type { ResponseSink } from './context.ts';

/** One HTTP/2 request: the headers nghttp2 decoded and the stream its body (if any) arrives on. */
export class Http2Request {
  readonly stream: ServerHttp2Stream;
  readonly headers: IncomingHttpHeaders;
  /** Flat [name, value, …] list in arrival order, pseudo-headers included. */
  readonly rawHeaders: string[];
  readonly method: string;
  readonly url: string;
  readonly httpVersion = '2.0';
  /** The connection's TLS socket (through the session's proxy): peer certificate, remote address. */
  readonly socket: TLSSocket;

  constructor(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, rawHeaders: string[]) {
    this.stream = stream;
    this.headers = headers;
    this.rawHeaders = rawHeaders;
    this.method = headers[':method'] as string;
    this.url = (headers[':path'] as string | undefined) ?? '/';
    this.socket = (stream.session as ServerHttp2Session).socket as TLSSocket;
  }
}

/**
 * The response half. Headers set before writeHead (the rate policy's flow-schema UIDs) are merged
 * into it; every call after the client reset the stream is a no-op, as on the compatibility layer.
 */
export class Http2Response implements ResponseSink {
  readonly stream: ServerHttp2Stream;
  #pending: Record<string, string> | undefined = undefined;

  constructor(stream: ServerHttp2Stream) {
    this.stream = stream;
  }

  get headersSent(): boolean {
    return this.stream.headersSent;
  }

  get writableEnded(): boolean {
    return this.stream.writableEnded;
  }

  setHeader(name: string, value: string): void {
    (this.#pending ??= {})[name.toLowerCase()] = value;
  }

  writeHead(statusCode: number, headers: OutgoingHttpHeaders | OutgoingHttpHeader[]): this {
    const stream = this.stream;
    if (stream.destroyed || stream.closed || stream.headersSent) return this;
    const out: Http2Headers = { ':status': statusCode };
    if (Array.isArray(headers)) {
      addHeaderList(out, headers);
    } else {
      for (const name in headers) {
        const value = headers[name];
        if (value !== undefined) out[name.toLowerCase()] = value;
      }
    }
    // As on HTTP/1.1, headers given to writeHead win over those set before it.
    for (const name in this.#pending) out[name] ??= this.#pending[name]!;
    this.#respond(out);
    return this;
  }

  /**
   * A whole header block as the forwarder builds it for a shard's answer: a flat [name, value, …] list,
   * `:status` first, lower-case names.
   */
  writeHeaderBlock(block: string[]): this {
    const stream = this.stream;
    if (stream.destroyed || stream.closed || stream.headersSent) return this;
    if (this.#pending !== undefined) {
      const present = new Set<string>();
      for (let i = 0; i < block.length; i += 2) present.add(block[i]!);
      for (const name in this.#pending) if (!present.has(name)) block.push(name, this.#pending[name]!);
    }
    this.#respond(block);
    return this;
  }

  #respond(out: Http2Headers | string[]): void {
    const stream = this.stream;
    try {
      stream.respond(out);
    } catch (err) {
      // HTTP/2 refuses a repeated single-value header (two Content-Types from a shard) that HTTP/1.1
      // passes; the client still gets the answer, with such values joined as HTTP/1.1 would show them.
      if ((err as NodeJS.ErrnoException).code !== 'ERR_HTTP2_HEADER_SINGLE_VALUE') throw err;
      stream.respond(joinedSingleValues(Array.isArray(out) ? addHeaderList({}, out) : out));
    }
  }

  write(chunk: Buffer | string, encoding?: BufferEncoding): boolean {
    if (this.stream.destroyed) return false;
    return encoding === undefined ? this.stream.write(chunk) : this.stream.write(chunk, encoding);
  }

  end(chunk?: string): this {
    if (this.stream.destroyed || this.stream.writableEnded) return this;
    if (chunk === undefined) this.stream.end();
    else this.stream.end(chunk);
    return this;
  }

  once(event: 'drain' | 'close', listener: () => void): this {
    this.stream.once(event, listener);
    return this;
  }
}

/** Adds a flat [name, value, …] list to a header object; a name repeated in it (Set-Cookie, Warning) keeps every value. */
function addHeaderList(out: Http2Headers, list: readonly OutgoingHttpHeader[]): Http2Headers {
  for (let i = 0; i < list.length; i += 2) {
    const name = String(list[i]).toLowerCase();
    const value = list[i + 1]!;
    const held = out[name];
    out[name] = held === undefined ? value : [...(Array.isArray(held) ? held : [String(held)]), String(value)];
  }
  return out;
}

function joinedSingleValues(headers: Http2Headers): Http2Headers {
  for (const name in headers) {
    const value = headers[name];
    if (Array.isArray(value) && name !== 'set-cookie') headers[name] = value.join(', ');
  }
  return headers;
}
