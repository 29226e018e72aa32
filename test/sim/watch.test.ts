import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cm, shardForTest, type Obj } from './fixture.ts';

const base = '/clusters/root/api/v1/namespaces/default/configmaps';
type Ev = { type: string; object: Obj };

test('watch from a resourceVersion replays later changes and follows live ones', async (t) => {
  const { admin } = await shardForTest(t);
  const first = await admin.request<Obj>('POST', base, { body: cm('a') });
  await admin.request('POST', base, { body: cm('b') });
  const watch = await admin.watch(`${base}?watch=1&resourceVersion=${first.body.metadata.resourceVersion}`);
  t.after(() => watch.close());
  const replayed = (await watch.next()) as Ev;
  assert.deepEqual([replayed.type, replayed.object.metadata.name], ['ADDED', 'b']);

  await admin.request('PATCH', `${base}/a`, { contentType: 'application/merge-patch+json', body: { data: { x: '1' } } });
  const modified = (await watch.next()) as Ev;
  assert.deepEqual([modified.type, modified.object.metadata.name, modified.object['data']], ['MODIFIED', 'a', { x: '1' }]);

  await admin.request('DELETE', `${base}/b`);
  const deleted = (await watch.next()) as Ev;
  assert.deepEqual([deleted.type, deleted.object.metadata.name], ['DELETED', 'b']);
  assert.ok(Number(deleted.object.metadata.resourceVersion) > Number(modified.object.metadata.resourceVersion));
});

test('watch without a resourceVersion starts with the current state', async (t) => {
  const { admin } = await shardForTest(t);
  await admin.request('POST', base, { body: cm('present') });
  const watch = await admin.watch(`${base}?watch=true`);
  t.after(() => watch.close());
  const initial = (await watch.next()) as Ev;
  assert.deepEqual([initial.type, initial.object.metadata.name], ['ADDED', 'present']);
});

test('label-selector watches turn changes of membership into ADDED and DELETED', async (t) => {
  const { admin } = await shardForTest(t);
  const list = await admin.request<{ metadata: { resourceVersion: string } }>('GET', base);
  const watch = await admin.watch(`${base}?watch=1&labelSelector=team%3Dblue&resourceVersion=${list.body.metadata.resourceVersion}`);
  t.after(() => watch.close());
  await admin.request('POST', base, { body: cm('x', {}, { team: 'red' }) });
  await admin.request('PATCH', `${base}/x`, { contentType: 'application/merge-patch+json', body: { metadata: { labels: { team: 'blue' } } } });
  assert.equal(((await watch.next()) as Ev).type, 'ADDED');
  await admin.request('PATCH', `${base}/x`, { contentType: 'application/merge-patch+json', body: { metadata: { labels: { team: 'green' } } } });
  assert.equal(((await watch.next()) as Ev).type, 'DELETED');
});

test('a watch from before the kept history gets 410 Expired', async (t) => {
  const { admin } = await shardForTest(t, { historySize: 3 });
  const first = await admin.request<Obj>('POST', base, { body: cm('old') });
  for (const name of ['n1', 'n2', 'n3', 'n4']) await admin.request('POST', base, { body: cm(name) });
  const watch = await admin.watch(`${base}?watch=1&resourceVersion=${first.body.metadata.resourceVersion}`);
  const event = (await watch.next()) as { type: string; object: { kind: string; code: number; reason: string; message: string } };
  assert.equal(watch.status, 200);
  assert.deepEqual([event.type, event.object.kind, event.object.code, event.object.reason], ['ERROR', 'Status', 410, 'Expired']);
  assert.match(event.object.message, /too old resource version/);
  assert.equal(await watch.next(), undefined, 'the stream ends after the error');

  // A version still inside the history works.
  const recent = await admin.request<{ metadata: { resourceVersion: string } }>('GET', base);
  const ok = await admin.watch(`${base}?watch=1&resourceVersion=${recent.body.metadata.resourceVersion}`);
  t.after(() => ok.close());
  await admin.request('POST', base, { body: cm('n5') });
  assert.equal(((await ok.next()) as Ev).object.metadata.name, 'n5');
});

test('bookmarks, sendInitialEvents and timeoutSeconds', async (t) => {
  const { admin } = await shardForTest(t, { bookmarkIntervalMs: 50 });
  await admin.request('POST', base, { body: cm('seed') });
  const watch = await admin.watch(`${base}?watch=1&allowWatchBookmarks=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan`);
  t.after(() => watch.close());
  assert.equal(((await watch.next()) as Ev).type, 'ADDED');
  const endOfInitial = (await watch.next()) as Ev;
  assert.equal(endOfInitial.type, 'BOOKMARK');
  assert.equal((endOfInitial.object.metadata['annotations'] as Record<string, string>)['k8s.io/initial-events-end'], 'true');
  const periodic = (await watch.next()) as Ev;
  assert.deepEqual([periodic.type, periodic.object.kind], ['BOOKMARK', 'ConfigMap']);
  assert.match(periodic.object.metadata.resourceVersion, /^\d+$/);

  const started = Date.now();
  const timed = await admin.watch(`${base}?watch=1&timeoutSeconds=1&resourceVersion=${periodic.object.metadata.resourceVersion}`);
  assert.equal(await timed.next(3000), undefined, 'the server ends the watch');
  assert.ok(Date.now() - started >= 900);
});

test('closing the shard ends open watches', async (t) => {
  const { shard, admin } = await shardForTest(t);
  const watch = await admin.watch(`${base}?watch=1&resourceVersion=1`);
  await shard.close();
  assert.equal(await watch.next(), undefined);
});

test('lists that need old history (continue tokens, Exact reads) get 410 Expired once it is gone', async (t) => {
  const { admin } = await shardForTest(t, { historySize: 2 });
  for (const name of ['a', 'b', 'c']) await admin.request('POST', base, { body: cm(name) });
  const page = await admin.request<{ metadata: { continue: string; resourceVersion: string } }>('GET', `${base}?limit=1`);
  for (const name of ['d', 'e', 'f']) await admin.request('POST', base, { body: cm(name) });
  const next = await admin.request<{ reason: string; code: number }>('GET', `${base}?limit=1&continue=${page.body.metadata.continue}`);
  assert.deepEqual([next.status, next.body.reason], [410, 'Expired']);
  const exact = await admin.request<{ reason: string }>('GET', `${base}?resourceVersion=${page.body.metadata.resourceVersion}&resourceVersionMatch=Exact`);
  assert.deepEqual([exact.status, exact.body.reason], [410, 'Expired']);
});
