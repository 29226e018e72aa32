// Stage: after authentication, refuse what cannot be served. An unknown workspace gets exactly the
// Forbidden a real authorization denial would give; a workspace whose shard is out gets 503.
import { forbidden } from '../../kube/forbidden.ts';
import { GatewayError } from '../../kube/gateway-error.ts';
import type { ShardHealth } from '../../routing/types.ts';
import type { RequestContext } from '../context.ts';

const readVerbs = new Set(['get', 'list', 'watch']);

export function admitToWorkspace(health: ShardHealth | undefined) {
  return function admit(ctx: RequestContext): void {
    const target = ctx.target;
    if (target === undefined) throw forbidden(ctx.user, ctx.attrs!);
    ctx.shard = target.shard.name;
    if (target.shard.state === 'down' || (health !== undefined && !health.isAvailable(target.shard.name))) {
      // No Retry-After: client-go retries a 503 that carries one up to ten times per call, so kubectl
      // would sit for minutes on a shard that is known to be down instead of showing this Status now.
      throw new GatewayError('SHARD_UNAVAILABLE', 'the shard serving this workspace is unavailable, try again later', {
        internalReason: `shard ${target.shard.name} is ${target.shard.state === 'down' ? 'marked down' : 'failing health checks'}`,
      });
    }
    if (target.route.phase === 'Moving') {
      // The source still serves reads while the workspace is copied; a write now could be missed by the
      // copy, so it waits: 429 with Retry-After, which kubectl and client-go retry by themselves.
      if (readVerbs.has(ctx.attrs?.verb ?? '')) return;
      throw new GatewayError('TOO_MANY_REQUESTS', 'the workspace is being moved to another shard; writes resume in a moment', {
        retryAfterSeconds: 1,
        internalReason: `route ${target.route.path} is Moving`,
      });
    }
    if (target.route.phase !== 'Ready') {
      throw new GatewayError('SHARD_UNAVAILABLE', 'the workspace is being moved or is unavailable, try again later', {
        retryAfterSeconds: 1,
        internalReason: `route ${target.route.path} is ${target.route.phase}`,
      });
    }
  };
}
