// A workspace that moved leaves its watches open on the shard it left, which no longer changes what
// they show: their clients would never hear of anything again. Once the route names another shard (or
// logical cluster), each is carried on to the new shard in the same stream where `carryOn` can (see
// watch-splice.ts); the others are ended cleanly, as a kube-apiserver ends a watch at its timeout, and
// the client re-watches, through the edge, on the new shard (a resourceVersion from the old one gets
// 410 Expired, and the client re-lists).
import type { Resolution, RoutingTable } from '../routing/types.ts';
import type { RequestContext } from './context.ts';
import type { InFlightView } from './in-flight-set.ts';

/** Checks `inflight` every `intervalMs`; returns the function that stops checking. */
export function endMovedWatches(
  inflight: InFlightView<RequestContext>,
  routing: RoutingTable,
  intervalMs = 500,
  carryOn: (ctx: RequestContext, to: Resolution) => boolean = () => false,
): () => void {
  let busy = false;
  const check = async () => {
    // Grouped by route first, then one resolve per route: an await per watch (and a copy of every
    // request in flight) cost tens of milliseconds per pass at 50 000 open watches.
    const byPath = new Map<string, RequestContext[]>();
    for (const ctx of inflight) {
      if (ctx.upstream === undefined || !ctx.longRunning || ctx.upgrade !== undefined) continue;
      const path = ctx.target?.route.path;
      if (path === undefined) continue;
      const watches = byPath.get(path);
      if (watches === undefined) byPath.set(path, [ctx]);
      else watches.push(ctx);
    }
    for (const [path, watches] of byPath) {
      const now = await routing.resolve(path).catch(() => undefined);
      if (now === undefined) continue;
      for (const ctx of watches) {
        const route = ctx.target?.route;
        if (route === undefined || (now.shard.name === route.shard && now.route.cluster === route.cluster)) continue;
        if (ctx.clientGone || ctx.upstream === undefined) continue;
        // Carried on only to a route that serves the workspace whole again.
        if (now.route.phase !== 'Ready' || !carryOn(ctx, now)) ctx.upstream.stop(true);
      }
    }
  };
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    void check().finally(() => (busy = false));
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
