// The shard's authorization chain, in kcp's order: system:masters may do anything; anyone else must first
// be allowed into the workspace (kcp's workspace content authorizer asks RBAC in that workspace for verb
// `access` on the non-resource URL `/`), then RBAC decides the request itself.
import { SimError } from '../errors.ts';
import type { ObjectStore } from '../store.ts';
import type { Identity } from '../types.ts';
import { ClusterPolicy, type Attributes } from './authorizer.ts';

export type Decision = { allowed: true; reason: string } | { allowed: false; reason: string; workspace: boolean };

export const workspaceAccess: Attributes = { kind: 'nonResource', verb: 'access', path: '/' };

export function isPrivileged(identity: Identity): boolean {
  return identity.groups.includes('system:masters');
}

/** A service account belongs to the logical cluster that issued its token, and may enter that one. */
function ownServiceAccount(identity: Identity, cluster: string): boolean {
  return identity.user.startsWith('system:serviceaccount:') && (identity.extra['authentication.kcp.io/cluster-name'] ?? []).includes(cluster);
}

export function decide(store: ObjectStore, cluster: string, identity: Identity, attrs: Attributes): Decision {
  if (isPrivileged(identity)) return { allowed: true, reason: 'system:masters' };
  const policy = new ClusterPolicy(store, cluster);
  if (!ownServiceAccount(identity, cluster) && !policy.allows(identity, workspaceAccess)) {
    return { allowed: false, reason: 'workspace access not permitted', workspace: true };
  }
  if (policy.allows(identity, attrs)) return { allowed: true, reason: 'allowed by RBAC' };
  return { allowed: false, reason: '', workspace: false };
}

/** kube-apiserver's wording, which kubectl prints as it is. */
export function forbiddenMessage(identity: Identity, attrs: Attributes): string {
  if (attrs.kind === 'nonResource') return `forbidden: User "${identity.user}" cannot ${attrs.verb} path "${attrs.path}"`;
  const resource = attrs.subresource === '' ? attrs.resource : `${attrs.resource}/${attrs.subresource}`;
  const subject = attrs.name === '' ? resource : `${resource} "${attrs.name}"`;
  const scope = attrs.namespace === '' ? 'at the cluster scope' : `in the namespace "${attrs.namespace}"`;
  return `${subject} is forbidden: User "${identity.user}" cannot ${attrs.verb} resource "${resource}" in API group "${attrs.apiGroup}" ${scope}`;
}

export function authorize(store: ObjectStore, cluster: string, identity: Identity, attrs: Attributes, workspaceDenied: () => SimError): void {
  const decision = decide(store, cluster, identity, attrs);
  if (decision.allowed) return;
  if (decision.workspace) throw workspaceDenied();
  const details = attrs.kind === 'resource' ? { name: attrs.name, group: attrs.apiGroup, kind: attrs.resource } : undefined;
  throw new SimError(403, 'Forbidden', forbiddenMessage(identity, attrs), details);
}

/** The verb kube-apiserver's RequestInfoFactory reads from a method and path. */
export function resourceVerb(method: string, named: boolean, watch: boolean): string {
  switch (method) {
    case 'GET':
    case 'HEAD':
      return watch ? 'watch' : named ? 'get' : 'list';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return named ? 'delete' : 'deletecollection';
    default:
      return method.toLowerCase();
  }
}
