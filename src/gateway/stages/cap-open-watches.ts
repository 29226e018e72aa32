// Stage: refuse a watch beyond this process's bound on open watches (in total, or for the request's
// organisation) with 429 and Retry-After, as kube-apiserver's max-in-flight limit does; client-go and
// reflectors wait and retry. The slot is held until the watch ends, however it ends.
import { GatewayError } from '../../kube/gateway-error.ts';
import type { OpenWatchCap } from '../../ratelimit/open-watch-cap.ts';
import { orgOf } from '../../workspaces/request-path.ts';
import type { RequestContext } from '../context.ts';

export interface WatchCapMetrics {
  watchCapRejected(scope: 'gateway' | 'org'): void;
}

/** Long enough that a crowd of refused reflectors does not come straight back. */
const retryAfterSeconds = 5;

export function capOpenWatches(cap: OpenWatchCap, metrics: WatchCapMetrics) {
  return function capOpenWatch(ctx: RequestContext): void {
    // Upgrades (exec, port-forward) are counted apart; ordinary requests end on their own.
    if (!ctx.longRunning || ctx.upgrade !== undefined) return;
    const workspace = ctx.target?.route.path;
    const admission = cap.tryOpen(workspace === undefined ? undefined : orgOf(workspace));
    if (!admission.admitted) {
      metrics.watchCapRejected(admission.scope);
      const where = admission.scope === 'gateway' ? 'this gateway' : 'this organisation on this gateway';
      throw new GatewayError('TOO_MANY_REQUESTS', `too many open watches for ${where}; retry after ${retryAfterSeconds}s`, {
        retryAfterSeconds,
        internalReason: `open watch cap (${admission.scope}) reached: ${admission.scope === 'gateway' ? cap.limits.maxOpen : cap.limits.maxOpenPerOrg}`,
      });
    }
    ctx.onFinished(admission.release);
  };
}
