// stop() and start() of a stand-in: the objects survive (etcd keeps them), the same address serves
// again, watches from before the restart get 410 and must re-list, and what the controllers derive
// (bound kinds, the virtual workspace, CRD kinds) is served again without anybody writing anything.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bindCompute, computeExportName, computeGroup, computeVersion, installComputeCRD, publishComputeExport } from '../../src/sim/compute-export.ts';
import { createWorkspace } from '../../src/sim/index.ts';
import { waitFor } from '../helpers/wait.ts';
import { shardForTest, twoShardsForTest, type Obj } from './fixture.ts';

const vms = (prefix: string) => `${prefix}/apis/${computeGroup}/${computeVersion}/namespaces/default/virtualmachines`;
const vm = (name: string) => ({ apiVersion: `${computeGroup}/${computeVersion}`, kind: 'VirtualMachine', metadata: { name }, spec: { cpu: 1 } });

test('a restarted KCP shard keeps its objects, serves bound kinds and the virtual workspace again, and expires old watches', async (t) => {
  const { b, adminA, adminB } = await twoShardsForTest(t);
  const provider = await createWorkspace(adminA, 'root', 'compute');
  await publishComputeExport(adminA, provider.cluster, 'root:compute');
  const consumer = await createWorkspace(adminA, 'root', 'consumer', { shard: 'shard-b' });
  await bindCompute(adminB, consumer.cluster, 'root:compute');
  await waitFor(async () => (await adminB.request('GET', vms(`/clusters/${consumer.cluster}`))).status === 200, { what: 'bound' });
  assert.equal((await adminB.request('POST', vms(`/clusters/${consumer.cluster}`), { body: vm('before') })).status, 201);
  const vw = `/services/apiexport/${provider.cluster}/${computeExportName}/clusters/*/apis/${computeGroup}/${computeVersion}/virtualmachines`;
  const listed = await adminB.request<{ metadata: { resourceVersion: string }; items: Obj[] }>('GET', vw);
  assert.deepEqual(
    listed.body.items.map((o) => o.metadata.name),
    ['before'],
  );
  const watch = await adminB.watch(`${vw}?watch=1&resourceVersion=${listed.body.metadata.resourceVersion}`);
  t.after(() => watch.close());

  const url = b.url;
  await b.stop();
  assert.equal(b.serving, false);
  await waitFor(() => watch.ended, { what: 'the watch cut by the stop' });
  await assert.rejects(adminB.request('GET', '/version'), 'nothing listens while stopped');
  await b.start();
  assert.equal(b.url, url);

  // The binding's kinds come back by themselves (the binding is not written again).
  await waitFor(async () => (await adminB.request('GET', vms(`/clusters/${consumer.cluster}`))).status === 200, { what: 'bound kind served again' });
  const after = await waitFor(
    async () => {
      const res = await adminB.request<{ metadata: { resourceVersion: string }; items: Obj[] }>('GET', vw);
      return res.status === 200 ? res.body : undefined;
    },
    { what: 'virtual workspace served again' },
  );
  assert.deepEqual(
    after.items.map((o) => o.metadata.name),
    ['before'],
    'the objects survived',
  );
  assert.ok(Number(after.metadata.resourceVersion) > Number(listed.body.metadata.resourceVersion), 'resourceVersions never go back');

  // A watch from before the restart (even from the last version then) is told to re-list; one from now
  // follows new changes.
  const stale = await adminB.watch(`${vw}?watch=1&resourceVersion=${listed.body.metadata.resourceVersion}`);
  t.after(() => stale.close());
  const expired = await stale.next();
  assert.equal(expired?.type, 'ERROR');
  assert.equal((expired?.object as { code?: number }).code, 410);
  const fresh = await adminB.watch(`${vw}?watch=1&resourceVersion=${after.metadata.resourceVersion}`);
  t.after(() => fresh.close());
  assert.equal((await adminB.request('POST', vms(`/clusters/${consumer.cluster}`), { body: vm('after') })).status, 201);
  const added = await fresh.next();
  assert.deepEqual([added?.type, (added?.object as Obj | undefined)?.metadata.name], ['ADDED', 'after']);
});

test('a restarted plain cluster serves its CRD kinds again with their objects', async (t) => {
  const { shard, admin } = await shardForTest(t, { name: 'service', mode: 'kubernetes' });
  await installComputeCRD(admin);
  const path = vms('');
  await waitFor(async () => (await admin.request('GET', path)).status === 200, { what: 'CRD established' });
  assert.equal((await admin.request('POST', path, { body: vm('kept') })).status, 201);
  await shard.stop();
  await shard.start();
  // The client's kept-alive connection died with the server: the first request may still try it.
  const list = await waitFor(
    async () => {
      const res = await admin.request<{ items: Obj[] }>('GET', path);
      return res.status === 200 ? res.body : undefined;
    },
    { what: 'CRD kind served again' },
  );
  assert.deepEqual(
    list.items.map((o) => o.metadata.name),
    ['kept'],
  );
});
