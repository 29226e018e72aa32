// A shard that hangs (blackholed, stopped, wedged) leaves the watches and exec sessions open on it
// silent forever: nothing arrives and nothing fails, so clients never re-list. Once health tracking
// marks the shard down, they are ended with an error the client sees (a reset HTTP/2 stream, a
// truncated HTTP/1.1 body, a closed upgraded socket) and the client's retry gets the 503 of a down
// shard. Short requests need none of this: the upstream header and body timeouts bound them.
import { GatewayError } from '../kube/gateway-error.ts';
import type { ShardHealth } from '../routing/types.ts';
import type { InFlightView } from './in-flight-set.ts';
import type { RequestContext } from './context.ts';

/** Checks `inflight` every `intervalMs`; returns the function that stops checking. */
export function cutOffDownShards(inflight: InFlightView<RequestContext>, health: ShardHealth, intervalMs = 1_000): () => void {
  const timer = setInterval(() => {
    for (const ctx of inflight) {
      if (ctx.upstream === undefined || ctx.shard === '' || !(ctx.longRunning || ctx.upgrade !== undefined)) continue;
      if (health.isAvailable(ctx.shard)) continue;
      ctx.upstream.fail(
        new GatewayError('SHARD_UNAVAILABLE', 'the shard serving this workspace is unavailable, try again later', {
          internalReason: `shard ${ctx.shard} failed health checks while the request was open`,
        }),
      );
    }
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
