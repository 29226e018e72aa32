// The condition a consumer object carries when its copy cannot be created on the service cluster: status
// that never arrives is otherwise indistinguishable from status that is merely slow (api-syncagent #130).
// It is written only on trouble, and turned True once the copy exists, so the usual path costs nothing.
// Its type is ours alone: the rest of the status comes from the copy, and a provider's own conditions
// (Crossplane's Synced and Ready) must never be mistaken for it or overwritten by it.
import type { KubeObject } from '../kube/rest-client.ts';
import type { Json } from './merge-patch.ts';
import { errorKind } from './metrics.ts';

export const copiedCondition = 'sync.kcp-edge.io/Copied';

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime: string;
  [key: string]: Json;
}

type Status = { [key: string]: Json };

function conditionsOf(status: unknown): Condition[] {
  const conditions = (status as { conditions?: unknown } | undefined)?.conditions;
  return Array.isArray(conditions) ? (conditions as Condition[]) : [];
}

export function ownCondition(object: KubeObject): Condition | undefined {
  return conditionsOf(object.status).find((c) => c.type === copiedCondition);
}

/** `namespace_owned_elsewhere` → `NamespaceOwnedElsewhere`: the reason of a failure, from its kind. */
export function failureReason(err: unknown): string {
  return errorKind(err)
    .split('_')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('');
}

/** Our condition as it should be now; the transition time moves only when the status does. */
export function nextCondition(current: Condition | undefined, status: Condition['status'], reason: string, message: string): Condition {
  const lastTransitionTime = current?.status === status ? current.lastTransitionTime : new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  return { type: copiedCondition, status, reason, message, lastTransitionTime };
}

export function sameCondition(a: Condition | undefined, b: Condition | undefined): boolean {
  return a?.status === b?.status && a?.reason === b?.reason && a?.message === b?.message;
}

/** `status` with our condition in place of any earlier one of its type (or without one, if undefined). */
export function withCondition(status: Status | undefined, condition: Condition | undefined): Status {
  const others = conditionsOf(status).filter((c) => c.type !== copiedCondition);
  const conditions = condition === undefined ? others : [...others, condition];
  const out: Status = { ...(status ?? {}) };
  if (conditions.length > 0) out.conditions = conditions;
  else delete out.conditions;
  return out;
}
