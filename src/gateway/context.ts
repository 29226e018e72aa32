// The typed state of one request as it moves through the pipeline. Each concern fills its own part;
// nothing is keyed by strings and nothing is passed between stages any other way.
import type { IncomingMessage, OutgoingHttpHeader, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Identity } from '../auth/identity.ts';
import type { GatewayError } from '../kube/gateway-error.ts';
import type { RequestAttributes } from '../kube/request-attributes.ts';
import type { LimitDecision } from '../ratelimit/types.ts';
import type { Resolution } from '../routing/types.ts';
import type { RequestPath } from '../workspaces/request-path.ts';
import type { EndpointRewrite } from './edge-endpoints.ts';
import type { BodyCapture } from './body-capture.ts';
import { newAuditId } from './audit-id.ts';
import type { Http2Request, Http2Response } from './http2-exchange.ts';

/** HTTP/1.1 requests come as Node's IncomingMessage; HTTP/2 ones off the core stream API. */
export type ClientRequest = IncomingMessage | Http2Request;
export type ClientResponse = ServerResponse | Http2Response;

/** What the pipeline uses of a response, common to HTTP/1.1 and HTTP/2. */
export interface ResponseSink {
  writeHead(statusCode: number, headers: OutgoingHttpHeaders | OutgoingHttpHeader[]): unknown;
  write(chunk: Buffer | string, encoding?: BufferEncoding): boolean;
  end(chunk?: string): unknown;
  readonly headersSent: boolean;
  readonly writableEnded: boolean;
  once(event: 'drain' | 'close', listener: () => void): unknown;
}

/** An HTTP/1.1 Upgrade request: answered on the raw socket instead of a response object. */
export interface UpgradeTarget {
  socket: Duplex;
  head: Buffer;
}

/** Something in flight towards the shard that must stop when the client goes away or the gateway drains. */
export interface UpstreamExchange {
  /** Stops the exchange; `cleanly` ends the client's response normally (a watch the client will re-open). */
  stop(cleanly: boolean): void;
  /**
   * The shard side is given up for `err` (the shard is down): the client gets it as a Status if nothing
   * was answered yet, else as a cut stream it cannot take for a normal end.
   */
  fail(err: GatewayError): void;
}

/** Told once when a request is over, whatever way it ended (access log, metrics, drain bookkeeping). */
export interface RequestObserver {
  requestFinished(ctx: RequestContext): void;
  /** A long-running response (a watch) has sent its headers: it may now stream for hours. */
  responseStarted?(ctx: RequestContext): void;
  /**
   * The request is about to go to its shard as an ordinary exchange (not an upgrade): the one moment an
   * observer may ask for its bodies, by setting `requestBodyCapture` / `responseBodyCapture`.
   */
  requestForwarding?(ctx: RequestContext): void;
}

export class RequestContext {
  readonly req: ClientRequest;
  /** The response for ordinary requests; undefined for upgrades, which answer on `upgrade.socket`. */
  readonly res: (ClientResponse & ResponseSink) | undefined;
  readonly upgrade: UpgradeTarget | undefined;
  readonly startedAt: number;
  /** Audit-ID from the client, or generated; sent to the shard and back to the client. */
  readonly auditId: string;
  readonly auditIdGenerated: boolean;
  /**
   * Request path without the query string. Only routeInClusterClients changes it: a path naming no
   * cluster, sent with a service-account token, gets that token's cluster as kcp does.
   */
  path: string;
  /** The query string byte for byte, '' or starting with '?'. */
  readonly query: string;
  /** The client's address, read at the start: a closed socket no longer tells it (the audit log needs it at the end). */
  readonly remoteAddress: string | undefined;

  // workspaces/: what the path names
  parsed: RequestPath | undefined = undefined;
  attrs: RequestAttributes | undefined = undefined;
  longRunning = false;

  // routing/: where it lives. One entry per parsed.refs, undefined where the workspace is unknown.
  resolutions: (Resolution | undefined)[] = [];
  /** The resolution whose shard serves the request; undefined when unknown. */
  target: Resolution | undefined = undefined;

  // auth/: who is asking
  identity: Identity | undefined = undefined;

  // ratelimit/: which flow schema and priority level the request was judged by
  limit: LimitDecision | undefined = undefined;

  // gateway/: virtual-workspace URLs in the answer to rewrite to the edge's (APIExportEndpointSlices)
  edgeEndpoints: EndpointRewrite | undefined = undefined;
  // audit/: the bodies kept for the audit log, only when its policy asks for them
  requestBodyCapture: BodyCapture | undefined = undefined;
  responseBodyCapture: BodyCapture | undefined = undefined;
  /**
   * Headers the gateway adds to whatever answers the request (the shard's response or its own
   * Status), as a flat [lower-case name, value, …] list; a shard's header of the same name wins.
   * Carried here and merged once when the head is written: headers set on an HTTP/1.1 response
   * ahead of writeHead turn writeHead into a remove-then-append walk over every header.
   */
  addedResponseHeaders: readonly string[] = noHeaders;

  /** Its place in the gateway's set of requests in flight (see in-flight-set.ts). */
  inFlightSlot = -1;

  // outcome
  /** Shard chosen to serve the request, '' until one is. */
  shard = '';
  statusCode = 0;
  responded = false;
  error: GatewayError | undefined = undefined;

  readonly #observer: RequestObserver;
  #finished = false;
  /** The first thing held past the answer (for most requests the rate-limit slot, and nothing else) … */
  #finisher: Finisher | undefined = undefined;
  /** … and any more, in a list made on first use. */
  #finishers: Finisher[] | undefined = undefined;
  #exchange: UpstreamExchange | undefined = undefined;
  #aborter: AbortController | undefined = undefined;

  constructor(req: ClientRequest, res: ClientResponse | undefined, upgrade: UpgradeTarget | undefined, observer: RequestObserver) {
    this.req = req;
    this.res = res as (ClientResponse & ResponseSink) | undefined;
    this.upgrade = upgrade;
    this.#observer = observer;
    this.startedAt = performance.now();
    const given = req.headers['audit-id'];
    this.auditIdGenerated = typeof given !== 'string' || given === '';
    this.auditId = this.auditIdGenerated ? newAuditId() : (given as string);
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    this.path = q === -1 ? url : url.slice(0, q);
    this.query = q === -1 ? '' : url.slice(q);
    this.remoteAddress = req.socket?.remoteAddress;
  }

  /** Called when the client side is gone (response closed or upgraded socket closed); runs once. */
  readonly clientClosed = (): void => {
    if (this.#finished) return;
    this.#finished = true;
    this.#exchange?.stop(false);
    this.#aborter?.abort(clientGone());
    this.#observer.requestFinished(this);
    if (this.#finisher !== undefined) finish(this.#finisher);
    const finishers = this.#finishers;
    if (finishers !== undefined) for (let i = 0; i < finishers.length; i++) finish(finishers[i]!);
  };

  /** The forwarder tells this just before it sends an ordinary (not upgraded) request to the shard. */
  forwarding(): void {
    this.#observer.requestForwarding?.(this);
  }

  /** The forwarder tells this when a long-running response has sent its headers. */
  responseStarted(): void {
    this.#observer.responseStarted?.(this);
  }

  /**
   * True once the request is over for the client (answered, reset, or its connection gone): nothing
   * may be started for it any more. compose() stops running stages on it, so a stage that awaited I/O
   * never hands a vanished client's request to the next one.
   */
  get clientGone(): boolean {
    return this.#finished;
  }

  /**
   * Aborted when the client goes away: for a stage's own per-request I/O (a fetch, a wait). Made on
   * first use, so the requests that never ask for it (nearly all) do not pay for one.
   */
  get signal(): AbortSignal {
    if (this.#aborter === undefined) {
      this.#aborter = new AbortController();
      if (this.#finished) this.#aborter.abort(clientGone());
    }
    return this.#aborter.signal;
  }

  /** What is in flight towards the shard for this request; stopped when the client goes away. */
  get upstream(): UpstreamExchange | undefined {
    return this.#exchange;
  }

  /** An exchange handed over after the client left is stopped at once: it can never outlive the client. */
  set upstream(exchange: UpstreamExchange | undefined) {
    this.#exchange = exchange;
    if (this.#finished) exchange?.stop(false);
  }

  /**
   * Runs `fn` once the request is over, however it ended (at once if it already is): for what a stage
   * holds for the request's whole life, like a rate-limit slot for an open watch. Given an object, its
   * release() is called: a holder that is already an object needs no closure made for it.
   */
  onFinished(fn: Finisher): void {
    if (this.#finished) finish(fn);
    else if (this.#finisher === undefined) this.#finisher = fn;
    else (this.#finishers ??= []).push(fn);
  }

  /** The client identity to put in logs: user name or '' when unauthenticated. */
  get user(): string {
    return this.identity?.user ?? '';
  }
}

/** What onFinished() runs: a function, or an object whose release() it calls. */
export type Finisher = (() => void) | { release(): void };

function finish(fn: Finisher): void {
  if (typeof fn === 'function') fn();
  else fn.release();
}

const noHeaders: readonly string[] = Object.freeze([]);

function clientGone(): Error {
  return Object.assign(new Error('the client closed the request'), { name: 'AbortError', code: 'CLIENT_GONE' });
}
