// Stage: the rate policy. Runs after authentication (the flow depends on who asks) and before the
// workspace admission, so probing unknown workspaces is limited like any other request. Every
// response says which flow schema and priority level judged it, as kube-apiserver's APF does; an
// over-limit request gets 429 TooManyRequests with Retry-After, which client-go waits for and retries.
import { GatewayError } from '../../kube/gateway-error.ts';
import type { Limiter } from '../../ratelimit/types.ts';
import { orgOf } from '../../workspaces/request-path.ts';
import type { RequestContext } from '../context.ts';

export const flowSchemaHeader = 'X-Kubernetes-PF-FlowSchema-UID';
export const priorityLevelHeader = 'X-Kubernetes-PF-PriorityLevel-UID';

export function limitRate(limiter: Limiter) {
  return async function limitRequestRate(ctx: RequestContext): Promise<void> {
    const workspace = ctx.target?.route.path ?? ctx.parsed?.refs[ctx.parsed.routeBy]?.key;
    const decision = await limiter.admit(ctx.identity!, ctx.attrs!, {
      workspace,
      org: workspace === undefined ? undefined : orgOf(workspace),
    });
    ctx.limit = decision;
    // Set on the response now so they go out with whatever answers: the shard's response or our Status.
    ctx.res?.setHeader(flowSchemaHeader, decision.flowSchema.uid);
    ctx.res?.setHeader(priorityLevelHeader, decision.priorityLevel.uid);
    if (!decision.allowed) {
      throw new GatewayError('TOO_MANY_REQUESTS', decision.message ?? 'Too many requests, please try again later.', {
        retryAfterSeconds: decision.retryAfterSeconds,
        internalReason: `rate limited by flow schema ${decision.flowSchema.name}, priority level ${decision.priorityLevel.name}`,
      });
    }
    // A watch holds its slot until it ends; an ordinary request until it is answered.
    ctx.onFinished(decision.release);
  };
}
