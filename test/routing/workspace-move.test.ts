// Moving a workspace's logical cluster between two stand-in shards, with the phases in a real Redis:
// everything copied (owner references rewritten), the Workspace and the route pointing at the target,
// the source emptied; a mover stopped mid-copy resumes, or rolls back with abort.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Indexer } from '../../src/routing/indexer.ts';
import { MoveRecords } from '../../src/routing/move-record.ts';
import { parseRedisUrl } from '../../src/routing/redis-connection.ts';
import { RedisRouteStore } from '../../src/routing/redis-route-store.ts';
import { abortMove, moveWorkspace, type MoveCredentials } from '../../src/routing/workspace-move.ts';
import { bindExport, connectShards, createCertificateAuthority, createExport, createWorkspace, startShard, type ApiClient, type SimShard } from '../../src/sim/index.ts';
import { startRedis, type RedisServer } from '../helpers/redis.ts';
import { waitFor } from '../helpers/wait.ts';

let redis: RedisServer;
let store: RedisRouteStore;
let records: MoveRecords;
let a: SimShard;
let b: SimShard;
let apiA: ApiClient;
let apiB: ApiClient;
let credentials: MoveCredentials;

before(async () => {
  const ca = await createCertificateAuthority('kcp-ca');
  [redis, a, b] = await Promise.all([startRedis(), startShard({ name: 'alpha', ca }), startShard({ name: 'beta', ca })]);
  connectShards(a, b);
  store = RedisRouteStore.connect(parseRedisUrl(redis.url));
  records = new MoveRecords(store.client, store.keys);
  [apiA, apiB] = await Promise.all([a.client(), b.client()]);
  credentials = { ...(await a.issueClientCertificate('kcp-edge-mover', ['system:masters'])), caPem: ca.certPem };
  for (const s of [a, b]) await store.putShard({ name: s.name, url: s.url, state: 'active', labels: s.labels });
  await store.putRoute({ path: 'root', shard: 'alpha', cluster: 'root', phase: 'Ready' });
});
after(async () => {
  await store.close();
  await Promise.all([a.close(), b.close()]);
  await redis[Symbol.asyncDispose]();
});

interface Obj {
  metadata: {
    name: string;
    uid: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    finalizers?: string[];
    ownerReferences?: { uid: string; name: string }[];
  };
  data?: Record<string, string>;
}

async function ok<T>(p: Promise<{ status: number; text: string; body: T }>): Promise<T> {
  const r = await p;
  assert.ok(r.status >= 200 && r.status < 300, `${r.status}: ${r.text}`);
  return r.body;
}

const cms = (cluster: string, ns = 'default') => `/clusters/${cluster}/api/v1/namespaces/${ns}/configmaps`;

/** A workspace on alpha holding `count` ConfigMaps, an owner with a dependent, and a second namespace. */
async function populated(name: string, count: number): Promise<{ path: string; cluster: string }> {
  const ws = await createWorkspace(apiA, 'root', name, { shard: 'alpha' });
  await store.putRoute({ path: ws.path, shard: 'alpha', cluster: ws.cluster, phase: 'Ready' });
  for (let i = 0; i < count; i++) {
    await ok(apiA.request('POST', cms(ws.cluster), { body: { metadata: { name: `cm-${i}`, labels: { app: 'web' }, annotations: { note: `n${i}` } }, data: { i: String(i) } } }));
  }
  const owner = await ok(apiA.request<Obj>('POST', cms(ws.cluster), { body: { metadata: { name: 'owner' } } }));
  await ok(
    apiA.request('POST', `/clusters/${ws.cluster}/api/v1/namespaces/default/secrets`, {
      body: {
        metadata: { name: 'dependent', finalizers: ['example.com/keep'], ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata.uid }] },
        stringData: { k: 'v' },
      },
    }),
  );
  await ok(apiA.request('POST', `/clusters/${ws.cluster}/api/v1/namespaces`, { body: { metadata: { name: 'team' } } }));
  await ok(apiA.request('POST', cms(ws.cluster, 'team'), { body: { metadata: { name: 'in-team' }, data: { x: 'y' } } }));
  return { path: ws.path, cluster: ws.cluster };
}

async function assertAllOnBeta(cluster: string, count: number): Promise<void> {
  const list = await ok(apiB.request<{ items: Obj[] }>('GET', cms(cluster)));
  const byName = new Map(list.items.map((o) => [o.metadata.name, o]));
  for (let i = 0; i < count; i++) {
    const cm = byName.get(`cm-${i}`);
    assert.ok(cm !== undefined, `cm-${i} on beta`);
    assert.equal(cm.metadata.labels?.['app'], 'web');
    assert.equal(cm.metadata.annotations?.['note'], `n${i}`);
    assert.deepEqual(cm.data, { i: String(i) });
  }
  const owner = byName.get('owner')!;
  const dependent = await ok(apiB.request<Obj>('GET', `/clusters/${cluster}/api/v1/namespaces/default/secrets/dependent`));
  assert.deepEqual(dependent.metadata.finalizers, ['example.com/keep']);
  assert.equal(dependent.metadata.ownerReferences?.[0]?.uid, owner.metadata.uid, "the dependent names its owner's new uid");
  assert.deepEqual((await ok(apiB.request<Obj>('GET', `${cms(cluster, 'team')}/in-team`))).data, { x: 'y' });
}

const lcOn = async (api: ApiClient, cluster: string) => (await api.request('GET', `/clusters/${cluster}/apis/core.kcp.io/v1alpha1/logicalclusters/cluster`)).status;

test('a workspace moves with everything in it; the Workspace and the route point at the target; the source is emptied', async () => {
  const { path, cluster } = await populated('proj-frontend', 30);
  const rvOf = async (api: ApiClient) =>
    Number((await ok(api.request<{ metadata: { resourceVersion: string } }>('GET', '/clusters/root/api/v1/namespaces'))).metadata.resourceVersion);
  const startedAt = Date.now();
  const record = await moveWorkspace({ store, credentials, path, to: 'beta' });
  assert.equal(record.phase, 'done');
  assert.ok((record.copied ?? 0) >= 34, `copied ${record.copied}`);
  const route = await store.getRoute(path);
  assert.deepEqual({ shard: route?.shard, phase: route?.phase }, { shard: 'beta', phase: 'Ready' });
  // The fence the edge refuses old resourceVersions by: the target's number at the flip (below what it
  // stands at now), the source's last one, for a while.
  const fence = route?.fence;
  assert.equal(fence?.shard, 'beta');
  assert.deepEqual([fence?.targetRV, fence?.sourceRV], [record.targetRV, record.sourceRV]);
  assert.ok(Number(fence?.targetRV) > 0 && Number(fence?.targetRV) <= (await rvOf(apiB)), `target fence ${fence?.targetRV}`);
  assert.ok(Number(fence?.sourceRV) > 0 && Number(fence?.sourceRV) <= (await rvOf(apiA)), `source fence ${fence?.sourceRV}`);
  assert.ok(fence!.until > startedAt + 10 * 60_000, 'the fence lasts minutes');
  await assertAllOnBeta(cluster, 30);
  const ws = await ok(apiA.request<{ metadata: { annotations?: Record<string, string> } }>('GET', '/clusters/root/apis/tenancy.kcp.io/v1alpha1/workspaces/proj-frontend'));
  assert.equal(ws.metadata.annotations?.['internal.tenancy.kcp.io/shard'], 'beta', 'the Workspace names the shard its cluster is on now');
  assert.equal(await lcOn(apiA, cluster), 404, 'nothing left on alpha');
  assert.equal((await apiA.request('GET', cms(cluster))).status === 200 && (await apiA.request<{ items: unknown[] }>('GET', cms(cluster))).body.items.length > 0, false);
});

test('a mover stopped mid-copy leaves the move recorded; writes made meanwhile are caught up when it is re-run', async () => {
  const { path, cluster } = await populated('proj-resume', 20);
  await assert.rejects(
    moveWorkspace({
      store,
      credentials,
      path,
      to: 'beta',
      onProgress: ({ copied }) => {
        if (copied >= 8) throw new Error('killed');
      },
    }),
    /killed/,
  );
  assert.equal((await records.get(path))?.phase, 'copying');
  // The bulk of the copy runs while the source takes writes.
  assert.deepEqual(await store.getRoute(path).then((r) => [r?.shard, r?.phase]), ['alpha', 'Ready']);
  await ok(apiA.request('POST', cms(cluster), { body: { metadata: { name: 'late' }, data: { late: 'yes' } } }));
  await ok(apiA.request('PATCH', `${cms(cluster)}/cm-1`, { body: { data: { i: 'changed' } }, contentType: 'application/merge-patch+json' }));
  await ok(apiA.request('DELETE', `${cms(cluster)}/cm-2`));

  const record = await moveWorkspace({ store, credentials, path });
  assert.equal(record.phase, 'done');
  assert.deepEqual((await ok(apiB.request<Obj>('GET', `${cms(cluster)}/late`))).data, { late: 'yes' });
  assert.deepEqual((await ok(apiB.request<Obj>('GET', `${cms(cluster)}/cm-1`))).data, { i: 'changed' });
  assert.equal((await apiB.request('GET', `${cms(cluster)}/cm-2`)).status, 404, 'deleted on the source while the mover was down: deleted on the target');
  assert.equal((await ok(apiB.request<{ items: unknown[] }>('GET', cms(cluster)))).items.length, 21);
  assert.equal(await lcOn(apiA, cluster), 404);
});

test('a mover stopped mid-copy can be aborted: the target copy goes, the source serves writes again', async () => {
  const { path, cluster } = await populated('proj-abort', 20);
  await assert.rejects(
    moveWorkspace({
      store,
      credentials,
      path,
      to: 'beta',
      onProgress: ({ copied }) => {
        if (copied >= 5) throw new Error('killed');
      },
    }),
    /killed/,
  );
  const record = await abortMove({ store, credentials, path });
  assert.equal(record?.phase, 'aborted');
  assert.deepEqual(await store.getRoute(path).then((r) => [r?.shard, r?.phase]), ['alpha', 'Ready']);
  assert.equal(await lcOn(apiB, cluster), 404, 'the target copy is gone');
  assert.equal((await ok(apiA.request<{ items: unknown[] }>('GET', cms(cluster)))).items.length, 21, 'the source is whole');
});

test('the indexer leaves a route Moving while the copy holds it, and follows the cutover without flapping', async (t) => {
  const { path, cluster } = await populated('proj-indexed', 10);
  const indexer = new Indexer({ store, credentials, shardRefreshMs: 100 });
  t.after(() => indexer.stop());
  await indexer.start();
  await indexer.synced();
  await assert.rejects(
    moveWorkspace({
      store,
      credentials,
      path,
      to: 'beta',
      onProgress: ({ copied }) => {
        if (copied >= 4) throw new Error('killed');
      },
    }),
    /killed/,
  );
  // The catch-up pauses writes (as a re-run would, right after its bulk copy); the logical cluster exists
  // on both shards and the index would call it Ready on alpha: writes must stay paused all the same.
  await store.putRoute({ path, shard: 'alpha', cluster, phase: 'Moving' });
  await assert.rejects(
    waitFor(async () => (await store.getRoute(path))?.phase === 'Ready', { timeoutMs: 1_500, what: 'route unpaused' }),
    /timed out/,
  );
  assert.deepEqual(await store.getRoute(path).then((r) => [r?.shard, r?.phase]), ['alpha', 'Moving']);

  await moveWorkspace({ store, credentials, path });
  await indexer.synced();
  await assert.rejects(
    waitFor(async () => (await store.getRoute(path))?.shard !== 'beta', { timeoutMs: 1_000, what: 'route flapped' }),
    /timed out/,
  );
  assert.deepEqual(await store.getRoute(path).then((r) => [r?.shard, r?.phase, r?.cluster]), ['beta', 'Ready', cluster]);
});

test('a workspace with an APIBinding moves with it: the bound kind and its objects are served on the target', async () => {
  await createWorkspace(apiA, 'root', 'gadget-provider', { shard: 'alpha' });
  await createExport(apiA, 'root:gadget-provider', { name: 'gadgets', group: 'example.com', resource: 'gadgets', kind: 'Gadget' });
  const ws = await createWorkspace(apiA, 'root', 'proj-bound', { shard: 'alpha' });
  await store.putRoute({ path: ws.path, shard: 'alpha', cluster: ws.cluster, phase: 'Ready' });
  await bindExport(apiA, ws.path, 'root:gadget-provider', 'gadgets');
  const gadgets = () => `/clusters/${ws.cluster}/apis/example.com/v1alpha1/namespaces/default/gadgets`;
  await ok(apiA.request('POST', gadgets(), { body: { apiVersion: 'example.com/v1alpha1', kind: 'Gadget', metadata: { name: 'g1' }, spec: { size: 3 } } }));

  await moveWorkspace({ store, credentials, path: ws.path, to: 'beta' });
  const binding = await ok(apiB.request<{ status?: { phase?: string } }>('GET', `/clusters/${ws.cluster}/apis/apis.kcp.io/v1alpha1/apibindings/gadgets`));
  assert.equal(binding.status?.phase, 'Bound', 'the binding is bound on the target');
  const discovery = await ok(apiB.request<{ resources: { name: string }[] }>('GET', `/clusters/${ws.cluster}/apis/example.com/v1alpha1`));
  assert.ok(
    discovery.resources.some((r) => r.name === 'gadgets'),
    'the bound kind is in discovery on the target',
  );
  const g1 = await ok(apiB.request<{ spec?: { size?: number } }>('GET', `${gadgets()}/g1`));
  assert.deepEqual(g1.spec, { size: 3 }, 'the object of the bound kind is served by the target');
  assert.equal(await lcOn(apiA, ws.cluster), 404, 'nothing left on alpha');
});
