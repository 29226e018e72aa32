// Review kinds that are answered and never stored: SelfSubjectReview (`kubectl auth whoami`),
// SelfSubjectAccessReview (`kubectl auth can-i`) and SelfSubjectRulesReview (`kubectl auth can-i --list`),
// the last two answered by the same authorizer that decides the caller's requests.
import { ClusterPolicy, type Attributes } from './rbac/authorizer.ts';
import { decide } from './rbac/authorize.ts';
import type { PolicyRule } from './rbac/bootstrap-policy.ts';
import type { ShardState } from './shard-state.ts';
import type { Identity, KubeObject, ResourceType } from './types.ts';
import { groupVersion } from './types.ts';

interface ReviewSpec {
  resourceAttributes?: { namespace?: string; verb?: string; group?: string; resource?: string; subresource?: string; name?: string };
  nonResourceAttributes?: { path?: string; verb?: string };
  namespace?: string;
}

const everything: PolicyRule[] = [
  { verbs: ['*'], apiGroups: ['*'], resources: ['*'] },
  { verbs: ['*'], nonResourceURLs: ['*'] },
];

function accessAttributes(spec: ReviewSpec): Attributes {
  const nr = spec.nonResourceAttributes;
  if (nr !== undefined) return { kind: 'nonResource', verb: nr.verb ?? '', path: nr.path ?? '' };
  const ra = spec.resourceAttributes ?? {};
  return {
    kind: 'resource',
    verb: ra.verb ?? '',
    apiGroup: ra.group ?? '',
    resource: ra.resource ?? '',
    subresource: ra.subresource ?? '',
    namespace: ra.namespace ?? '',
    name: ra.name ?? '',
  };
}

function rulesStatus(rules: PolicyRule[]): Record<string, unknown> {
  const resourceRules = rules
    .filter((r) => r.nonResourceURLs === undefined)
    .map((r) => ({
      verbs: r.verbs,
      apiGroups: r.apiGroups ?? [],
      resources: r.resources ?? [],
      ...(r.resourceNames !== undefined ? { resourceNames: r.resourceNames } : {}),
    }));
  const nonResourceRules = rules.filter((r) => r.nonResourceURLs !== undefined).map((r) => ({ verbs: r.verbs, nonResourceURLs: r.nonResourceURLs }));
  return { resourceRules, nonResourceRules, incomplete: false };
}

export function answerReview(shard: ShardState, cluster: string, type: ResourceType, body: KubeObject, identity: Identity): KubeObject {
  const base = { apiVersion: groupVersion(type), kind: type.kind, metadata: { creationTimestamp: null } as unknown as KubeObject['metadata'] };
  const spec = (body['spec'] ?? {}) as ReviewSpec;
  const rbac = shard.settings.authorization === 'RBAC' && cluster !== '*';
  if (type.resource === 'selfsubjectreviews') {
    const userInfo: Record<string, unknown> = { username: identity.user, groups: identity.groups };
    if (identity.uid !== undefined) userInfo['uid'] = identity.uid;
    if (Object.keys(identity.extra).length > 0) userInfo['extra'] = identity.extra;
    return { ...base, status: { userInfo } };
  }
  if (type.resource === 'selfsubjectrulesreviews') {
    const privileged = identity.groups.includes('system:masters');
    return {
      ...base,
      spec: body['spec'],
      status: rulesStatus(!rbac || privileged ? everything : new ClusterPolicy(shard.store, cluster).rulesFor(identity, spec.namespace ?? '')),
    };
  }
  if (!rbac) return { ...base, spec: body['spec'], status: { allowed: true, reason: 'authorization mode AlwaysAllow' } };
  const decision = decide(shard.store, cluster, identity, accessAttributes(spec));
  return {
    ...base,
    spec: body['spec'],
    status: decision.allowed ? { allowed: true, reason: decision.reason } : { allowed: false, ...(decision.reason !== '' ? { reason: decision.reason } : {}) },
  };
}
