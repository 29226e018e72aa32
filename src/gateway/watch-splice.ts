// A watch open on the shard a workspace moved off hears nothing more, and ending it makes `kubectl get
// -w` exit. Instead the edge carries it on in the same client stream: it lists the collection on the
// shard the workspace moved to, sends every object as a MODIFIED event (each one's uid and
// resourceVersion are the new shard's now), then follows that shard's watch from the list's
// resourceVersion. From then on every resourceVersion the client sees is the new shard's. Whatever
// fails ends the stream, as a moved watch ended before, and the client re-watches.
import type { Dispatcher } from 'undici';
import type { GatewayError } from '../kube/gateway-error.ts';
import type { GatewayMetrics } from '../metrics.ts';
import type { Resolution, ShardHealth } from '../routing/types.ts';
import { upstreamPath } from '../workspaces/request-path.ts';
import type { RequestContext, UpstreamExchange } from './context.ts';
import { ForwardHandler } from './forward-handler.ts';
import { destroyResponse } from './respond.ts';
import type { ShardPools } from './shard-pools.ts';
import { dropHeader, shardRequestHeaders } from './stages/forward.ts';
import type { HeaderPolicy } from './upstream-headers.ts';

export interface WatchSpliceDeps {
  pools: ShardPools;
  headers: HeaderPolicy;
  metrics: GatewayMetrics;
  health: ShardHealth | undefined;
  /** Bound on the list that brings the client up to date. */
  listTimeoutMs?: number;
}

/** Parameters that belong to the watch the client started, not to the list or the watch that follow the move. */
const watchOnly = ['watch', 'resourceVersion', 'resourceVersionMatch', 'sendInitialEvents', 'allowWatchBookmarks', 'timeoutSeconds', 'limit', 'continue'];

/**
 * Called when the route of `ctx`, a watch, names `to` now. True when the watch goes on there; false
 * when it cannot (not a plain JSON watch, or caught in the middle of an event) and must be ended.
 */
export function spliceMovedWatch(ctx: RequestContext, to: Resolution, deps: WatchSpliceDeps): boolean {
  const current = ctx.upstream;
  if (!(current instanceof ForwardHandler) || ctx.attrs?.verb !== 'watch' || ctx.parsed === undefined || ctx.resolutions.length !== 1 || ctx.res === undefined) return false;
  if (!current.detach()) return false;
  ctx.shard = to.shard.name;
  ctx.target = to;
  ctx.resolutions = [to];
  const exchange = new SplicedWatch(ctx, to, deps);
  ctx.upstream = exchange;
  void exchange.start();
  return true;
}

interface ListBody {
  kind?: string;
  apiVersion?: string;
  metadata?: { resourceVersion?: string };
  items?: Record<string, unknown>[];
  rows?: unknown[];
}

class SplicedWatch implements UpstreamExchange {
  readonly #ctx: RequestContext;
  readonly #to: Resolution;
  readonly #deps: WatchSpliceDeps;
  readonly #listAbort = new AbortController();
  #watch: ForwardHandler | undefined = undefined;
  #over = false;

  constructor(ctx: RequestContext, to: Resolution, deps: WatchSpliceDeps) {
    this.#ctx = ctx;
    this.#to = to;
    this.#deps = deps;
  }

  async start(): Promise<void> {
    const ctx = this.#ctx;
    const res = ctx.res!;
    const headers = shardRequestHeaders(ctx, this.#deps.headers);
    // What the client is sent is written by the edge itself: it must arrive uncompressed.
    dropHeader(headers, 'accept-encoding');
    const watchPath = upstreamPath(ctx.parsed!, [this.#to.route.cluster]);
    const params = new URLSearchParams(ctx.query);
    const listParams = new URLSearchParams(params);
    for (const name of watchOnly) listParams.delete(name);
    const listQuery = listParams.toString();
    let events: string;
    let resourceVersion: string;
    try {
      const listPath = listPathOf(watchPath) + (listQuery === '' ? '' : `?${listQuery}`);
      const timeoutMs = this.#deps.listTimeoutMs ?? 30_000;
      const reply = await this.#deps.pools.poolFor(this.#to.shard).request({
        method: 'GET',
        path: listPath,
        headers,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        signal: AbortSignal.any([this.#listAbort.signal, AbortSignal.timeout(timeoutMs)]),
      });
      const text = await reply.body.text();
      if (reply.statusCode !== 200) throw new Error(`list on shard ${this.#to.shard.name}: HTTP ${reply.statusCode}`);
      ({ events, resourceVersion } = asEvents(JSON.parse(text) as ListBody));
    } catch {
      // The client learns it the way it learnt of a move before: its watch ends, and it re-watches.
      this.#endCleanly();
      return;
    }
    if (this.#over) return;
    if (events !== '') res.write(events);
    params.set('resourceVersion', resourceVersion);
    params.delete('sendInitialEvents');
    params.delete('resourceVersionMatch');
    const handler = new ForwardHandler(ctx, res, this.#deps.metrics, this.#deps.health, false, true);
    this.#watch = handler;
    const options: Dispatcher.DispatchOptions = { path: `${watchPath}?${params.toString()}`, method: 'GET', headers, body: null, bodyTimeout: 0 };
    this.#deps.pools.poolFor(this.#to.shard).dispatch(options, handler);
  }

  stop(cleanly: boolean): void {
    if (this.#watch !== undefined) return this.#watch.stop(cleanly);
    if (cleanly) this.#endCleanly();
    else this.#over = true;
    this.#listAbort.abort();
  }

  fail(err: GatewayError): void {
    if (this.#watch !== undefined) return this.#watch.fail(err);
    this.#over = true;
    this.#listAbort.abort();
    this.#ctx.error = err;
    destroyResponse(this.#ctx);
  }

  #endCleanly(): void {
    if (this.#over) return;
    this.#over = true;
    const res = this.#ctx.res!;
    if (!res.writableEnded) res.end();
  }
}

/** The collection a watch path names, as a list path: the legacy `/watch/` segment dropped. */
export function listPathOf(watchPath: string): string {
  return watchPath.replace(/^(.*?\/(?:api\/v1|apis\/[^/]+\/[^/]+))\/watch\//, '$1/');
}

/** A list as the watch events that bring a client's view of it up to date, and the resourceVersion to watch from. */
function asEvents(list: ListBody): { events: string; resourceVersion: string } {
  const resourceVersion = list.metadata?.resourceVersion;
  if (typeof resourceVersion !== 'string' || resourceVersion === '') throw new Error('the list has no resourceVersion');
  let events = '';
  if (list.kind === 'Table') {
    // Table watches carry one row per event; the client has had the column definitions already.
    for (const row of list.rows ?? []) {
      events += `${JSON.stringify({ type: 'MODIFIED', object: { kind: 'Table', apiVersion: list.apiVersion, metadata: { resourceVersion }, columnDefinitions: null, rows: [row] } })}\n`;
    }
    return { events, resourceVersion };
  }
  // List items go without kind and apiVersion; watch events name them.
  const kind = (list.kind ?? '').replace(/List$/, '');
  for (const item of list.items ?? []) events += `${JSON.stringify({ type: 'MODIFIED', object: { kind, apiVersion: list.apiVersion, ...item } })}\n`;
  return { events, resourceVersion };
}
