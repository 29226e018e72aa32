// Which flow schema, priority level and flow a request belongs to, and what it costs: the policy half
// of admission, shared by every limiter implementation and by `kcp-edge ratelimit explain`.
import type { Identity } from '../auth/identity.ts';
import type { RequestAttributes } from '../kube/request-attributes.ts';
import type { Costs, FlowSchema, PriorityLevel, RateLimitPolicy } from './policy.ts';
import { normalizeWorkspace } from './rule-matcher.ts';
import type { LimitContext } from './types.ts';

export interface Classification {
  flowSchema: FlowSchema;
  priorityLevel: PriorityLevel;
  /** `<flow schema>/<distinguisher value>`, URI-encoded so no user name can forge another flow's key. */
  flowKey: string;
  /** What the distinguisher picked (user, workspace or org), '' when the schema has none. */
  distinguisherValue: string;
  isWatch: boolean;
  /** Cost units charged against the flow's rate (for a watch: against its watch-start rate). */
  cost: number;
}

/** What it reads (verb, and hasLimit for a list) is what flow-cache.ts keys a cached cost on. */
export function requestCost(costs: Costs, attrs: RequestAttributes): number {
  if (attrs.verb === 'watch') return 1;
  if (attrs.verb === 'list' && !attrs.hasLimit && costs.listWithoutLimit !== undefined) return costs.listWithoutLimit;
  return costs.verbs[attrs.verb] ?? costs.default;
}

export function classify(policy: RateLimitPolicy, identity: Identity, attrs: RequestAttributes, context: LimitContext): Classification {
  // The mandatory catch-all matches everything, so the loop always finds one; the fallback only keeps the type honest.
  const flowSchema = policy.flowSchemas.find((fs) => fs.matches(identity, attrs, context)) ?? policy.flowSchemas.at(-1)!;
  let distinguisherValue = '';
  switch (flowSchema.distinguisher) {
    case 'byUser':
      distinguisherValue = identity.user;
      break;
    case 'byWorkspace':
      distinguisherValue = context.workspace === undefined ? '' : normalizeWorkspace(context.workspace);
      break;
    case 'byOrg':
      distinguisherValue = context.org ?? '';
      break;
    case undefined:
      break;
  }
  const level = flowSchema.priorityLevel;
  return {
    flowSchema,
    priorityLevel: level,
    flowKey: `${encodeURIComponent(flowSchema.name)}/${encodeURIComponent(distinguisherValue)}`,
    distinguisherValue,
    isWatch: attrs.verb === 'watch',
    cost: level.exempt ? 0 : requestCost(policy.costs, attrs),
  };
}
