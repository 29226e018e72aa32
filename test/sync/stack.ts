// A sync test stack on stand-in servers, built through the API as a KCP admin would: two shards, a
// provider workspace `root:compute` exporting `compute.cloud.example.com` (VirtualMachine), consumer
// workspaces bound to it on either shard, and a plain-Kubernetes service cluster with the VirtualMachine
// CRD. The export's endpoint slice lists one virtual-workspace URL per shard that has bindings.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connectShards, createCertificateAuthority, startShard, type ApiClient, type SimShard } from '../../src/sim/index.ts';
import { bindCompute, computeExportName, computeGroup, computeVersion, installComputeCRD, publishComputeExport } from '../../src/sim/compute-export.ts';
import { waitFor } from '../helpers/wait.ts';

export const group = computeGroup;
export const version = computeVersion;
export const exportName = computeExportName;
export const providerPath = 'root:compute';

export interface Workspace {
  path: string;
  cluster: string;
  shard: SimShard;
  client: ApiClient;
}

export interface SyncStack {
  shards: SimShard[];
  service: SimShard;
  serviceClient: ApiClient;
  kcpKubeconfig: string;
  serviceKubeconfig: string;
  /** Logical cluster of the provider workspace, holding the export and its endpoint slice. */
  exportCluster: string;
  /** A project workspace `root:<org>:<name>` on the given shard, bound to the export. */
  createWorkspace(org: string, name: string, shardIndex: number): Promise<Workspace>;
  /** Deletes the workspace's APIBinding. */
  unbind(ws: Workspace): Promise<void>;
  close(): Promise<void>;
}

interface WorkspaceObject {
  spec?: { cluster?: string; URL?: string };
  status?: { phase?: string };
}

export async function startSyncStack(dir: string, { shardCount = 2 } = {}): Promise<SyncStack> {
  const ca = await createCertificateAuthority('sync-test-ca');
  const shards: SimShard[] = [];
  for (let i = 0; i < shardCount; i++) shards.push(await startShard({ name: `shard-${String.fromCharCode(97 + i)}`, ca }));
  connectShards(...shards);
  const service = await startShard({ name: 'service', mode: 'kubernetes', ca });
  const shardClients = await Promise.all(shards.map((s) => s.client()));
  const serviceClient = await service.client();
  await installComputeCRD(serviceClient);

  const known = new Map<string, { cluster: string; shard: number }>([['root', { cluster: 'root', shard: 0 }]]);
  async function workspace(path: string, shardIndex: number): Promise<Workspace> {
    const existing = known.get(path);
    const segments = path.split(':');
    const name = segments.at(-1)!;
    const parent = known.get(segments.slice(0, -1).join(':'));
    if (parent === undefined) throw new Error(`parent of ${path} not created`);
    if (existing === undefined) {
      const client = shardClients[parent.shard]!;
      const res = await client.request('POST', `/clusters/${parent.cluster}/apis/tenancy.kcp.io/v1alpha1/workspaces`, {
        body: { apiVersion: 'tenancy.kcp.io/v1alpha1', kind: 'Workspace', metadata: { name }, spec: { location: { selector: { matchLabels: shards[shardIndex]!.labels } } } },
      });
      if (res.status !== 201) throw new Error(`workspace ${path}: ${res.status} ${res.text}`);
      const ready = await waitFor(
        async () => {
          const got = await client.request<WorkspaceObject>('GET', `/clusters/${parent.cluster}/apis/tenancy.kcp.io/v1alpha1/workspaces/${name}`);
          return got.body.status?.phase === 'Ready' && got.body.spec?.cluster !== undefined ? got.body : undefined;
        },
        { what: `workspace ${path} Ready` },
      );
      known.set(path, { cluster: ready.spec!.cluster!, shard: shardIndex });
    }
    const { cluster, shard } = known.get(path)!;
    return { path, cluster, shard: shards[shard]!, client: shardClients[shard]! };
  }

  const provider = await workspace(providerPath, 0);
  await publishComputeExport(provider.client, provider.cluster, providerPath);

  const kcpKubeconfig = join(dir, 'kcp.kubeconfig');
  const serviceKubeconfig = join(dir, 'service.kubeconfig');
  await writeFile(kcpKubeconfig, await shards[0]!.kubeconfig({ user: 'sync-agent', groups: ['system:masters'] }));
  await writeFile(serviceKubeconfig, await service.kubeconfig());

  return {
    shards,
    service,
    serviceClient,
    kcpKubeconfig,
    serviceKubeconfig,
    exportCluster: provider.cluster,
    async createWorkspace(org, name, shardIndex) {
      if (!known.has(`root:${org}`)) await workspace(`root:${org}`, shardIndex);
      const ws = await workspace(`root:${org}:${name}`, shardIndex);
      await bindCompute(ws.client, ws.cluster, providerPath);
      await waitFor(async () => (await ws.client.request('GET', `/clusters/${ws.cluster}/apis/${group}/${version}/virtualmachines`)).status === 200, { what: `${ws.path} bound` });
      return ws;
    },
    async unbind(ws) {
      const res = await ws.client.request('DELETE', `/clusters/${ws.cluster}/apis/apis.kcp.io/v1alpha1/apibindings/compute`);
      if (res.status >= 300) throw new Error(`unbind: ${res.status} ${res.text}`);
      await waitFor(async () => (await ws.client.request('GET', `/clusters/${ws.cluster}/apis/${group}/${version}/virtualmachines`)).status === 404, { what: 'kind gone' });
    },
    async close() {
      for (const c of [...shardClients, serviceClient]) c.close();
      await Promise.all([...shards, service].map((s) => s.close()));
    },
  };
}
