// The sync worker against stand-in shards (two, one export) and a stand-in service cluster.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { loadKubeconfig } from '../../src/kube/kubeconfig.ts';
import { startComposition, type Composition } from '../../src/sim/composition.ts';
import { namespaceName } from '../../src/sync/naming.ts';
import { SyncWorker } from '../../src/sync/worker.ts';
import type { PublishedResource } from '../../src/sync/types.ts';
import { makeTempDir, waitFor } from '../helpers/wait.ts';
import { exportName, group, startSyncStack, version, type SyncStack, type Workspace } from './stack.ts';

interface Vm {
  metadata: {
    name: string;
    namespace: string;
    finalizers?: string[];
    deletionTimestamp?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    resourceVersion?: string;
  };
  spec?: Record<string, unknown>;
  status?: { conditions?: { type: string; status: string }[] };
}

const resource: PublishedResource = {
  group,
  version,
  resource: 'virtualmachines',
  kind: 'VirtualMachine',
  namespaceSuffix: 'vm',
  related: [
    { kind: 'Secret', nameFrom: 'spec.writeConnectionSecretToRef.name' },
    { kind: 'ConfigMap', nameFrom: 'spec.settingsRef.name' },
  ],
};

let tmp: Awaited<ReturnType<typeof makeTempDir>>;
let stack: SyncStack;
let composition: Composition;
const workers: SyncWorker[] = [];

async function startWorker(agentName: string, suffix = 'vm'): Promise<SyncWorker> {
  const worker = new SyncWorker({
    agentName,
    resources: [{ ...resource, namespaceSuffix: suffix }],
    kcp: await loadKubeconfig(stack.kcpKubeconfig),
    endpointSlice: { cluster: stack.exportCluster, name: exportName },
    service: await loadKubeconfig(stack.serviceKubeconfig),
    deletionPollMs: 200,
    cleanupMs: 60_000,
  });
  workers.push(worker);
  worker.start();
  await waitFor(() => worker.ready, { what: `${agentName} ready`, timeoutMs: 20_000 });
  return worker;
}

const vmPath = (ws: Workspace, ns: string, name = '') => `/clusters/${ws.cluster}/apis/${group}/${version}/namespaces/${ns}/virtualmachines${name === '' ? '' : `/${name}`}`;
const copyPath = (ns: string, name = '') => `/apis/${group}/${version}/namespaces/${ns}/virtualmachines${name === '' ? '' : `/${name}`}`;

async function createVm(ws: Workspace, name: string, spec: Record<string, unknown>, ns = 'default'): Promise<void> {
  const res = await ws.client.request('POST', vmPath(ws, ns), { body: { apiVersion: `${group}/${version}`, kind: 'VirtualMachine', metadata: { name, namespace: ns }, spec } });
  assert.equal(res.status, 201, res.text);
}

async function get<T>(client: Workspace['client'], path: string): Promise<T | undefined> {
  const res = await client.request<T>('GET', path);
  return res.status === 200 ? res.body : undefined;
}

before(async () => {
  tmp = await makeTempDir();
  stack = await startSyncStack(tmp.dir);
  composition = startComposition({ client: stack.serviceClient, group, version, resource: 'virtualmachines' });
  await startWorker('compute');
});

after(async () => {
  await Promise.all(workers.map((w) => w.stop()));
  await composition.stop();
  await stack.close();
  await tmp[Symbol.asyncDispose]();
});

test('create → copy in the workspace namespace; spec update → copy updated; status and the connection Secret come back', async () => {
  const ws = await stack.createWorkspace('acme', 'frontend', 1);
  const worker = workers[0]!;
  await createVm(ws, 'vm1', { cpu: 2, image: 'debian-12', writeConnectionSecretToRef: { name: 'vm1-conn' } });

  const ns = namespaceName('frontend', ws.cluster, 'vm');
  const copy = await waitFor(() => get<Vm>(stack.serviceClient, copyPath(ns, 'vm1')), { what: 'copy' });
  assert.equal(copy.spec?.cpu, 2);
  assert.equal(copy.metadata.labels?.['sync.kcp-edge.io/cluster'], ws.cluster);
  assert.equal(copy.metadata.annotations?.['sync.kcp-edge.io/origin'], `${ws.cluster}|default/vm1`);
  const namespace = await get<Vm>(stack.serviceClient, `/api/v1/namespaces/${ns}`);
  assert.equal(namespace?.metadata.labels?.['sync.kcp-edge.io/cluster'], ws.cluster);

  const consumer = await get<Vm>(ws.client, vmPath(ws, 'default', 'vm1'));
  assert.ok(consumer?.metadata.finalizers?.includes('sync.kcp-edge.io/compute'), 'our finalizer');

  // The stand-in composition marks the copy Ready; the consumer sees it.
  await waitFor(async () => (await get<Vm>(ws.client, vmPath(ws, 'default', 'vm1')))?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'), {
    what: 'consumer Ready',
  });
  const secret = await waitFor(() => get<{ data: Record<string, string> }>(ws.client, `/clusters/${ws.cluster}/api/v1/namespaces/default/secrets/vm1-conn`), {
    what: 'connection secret back',
  });
  assert.equal(Buffer.from(secret.data.username ?? '', 'base64').toString(), 'admin');

  const patched = await ws.client.request('PATCH', vmPath(ws, 'default', 'vm1'), { body: { spec: { cpu: 4, image: null } }, contentType: 'application/merge-patch+json' });
  assert.equal(patched.status, 200, patched.text);
  const updated = await waitFor(
    async () => {
      const c = await get<Vm>(stack.serviceClient, copyPath(ns, 'vm1'));
      return c?.spec?.cpu === 4 ? c : undefined;
    },
    { what: 'spec update' },
  );
  assert.equal(updated.spec?.image, undefined, 'a field removed by the consumer is removed from the copy');
  assert.ok(
    updated.status?.conditions?.some((c) => c.type === 'Ready'),
    'the copy status is not overwritten by the worker',
  );

  const metrics = await worker.metrics.registry.metrics();
  assert.match(metrics, /kcp_edge_sync_objects_synced_total\{resource="virtualmachines.compute.cloud.example.com",operation="create"\} [1-9]/);
  assert.match(metrics, /kcp_edge_sync_spec_lag_seconds_count\{resource="virtualmachines.compute.cloud.example.com"\} [1-9]/);
  assert.match(metrics, /kcp_edge_sync_status_lag_seconds_count\{resource="virtualmachines.compute.cloud.example.com"\} [1-9]/);
});

test('a connection Secret rotated (or written again) on the service cluster after the object is Ready reaches the consumer promptly', async (t) => {
  const ws = await stack.createWorkspace('acme', 'rotate', 0);
  await createVm(ws, 'db', { cpu: 1, writeConnectionSecretToRef: { name: 'db-conn' } });
  const ns = namespaceName('rotate', ws.cluster, 'vm');
  const consumerSecret = `/clusters/${ws.cluster}/api/v1/namespaces/default/secrets/db-conn`;
  const serviceSecret = `/api/v1/namespaces/${ns}/secrets/db-conn`;
  const password = async () => {
    const s = await get<{ data?: Record<string, string> }>(ws.client, consumerSecret);
    return s?.data?.password === undefined ? undefined : Buffer.from(s.data.password, 'base64').toString();
  };
  await waitFor(async () => (await get<Vm>(ws.client, vmPath(ws, 'default', 'db')))?.status?.conditions?.some((c) => c.type === 'Ready'), { what: 'consumer Ready' });
  await waitFor(async () => (await password())?.startsWith('pw-'), { what: 'first connection secret back' });
  await workers[0]!.idle();

  // Nothing about the copy changes now; only the Secret does. The periodic resync is minutes away.
  const took: number[] = [];
  for (let i = 1; i <= 5; i++) {
    const current = await get<{ metadata: { resourceVersion: string } }>(stack.serviceClient, serviceSecret);
    const rotated = `rotated-${i}`;
    const res = await stack.serviceClient.request('PATCH', serviceSecret, {
      body: { metadata: { resourceVersion: current?.metadata.resourceVersion }, data: { password: Buffer.from(rotated).toString('base64') } },
      contentType: 'application/merge-patch+json',
    });
    assert.equal(res.status, 200, res.text);
    const started = performance.now();
    await waitFor(async () => (await password()) === rotated, { what: `rotation ${i} in the workspace`, intervalMs: 5, timeoutMs: 5_000 });
    took.push(performance.now() - started);
  }
  took.sort((a, b) => a - b);
  t.diagnostic(`rotation → consumer: p50 ${took[2]!.toFixed(0)} ms, max ${took[4]!.toFixed(0)} ms over ${took.length}`);

  // Deleted and written again by the provider (a new Secret, not an update).
  assert.equal((await stack.serviceClient.request('DELETE', serviceSecret)).status, 200);
  const again = await stack.serviceClient.request('POST', `/api/v1/namespaces/${ns}/secrets`, {
    body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db-conn', namespace: ns }, data: { password: Buffer.from('recreated').toString('base64') } },
  });
  assert.equal(again.status, 201, again.text);
  await waitFor(async () => (await password()) === 'recreated', { what: 'recreated secret in the workspace', timeoutMs: 5_000 });
});

test('deletion waits until the service cluster really removed the copy, then drops only our finalizer', async () => {
  const ws = await stack.createWorkspace('acme', 'backend', 0);
  await createVm(ws, 'db', { cpu: 1 });
  const ns = namespaceName('backend', ws.cluster, 'vm');
  await waitFor(() => get<Vm>(stack.serviceClient, copyPath(ns, 'db')), { what: 'copy' });
  // Someone else's finalizer on the consumer object, and one of "Crossplane's" on the copy.
  await ws.client.request('PATCH', vmPath(ws, 'default', 'db'), {
    body: { metadata: { finalizers: ['example.com/keep', 'sync.kcp-edge.io/compute'] } },
    contentType: 'application/merge-patch+json',
  });
  await stack.serviceClient.request('PATCH', copyPath(ns, 'db'), {
    body: { metadata: { finalizers: ['provider.example.com/hold', 'composition.sim.kcp-edge.io/cleanup'] } },
    contentType: 'application/merge-patch+json',
  });

  assert.ok([200, 202].includes((await ws.client.request('DELETE', vmPath(ws, 'default', 'db'))).status));
  const held = await waitFor(
    async () => {
      const c = await get<Vm>(stack.serviceClient, copyPath(ns, 'db'));
      return c?.metadata.deletionTimestamp !== undefined ? c : undefined;
    },
    { what: 'copy being deleted' },
  );
  assert.ok(held.metadata.finalizers?.includes('provider.example.com/hold'));
  // While the copy lingers the consumer object keeps our finalizer.
  const consumer = await get<Vm>(ws.client, vmPath(ws, 'default', 'db'));
  assert.ok(consumer?.metadata.finalizers?.includes('sync.kcp-edge.io/compute'), 'not released while the copy exists');

  const c = await get<Vm>(stack.serviceClient, copyPath(ns, 'db'));
  await stack.serviceClient.request('PATCH', copyPath(ns, 'db'), {
    body: { metadata: { finalizers: (c?.metadata.finalizers ?? []).filter((f) => f !== 'provider.example.com/hold'), resourceVersion: c?.metadata.resourceVersion } },
    contentType: 'application/merge-patch+json',
  });
  const released = await waitFor(
    async () => {
      const o = await get<Vm>(ws.client, vmPath(ws, 'default', 'db'));
      return o !== undefined && !o.metadata.finalizers?.includes('sync.kcp-edge.io/compute') ? o : undefined;
    },
    { what: 'our finalizer released' },
  );
  assert.deepEqual(released.metadata.finalizers, ['example.com/keep'], 'the other finalizer is left alone');
  assert.equal(await get<Vm>(stack.serviceClient, copyPath(ns, 'db')), undefined);
  await ws.client.request('PATCH', vmPath(ws, 'default', 'db'), { body: { metadata: { finalizers: null } }, contentType: 'application/merge-patch+json' });
});

test('deleting the consumer object deletes the Secret the worker copied back for it, and no other Secret', async () => {
  const ws = await stack.createWorkspace('hooli', 'cleanup', 1);
  const secrets = `/clusters/${ws.cluster}/api/v1/namespaces/default/secrets`;
  const secret = (name: string) =>
    get<{ metadata: { labels?: Record<string, string>; annotations?: Record<string, string> }; data?: Record<string, string> }>(ws.client, `${secrets}/${name}`);
  const createSecret = async (name: string, metadata: Record<string, unknown> = {}) => {
    const res = await ws.client.request('POST', secrets, {
      body: { apiVersion: 'v1', kind: 'Secret', metadata: { name, ...metadata }, data: { owner: Buffer.from('consumer').toString('base64') } },
    });
    assert.equal(res.status, 201, res.text);
  };
  // The consumer's own Secrets: one that an object names as its connection Secret, one that wears our
  // agent label without saying whose copy it is.
  await createSecret('own-conn');
  await createSecret('lookalike', { labels: { 'sync.kcp-edge.io/agent': 'compute' } });
  await createVm(ws, 'a', { writeConnectionSecretToRef: { name: 'a-conn' } });
  // Copied back by us for another published resource's object of the same name.
  await createSecret('a-database-conn', {
    labels: { 'sync.kcp-edge.io/agent': 'compute' },
    annotations: { 'sync.kcp-edge.io/origin': `${ws.cluster}|default/a`, 'sync.kcp-edge.io/origin-resource': 'databases.db.example.com' },
  });
  await createVm(ws, 'b', { writeConnectionSecretToRef: { name: 'b-conn' } });
  await createVm(ws, 'c', { writeConnectionSecretToRef: { name: 'own-conn' } });
  const a = await waitFor(() => secret('a-conn'), { what: 'a-conn back' });
  assert.equal(a.metadata.labels?.['sync.kcp-edge.io/agent'], 'compute');
  assert.equal(a.metadata.annotations?.['sync.kcp-edge.io/origin'], `${ws.cluster}|default/a`);
  assert.equal(a.metadata.annotations?.['sync.kcp-edge.io/origin-resource'], 'virtualmachines.compute.cloud.example.com');
  await waitFor(() => secret('b-conn'), { what: 'b-conn back' });
  // One copied back before Secrets named their resource is still ours, and learns it on the next pass.
  const unnamed = await ws.client.request('PATCH', `${secrets}/b-conn`, {
    body: { metadata: { annotations: { 'sync.kcp-edge.io/origin-resource': null } } },
    contentType: 'application/merge-patch+json',
  });
  assert.equal(unnamed.status, 200, unnamed.text);
  await workers[0]!.resync();
  await waitFor(async () => (await secret('b-conn'))?.metadata.annotations?.['sync.kcp-edge.io/origin-resource'] === 'virtualmachines.compute.cloud.example.com', {
    what: 'resource named again',
  });
  await waitFor(async () => (await get<Vm>(ws.client, vmPath(ws, 'default', 'c')))?.status?.conditions?.some((c) => c.type === 'Ready'), { what: 'c Ready' });
  await workers[0]!.idle();
  assert.deepEqual((await secret('own-conn'))?.data, { owner: Buffer.from('consumer').toString('base64') }, 'a Secret of the consumer is never overwritten');

  const deleted = async (name: string) => {
    assert.ok([200, 202].includes((await ws.client.request('DELETE', vmPath(ws, 'default', name))).status));
    await waitFor(async () => (await get<Vm>(ws.client, vmPath(ws, 'default', name))) === undefined, { what: `${name} gone`, timeoutMs: 20_000 });
  };
  await deleted('a');
  // Gone by the time our finalizer was dropped, not some time later.
  assert.equal(await secret('a-conn'), undefined, 'the copied-back Secret goes with its object');
  assert.ok(await secret('b-conn'), 'the Secret copied back for another object stays');
  assert.ok(await secret('lookalike'), 'our label alone does not make a Secret ours');
  assert.ok(await secret('a-database-conn'), 'nor does an origin of the same name in another resource');
  await deleted('c');
  assert.deepEqual((await secret('own-conn'))?.data, { owner: Buffer.from('consumer').toString('base64') }, "the consumer's Secret survives the object naming it");
  await deleted('b');
  assert.equal(await secret('b-conn'), undefined);
  assert.ok(await secret('lookalike'));
});

test('a ConfigMap named by the copy comes back, follows changes on the service cluster and goes with its object', async () => {
  const ws = await stack.createWorkspace('hooli', 'settings', 0);
  const ns = namespaceName('settings', ws.cluster, 'vm');
  type ConfigMap = { metadata: { labels?: Record<string, string>; annotations?: Record<string, string>; resourceVersion?: string }; data?: Record<string, string> };
  const consumerMaps = `/clusters/${ws.cluster}/api/v1/namespaces/default/configmaps`;
  const serviceMaps = `/api/v1/namespaces/${ns}/configmaps`;
  const consumerMap = (name: string) => get<ConfigMap>(ws.client, `${consumerMaps}/${name}`);
  const provide = async (name: string, data: Record<string, string>) => {
    const res = await stack.serviceClient.request('POST', serviceMaps, { body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns }, data } });
    assert.equal(res.status, 201, res.text);
  };
  // The consumer's own ConfigMap, named by one of its objects: never overwritten, never deleted.
  const own = await ws.client.request('POST', consumerMaps, { body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'own-settings' }, data: { owner: 'consumer' } } });
  assert.equal(own.status, 201, own.text);
  await createVm(ws, 'web', { settingsRef: { name: 'web-settings' } });
  await createVm(ws, 'api', { settingsRef: { name: 'own-settings' } });
  await waitFor(() => get<Vm>(stack.serviceClient, copyPath(ns, 'web')), { what: 'web copy' });
  await waitFor(() => get<Vm>(stack.serviceClient, copyPath(ns, 'api')), { what: 'api copy' });

  // The provider writes them next to the copies; nothing about the copies changes.
  await provide('web-settings', { mode: 'fast', debug: 'true' });
  await provide('own-settings', { owner: 'provider' });
  const back = await waitFor(() => consumerMap('web-settings'), { what: 'ConfigMap back' });
  assert.deepEqual(back.data, { mode: 'fast', debug: 'true' });
  assert.equal(back.metadata.labels?.['sync.kcp-edge.io/agent'], 'compute');
  assert.equal(back.metadata.annotations?.['sync.kcp-edge.io/origin'], `${ws.cluster}|default/web`);

  // Replaced, not merged: a key dropped on the service side disappears in the workspace.
  const current = await get<ConfigMap>(stack.serviceClient, `${serviceMaps}/web-settings`);
  const replaced = await stack.serviceClient.request('PUT', `${serviceMaps}/web-settings`, {
    body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'web-settings', namespace: ns, resourceVersion: current?.metadata.resourceVersion }, data: { mode: 'safe' } },
  });
  assert.equal(replaced.status, 200, replaced.text);
  await waitFor(async () => JSON.stringify((await consumerMap('web-settings'))?.data) === JSON.stringify({ mode: 'safe' }), { what: 'change in the workspace', timeoutMs: 5_000 });
  await workers[0]!.idle();
  assert.deepEqual((await consumerMap('own-settings'))?.data, { owner: 'consumer' }, "the consumer's ConfigMap is not overwritten");

  for (const name of ['web', 'api']) {
    assert.ok([200, 202].includes((await ws.client.request('DELETE', vmPath(ws, 'default', name))).status));
    await waitFor(async () => (await get<Vm>(ws.client, vmPath(ws, 'default', name))) === undefined, { what: `${name} gone`, timeoutMs: 20_000 });
  }
  assert.equal(await consumerMap('web-settings'), undefined, 'the copied-back ConfigMap goes with its object');
  assert.deepEqual((await consumerMap('own-settings'))?.data, { owner: 'consumer' }, "the consumer's ConfigMap survives the object naming it");
});

test('two organisations with a workspace of the same name never share a namespace', async () => {
  const acme = await stack.createWorkspace('acme', 'shop', 0);
  const globex = await stack.createWorkspace('globex', 'shop', 1);
  await createVm(acme, 'web', { owner: 'acme' });
  await createVm(globex, 'web', { owner: 'globex' });
  const nsA = namespaceName('shop', acme.cluster, 'vm');
  const nsB = namespaceName('shop', globex.cluster, 'vm');
  assert.notEqual(nsA, nsB);
  const a = await waitFor(() => get<Vm>(stack.serviceClient, copyPath(nsA, 'web')), { what: 'acme copy' });
  const b = await waitFor(() => get<Vm>(stack.serviceClient, copyPath(nsB, 'web')), { what: 'globex copy' });
  assert.equal(a.spec?.owner, 'acme');
  assert.equal(b.spec?.owner, 'globex');
});

test('two agents with different names on one object never deadlock on deletion', async () => {
  const second = await startWorker('compute-eu', 'vmeu');
  const ws = await stack.createWorkspace('initech', 'ops', 1);
  await createVm(ws, 'shared', { cpu: 1 });
  await waitFor(
    async () => {
      const o = await get<Vm>(ws.client, vmPath(ws, 'default', 'shared'));
      const f = o?.metadata.finalizers ?? [];
      return f.includes('sync.kcp-edge.io/compute') && f.includes('sync.kcp-edge.io/compute-eu');
    },
    { what: 'both finalizers' },
  );
  await waitFor(() => get<Vm>(stack.serviceClient, copyPath(namespaceName('ops', ws.cluster, 'vmeu'), 'shared')), { what: 'second copy' });
  assert.ok([200, 202].includes((await ws.client.request('DELETE', vmPath(ws, 'default', 'shared'))).status));
  await waitFor(async () => (await get<Vm>(ws.client, vmPath(ws, 'default', 'shared'))) === undefined, { what: 'object gone', timeoutMs: 20_000 });
  assert.equal(await get<Vm>(stack.serviceClient, copyPath(namespaceName('ops', ws.cluster, 'vm'), 'shared')), undefined);
  assert.equal(await get<Vm>(stack.serviceClient, copyPath(namespaceName('ops', ws.cluster, 'vmeu'), 'shared')), undefined);
  await second.stop();
  workers.splice(workers.indexOf(second), 1);
});

test("when a workspace's binding is gone its namespace on the service cluster is removed", async () => {
  const ws = await stack.createWorkspace('umbrella', 'lab', 0);
  await createVm(ws, 'tmp', { cpu: 1 });
  const ns = namespaceName('lab', ws.cluster, 'vm');
  await waitFor(() => get<Vm>(stack.serviceClient, copyPath(ns, 'tmp')), { what: 'copy' });
  await ws.client.request('DELETE', vmPath(ws, 'default', 'tmp'));
  await waitFor(async () => (await get<Vm>(ws.client, vmPath(ws, 'default', 'tmp'))) === undefined, { what: 'object gone' });
  // Still bound: an empty namespace is kept.
  const worker = workers[0]!;
  assert.deepEqual(await worker.cleanupNamespaces(), []);
  await stack.unbind(ws);
  await waitFor(async () => (await worker.cleanupNamespaces()).includes(ns) || undefined, { what: 'namespace cleaned up' });
  await waitFor(async () => (await get<Vm>(stack.serviceClient, `/api/v1/namespaces/${ns}`)) === undefined, { what: 'namespace gone' });
});

test("/readyz answers 200 once every endpoint has listed, /metrics serves the worker's metrics", async (t) => {
  const { serveSyncHttp } = await import('../../src/sync/http.ts');
  const ready = await serveSyncHttp(workers[0]!, { host: '127.0.0.1', port: 0 });
  t.after(() => ready.server.close());
  assert.equal((await fetch(`http://127.0.0.1:${ready.port}/readyz`)).status, 200);
  assert.match(await (await fetch(`http://127.0.0.1:${ready.port}/metrics`)).text(), /kcp_edge_sync_endpoints 2/);

  // A worker whose service cluster cannot be reached is not ready, and says why.
  const down = new SyncWorker({
    agentName: 'unready',
    resources: [resource],
    kcp: await loadKubeconfig(stack.kcpKubeconfig),
    endpointSlice: { cluster: stack.exportCluster, name: exportName },
    service: { ...(await loadKubeconfig(stack.serviceKubeconfig)), server: 'https://127.0.0.1:1' },
  });
  down.start();
  const notReady = await serveSyncHttp(down, { host: '127.0.0.1', port: 0 });
  t.after(async () => {
    notReady.server.close();
    await down.stop();
  });
  await waitFor(() => down.endpoints.length === 2 || undefined, { what: 'endpoints followed' });
  const res = await fetch(`http://127.0.0.1:${notReady.port}/readyz`);
  assert.equal(res.status, 503);
  assert.match(await res.text(), /initial list/);
});
