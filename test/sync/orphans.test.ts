// A consumer force-removes finalizers and deletes an object: our deletion path never runs, the copy goes
// (its origin vanished from the watch) but the connection Secret we copied back would stay for ever.
// The periodic resync, and a worker starting, remove it; Secrets that are not ours beyond doubt stay.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadKubeconfig } from '../../src/kube/kubeconfig.ts';
import { startComposition } from '../../src/sim/composition.ts';
import { SyncWorker } from '../../src/sync/worker.ts';
import type { PublishedResource } from '../../src/sync/types.ts';
import { makeTempDir, waitFor } from '../helpers/wait.ts';
import { exportName, group, startSyncStack, version, type Workspace } from './stack.ts';

const resource: PublishedResource = {
  group,
  version,
  resource: 'virtualmachines',
  kind: 'VirtualMachine',
  namespaceSuffix: 'vm',
  related: [{ kind: 'Secret', nameFrom: 'spec.writeConnectionSecretToRef.name' }],
};
const ours = 'virtualmachines.compute.cloud.example.com';

test('Secrets copied back for objects deleted behind our back are removed at the resync and at start; no other Secret is', { timeout: 120_000 }, async (t) => {
  await using tmp = await makeTempDir();
  const stack = await startSyncStack(tmp.dir, { shardCount: 1 });
  const composition = startComposition({ client: stack.serviceClient, group, version, resource: 'virtualmachines' });
  const workers: SyncWorker[] = [];
  t.after(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await composition.stop();
    await stack.close();
  });
  const startWorker = async (resyncMs: number) => {
    const worker = new SyncWorker({
      agentName: 'compute',
      resources: [resource],
      kcp: await loadKubeconfig(stack.kcpKubeconfig),
      endpointSlice: { cluster: stack.exportCluster, name: exportName },
      service: await loadKubeconfig(stack.serviceKubeconfig),
      deletionPollMs: 200,
      resyncMs,
    });
    workers.push(worker);
    worker.start();
    await waitFor(() => worker.ready, { what: 'worker ready', timeoutMs: 20_000 });
    return worker;
  };

  const ws = await stack.createWorkspace('acme', 'orphans', 0);
  const other = await stack.createWorkspace('acme', 'elsewhere', 0);
  const vms = (w: Workspace) => `/clusters/${w.cluster}/apis/${group}/${version}/namespaces/default/virtualmachines`;
  const secrets = `/clusters/${ws.cluster}/api/v1/namespaces/default/secrets`;
  const secret = async (name: string) => {
    const res = await ws.client.request('GET', `${secrets}/${name}`);
    return res.status === 200 ? res.body : undefined;
  };
  const createVm = async (name: string) => {
    const res = await ws.client.request('POST', vms(ws), {
      body: { apiVersion: `${group}/${version}`, kind: 'VirtualMachine', metadata: { name }, spec: { writeConnectionSecretToRef: { name: `${name}-conn` } } },
    });
    assert.equal(res.status, 201, res.text);
    await waitFor(() => secret(`${name}-conn`), { what: `${name}-conn back` });
  };
  /** What a consumer does to get rid of an object "stuck" in deletion. */
  // A running worker may put its finalizer back between the two calls: the delete is made conditional on
  // the version without finalizers, and the pair is repeated until it lands.
  const forceDelete = async (name: string) => {
    await waitFor(
      async () => {
        const patched = await ws.client.request('PATCH', `${vms(ws)}/${name}`, { body: { metadata: { finalizers: null } }, contentType: 'application/merge-patch+json' });
        assert.equal(patched.status, 200, patched.text);
        const resourceVersion = (patched.body as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
        const deleted = await ws.client.request('DELETE', `${vms(ws)}/${name}`, { body: { kind: 'DeleteOptions', apiVersion: 'v1', preconditions: { resourceVersion } } });
        if (deleted.status === 409) return false;
        assert.ok([200, 202].includes(deleted.status), deleted.text);
        return true;
      },
      { what: `${name} deleted without its finalizers` },
    );
    assert.equal((await ws.client.request('GET', `${vms(ws)}/${name}`)).status, 404);
  };

  // Secrets that look like ours in some way, each for an object that does not exist.
  const gone = (w: Workspace, name: string) => `${w.cluster}|default/${name}`;
  const lookalikes: Record<string, { labels?: Record<string, string>; annotations?: Record<string, string> }> = {
    'consumer-own': {},
    'no-origin': { labels: { 'sync.kcp-edge.io/agent': 'compute' } },
    'other-agent': { labels: { 'sync.kcp-edge.io/agent': 'compute-eu' }, annotations: { 'sync.kcp-edge.io/origin': gone(ws, 'x'), 'sync.kcp-edge.io/origin-resource': ours } },
    'other-resource': {
      labels: { 'sync.kcp-edge.io/agent': 'compute' },
      annotations: { 'sync.kcp-edge.io/origin': gone(ws, 'x'), 'sync.kcp-edge.io/origin-resource': 'databases.db.example.com' },
    },
    'other-workspace': { labels: { 'sync.kcp-edge.io/agent': 'compute' }, annotations: { 'sync.kcp-edge.io/origin': gone(other, 'x'), 'sync.kcp-edge.io/origin-resource': ours } },
    'resource-unnamed': { labels: { 'sync.kcp-edge.io/agent': 'compute' }, annotations: { 'sync.kcp-edge.io/origin': gone(ws, 'x') } },
  };
  for (const [name, metadata] of Object.entries(lookalikes)) {
    const res = await ws.client.request('POST', secrets, {
      body: { apiVersion: 'v1', kind: 'Secret', metadata: { name, ...metadata }, data: { owner: Buffer.from('consumer').toString('base64') } },
    });
    assert.equal(res.status, 201, res.text);
  }

  // The periodic resync (every second here, minutes in production).
  const first = await startWorker(1_000);
  await createVm('keep');
  await createVm('vanish');
  await createVm('vanish-while-stopped');
  await forceDelete('vanish');
  const deleted = performance.now();
  await waitFor(async () => (await secret('vanish-conn')) === undefined, { what: 'orphan removed by the resync', timeoutMs: 10_000 });
  t.diagnostic(`orphaned Secret removed ${Math.round(performance.now() - deleted)} ms after its object was force-deleted (resync every 1000 ms)`);
  const removals = (await first.metrics.synced.get()).values.find((v) => v.labels.operation === 'orphan-delete')?.value;
  assert.equal(removals, 1);

  // A worker starting: the resync timer is ten minutes away, the scan after the first list is not.
  await first.stop();
  workers.splice(0);
  await forceDelete('vanish-while-stopped');
  const second = await startWorker(600_000);
  await waitFor(async () => (await secret('vanish-while-stopped-conn')) === undefined, { what: 'orphan removed at start', timeoutMs: 10_000 });
  assert.deepEqual(await second.resync(), [], 'nothing more to remove');

  assert.ok(await secret('keep-conn'), 'the Secret of a live object stays');
  for (const name of Object.keys(lookalikes)) assert.ok(await secret(name), `${name} stays`);
});
