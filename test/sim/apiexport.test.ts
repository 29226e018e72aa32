import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bindExport, createExport, createWorkspace } from '../../src/sim/index.ts';
import { waitFor } from '../helpers/wait.ts';
import { twoShardsForTest, type Obj } from './fixture.ts';

const widget = (name: string, spec: Record<string, unknown> = {}) => ({ apiVersion: 'example.com/v1alpha1', kind: 'Widget', metadata: { name }, spec });
const widgetsIn = (path: string) => `/clusters/${path}/apis/example.com/v1alpha1/namespaces/default/widgets`;

test('APIExport → APIBinding on two shards → discovery, servable kinds, endpoint slice, virtual workspace', async (t) => {
  const { a, b, adminA, adminB } = await twoShardsForTest(t);

  const provider = await createWorkspace(adminA, 'root', 'providers');
  await createExport(adminA, 'root:providers', { name: 'widgets', group: 'example.com', resource: 'widgets', kind: 'Widget' });
  const one = await createWorkspace(adminA, 'root', 'one', { shard: 'shard-a' });
  const two = await createWorkspace(adminA, 'root', 'two', { shard: 'shard-a' });
  const far = await createWorkspace(adminA, 'root', 'far', { shard: 'shard-b' });
  const unbound = await createWorkspace(adminA, 'root', 'unbound', { shard: 'shard-a' });

  // Not served before the binding.
  assert.equal((await adminA.request('GET', widgetsIn('root:one'))).status, 404);
  const binding = await bindExport(adminA, 'root:one', 'root:providers', 'widgets');
  assert.equal((binding['status'] as { apiExportClusterName: string }).apiExportClusterName, provider.cluster);
  await bindExport(adminA, 'root:two', 'root:providers', 'widgets');
  await bindExport(adminB, 'root:far', 'root:providers', 'widgets');

  const discovery = await adminA.request<{ resources: Array<{ name: string; kind: string }> }>('GET', '/clusters/root:one/apis/example.com/v1alpha1');
  assert.deepEqual(
    discovery.body.resources.map((r) => [r.name, r.kind]),
    [
      ['widgets', 'Widget'],
      ['widgets/status', 'Widget'],
    ],
  );
  assert.equal((await adminA.request('GET', '/clusters/root:unbound/apis/example.com/v1alpha1')).status, 404);

  // The endpoint slice kcp made next to the export lists one virtual-workspace URL per shard with bindings.
  const slicePath = '/clusters/root:providers/apis/apis.kcp.io/v1alpha1/apiexportendpointslices/widgets';
  const expected = [a, b].map((s) => `${s.url}/services/apiexport/${provider.cluster}/widgets`).sort();
  await waitFor(
    async () => {
      const slice = await adminA.request<{ status?: { endpoints?: Array<{ url: string }> } }>('GET', slicePath);
      return JSON.stringify((slice.body.status?.endpoints ?? []).map((e) => e.url).sort()) === JSON.stringify(expected);
    },
    { what: 'endpoint slice to list both shards' },
  );

  // Wildcard watch through shard A's virtual workspace sees both bound workspaces there, and nothing else.
  const vwA = `/services/apiexport/${provider.cluster}/widgets/clusters`;
  const list = await adminA.request<{ metadata: { resourceVersion: string }; items: Obj[] }>('GET', `${vwA}/*/apis/example.com/v1alpha1/widgets`);
  assert.deepEqual(list.body.items, []);
  const watch = await adminA.watch(`${vwA}/*/apis/example.com/v1alpha1/widgets?watch=1&resourceVersion=${list.body.metadata.resourceVersion}`);
  t.after(() => watch.close());
  await adminA.request('POST', widgetsIn('root:one'), { body: widget('w1', { size: 1 }) });
  await adminA.request('POST', widgetsIn('root:two'), { body: widget('w2') });
  await adminA.request('POST', '/clusters/root:unbound/api/v1/namespaces/default/configmaps', { body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'noise' } } });
  const events = [await watch.next(), await watch.next()].map((e) => [
    e?.type,
    (e?.object as Obj).metadata.name,
    ((e?.object as Obj).metadata['annotations'] as Record<string, string>)['kcp.io/cluster'],
  ]);
  assert.deepEqual(events, [
    ['ADDED', 'w1', one.cluster],
    ['ADDED', 'w2', two.cluster],
  ]);

  // Per-cluster CRUD and /status through the virtual workspace.
  const w1 = `${vwA}/${one.cluster}/apis/example.com/v1alpha1/namespaces/default/widgets/w1`;
  const status = await adminA.request<Obj>('PATCH', `${w1}/status`, { contentType: 'application/merge-patch+json', body: { status: { ready: true } } });
  assert.deepEqual(status.body['status'], { ready: true });
  assert.deepEqual(((await watch.next())?.object as Obj)['status'], { ready: true });
  const fromConsumer = await adminA.request<Obj>('GET', `${widgetsIn('root:one')}/w1`);
  assert.deepEqual(fromConsumer.body['status'], { ready: true });
  const smp = await adminA.request('PATCH', w1, { contentType: 'application/strategic-merge-patch+json', body: { spec: { size: 2 } } });
  assert.equal(smp.status, 415, 'bound kinds take merge and JSON patches, like CRDs');
  assert.equal((await adminA.request('GET', `${vwA}/${unbound.cluster}/apis/example.com/v1alpha1/widgets`)).status, 403);

  // Shard B's virtual workspace serves the workspace bound there.
  await adminB.request('POST', widgetsIn('root:far'), { body: widget('w3') });
  const farList = await adminB.request<{ items: Obj[] }>('GET', `/services/apiexport/${provider.cluster}/widgets/clusters/*/apis/example.com/v1alpha1/widgets`);
  assert.deepEqual(
    farList.body.items.map((i) => [i.metadata.name, (i.metadata['annotations'] as Record<string, string>)['kcp.io/cluster']]),
    [['w3', far.cluster]],
  );

  // Deleting a binding takes its kinds out of the workspace and the workspace out of the view.
  await adminA.request('DELETE', '/clusters/root:two/apis/apis.kcp.io/v1alpha1/apibindings/widgets');
  await waitFor(async () => (await adminA.request('GET', '/clusters/root:two/apis/example.com/v1alpha1')).status === 404, { what: 'widgets to leave root:two' });
  const afterUnbind = await adminA.request<{ items: Obj[] }>('GET', `${vwA}/*/apis/example.com/v1alpha1/widgets`);
  assert.deepEqual(
    afterUnbind.body.items.map((i) => i.metadata.name),
    ['w1'],
  );
});
