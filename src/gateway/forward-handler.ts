// Streams one shard response to the client as it arrives: no buffering, backpressure from the client
// pauses the shard connection, and a failure before the response started becomes a Status error.
// Hand-written on undici's dispatch handler API because it is the cheapest path per request.
import type { Dispatcher } from 'undici';
import { GatewayError, isGatewayError } from '../kube/gateway-error.ts';
import type { ShardHealth } from '../routing/types.ts';
import type { GatewayMetrics } from '../metrics.ts';
import type { ClientResponse, RequestContext, ResponseSink, UpstreamExchange } from './context.ts';
import { isLegacyDiscoveryJSON, maxDiscoveryRootBytes, withoutShardAddresses } from './discovery-addresses.ts';
import { destroyResponse, respondWithError } from './respond.ts';
import { clientResponseHeaders } from './upstream-headers.ts';

type Headers = Record<string, string | string[] | undefined>;

export class ForwardHandler implements Dispatcher.DispatchHandler, UpstreamExchange {
  readonly #ctx: RequestContext;
  readonly #res: ClientResponse & ResponseSink;
  readonly #metrics: GatewayMetrics;
  readonly #health: ShardHealth | undefined;
  #controller: Dispatcher.DispatchController | undefined = undefined;
  #finished = false;
  #stopped = false;
  #watchCounted = false;
  #firstChunkSent = false;
  #resumeOnDrain: (() => void) | undefined = undefined;
  #pendingFailure: GatewayError | undefined = undefined;
  /** Set while a discovery root is read whole to drop shard addresses (see discovery-addresses.ts). */
  #held: { statusCode: number; headers: Headers; chunks: Buffer[]; size: number } | undefined = undefined;
  readonly #discoveryRoot: boolean;

  constructor(ctx: RequestContext, res: ClientResponse & ResponseSink, metrics: GatewayMetrics, health: ShardHealth | undefined, discoveryRoot = false) {
    this.#ctx = ctx;
    this.#res = res;
    this.#metrics = metrics;
    this.#health = health;
    this.#discoveryRoot = discoveryRoot;
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    if (this.#stopped) controller.abort(stoppedError());
    else if (this.#pendingFailure !== undefined) controller.abort(this.#pendingFailure);
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: Headers): void {
    this.#health?.reportSuccess(this.#ctx.shard);
    if (this.#stopped) return;
    this.#ctx.statusCode = statusCode;
    if (this.#discoveryRoot && isLegacyDiscoveryJSON(statusCode, headers)) {
      this.#held = { statusCode, headers, chunks: [], size: 0 };
      return;
    }
    this.#ctx.responded = true;
    this.#res.writeHead(statusCode, clientResponseHeaders(headers, this.#ctx.addedResponseHeaders));
    if (this.#ctx.longRunning) {
      // A watch may stay silent for minutes: the client must see the headers now.
      if ('flushHeaders' in this.#res) this.#res.flushHeaders(); // HTTP/2 sends headers on writeHead
      this.#metrics.watchOpened(this.#ctx.shard);
      this.#watchCounted = true;
      this.#ctx.responseStarted();
    }
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#stopped) return;
    if (this.#held !== undefined) {
      this.#held.chunks.push(chunk);
      this.#held.size += chunk.length;
      if (this.#held.size > maxDiscoveryRootBytes)
        controller.abort(new GatewayError('BAD_GATEWAY', 'the shard serving this workspace failed', { internalReason: `discovery document over ${maxDiscoveryRootBytes} bytes` }));
      return;
    }
    const written = this.#firstChunkSent ? this.#res.write(chunk) : this.#writeFirstChunk(chunk);
    if (!written) {
      controller.pause();
      this.#resumeOnDrain ??= () => this.#controller?.resume();
      this.#res.once('drain', this.#resumeOnDrain);
    }
  }

  /**
   * Node's HTTP/1.1 response joins its pending header block to the first body chunk only when that
   * chunk is a latin1 (or utf8) string; a Buffer goes out as a two-part writev, which costs far more
   * through TLS. latin1 maps bytes to characters one to one, so the bytes on the wire are unchanged.
   */
  #writeFirstChunk(chunk: Buffer): boolean {
    this.#firstChunkSent = true;
    if (this.#ctx.longRunning || chunk.length > 16_384 || 'stream' in this.#res) return this.#res.write(chunk);
    return this.#res.write(chunk.toString('latin1'), 'latin1');
  }

  onResponseEnd(): void {
    if (this.#finished) return;
    this.#finish();
    if (this.#held !== undefined && !this.#stopped) return this.#releaseHeld(this.#held);
    this.#res.end();
  }

  #releaseHeld(held: { statusCode: number; headers: Headers; chunks: Buffer[] }): void {
    this.#held = undefined;
    const body = withoutShardAddresses(Buffer.concat(held.chunks));
    const headers = clientResponseHeaders({ ...held.headers, 'content-length': String(body.length) }, this.#ctx.addedResponseHeaders);
    this.#ctx.responded = true;
    this.#res.writeHead(held.statusCode, headers);
    this.#res.write(body);
    this.#res.end();
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    if (this.#finished) return;
    this.#finish();
    if (this.#stopped) return;
    this.#held = undefined;
    if (this.#res.headersSent) {
      // Mid-stream failure: cut the response so the client cannot take a truncated body for a whole one.
      destroyResponse(this.#ctx);
      this.#ctx.error = upstreamError(err, this.#ctx.shard);
      return;
    }
    const error = upstreamError(err, this.#ctx.shard);
    if (error.code === 'BAD_GATEWAY' || error.code === 'GATEWAY_TIMEOUT') this.#health?.reportFailure(this.#ctx.shard);
    respondWithError(this.#ctx, error);
  }

  /** The client went away (cleanly = false) or the gateway drains a watch (cleanly = true). */
  stop(cleanly: boolean): void {
    if (this.#finished || this.#stopped) return;
    this.#stopped = true;
    if (cleanly && this.#res.headersSent && !this.#res.writableEnded) this.#res.end();
    this.#finish();
    this.#controller?.abort(stoppedError());
  }

  fail(err: GatewayError): void {
    if (this.#finished || this.#stopped) return;
    // undici answers the abort with onResponseError(err): a Status, or the cut stream mid-response.
    if (this.#controller !== undefined) this.#controller.abort(err);
    else this.#pendingFailure = err;
  }

  #finish(): void {
    this.#finished = true;
    if (this.#watchCounted) {
      this.#watchCounted = false;
      this.#metrics.watchClosed(this.#ctx.shard);
    }
  }
}

function stoppedError(): Error {
  return new Error('request stopped by the gateway');
}

const connectionFailures = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);

/** Maps an undici or socket error to the Status the client gets; the detail goes to the log only. */
export function upstreamError(err: Error, shard: string): GatewayError {
  if (isGatewayError(err)) return err;
  const code = (err as NodeJS.ErrnoException).code ?? '';
  const internalReason = `shard ${shard}: ${code === '' ? '' : code + ' '}${err.message}`;
  if (code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'ETIMEDOUT') {
    return new GatewayError('GATEWAY_TIMEOUT', 'the shard serving this workspace did not answer in time', { internalReason, cause: err });
  }
  const reason = connectionFailures.has(code) ? 'could not be reached' : 'failed';
  return new GatewayError('BAD_GATEWAY', `the shard serving this workspace ${reason}`, { internalReason, cause: err });
}
