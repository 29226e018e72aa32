import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cm, shardForTest, type Obj } from './fixture.ts';

const base = '/clusters/root/api/v1/namespaces/default/configmaps';

test('create, get, list, update with optimistic concurrency, delete', async (t) => {
  const { admin } = await shardForTest(t);
  const created = await admin.request<Obj>('POST', base, { body: cm('one', { a: '1' }) });
  assert.equal(created.status, 201);
  assert.match(created.body.metadata.resourceVersion, /^\d+$/);
  assert.equal((created.body.metadata['annotations'] as Record<string, string>)['kcp.io/cluster'], 'root');
  assert.ok(created.body.metadata['uid']);

  const again = await admin.request<{ reason: string; code: number; kind: string }>('POST', base, { body: cm('one') });
  assert.deepEqual([again.status, again.body.kind, again.body.reason], [409, 'Status', 'AlreadyExists']);

  const got = await admin.request<Obj>('GET', `${base}/one`);
  assert.deepEqual(got.body['data'], { a: '1' });

  const updated = await admin.request<Obj>('PUT', `${base}/one`, { body: { ...got.body, data: { a: '2' } } });
  assert.equal(updated.status, 200);
  assert.ok(Number(updated.body.metadata.resourceVersion) > Number(got.body.metadata.resourceVersion));

  // The stale resourceVersion from before the update is refused with a Conflict Status.
  const stale = await admin.request<{ reason: string; message: string }>('PUT', `${base}/one`, { body: { ...got.body, data: { a: '3' } } });
  assert.equal(stale.status, 409);
  assert.equal(stale.body.reason, 'Conflict');
  assert.match(stale.body.message, /the object has been modified/);

  const list = await admin.request<{ kind: string; metadata: { resourceVersion: string }; items: Obj[] }>('GET', base);
  assert.equal(list.body.kind, 'ConfigMapList');
  assert.deepEqual(
    list.body.items.map((i) => i.metadata.name),
    ['one'],
  );
  assert.ok(Number(list.body.metadata.resourceVersion) >= Number(updated.body.metadata.resourceVersion));

  const deleted = await admin.request<{ status: string }>('DELETE', `${base}/one`);
  assert.deepEqual([deleted.status, deleted.body.status], [200, 'Success']);
  const missing = await admin.request<{ reason: string; message: string }>('GET', `${base}/one`);
  assert.deepEqual([missing.status, missing.body.reason, missing.body.message], [404, 'NotFound', 'configmaps "one" not found']);
});

test('generateName, dryRun=All, and creating in a missing namespace', async (t) => {
  const { admin } = await shardForTest(t);
  const generated = await admin.request<Obj>('POST', base, { body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { generateName: 'gen-' } } });
  assert.match(generated.body.metadata.name, /^gen-[a-z0-9]{5}$/);

  const dry = await admin.request<Obj>('POST', `${base}?dryRun=All`, { body: cm('dry') });
  assert.equal(dry.status, 201);
  assert.equal((await admin.request('GET', `${base}/dry`)).status, 404, 'a dry run stores nothing');

  const nowhere = await admin.request<{ reason: string; message: string }>('POST', '/clusters/root/api/v1/namespaces/nope/configmaps', { body: cm('x') });
  assert.deepEqual([nowhere.status, nowhere.body.message], [404, 'namespaces "nope" not found']);

  const invalid = await admin.request<{ reason: string }>('POST', base, { body: cm('Not_Valid') });
  assert.deepEqual([invalid.status, invalid.body.reason], [422, 'Invalid']);
});

test('finalizers hold a deletion: deletionTimestamp first, removal when the last finalizer goes', async (t) => {
  const { admin } = await shardForTest(t);
  await admin.request('POST', base, { body: { ...cm('held'), metadata: { name: 'held', finalizers: ['example.com/hold'] } } });
  const deleting = await admin.request<Obj>('DELETE', `${base}/held`);
  assert.equal(deleting.status, 202);
  assert.ok(deleting.body.metadata['deletionTimestamp']);

  const still = await admin.request<Obj>('GET', `${base}/held`);
  assert.equal(still.status, 200);
  assert.deepEqual(still.body.metadata['finalizers'], ['example.com/hold']);

  const addMore = await admin.request('PATCH', `${base}/held`, {
    contentType: 'application/merge-patch+json',
    body: { metadata: { finalizers: ['example.com/hold', 'example.com/other'] } },
  });
  assert.equal(addMore.status, 422, 'no new finalizers on an object being deleted');

  const released = await admin.request('PATCH', `${base}/held`, { contentType: 'application/merge-patch+json', body: { metadata: { finalizers: null } } });
  assert.equal(released.status, 200);
  assert.equal((await admin.request('GET', `${base}/held`)).status, 404);
});

test('delete preconditions and deleting a namespace with its contents', async (t) => {
  const { admin } = await shardForTest(t);
  await admin.request('POST', '/clusters/root/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team' } } });
  const teamCMs = '/clusters/root/api/v1/namespaces/team/configmaps';
  await admin.request('POST', teamCMs, { body: cm('a') });
  await admin.request('POST', teamCMs, { body: { ...cm('b'), metadata: { name: 'b', finalizers: ['x/y'] } } });

  const wrongUid = await admin.request('DELETE', `${teamCMs}/a`, { body: { preconditions: { uid: 'not-it' } } });
  assert.equal(wrongUid.status, 409);

  const ns = await admin.request<Obj>('DELETE', '/clusters/root/api/v1/namespaces/team');
  assert.equal((ns.body['status'] as { phase: string }).phase, 'Terminating');
  assert.equal((await admin.request('GET', `${teamCMs}/a`)).status, 404);
  const creating = await admin.request<{ reason: string }>('POST', teamCMs, { body: cm('late') });
  assert.equal(creating.body.reason, 'Forbidden');
  assert.equal((await admin.request('GET', '/clusters/root/api/v1/namespaces/team')).status, 200, 'held by the finalizer of b');

  await admin.request('PATCH', `${teamCMs}/b`, { contentType: 'application/json-patch+json', body: [{ op: 'remove', path: '/metadata/finalizers' }] });
  const { waitFor } = await import('../helpers/wait.ts');
  await waitFor(async () => (await admin.request('GET', '/clusters/root/api/v1/namespaces/team')).status === 404, { what: 'namespace removal' });
});

test('label and field selectors, and paging with limit/continue', async (t) => {
  const { admin } = await shardForTest(t);
  for (const [name, tier] of [
    ['a', 'web'],
    ['b', 'db'],
    ['c', 'web'],
    ['d', 'cache'],
  ] as const) {
    await admin.request('POST', base, { body: cm(name, {}, { tier, ...(name === 'd' ? { pinned: 'yes' } : {}) }) });
  }
  const names = async (query: string) => (await admin.request<{ items: Obj[] }>('GET', `${base}?${query}`)).body.items.map((i) => i.metadata.name);
  assert.deepEqual(await names('labelSelector=tier%3Dweb'), ['a', 'c']);
  assert.deepEqual(await names('labelSelector=tier!%3Dweb'), ['b', 'd']);
  assert.deepEqual(await names(`labelSelector=${encodeURIComponent('tier in (db,cache)')}`), ['b', 'd']);
  assert.deepEqual(await names(`labelSelector=${encodeURIComponent('tier notin (web),!pinned')}`), ['b']);
  assert.deepEqual(await names('labelSelector=pinned'), ['d']);
  assert.deepEqual(await names('fieldSelector=metadata.name%3Dc'), ['c']);
  assert.deepEqual(await names('fieldSelector=metadata.name!%3Dc,metadata.namespace%3Ddefault&labelSelector=tier%3Dweb'), ['a']);

  const first = await admin.request<{ items: Obj[]; metadata: { continue?: string; remainingItemCount?: number } }>('GET', `${base}?limit=3`);
  assert.equal(first.body.items.length, 3);
  assert.equal(first.body.metadata.remainingItemCount, 1);
  const second = await admin.request<{ items: Obj[]; metadata: { continue?: string } }>('GET', `${base}?limit=3&continue=${first.body.metadata.continue ?? ''}`);
  assert.deepEqual(
    second.body.items.map((i) => i.metadata.name),
    ['d'],
  );
  assert.equal(second.body.metadata.continue, undefined);
});

test('status subresource: the main resource ignores status, /status changes only status', async (t) => {
  const { admin } = await shardForTest(t);
  const pods = '/clusters/root/api/v1/namespaces/default/pods';
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'main', image: 'busybox' }] } };
  const created = await admin.request<Obj>('POST', pods, { body: pod });
  assert.equal((created.body['status'] as { phase: string }).phase, 'Running');

  const viaMain = await admin.request<Obj>('PATCH', `${pods}/p`, {
    contentType: 'application/merge-patch+json',
    body: { status: { phase: 'Failed' }, metadata: { labels: { a: 'b' } } },
  });
  assert.equal((viaMain.body['status'] as { phase: string }).phase, 'Running');
  assert.deepEqual(viaMain.body.metadata['labels'], { a: 'b' });

  const viaStatus = await admin.request<Obj>('PATCH', `${pods}/p/status`, {
    contentType: 'application/merge-patch+json',
    body: { status: { phase: 'Succeeded' }, metadata: { labels: { a: 'c' } } },
  });
  assert.equal((viaStatus.body['status'] as { phase: string }).phase, 'Succeeded');
  assert.deepEqual(viaStatus.body.metadata['labels'], { a: 'b' });
  assert.equal(viaStatus.body.metadata['generation'], viaMain.body.metadata['generation'], 'status writes leave generation alone');
});

test('patch types: merge, JSON, strategic merge; unknown types are 415', async (t) => {
  const { admin } = await shardForTest(t);
  const pods = '/clusters/root/api/v1/namespaces/default/pods';
  await admin.request('POST', pods, {
    body: {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p' },
      spec: {
        containers: [
          { name: 'a', image: 'one' },
          { name: 'b', image: 'two' },
        ],
      },
    },
  });
  const smp = await admin.request<Obj>('PATCH', `${pods}/p`, {
    contentType: 'application/strategic-merge-patch+json',
    body: { spec: { containers: [{ name: 'b', image: 'three' }] } },
  });
  const containers = (smp.body['spec'] as { containers: Array<{ name: string; image: string }> }).containers;
  assert.deepEqual(
    containers,
    [
      { name: 'a', image: 'one' },
      { name: 'b', image: 'three' },
    ],
    'containers merge by name',
  );

  const merge = await admin.request<Obj>('PATCH', `${pods}/p`, { contentType: 'application/merge-patch+json', body: { spec: { containers: [{ name: 'c', image: 'x' }] } } });
  assert.equal((merge.body['spec'] as { containers: unknown[] }).containers.length, 1, 'merge patch replaces lists');

  const json = await admin.request<Obj>('PATCH', `${pods}/p`, {
    contentType: 'application/json-patch+json',
    body: [
      { op: 'add', path: '/metadata/labels', value: { x: 'y' } },
      { op: 'test', path: '/metadata/labels/x', value: 'y' },
    ],
  });
  assert.deepEqual(json.body.metadata['labels'], { x: 'y' });
  const failedTest = await admin.request('PATCH', `${pods}/p`, { contentType: 'application/json-patch+json', body: [{ op: 'test', path: '/metadata/name', value: 'q' }] });
  assert.equal(failedTest.status, 422);

  const bad = await admin.request<{ reason: string }>('PATCH', `${pods}/p`, { contentType: 'text/plain', body: 'x' });
  assert.deepEqual([bad.status, bad.body.reason], [415, 'UnsupportedMediaType']);
  const stalePatch = await admin.request('PATCH', `${pods}/p`, { contentType: 'application/merge-patch+json', body: { metadata: { resourceVersion: '1', labels: { z: 'z' } } } });
  assert.equal(stalePatch.status, 409, 'a patch carrying an old resourceVersion conflicts');
});

test('Table output for as=Table, dry-run updates, kind first, and Audit-Id', async (t) => {
  const { admin } = await shardForTest(t);
  await admin.request('POST', base, { body: cm('tabled', { a: '1', b: '2' }) });
  const accept = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';
  const table = await admin.request<{
    kind: string;
    apiVersion: string;
    columnDefinitions: Array<{ name: string }>;
    rows: Array<{ cells: unknown[]; object: { kind: string; metadata: { name: string } } }>;
  }>('GET', base, { headers: { accept } });
  assert.deepEqual([table.body.kind, table.body.apiVersion], ['Table', 'meta.k8s.io/v1']);
  assert.deepEqual(
    table.body.columnDefinitions.map((c) => c.name),
    ['Name', 'Data', 'Age'],
  );
  assert.deepEqual(table.body.rows[0]?.cells.slice(0, 2), ['tabled', 2]);
  assert.equal(table.body.rows[0]?.object.kind, 'PartialObjectMetadata');
  assert.equal(table.body.rows[0]?.object.metadata.name, 'tabled');

  const got = await admin.request<Obj>('GET', `${base}/tabled`, { headers: { 'audit-id': 'trace-me' } });
  assert.equal(got.headers['audit-id'], 'trace-me');
  assert.deepEqual(Object.keys(got.body).slice(0, 2), ['kind', 'apiVersion']);
  const dry = await admin.request<Obj>('PUT', `${base}/tabled?dryRun=All`, { body: { ...got.body, data: { changed: 'yes' } } });
  assert.deepEqual(dry.body['data'], { changed: 'yes' });
  assert.deepEqual((await admin.request<Obj>('GET', `${base}/tabled`)).body['data'], { a: '1', b: '2' }, 'dry run changed nothing');
});
