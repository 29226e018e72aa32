// The workspaces a newcomer finds, created the way a KCP admin creates them: a Workspace object in the
// parent workspace, placed on a shard by `spec.location.selector`, then read back until Ready for the
// logical-cluster name the shard gave it.
import type { ApiClient } from '../../sim/index.ts';
import type { DevStack, DevStep, DevWorkspace } from '../stack.ts';

export interface PlannedWorkspace {
  path: string;
  shard: string;
}

/** Two orgs, three projects, spread over both shards. */
export const devLayout: readonly PlannedWorkspace[] = [
  { path: 'root:org-acme', shard: 'shard-a' },
  { path: 'root:org-acme:proj-frontend', shard: 'shard-a' },
  { path: 'root:org-acme:proj-backend', shard: 'shard-b' },
  { path: 'root:org-globex', shard: 'shard-b' },
  { path: 'root:org-globex:proj-apps', shard: 'shard-b' },
];

interface WorkspaceObject {
  spec?: { cluster?: string; URL?: string };
  status?: { phase?: string };
}

const workspacesApi = '/apis/tenancy.kcp.io/v1alpha1/workspaces';

async function waitUntilReady(client: ApiClient, parentCluster: string, name: string): Promise<WorkspaceObject> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const res = await client.request<WorkspaceObject>('GET', `/clusters/${parentCluster}${workspacesApi}/${name}`);
    if (res.status === 200 && res.body.status?.phase === 'Ready' && res.body.spec?.cluster) return res.body;
    if (Date.now() > deadline) throw new Error(`workspace ${name} in ${parentCluster} not Ready after 15 s (last: HTTP ${res.status} ${res.text.slice(0, 200)})`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function shardHolding(stack: DevStack, cluster: string): Promise<string | undefined> {
  for (const shard of stack.shards.values()) {
    const client = await shard.client();
    try {
      if ((await client.request('GET', `/clusters/${cluster}/apis/core.kcp.io/v1alpha1/logicalclusters/cluster`)).status === 200) return shard.name;
    } finally {
      client.close();
    }
  }
  return undefined;
}

export async function createWorkspace(stack: DevStack, planned: PlannedWorkspace): Promise<DevWorkspace> {
  const segments = planned.path.split(':');
  const name = segments.at(-1)!;
  const parentPath = segments.slice(0, -1).join(':');
  const parent =
    parentPath === 'root'
      ? { cluster: 'root', shard: 'shard-a' }
      : stack.need(
          stack.workspaces.find((w) => w.path === parentPath),
          `workspace ${parentPath}`,
        );
  const client = await stack.need(stack.shards.get(parent.shard), `shard ${parent.shard}`).client();
  const target = stack.need(stack.shards.get(planned.shard), `shard ${planned.shard}`);
  const created = await client.request('POST', `/clusters/${parent.cluster}${workspacesApi}`, {
    body: {
      apiVersion: 'tenancy.kcp.io/v1alpha1',
      kind: 'Workspace',
      metadata: { name },
      spec: { location: { selector: { matchLabels: target.labels } } },
    },
  });
  if (created.status !== 201 && created.status !== 409) {
    throw new Error(`creating workspace ${planned.path}: HTTP ${created.status} ${created.text.slice(0, 300)}`);
  }
  const ready = await waitUntilReady(client, parent.cluster, name);
  const cluster = ready.spec!.cluster!;
  // Where it really landed is what the routing table must say, whatever was asked for: the shard that
  // serves its LogicalCluster (spec.URL names the gateway, as kcp's names its front door).
  const landed = (await shardHolding(stack, cluster)) ?? planned.shard;
  return { path: planned.path, cluster, shard: landed, org: segments[1], project: segments.length > 2 };
}

export const workspaces: DevStep = {
  name: 'workspaces',
  async run(stack) {
    stack.workspaces.push({ path: 'root', cluster: 'root', shard: 'shard-a', org: undefined, project: false });
    // Siblings are created together; a level starts once its parents are Ready.
    const depths = [...new Set(devLayout.map((w) => w.path.split(':').length))].sort((a, b) => a - b);
    for (const depth of depths) {
      const level = devLayout.filter((w) => w.path.split(':').length === depth);
      stack.workspaces.push(...(await Promise.all(level.map((planned) => createWorkspace(stack, planned)))));
    }
  },
};
