// Streams one shard response to the client as it arrives: no buffering, backpressure from the client
// pauses the shard connection, and a failure before the response started becomes a Status error.
// Hand-written on undici's dispatch handler API because it is the cheapest path per request.
import type { Dispatcher } from 'undici';
import { GatewayError, isGatewayError } from '../kube/gateway-error.ts';
import type { ShardHealth } from '../routing/types.ts';
import type { GatewayMetrics } from '../metrics.ts';
import type { ClientResponse, RequestContext, ResponseSink, UpstreamExchange } from './context.ts';
import { isLegacyDiscoveryJSON, maxDiscoveryRootBytes, withoutShardAddresses } from './discovery-addresses.ts';
import { isRewritableJSON, maxRewrittenBodyBytes, rewriteBody, WatchLineRewriter } from './edge-endpoints.ts';
import { destroyResponse, respondWithError } from './respond.ts';
import { Http2Response } from './http2-exchange.ts';
import type { AwaitingAnswer, UnansweredRequests } from './unanswered-cutoff.ts';
import { clientResponseHeaderBlock, clientResponseHeaders } from './upstream-headers.ts';

type Headers = Record<string, string | string[] | undefined>;

/** A response read whole to be rewritten before the client sees it; `rewrite` answers undefined when it cannot. */
interface HeldResponse {
  statusCode: number;
  headers: Headers;
  chunks: Buffer[];
  size: number;
  limit: number;
  rewrite: (body: Buffer) => Buffer | undefined;
}

export class ForwardHandler implements Dispatcher.DispatchHandler, UpstreamExchange, AwaitingAnswer {
  readonly #ctx: RequestContext;
  readonly #res: ClientResponse & ResponseSink;
  readonly #metrics: GatewayMetrics;
  readonly #health: ShardHealth | undefined;
  #controller: Dispatcher.DispatchController | undefined = undefined;
  #finished = false;
  #stopped = false;
  #watchCounted = false;
  #resumeOnDrain: (() => void) | undefined = undefined;
  #pendingFailure: GatewayError | undefined = undefined;
  /** Set while a discovery root or an endpoint slice is read whole to drop shard addresses. */
  #held: HeldResponse | undefined = undefined;
  /** Set while a watch of endpoint slices streams: each event is rewritten as it completes. */
  #lines: WatchLineRewriter | undefined = undefined;
  readonly #discoveryRoot: boolean;
  /** A watch carried on into a response already started elsewhere (a workspace that moved): no head of its own. */
  readonly #continuing: boolean;
  /** For a watch: whether what reached the client so far ends between two events of a plain JSON stream. */
  #spliceable = false;
  #atEventBoundary = true;
  /** When the request was handed to undici, and whether the shard's answer has started since. */
  readonly #dispatchedAt = performance.now();
  #answered = false;
  #unanswered: UnansweredRequests | undefined = undefined;
  /** Its place in `unanswered` while there (see in-flight-set.ts). */
  inFlightSlot = -1;

  constructor(ctx: RequestContext, res: ClientResponse & ResponseSink, metrics: GatewayMetrics, health: ShardHealth | undefined, discoveryRoot = false, continuing = false) {
    this.#ctx = ctx;
    this.#res = res;
    this.#metrics = metrics;
    this.#health = health;
    this.#discoveryRoot = discoveryRoot;
    this.#continuing = continuing;
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    if (this.#stopped) controller.abort(stoppedError());
    else if (this.#pendingFailure !== undefined) controller.abort(this.#pendingFailure);
  }

  /** Puts this exchange under `unanswered`'s bound until its answer starts. */
  awaitAnswerUnder(unanswered: UnansweredRequests): void {
    if (this.#answered || this.#finished) return;
    this.#unanswered = unanswered;
    unanswered.add(this);
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: Headers): void {
    this.#answered = true;
    this.#unanswered?.settled(this);
    this.#health?.reportSuccess(this.#ctx.shard);
    if (this.#stopped) return;
    if (this.#continuing) return this.#continueWatch(statusCode);
    this.#ctx.statusCode = statusCode;
    const capture = this.#ctx.responseBodyCapture;
    if (capture !== undefined) {
      capture.contentType = headerValue(headers['content-type']);
      capture.contentEncoding = headerValue(headers['content-encoding']);
    }
    if (this.#discoveryRoot && isLegacyDiscoveryJSON(statusCode, headers)) {
      this.#held = { statusCode, headers, chunks: [], size: 0, limit: maxDiscoveryRootBytes, rewrite: withoutShardAddresses };
      return;
    }
    const endpoints = this.#ctx.edgeEndpoints;
    if (endpoints !== undefined && statusCode >= 200 && statusCode < 300) {
      // Shard addresses are never passed on unread: an answer that cannot be rewritten is refused.
      if (!isRewritableJSON(headers)) return controller.abort(unpublishable('an endpoint list that is not plain JSON'));
      if (!this.#ctx.longRunning) {
        this.#held = { statusCode, headers, chunks: [], size: 0, limit: maxRewrittenBodyBytes, rewrite: (body) => rewriteBody(body, endpoints.field, endpoints.map) };
        return;
      }
      this.#lines = new WatchLineRewriter(endpoints.field, endpoints.map);
    }
    this.#ctx.responded = true;
    const res = this.#res;
    if (res instanceof Http2Response) res.writeHeaderBlock(clientResponseHeaderBlock(statusCode, headers, this.#ctx.addedResponseHeaders));
    else res.writeHead(statusCode, clientResponseHeaders(headers, this.#ctx.addedResponseHeaders));
    if (this.#ctx.longRunning) {
      // A watch may stay silent for minutes: the client must see the headers now.
      if ('flushHeaders' in this.#res) this.#res.flushHeaders(); // HTTP/2 sends headers on writeHead
      this.#metrics.watchOpened(this.#ctx.shard);
      this.#watchCounted = true;
      this.#ctx.responseStarted();
      // Only newline-delimited JSON, sent as it came, can have other events put between two of its own.
      this.#spliceable = statusCode === 200 && headers['content-encoding'] === undefined && String(headers['content-type'] ?? '').startsWith('application/json');
    }
  }

  #continueWatch(statusCode: number): void {
    if (statusCode !== 200) {
      // The new shard refused the watch: end the stream as a moved watch ends, and the client re-watches.
      this.stop(true);
      return;
    }
    this.#metrics.watchOpened(this.#ctx.shard);
    this.#watchCounted = true;
    this.#spliceable = true;
  }

  /**
   * Gives the client's response up to another exchange: this one stops reading the shard without ending
   * the response. Only a plain JSON watch whose last event reached the client whole can be carried on.
   */
  detach(): boolean {
    if (this.#finished || this.#stopped || !this.#spliceable || !this.#atEventBoundary || this.#res.writableEnded) return false;
    this.#stopped = true;
    this.#finish();
    this.#controller?.abort(stoppedError());
    return true;
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#stopped) return;
    this.#ctx.responseBodyCapture?.add(chunk);
    if (this.#held !== undefined) {
      this.#held.chunks.push(chunk);
      this.#held.size += chunk.length;
      if (this.#held.size > this.#held.limit)
        controller.abort(new GatewayError('BAD_GATEWAY', 'the shard serving this workspace failed', { internalReason: `a response to rewrite over ${this.#held.limit} bytes` }));
      return;
    }
    if (this.#spliceable && chunk.length > 0) this.#atEventBoundary = chunk[chunk.length - 1] === 0x0a;
    let written: boolean;
    if (this.#lines !== undefined) {
      const events = this.#lines.push(chunk);
      if (events === '') return;
      written = this.#res.write(events);
    } else {
      // The Buffer as it came, also as the first chunk: HTTP/1.1 corks the socket for a response's
      // writes, so its header block and body leave as one writev (one TLS write) either way, while a
      // latin1 copy of the body joined to the header block cost two body-sized strings per request.
      written = this.#res.write(chunk);
    }
    if (!written) {
      controller.pause();
      this.#resumeOnDrain ??= () => this.#controller?.resume();
      this.#res.once('drain', this.#resumeOnDrain);
    }
  }

  onResponseEnd(): void {
    if (this.#finished) return;
    this.#finish();
    if (this.#held !== undefined && !this.#stopped) return this.#releaseHeld(this.#held);
    const last = this.#lines?.end();
    if (last !== undefined && last !== '') this.#res.write(last);
    this.#res.end();
  }

  #releaseHeld(held: HeldResponse): void {
    this.#held = undefined;
    const body = held.rewrite(Buffer.concat(held.chunks));
    if (body === undefined) return respondWithError(this.#ctx, unpublishable('an endpoint list that does not parse'));
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
    // A watch ended before the shard's answer reached the client (its workspace moved, the gateway
    // drains) has no stream to end: it gets a Status to retry on, not a connection closed on it.
    const unanswered = cleanly && !this.#continuing && !this.#res.headersSent;
    if (cleanly && this.#res.headersSent && !this.#res.writableEnded) this.#res.end();
    this.#finish();
    this.#controller?.abort(stoppedError());
    if (unanswered) respondWithError(this.#ctx, endedBeforeAnswer(this.#ctx.shard));
  }

  fail(err: GatewayError): void {
    if (this.#finished || this.#stopped) return;
    // undici answers the abort with onResponseError(err): a Status, or the cut stream mid-response.
    if (this.#controller !== undefined) this.#controller.abort(err);
    else this.#pendingFailure = err;
  }

  expireUnanswered(overdueBefore: number): boolean {
    if (this.#answered || this.#finished || this.#stopped || this.#continuing) return true;
    if (this.#dispatchedAt > overdueBefore) return false;
    const err = new GatewayError('GATEWAY_TIMEOUT', 'the shard serving this workspace did not answer in time', {
      internalReason: `shard ${this.#ctx.shard}: no response started within the upstream connect and header timeouts`,
    });
    if (this.#controller !== undefined) {
      // On a connection: undici answers the abort with onResponseError(err), which responds.
      this.#controller.abort(err);
      return true;
    }
    // Still queued inside undici: answer now; if undici ever starts it, onRequestStart aborts it.
    this.#stopped = true;
    this.#finish();
    this.#health?.reportFailure(this.#ctx.shard);
    respondWithError(this.#ctx, err);
    return true;
  }

  #finish(): void {
    this.#finished = true;
    this.#unanswered?.settled(this);
    if (this.#watchCounted) {
      this.#watchCounted = false;
      this.#metrics.watchClosed(this.#ctx.shard);
    }
  }
}

function unpublishable(what: string): GatewayError {
  return new GatewayError('BAD_GATEWAY', 'the shard serving this workspace failed', { internalReason: `the shard sent ${what}: its URLs cannot be rewritten to the edge's` });
}

function headerValue(value: string | string[] | undefined): string {
  return (Array.isArray(value) ? value[0] : value) ?? '';
}

function endedBeforeAnswer(shard: string): GatewayError {
  return new GatewayError('SHARD_UNAVAILABLE', 'the request was ended before the shard answered it; retry', {
    retryAfterSeconds: 1,
    internalReason: `stopped before shard ${shard} answered (the workspace moved, or the gateway is draining)`,
  });
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
