// Related objects of a cluster-scoped published resource: the consumer object has no namespace to put its
// connection Secret in. With a namespace named in the rule the Secret lands there (and goes with the
// object); without one the worker refuses, says so in its metrics and log, and still syncs the object.
// The provider exports a cluster-scoped Network whose copies are namespaced on the service cluster.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { loadKubeconfig } from '../../src/kube/kubeconfig.ts';
import { silentLog, type Log } from '../../src/log.ts';
import { startComposition, type Composition } from '../../src/sim/composition.ts';
import type { ApiClient } from '../../src/sim/index.ts';
import { namespaceName } from '../../src/sync/naming.ts';
import type { PublishedResource, RelatedResource } from '../../src/sync/types.ts';
import { SyncWorker } from '../../src/sync/worker.ts';
import { recordingLog } from '../helpers/log.ts';
import { makeTempDir, waitFor } from '../helpers/wait.ts';
import { providerPath, startSyncStack, type SyncStack, type Workspace } from './stack.ts';

const group = 'network.cloud.example.com';
const version = 'v1alpha1';
const exportName = group;
const names = { plural: 'networks', singular: 'network', kind: 'Network', listKind: 'NetworkList' };
const schemaVersion = {
  name: version,
  served: true,
  storage: true,
  subresources: { status: {} },
  schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
};
const claims = [
  { group: '', resource: 'secrets', all: true },
  { group: '', resource: 'namespaces', all: true },
  { group: 'core.kcp.io', resource: 'logicalclusters', all: true },
];
const connectionSecret: RelatedResource = { kind: 'Secret', nameFrom: 'spec.writeConnectionSecretToRef.name' };

interface Item {
  metadata: { name: string; namespace?: string; finalizers?: string[]; labels?: Record<string, string>; annotations?: Record<string, string> };
  status?: { conditions?: { type: string; status: string }[] };
}

let tmp: Awaited<ReturnType<typeof makeTempDir>>;
let stack: SyncStack;
let provider: ApiClient;
let composition: Composition;
let ws: Workspace;

/** 409 is fine: KCP makes a default endpoint slice for an export, and may beat us to it. */
async function ok(res: Promise<{ status: number; text: string }>, what: string): Promise<void> {
  const r = await res;
  assert.ok(r.status < 300 || r.status === 409, `${what}: ${r.status} ${r.text}`);
}

before(async () => {
  tmp = await makeTempDir();
  stack = await startSyncStack(tmp.dir, { shardCount: 1 });
  provider = await stack.shards[0]!.client();
  const base = `/clusters/${stack.exportCluster}/apis/apis.kcp.io/v1alpha1`;
  const schemaName = `v1.networks.${group}`;
  await ok(
    provider.request('POST', `${base}/apiresourceschemas`, {
      body: { apiVersion: 'apis.kcp.io/v1alpha1', kind: 'APIResourceSchema', metadata: { name: schemaName }, spec: { group, names, scope: 'Cluster', versions: [schemaVersion] } },
    }),
    'schema',
  );
  await ok(
    provider.request('POST', `${base}/apiexports`, {
      body: { apiVersion: 'apis.kcp.io/v1alpha1', kind: 'APIExport', metadata: { name: exportName }, spec: { latestResourceSchemas: [schemaName], permissionClaims: claims } },
    }),
    'export',
  );
  await ok(
    provider.request('POST', `${base}/apiexportendpointslices`, {
      body: { apiVersion: 'apis.kcp.io/v1alpha1', kind: 'APIExportEndpointSlice', metadata: { name: exportName }, spec: { export: { path: providerPath, name: exportName } } },
    }),
    'endpoint slice',
  );
  // On the service cluster the copies are namespaced, one namespace per workspace like any other.
  await ok(
    stack.serviceClient.request('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', {
      body: {
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        metadata: { name: `networks.${group}` },
        spec: { group, names, scope: 'Namespaced', versions: [schemaVersion] },
      },
    }),
    'CRD',
  );
  composition = startComposition({ client: stack.serviceClient, group, version, resource: 'networks' });

  ws = await stack.createWorkspace('acme', 'net', 0);
  await ok(
    ws.client.request('POST', `/clusters/${ws.cluster}/apis/apis.kcp.io/v1alpha1/apibindings`, {
      body: {
        apiVersion: 'apis.kcp.io/v1alpha1',
        kind: 'APIBinding',
        metadata: { name: 'network' },
        spec: { reference: { export: { path: providerPath, name: exportName } }, permissionClaims: claims.map((c) => ({ ...c, state: 'Accepted' })) },
      },
    }),
    'binding',
  );
  await waitFor(async () => (await ws.client.request('GET', networks())).status === 200, { what: 'networks served in the workspace' });
});

after(async () => {
  await composition?.stop();
  provider?.close();
  await stack?.close();
  await tmp[Symbol.asyncDispose]();
});

const networks = (name = '') => `/clusters/${ws.cluster}/apis/${group}/${version}/networks${name === '' ? '' : `/${name}`}`;
const secrets = (namespace?: string) => `/clusters/${ws.cluster}/api/v1${namespace === undefined ? '' : `/namespaces/${namespace}`}/secrets`;

async function get<T>(path: string): Promise<T | undefined> {
  const res = await ws.client.request<T>('GET', path);
  return res.status === 200 ? res.body : undefined;
}

async function startWorker(agentName: string, suffix: string, related: RelatedResource, log: Log = silentLog): Promise<SyncWorker> {
  const resource: PublishedResource = { group, version, resource: 'networks', kind: 'Network', namespaceSuffix: suffix, related: [related] };
  const worker = new SyncWorker({
    agentName,
    resources: [resource],
    kcp: await loadKubeconfig(stack.kcpKubeconfig),
    endpointSlice: { cluster: stack.exportCluster, name: exportName },
    service: await loadKubeconfig(stack.serviceKubeconfig),
    deletionPollMs: 200,
    log,
  });
  worker.start();
  await waitFor(() => worker.ready, { what: `${agentName} ready`, timeoutMs: 20_000 });
  return worker;
}

async function createNetwork(name: string): Promise<void> {
  await ok(
    ws.client.request('POST', networks(), {
      body: { apiVersion: `${group}/${version}`, kind: 'Network', metadata: { name }, spec: { cidr: '10.0.0.0/16', writeConnectionSecretToRef: { name: `${name}-conn` } } },
    }),
    `network ${name}`,
  );
}

async function deleteNetwork(name: string): Promise<void> {
  assert.ok([200, 202].includes((await ws.client.request('DELETE', networks(name))).status));
  await waitFor(async () => (await get(networks(name))) === undefined, { what: `${name} gone`, timeoutMs: 20_000 });
}

const ready = (o: Item | undefined) => o?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;

test('with a namespace in the rule, the Secret of a cluster-scoped object comes back there and goes with the object', async (t) => {
  const worker = await startWorker('network', 'net', { ...connectionSecret, namespace: 'default' });
  t.after(() => worker.stop());
  await createNetwork('office');
  const copy = await waitFor(
    () =>
      stack.serviceClient
        .request<Item>('GET', `/apis/${group}/${version}/namespaces/${namespaceName('net', ws.cluster, 'net')}/networks/office`)
        .then((r) => (r.status === 200 ? r.body : undefined)),
    { what: 'copy' },
  );
  assert.equal(copy.metadata.annotations?.['sync.kcp-edge.io/origin'], `${ws.cluster}|/office`);
  await waitFor(async () => ready(await get<Item>(networks('office'))), { what: 'status back' });
  const secret = await waitFor(() => get<Item & { data?: Record<string, string> }>(`${secrets('default')}/office-conn`), { what: 'Secret back in the named namespace' });
  assert.equal(secret.metadata.labels?.['sync.kcp-edge.io/agent'], 'network');
  assert.equal(secret.metadata.annotations?.['sync.kcp-edge.io/origin'], `${ws.cluster}|/office`);
  assert.equal(Buffer.from(secret.data?.username ?? '', 'base64').toString(), 'admin');

  await deleteNetwork('office');
  assert.equal(await get(`${secrets('default')}/office-conn`), undefined, 'the Secret goes with its object');
});

test('without a namespace in the rule, the worker refuses in its metrics and log, and still syncs the object', async (t) => {
  const log = recordingLog();
  const logs = log.entries;
  const worker = await startWorker('network-bare', 'netb', connectionSecret, log);
  t.after(() => worker.stop());
  await createNetwork('lab');
  await waitFor(async () => ready(await get<Item>(networks('lab'))), { what: 'status back' });
  await waitFor(async () => (await worker.metrics.errors.get()).values.some((v) => v.labels.kind === 'related_needs_namespace' && v.value > 0), { what: 'refusal counted' });
  await worker.idle();

  const refusal = logs.find((l) => l.msg.includes('cluster-scoped'));
  assert.ok(refusal, 'the log says why');
  assert.equal(refusal.fields.key, `${ws.cluster}|/lab`);
  const kinds = new Set((await worker.metrics.errors.get()).values.filter((v) => v.value > 0).map((v) => v.labels.kind));
  assert.deepEqual([...kinds], ['related_needs_namespace'], 'no request failed: nothing was sent to a namespace-less path');
  const all = await get<{ items: Item[] }>(secrets());
  assert.deepEqual(
    all?.items.filter((s) => s.metadata.name === 'lab-conn'),
    [],
    'no Secret anywhere in the workspace',
  );

  // Deletion is not held up by related objects that were never written.
  await deleteNetwork('lab');
});
