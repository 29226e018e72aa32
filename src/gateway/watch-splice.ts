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
  const from = ctx.target;
  if (from === undefined || !current.detach()) return false;
  ctx.shard = to.shard.name;
  ctx.target = to;
  ctx.resolutions = [to];
  const exchange = new SplicedWatch(ctx, from, to, deps);
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
  readonly #from: Resolution;
  readonly #to: Resolution;
  readonly #deps: WatchSpliceDeps;
  readonly #listAbort = new AbortController();
  #watch: ForwardHandler | undefined = undefined;
  #over = false;

  constructor(ctx: RequestContext, from: Resolution, to: Resolution, deps: WatchSpliceDeps) {
    this.#ctx = ctx;
    this.#from = from;
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
    const listPath = (at: Resolution) => listPathOf(upstreamPath(ctx.parsed!, [at.route.cluster])) + (listQuery === '' ? '' : `?${listQuery}`);
    let events: string;
    let resourceVersion: string;
    try {
      // The source still holds what the client has seen (it was frozen for the move and goes only after
      // a grace): against it, the target's list tells what was added or deleted since the cutover.
      const [target, source] = await Promise.all([this.#list(this.#to, listPath(this.#to), headers), this.#list(this.#from, listPath(this.#from), headers).catch(() => undefined)]);
      ({ events, resourceVersion } = asEvents(target, source, params.get('allowWatchBookmarks') === 'true'));
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
    this.#deps.pools.poolFor(this.#to.shard, true).dispatch(options, handler);
  }

  async #list(at: Resolution, path: string, headers: string[]): Promise<ListBody> {
    const timeoutMs = this.#deps.listTimeoutMs ?? 30_000;
    const reply = await this.#deps.pools.poolFor(at.shard).request({
      method: 'GET',
      path,
      headers,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal: AbortSignal.any([this.#listAbort.signal, AbortSignal.timeout(timeoutMs)]),
    });
    const text = await reply.body.text();
    if (reply.statusCode !== 200) throw new Error(`list on shard ${at.shard.name}: HTTP ${reply.statusCode}`);
    return JSON.parse(text) as ListBody;
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

interface Entry {
  key: string;
  object: unknown;
}

/** A list's objects by namespace/name; for a Table, its rows (each shown as a one-row Table). */
function entriesOf(list: ListBody, resourceVersion: string): Entry[] {
  const keyOf = (meta: { namespace?: string; name?: string } | undefined) => `${meta?.namespace ?? ''}/${meta?.name ?? ''}`;
  if (list.kind === 'Table') {
    // Table watches carry one row per event; the client has had the column definitions already.
    return (list.rows ?? []).map((row) => ({
      key: keyOf((row as { object?: { metadata?: { namespace?: string; name?: string } } }).object?.metadata),
      object: { kind: 'Table', apiVersion: list.apiVersion, metadata: { resourceVersion }, columnDefinitions: null, rows: [row] },
    }));
  }
  // List items go without kind and apiVersion; watch events name them.
  const kind = (list.kind ?? '').replace(/List$/, '');
  return (list.items ?? []).map((item) => ({
    key: keyOf(item['metadata'] as { namespace?: string; name?: string } | undefined),
    object: { kind, apiVersion: list.apiVersion, ...item },
  }));
}

/**
 * The watch events that bring a client whose view is `source` (when it could be listed) up to `target`,
 * and the resourceVersion to watch from. Every object the target holds is sent (its uid and
 * resourceVersion are new); one the source held and the target does not is sent as DELETED. A bookmark
 * last, when the client takes them, so its next re-watch starts from the target's list.
 */
function asEvents(target: ListBody, source: ListBody | undefined, bookmarks: boolean): { events: string; resourceVersion: string } {
  const resourceVersion = target.metadata?.resourceVersion;
  if (typeof resourceVersion !== 'string' || resourceVersion === '') throw new Error('the list has no resourceVersion');
  const now = entriesOf(target, resourceVersion);
  const before = source === undefined ? undefined : new Map(entriesOf(source, resourceVersion).map((e) => [e.key, e.object]));
  let events = '';
  for (const { key, object } of now) events += `${JSON.stringify({ type: before === undefined || before.has(key) ? 'MODIFIED' : 'ADDED', object })}\n`;
  if (before !== undefined) {
    const kept = new Set(now.map((e) => e.key));
    for (const [key, object] of before) {
      if (kept.has(key)) continue;
      // Deleted as of the target's list: a re-watch from this number must be read against the target.
      const gone = structuredClone(object) as { metadata?: Record<string, unknown> };
      if (target.kind !== 'Table') gone.metadata = { ...gone.metadata, resourceVersion };
      events += `${JSON.stringify({ type: 'DELETED', object: gone })}\n`;
    }
  }
  if (bookmarks && target.kind !== 'Table') {
    const kind = (target.kind ?? '').replace(/List$/, '');
    events += `${JSON.stringify({ type: 'BOOKMARK', object: { kind, apiVersion: target.apiVersion, metadata: { resourceVersion } } })}\n`;
  }
  return { events, resourceVersion };
}
