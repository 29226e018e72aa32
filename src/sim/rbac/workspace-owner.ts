// kcp makes whoever creates a workspace its owner: the Workspace (and then its LogicalCluster) carries the
// creator's user info in an annotation, and the new logical cluster starts with a `workspace-admin`
// ClusterRoleBinding to cluster-admin for that user, so the creator can enter and manage it.
import type { Identity, KubeObject } from '../types.ts';

export const ownerAnnotation = 'experimental.tenancy.kcp.io/owner';

/** Records the creator on a Workspace about to be created (kcp's workspace admission does this). */
export function recordOwner(workspace: KubeObject, creator: Identity): void {
  if (creator.groups.includes('system:masters')) return;
  const info = { username: creator.user, ...(creator.uid !== undefined ? { uid: creator.uid } : {}), groups: creator.groups };
  workspace.metadata.annotations = { ...workspace.metadata.annotations, [ownerAnnotation]: JSON.stringify(info) };
}

/** The binding an owned logical cluster starts with, or undefined when nobody in particular owns it. */
export function ownerBinding(logicalCluster: KubeObject): KubeObject | undefined {
  const raw = logicalCluster.metadata.annotations?.[ownerAnnotation];
  if (raw === undefined) return undefined;
  let username: unknown;
  try {
    username = (JSON.parse(raw) as { username?: unknown }).username;
  } catch {
    return undefined;
  }
  if (typeof username !== 'string' || username === '') return undefined;
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: 'workspace-admin' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: username }],
  };
}
