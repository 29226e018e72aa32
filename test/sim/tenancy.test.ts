import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connectShards, createWorkspace, startShard } from '../../src/sim/index.ts';
import { waitFor } from '../helpers/wait.ts';
import { cm, shardForTest, testCA, twoShardsForTest, type Obj } from './fixture.ts';

type Workspace = Obj & { spec: { cluster: string; URL: string; type: { name: string } }; status: { phase: string } };

test('a workspace gets a logical cluster on this shard, reachable by name and by path', async (t) => {
  const { shard, admin } = await shardForTest(t);
  const phases: string[] = [];
  const watch = await admin.watch('/clusters/root/apis/tenancy.kcp.io/v1alpha1/workspaces?watch=1&resourceVersion=1');
  t.after(() => watch.close());

  const org = await createWorkspace(admin, 'root', 'org-acme');
  assert.match(org.cluster, /^[0-9a-z]{16}$/);
  assert.equal(org.url, `${shard.url}/clusters/root:org-acme`);
  for (;;) {
    const event = await watch.next();
    const phase = (event?.object as Workspace | undefined)?.status?.phase;
    if (phase !== undefined && phases.at(-1) !== phase) phases.push(phase);
    if (phase === 'Ready') break;
  }
  assert.deepEqual(phases, ['Scheduling', 'Initializing', 'Ready']);

  const lc = await admin.request<Obj & { status: { phase: string } }>('GET', `/clusters/${org.cluster}/apis/core.kcp.io/v1alpha1/logicalclusters/cluster`);
  assert.equal(lc.body.status.phase, 'Ready');
  assert.equal((lc.body.metadata['annotations'] as Record<string, string>)['kcp.io/path'], 'root:org-acme');

  // Both addresses reach the same cluster, which has its default namespace.
  await admin.request('POST', `/clusters/${org.cluster}/api/v1/namespaces/default/configmaps`, { body: cm('hello') });
  const byPath = await admin.request<{ items: Obj[] }>('GET', '/clusters/root:org-acme/api/v1/namespaces/default/configmaps');
  assert.deepEqual(
    byPath.body.items.map((i) => i.metadata.name),
    ['hello'],
  );
  assert.equal((byPath.body.items[0]?.metadata['annotations'] as Record<string, string>)['kcp.io/cluster'], org.cluster);

  const nested = await createWorkspace(admin, 'root:org-acme', 'team');
  const ws = await admin.request<Workspace>('GET', '/clusters/root:org-acme/apis/tenancy.kcp.io/v1alpha1/workspaces/team');
  assert.equal(ws.body.spec.cluster, nested.cluster);
  assert.equal(ws.body.spec.type.name, 'universal');
});

test('wildcard list and watch across logical clusters', async (t) => {
  const { admin } = await shardForTest(t);
  const a = await createWorkspace(admin, 'root', 'a');
  const b = await createWorkspace(admin, 'root', 'b');
  const list = await admin.request<{ metadata: { resourceVersion: string } }>('GET', '/clusters/*/api/v1/configmaps');
  const watch = await admin.watch(`/clusters/*/api/v1/configmaps?watch=1&resourceVersion=${list.body.metadata.resourceVersion}`);
  t.after(() => watch.close());
  await admin.request('POST', `/clusters/${a.cluster}/api/v1/namespaces/default/configmaps`, { body: cm('in-a') });
  await admin.request('POST', `/clusters/${b.cluster}/api/v1/namespaces/default/configmaps`, { body: cm('in-b') });
  const seen = [(await watch.next())?.object as Obj, (await watch.next())?.object as Obj].map((o) => [
    o.metadata.name,
    (o.metadata['annotations'] as Record<string, string>)['kcp.io/cluster'],
  ]);
  assert.deepEqual(seen, [
    ['in-a', a.cluster],
    ['in-b', b.cluster],
  ]);
  const all = await admin.request<{ items: Obj[] }>('GET', '/clusters/*/api/v1/configmaps');
  assert.deepEqual(all.body.items.map((i) => i.metadata.name).sort(), ['in-a', 'in-b']);
  assert.equal((await admin.request('POST', '/clusters/*/api/v1/namespaces/default/configmaps', { body: cm('x') })).status, 400);
});

test('a workspace scheduled onto another shard gets its logical cluster there', async (t) => {
  const { a, b, adminA, adminB } = await twoShardsForTest(t);

  await createWorkspace(adminA, 'root', 'org-acme');
  const frontend = await createWorkspace(adminA, 'root:org-acme', 'proj-frontend', { shard: 'shard-a' });
  const backend = await createWorkspace(adminA, 'root:org-acme', 'proj-backend', { shard: 'shard-b' });
  assert.ok(frontend.url.startsWith(a.url));
  assert.equal(backend.url, `${b.url}/clusters/root:org-acme:proj-backend`, 'no front door: the holding shard, by path');

  const lc = await adminB.request<Obj>('GET', `/clusters/${backend.cluster}/apis/core.kcp.io/v1alpha1/logicalclusters/cluster`);
  assert.equal((lc.body.metadata['annotations'] as Record<string, string>)['kcp.io/path'], 'root:org-acme:proj-backend');
  assert.equal((await adminB.request('GET', '/clusters/root:org-acme:proj-backend/api/v1/namespaces/default')).status, 200);
  assert.equal((await adminA.request('GET', `/clusters/${backend.cluster}/api/v1/namespaces`)).status, 403, 'shard A does not host it');

  // Unschedulable: no shard carries the label.
  await adminA.request('POST', '/clusters/root:org-acme/apis/tenancy.kcp.io/v1alpha1/workspaces', {
    body: { apiVersion: 'tenancy.kcp.io/v1alpha1', kind: 'Workspace', metadata: { name: 'nowhere' }, spec: { location: { selector: { matchLabels: { name: 'shard-z' } } } } },
  });
  await waitFor(
    async () => {
      const ws = await adminA.request<Workspace>('GET', '/clusters/root:org-acme/apis/tenancy.kcp.io/v1alpha1/workspaces/nowhere');
      return ws.body.status?.phase === 'Scheduling';
    },
    { what: 'unschedulable workspace to stay Scheduling' },
  );

  // Deleting the workspace removes its logical cluster on the other shard.
  await adminA.request('DELETE', '/clusters/root:org-acme/apis/tenancy.kcp.io/v1alpha1/workspaces/proj-backend');
  await waitFor(async () => (await adminB.request('GET', `/clusters/${backend.cluster}/apis/core.kcp.io/v1alpha1/logicalclusters/cluster`)).status !== 200, {
    what: 'remote logical cluster removal',
  });
  await waitFor(async () => (await adminA.request('GET', '/clusters/root:org-acme/apis/tenancy.kcp.io/v1alpha1/workspaces/proj-backend')).status === 404, {
    what: 'workspace removal',
  });
});

test('behind a front door, spec.URL is the external URL; the logical cluster still lands on the scheduled shard', async (t) => {
  const externalURL = 'https://edge.example.com:6443';
  const ca = await testCA();
  const a = await startShard({ name: 'shard-a', ca, externalURL });
  t.after(() => a.close());
  const b = await startShard({ name: 'shard-b', ca, externalURL });
  t.after(() => b.close());
  connectShards(a, b);
  const [adminA, adminB] = [await a.client(), await b.client()];

  const org = await createWorkspace(adminA, 'root', 'org-acme', { shard: 'shard-b' });
  assert.equal(org.url, `${externalURL}/clusters/root:org-acme`);
  assert.equal((await adminB.request('GET', `/clusters/${org.cluster}/apis/core.kcp.io/v1alpha1/logicalclusters/cluster`)).status, 200);
  assert.equal((await adminA.request('GET', `/clusters/${org.cluster}/api/v1/namespaces`)).status, 403, 'shard A does not host it');

  // Deleting the Workspace still finds the shard holding its logical cluster.
  assert.ok([200, 202].includes((await adminA.request('DELETE', '/clusters/root/apis/tenancy.kcp.io/v1alpha1/workspaces/org-acme')).status));
  await waitFor(async () => (await adminB.request('GET', `/clusters/${org.cluster}/apis/core.kcp.io/v1alpha1/logicalclusters/cluster`)).status !== 200, {
    what: 'the logical cluster to go',
  });
});
