// Stage: the rate policy. Runs after authentication (the flow depends on who asks) and before the
// workspace admission, so probing unknown workspaces is limited like any other request. Every
// response says which flow schema and priority level judged it, as kube-apiserver's APF does; an
// over-limit request gets 429 TooManyRequests with Retry-After, which client-go waits for and retries.
import { GatewayError } from '../../kube/gateway-error.ts';
import type { LimitContext, LimitDecision, Limiter } from '../../ratelimit/types.ts';
import { orgOf } from '../../workspaces/request-path.ts';
import type { RequestContext } from '../context.ts';

export const flowSchemaHeader = 'X-Kubernetes-PF-FlowSchema-UID';
export const priorityLevelHeader = 'X-Kubernetes-PF-PriorityLevel-UID';

/** Workspaces whose limit context is kept before the stage starts over. */
const maxContexts = 4096;

export function limitRate(limiter: Limiter) {
  // One list per flow schema and priority level (their UIDs never change), not one per request.
  const headerLists = new Map<string, Map<string, readonly string[]>>();
  // The last flow's list again, by reference: a limiter that keeps its decisions' names hands back the same objects.
  let lastFlowSchema: LimitDecision['flowSchema'] | undefined;
  let lastPriorityLevel: LimitDecision['priorityLevel'] | undefined;
  let lastList: readonly string[] = [];
  function flowHeaders(decision: LimitDecision): readonly string[] {
    if (decision.flowSchema === lastFlowSchema && decision.priorityLevel === lastPriorityLevel) return lastList;
    lastList = headersOf(decision);
    lastFlowSchema = decision.flowSchema;
    lastPriorityLevel = decision.priorityLevel;
    return lastList;
  }
  function headersOf(decision: LimitDecision): readonly string[] {
    let byLevel = headerLists.get(decision.flowSchema.uid);
    if (byLevel === undefined) headerLists.set(decision.flowSchema.uid, (byLevel = new Map()));
    let list = byLevel.get(decision.priorityLevel.uid);
    if (list === undefined) {
      list = Object.freeze([flowSchemaHeader.toLowerCase(), decision.flowSchema.uid, priorityLevelHeader.toLowerCase(), decision.priorityLevel.uid]);
      byLevel.set(decision.priorityLevel.uid, list);
    }
    return list;
  }

  // One context per workspace, not one object (and one org string) per request. A limiter may keep
  // what it is given, so each is frozen. Bounded: a workspace path is the client's to choose.
  const contexts = new Map<string | undefined, LimitContext>();
  function contextOf(workspace: string | undefined): LimitContext {
    let context = contexts.get(workspace);
    if (context === undefined) {
      if (contexts.size >= maxContexts) contexts.clear();
      context = Object.freeze({ workspace, org: workspace === undefined ? undefined : orgOf(workspace) });
      contexts.set(workspace, context);
    }
    return context;
  }

  return function limitRequestRate(ctx: RequestContext): void | Promise<void> {
    const workspace = ctx.target?.route.path ?? ctx.parsed?.refs[ctx.parsed.routeBy]?.key;
    const decision = limiter.admit(ctx.identity!, ctx.attrs!, contextOf(workspace));
    // Local counters answer at once; Redis's answer is awaited.
    if (decision instanceof Promise) return decision.then((d) => apply(ctx, d));
    apply(ctx, decision);
  };

  function apply(ctx: RequestContext, decision: LimitDecision): void {
    ctx.limit = decision;
    // Recorded now so they go out with whatever answers: the shard's response or our Status.
    ctx.addedResponseHeaders = flowHeaders(decision);
    if (!decision.allowed) {
      throw new GatewayError('TOO_MANY_REQUESTS', decision.message ?? 'Too many requests, please try again later.', {
        retryAfterSeconds: decision.retryAfterSeconds,
        internalReason: `rate limited by flow schema ${decision.flowSchema.name}, priority level ${decision.priorityLevel.name}`,
      });
    }
    // A watch holds its slot until it ends; an ordinary request until it is answered.
    // The decision itself, so release() is called on it (a limiter may make it a method).
    ctx.onFinished(decision);
  }
}
