// What the status page shows, gathered when it is asked for: shards with their state and health,
// routes per shard, open watches per shard and org, rate-limit levels in use and their recent 429s.
// Everything is read from what the gateway keeps anyway (requests in flight, the health checker's
// state); the only per-request cost is the rejection counter's one comparison.
import type { RequestContext, RequestObserver } from '../gateway/context.ts';
import type { InFlightView } from '../gateway/in-flight-set.ts';
import type { ShardHealthSnapshot } from '../routing/shard-health.ts';
import type { RoutingTable } from '../routing/types.ts';

export interface GatewayStatus {
  generatedAt: string;
  host: string;
  pid: number;
  configRevision: string;
  routingReady: boolean;
  /** Gateway processes registered in Redis by the rate limiter; null without a Redis limiter. */
  replicasSeen: number | null;
  shards: { name: string; url: string; state: string; health: 'up' | 'down' | 'unknown'; reason?: string; routes: number | null; openWatches: number }[];
  watches: { shard: string; org: string; open: number }[];
  rateLimit: { level: string; inFlight: number; openWatches: number; rejectedLast5m: number }[];
  requestsInFlight: number;
  /**
   * With workers the admin port is shared and the kernel picks who answers: the answering worker (slot
   * 0 … count-1), whose own watches, requests and 429s the counts are. null for a single process.
   */
  worker: { slot: number; count: number } | null;
}

export interface StatusSources {
  routing: RoutingTable;
  health?: { snapshot(): Record<string, ShardHealthSnapshot> };
  /** Requests in flight, read only. */
  inflight: () => InFlightView<RequestContext>;
  rejections: RecentRejections;
  configRevision: string;
  host: string;
  /** Replicas the shared limiter sees in Redis (it keeps the count anyway); absent = unknown. */
  replicasSeen?: () => Promise<number | undefined>;
  /** This process's place among the serve workers; absent for a single process. */
  worker?: { slot: number; count: number };
}

const WINDOW_MS = 5 * 60_000;
const MAX_KEPT = 10_000;

/** Remembers the 429s of the last five minutes by priority level, bounded however many there are. */
export class RecentRejections implements RequestObserver {
  #at: number[] = [];
  #level: string[] = [];

  requestFinished(ctx: RequestContext): void {
    if (ctx.statusCode !== 429) return;
    if (this.#at.length >= MAX_KEPT) {
      this.#at.shift();
      this.#level.shift();
    }
    this.#at.push(Date.now());
    this.#level.push(ctx.limit?.priorityLevel.name ?? '');
  }

  /** Counts by priority level within the window, dropping what fell out of it. */
  counts(now = Date.now()): Map<string, number> {
    let drop = 0;
    while (drop < this.#at.length && this.#at[drop]! < now - WINDOW_MS) drop++;
    if (drop > 0) {
      this.#at.splice(0, drop);
      this.#level.splice(0, drop);
    }
    const counts = new Map<string, number>();
    for (const level of this.#level) counts.set(level, (counts.get(level) ?? 0) + 1);
    return counts;
  }
}

/** The org of a workspace path: root:org-acme:proj → org-acme. */
function orgOf(workspace: string | undefined): string {
  if (workspace === undefined) return '';
  const parts = workspace.split(':');
  return (parts[0] === 'root' ? parts[1] : parts[0]) ?? '';
}

export async function gatewayStatus(sources: StatusSources): Promise<GatewayStatus> {
  const [shards, routeCounts, replicas] = await Promise.all([
    sources.routing.listShards().catch(() => []),
    sources.routing.countRoutesByShard?.().catch(() => undefined),
    sources.replicasSeen?.().catch(() => undefined),
  ]);
  const health = sources.health?.snapshot() ?? {};
  const watches = new Map<string, { shard: string; org: string; open: number }>();
  const watchesByShard = new Map<string, number>();
  const levels = new Map<string, { level: string; inFlight: number; openWatches: number; rejectedLast5m: number }>();
  const level = (name: string) => {
    let l = levels.get(name);
    if (l === undefined) levels.set(name, (l = { level: name, inFlight: 0, openWatches: 0, rejectedLast5m: 0 }));
    return l;
  };
  const inflight = sources.inflight();
  for (const ctx of inflight) {
    // A watch counts once its response has started (the same moment kcp_edge_open_watches counts it).
    const watching = ctx.longRunning && ctx.upgrade === undefined && ctx.statusCode !== 0 && ctx.shard !== '';
    if (watching) {
      const org = orgOf(ctx.target?.route.path);
      const key = `${ctx.shard}\n${org}`;
      const entry = watches.get(key) ?? { shard: ctx.shard, org, open: 0 };
      entry.open++;
      watches.set(key, entry);
      watchesByShard.set(ctx.shard, (watchesByShard.get(ctx.shard) ?? 0) + 1);
    }
    const name = ctx.limit?.priorityLevel.name;
    if (name !== undefined) {
      const l = level(name);
      if (watching) l.openWatches++;
      else l.inFlight++;
    }
  }
  for (const [name, count] of sources.rejections.counts()) level(name === '' ? '(none)' : name).rejectedLast5m = count;
  return {
    generatedAt: new Date().toISOString(),
    host: sources.host,
    pid: process.pid,
    configRevision: sources.configRevision,
    routingReady: sources.routing.ready(),
    replicasSeen: replicas ?? null,
    shards: shards
      .map((s) => {
        const h = health[s.name];
        return {
          name: s.name,
          url: s.url,
          state: s.state,
          health: h === undefined ? ('unknown' as const) : h.up ? ('up' as const) : ('down' as const),
          ...(h?.reason === undefined ? {} : { reason: h.reason }),
          routes: routeCounts?.[s.name] ?? (routeCounts === undefined ? null : 0),
          openWatches: watchesByShard.get(s.name) ?? 0,
        };
      })
      .sort((a, b) => a.name.localeCompare(b.name)),
    watches: [...watches.values()].sort((a, b) => a.shard.localeCompare(b.shard) || a.org.localeCompare(b.org)),
    rateLimit: [...levels.values()].sort((a, b) => a.level.localeCompare(b.level)),
    requestsInFlight: inflight.size,
    worker: sources.worker === undefined ? null : { slot: sources.worker.slot, count: sources.worker.count },
  };
}
