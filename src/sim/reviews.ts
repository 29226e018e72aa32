// Review kinds that are answered and never stored: SelfSubjectReview (`kubectl auth whoami`) and
// SelfSubjectAccessReview (`kubectl auth can-i`; RBAC is not enforced here, so always allowed).
import type { Identity, KubeObject, ResourceType } from './types.ts';
import { groupVersion } from './types.ts';

export function answerReview(type: ResourceType, body: KubeObject, identity: Identity): KubeObject {
  const base = { apiVersion: groupVersion(type), kind: type.kind, metadata: { creationTimestamp: null } as unknown as KubeObject['metadata'] };
  if (type.resource === 'selfsubjectreviews') {
    const userInfo: Record<string, unknown> = { username: identity.user, groups: identity.groups };
    if (identity.uid !== undefined) userInfo['uid'] = identity.uid;
    if (Object.keys(identity.extra).length > 0) userInfo['extra'] = identity.extra;
    return { ...base, status: { userInfo } };
  }
  return { ...base, spec: body['spec'], status: { allowed: true, reason: 'the stand-in shard does not enforce RBAC' } };
}
