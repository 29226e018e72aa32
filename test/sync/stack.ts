// A sync test stack on stand-in servers: two KCP shards, consumer workspaces serving the VirtualMachine
// kind, the export's endpoint slice listing one endpoint per shard, and a plain-Kubernetes service
// cluster with the VirtualMachine CRD. Everything is set up through the API.
//
// Until the stand-in serves APIExport virtual workspaces, the slice's endpoints are the shards' own URLs
// (a privileged client may list `/clusters/*/…` there, objects carrying `kcp.io/cluster` as in the
// virtual workspace) and each consumer workspace gets the kind from a CRD instead of an APIBinding. The
// worker cannot tell the difference: it appends `/clusters/*/apis/…` to whatever the slice lists.
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connectShards, createCertificateAuthority, startShard, type ApiClient, type SimShard } from '../../src/sim/index.ts';
import { computeExportName, computeGroup, computeVersion, installComputeCRD } from '../../src/sim/compute-export.ts';
import { waitFor } from '../helpers/wait.ts';

export const group = computeGroup;
export const version = computeVersion;
export const exportName = computeExportName;

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
  /** Logical cluster holding the APIExportEndpointSlice. */
  exportCluster: string;
  createWorkspace(org: string, name: string, shardIndex: number): Promise<Workspace>;
  /** Takes the kind away from a workspace (what deleting its APIBinding does). */
  unbind(ws: Workspace): Promise<void>;
  close(): Promise<void>;
}

async function ok<T>(p: Promise<{ status: number; text: string; body: T }>, what: string): Promise<T> {
  const res = await p;
  if (res.status >= 300) throw new Error(`${what}: ${res.status} ${res.text}`);
  return res.body;
}

const newCluster = () => randomBytes(8).toString('hex').replace(/^[0-9]/, 'c');

async function logicalCluster(client: ApiClient, cluster: string, path: string): Promise<void> {
  await ok(client.request('POST', `/clusters/${cluster}/apis/core.kcp.io/v1alpha1/logicalclusters`, {
    body: { apiVersion: 'core.kcp.io/v1alpha1', kind: 'LogicalCluster', metadata: { name: 'cluster', annotations: { 'kcp.io/path': path } } },
  }), `logical cluster ${path}`);
}

async function serveKind(client: ApiClient, cluster: string): Promise<void> {
  await installComputeCRD({ ...client, request: (method, path, options) => client.request(method, `/clusters/${cluster}${path}`, options) });
  await waitFor(async () => (await client.request('GET', `/clusters/${cluster}/apis/${group}/${version}/virtualmachines`)).status === 200, { what: `kind served in ${cluster}` });
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

  // Every shard serves the kind somewhere, as the export's virtual workspace always does.
  for (const [i, client] of shardClients.entries()) {
    const seed = newCluster();
    await logicalCluster(client, seed, `root:seed-${i}`);
    await serveKind(client, seed);
  }

  const exportCluster = newCluster();
  const root = shardClients[0]!;
  await logicalCluster(root, exportCluster, 'root:compute');
  const slicePath = `/clusters/${exportCluster}/apis/apis.kcp.io/v1alpha1/apiexportendpointslices`;
  await ok(root.request('POST', slicePath, {
    body: { apiVersion: 'apis.kcp.io/v1alpha1', kind: 'APIExportEndpointSlice', metadata: { name: exportName }, spec: { export: { path: 'root:compute', name: exportName } } },
  }), 'endpoint slice');
  await ok(root.request('PATCH', `${slicePath}/${exportName}/status`, {
    contentType: 'application/merge-patch+json',
    body: { status: { endpoints: shards.map((s) => ({ url: s.url })) } },
  }), 'endpoint slice status');

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
    exportCluster,
    async createWorkspace(org, name, shardIndex) {
      const client = shardClients[shardIndex]!;
      const cluster = newCluster();
      const path = `root:${org}:${name}`;
      await logicalCluster(client, cluster, path);
      // kcp initialises a new workspace with its `default` namespace.
      await ok(client.request('POST', `/clusters/${cluster}/api/v1/namespaces`, { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } } }), 'default namespace');
      await serveKind(client, cluster);
      return { path, cluster, shard: shards[shardIndex]!, client };
    },
    async unbind(ws) {
      await ok(ws.client.request('DELETE', `/clusters/${ws.cluster}/apis/apiextensions.k8s.io/v1/customresourcedefinitions/virtualmachines.${group}`), 'unbind');
      await waitFor(async () => (await ws.client.request('GET', `/clusters/${ws.cluster}/apis/${group}/${version}/virtualmachines`)).status === 404, { what: 'kind gone' });
    },
    async close() {
      for (const c of [...shardClients, serviceClient]) c.close();
      await Promise.all([...shards, service].map((s) => s.close()));
    },
  };
}
