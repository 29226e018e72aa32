// Who may do what in the dev workspaces, granted as kcp grants it: a workspace's owner is bound to
// cluster-admin there (kcp's workspace-admin binding), and a viewer gets `access` to the workspace (kcp
// lets in only who may `access` the non-resource URL /) plus the aggregated `view` role.
import type { ApiClient } from '../../sim/index.ts';
import type { DevStack, DevStep, DevUser, DevWorkspace } from '../stack.ts';

const rbacApi = '/apis/rbac.authorization.k8s.io/v1';
const roleRef = (name: string) => ({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name });

/** The user name the gateway asserts for a dev user: the org realm's `{org}:` prefix on the claim. */
export const shardUserName = (user: Pick<DevUser, 'name' | 'org'>) => `${user.org}:${user.name}`;

async function put(client: ApiClient, cluster: string, resource: 'clusterroles' | 'clusterrolebindings', body: Record<string, unknown>): Promise<void> {
  const res = await client.request('POST', `/clusters/${cluster}${rbacApi}/${resource}`, { body: { apiVersion: 'rbac.authorization.k8s.io/v1', ...body } });
  if (res.status !== 201 && res.status !== 409) throw new Error(`creating ${resource} in ${cluster}: HTTP ${res.status} ${res.text.slice(0, 300)}`);
}

async function grant(stack: DevStack, ws: DevWorkspace, user: DevUser): Promise<void> {
  const client = await stack.need(stack.shards.get(ws.shard), `shard ${ws.shard}`).client();
  try {
    const subjects = [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: shardUserName(user) }];
    if ('owner' in user.access) {
      await put(client, ws.cluster, 'clusterrolebindings', {
        kind: 'ClusterRoleBinding',
        metadata: { name: `workspace-admin:${user.name}` },
        roleRef: roleRef('cluster-admin'),
        subjects,
      });
      return;
    }
    await put(client, ws.cluster, 'clusterroles', { kind: 'ClusterRole', metadata: { name: 'workspace-access' }, rules: [{ nonResourceURLs: ['/'], verbs: ['access'] }] });
    await put(client, ws.cluster, 'clusterrolebindings', {
      kind: 'ClusterRoleBinding',
      metadata: { name: `workspace-access:${user.name}` },
      roleRef: roleRef('workspace-access'),
      subjects,
    });
    await put(client, ws.cluster, 'clusterrolebindings', { kind: 'ClusterRoleBinding', metadata: { name: `view:${user.name}` }, roleRef: roleRef('view'), subjects });
  } finally {
    client.close();
  }
}

export const access: DevStep = {
  name: 'access',
  async run(stack) {
    const grants = stack.users.flatMap((user) =>
      stack.workspaces.filter((ws) => ('owner' in user.access ? ws.org === user.org : ws.path === user.access.viewer)).map((ws) => grant(stack, ws, user)),
    );
    await Promise.all(grants);
  },
};
