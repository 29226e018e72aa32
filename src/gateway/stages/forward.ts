// Stage: send the request to the shard that holds the workspace, on that shard's connection pool, and
// stream the answer back. Upgrades become a raw socket pipe instead.
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { Resolution, ShardHealth } from '../../routing/types.ts';
import type { GatewayMetrics } from '../../metrics.ts';
import { upstreamPath, type RequestPath } from '../../workspaces/request-path.ts';
import { BodyLimit, bodyTooLarge } from '../body-limit.ts';
import { isDiscoveryRoot } from '../discovery-addresses.ts';
import type { RequestContext } from '../context.ts';
import { ForwardHandler } from '../forward-handler.ts';
import type { ShardPools } from '../shard-pools.ts';
import type { UnansweredRequests } from '../unanswered-cutoff.ts';
import { pipeUpgrade } from '../upgrade-pipe.ts';
import { forwardedClientHeaders, identityHeaders, type HeaderPolicy } from '../upstream-headers.ts';

export interface ForwardDeps {
  pools: ShardPools;
  headers: HeaderPolicy;
  metrics: GatewayMetrics;
  health: ShardHealth | undefined;
  maxBodyBytes: number;
  /** Gives a 504 to requests the shard never starts answering (see unanswered-cutoff.ts). */
  unanswered?: UnansweredRequests;
}

export function forward(deps: ForwardDeps) {
  const { pools, metrics, health, maxBodyBytes } = deps;
  return function forwardToShard(ctx: RequestContext): void {
    // compose() runs no stage for a vanished client; this stage is the one that must never forget it.
    if (ctx.clientGone) return;
    const req = ctx.req;
    const shard = ctx.target!.shard;
    const path = pathOnShard(ctx.parsed!, ctx.resolutions) + ctx.query;
    const headers = shardRequestHeaders(ctx, deps.headers);

    if (ctx.upgrade !== undefined) {
      pipeUpgrade(ctx, shard, path, headers, { pools, metrics, health });
      return;
    }

    ctx.forwarding();
    const discoveryRoot = isDiscoveryRoot(req.method, ctx.parsed!.rest);
    // The shard's discovery roots and endpoint URLs are rewritten, so they must come uncompressed.
    if (discoveryRoot || ctx.edgeEndpoints !== undefined) dropHeader(headers, 'accept-encoding');
    const body = requestBody(ctx, maxBodyBytes);
    const handler = new ForwardHandler(ctx, ctx.res!, metrics, health, discoveryRoot);
    ctx.upstream = handler;
    // An oversized body aborts the request through its handler (a 413 before the response started), not
    // by failing the body stream under undici (see BodyLimit.onOverflow).
    if (body instanceof BodyLimit) {
      body.onOverflow = (err) => handler.fail(err);
      // undici destroys an aborted request's body with the abort's error, and the handler reports that.
      body.on('error', () => undefined);
    }
    const options: Dispatcher.DispatchOptions = {
      path,
      method: req.method as Dispatcher.HttpMethod,
      headers,
      body,
      // Watches and followed logs may be silent for a long time: no body timeout for them.
      bodyTimeout: ctx.longRunning ? 0 : 300_000,
    };
    pools.poolFor(shard, ctx.longRunning).dispatch(options, handler);
    if (deps.unanswered !== undefined) handler.awaitAnswerUnder(deps.unanswered);
  };
}

// The shard's path for a one-workspace request, by the parsed path (parseWorkspacePath hands back the
// same frozen object for the same path) and the cluster it maps to: both repeat from request to
// request, so the path is joined once rather than from four pieces (and a cluster list) every time.
const oneWorkspacePaths = new WeakMap<RequestPath, { cluster: string; path: string }>();

function pathOnShard(parsed: RequestPath, resolutions: readonly (Resolution | undefined)[]): string {
  if (resolutions.length === 1) {
    const cluster = resolutions[0]!.route.cluster;
    const known = oneWorkspacePaths.get(parsed);
    if (known !== undefined && known.cluster === cluster) return known.path;
    const path = upstreamPath(parsed, [cluster]);
    oneWorkspacePaths.set(parsed, { cluster, path });
    return path;
  }
  const clusters: string[] = [];
  for (let i = 0; i < resolutions.length; i++) clusters.push(resolutions[i]!.route.cluster);
  return upstreamPath(parsed, clusters);
}

/** The headers the shard gets: the client's own that may pass, then who the gateway vouches the client is. */
export function shardRequestHeaders(ctx: RequestContext, policy: HeaderPolicy): string[] {
  const req = ctx.req;
  const headers = forwardedClientHeaders(req.rawHeaders, policy, ctx.upgrade !== undefined);
  const identity = identityHeaders(ctx.identity!);
  for (let i = 0; i < identity.length; i++) headers.push(identity[i]!);
  headers.push('audit-id', ctx.auditId);
  const remote = ctx.remoteAddress;
  if (remote !== undefined) headers.push('x-forwarded-for', remote);
  return headers;
}

/** Removes every `name` pair from a flat [name, value, …] header list. */
export function dropHeader(headers: string[], name: string): void {
  for (let i = headers.length - 2; i >= 0; i -= 2) if (headers[i]!.toLowerCase() === name) headers.splice(i, 2);
}

/**
 * Only a request that has a body gets one; a GET passed the request stream would be sent chunked. A
 * body with a declared length goes as the request stream itself unless an observer keeps a copy.
 */
function requestBody(ctx: RequestContext, limit: number): Readable | BodyLimit | null {
  const req = ctx.req;
  const capture = ctx.requestBodyCapture;
  const length = req.headers['content-length'];
  if (length !== undefined && Number(length) > limit) throw bodyTooLarge(limit);
  if (capture !== undefined) {
    capture.contentType = req.headers['content-type'] ?? '';
    capture.contentEncoding = req.headers['content-encoding'] ?? '';
  }
  if ('stream' in req) {
    if (req.stream.endAfterHeaders || length === '0') return null;
    // Never the HTTP/2 stream itself: undici destroys a body that does not destroy itself at its end
    // (HTTP/2 streams do not), which would reset the stream before the shard's answer is written.
    return req.stream.pipe(new BodyLimit(limit, capture));
  }
  if (length !== undefined) return length === '0' ? null : capture === undefined ? req : req.pipe(new BodyLimit(limit, capture));
  return req.headers['transfer-encoding'] === undefined ? null : req.pipe(new BodyLimit(limit, capture));
}
