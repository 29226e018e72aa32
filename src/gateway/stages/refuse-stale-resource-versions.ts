// Stage: for a while after a workspace moved, a list or watch that presents a resourceVersion the shard
// it left issued is answered 410 Expired, as a kube-apiserver answers one it no longer has: the two
// shards count apart, and an old number read against the new shard would skip or replay changes. The
// client lists again (rv "" or "0" always pass) and goes on from the new shard's numbers.
//
// The move leaves a fence on the route (see RouteFence): everything the target issued since the
// cutover is at least targetRV, everything the source issued at most sourceRV. Below targetRV is old;
// above sourceRV is new; in between (when the source's counter was ahead), a number the target has not
// reached yet cannot be its own, which one list on the target, as the client, tells.
import { GatewayError } from '../../kube/gateway-error.ts';
import type { RouteFence } from '../../routing/types.ts';
import { upstreamPath } from '../../workspaces/request-path.ts';
import type { RequestContext } from '../context.ts';
import type { ShardPools } from '../shard-pools.ts';
import type { HeaderPolicy } from '../upstream-headers.ts';
import { listPathOf } from '../watch-splice.ts';
import { dropHeader, shardRequestHeaders } from './forward.ts';

export interface StaleResourceVersionDeps {
  pools: ShardPools;
  headers: HeaderPolicy;
  lookupTimeoutMs?: number;
}

const fencedVerbs = new Set(['list', 'watch']);

export function refuseStaleResourceVersions(deps: StaleResourceVersionDeps) {
  return function refuseStale(ctx: RequestContext): void | Promise<void> {
    const fence = ctx.target?.route.fence;
    // Nearly every request stops here, without a promise.
    if (fence === undefined) return;
    if (fence.shard !== ctx.target!.shard.name || Date.now() > fence.until || !fencedVerbs.has(ctx.attrs?.verb ?? '') || ctx.resolutions.length !== 1) return;
    const given = new URLSearchParams(ctx.query).get('resourceVersion') ?? '';
    if (!/^[1-9]\d*$/.test(given)) return;
    const rv = BigInt(given);
    if (rv < BigInt(fence.targetRV)) throw expired(given, 'below the target', fence);
    if (fence.sourceRV !== undefined && rv > BigInt(fence.sourceRV)) return;
    return checkAgainstTarget(ctx, rv, given, fence, deps);
  };
}

async function checkAgainstTarget(ctx: RequestContext, rv: bigint, given: string, fence: RouteFence, deps: StaleResourceVersionDeps): Promise<void> {
  const timeoutMs = deps.lookupTimeoutMs ?? 10_000;
  const headers = shardRequestHeaders(ctx, deps.headers);
  dropHeader(headers, 'accept-encoding');
  dropHeader(headers, 'accept');
  headers.push('accept', 'application/json');
  const path = `${listPathOf(upstreamPath(ctx.parsed!, [ctx.target!.route.cluster]))}?limit=1`;
  let current: bigint;
  try {
    const reply = await deps.pools.poolFor(ctx.target!.shard).request({
      method: 'GET',
      path,
      headers,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal: AbortSignal.any([ctx.signal, AbortSignal.timeout(timeoutMs)]),
    });
    const text = await reply.body.text();
    if (reply.statusCode !== 200) throw new Error(`HTTP ${reply.statusCode}`);
    const list = JSON.parse(text) as { metadata?: { resourceVersion?: unknown } };
    const found = list.metadata?.resourceVersion;
    if (typeof found !== 'string' || !/^\d+$/.test(found)) throw new Error('no resourceVersion in the list');
    current = BigInt(found);
  } catch (err) {
    // Undecided is refused: a 410 costs the client a list; an old number read here costs it changes.
    throw expired(given, `the target could not be asked (${err instanceof Error ? err.message : String(err)})`, fence);
  }
  if (rv > current) throw expired(given, `above the target's ${current}`, fence);
}

function expired(given: string, why: string, fence: RouteFence): GatewayError {
  return new GatewayError('RESOURCE_EXPIRED', `too old resource version: ${given} (the workspace moved to another shard; list again)`, {
    internalReason: `resourceVersion ${given} is from before the move to ${fence.shard}: ${why} (target ${fence.targetRV}, source ${fence.sourceRV ?? 'unknown'})`,
  });
}
