import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cm, shardForTest, type Obj } from './fixture.ts';

const base = '/clusters/root/api/v1/namespaces/default/configmaps';
const apply = (fieldManager: string, force = false) => `${base}/app?fieldManager=${fieldManager}${force ? '&force=true' : ''}`;
const yaml = 'application/apply-patch+yaml';

test('server-side apply creates, owns fields, removes dropped fields, and conflicts across managers', async (t) => {
  const { admin } = await shardForTest(t);
  const created = await admin.request<Obj>('PATCH', apply('alice'), { contentType: yaml, body: cm('app', { a: '1', b: '2' }) });
  assert.equal(created.status, 201);
  const managed = created.body.metadata['managedFields'] as Array<{ manager: string; operation: string; fieldsV1: Record<string, unknown> }>;
  assert.deepEqual(
    managed.map((m) => [m.manager, m.operation]),
    [['alice', 'Apply']],
  );
  assert.deepEqual(managed[0]?.fieldsV1, { 'f:data': { 'f:a': {}, 'f:b': {} } });

  // alice stops applying b: it goes away.
  const dropped = await admin.request<Obj>('PATCH', apply('alice'), { contentType: yaml, body: cm('app', { a: '1' }) });
  assert.deepEqual(dropped.body['data'], { a: '1' });

  // bob wants a different value for a field alice owns: conflict, then force takes it over.
  const conflict = await admin.request<{ reason: string; message: string; details: { causes: Array<{ reason: string; field: string }> } }>('PATCH', apply('bob'), {
    contentType: yaml,
    body: cm('app', { a: '9' }),
  });
  assert.equal(conflict.status, 409);
  assert.equal(conflict.body.reason, 'Conflict');
  assert.match(conflict.body.message, /conflict with "alice"/);
  assert.deepEqual(
    conflict.body.details.causes.map((c) => [c.reason, c.field]),
    [['FieldManagerConflict', '.data.a']],
  );

  const forced = await admin.request<Obj>('PATCH', apply('bob', true), { contentType: yaml, body: cm('app', { a: '9' }) });
  assert.deepEqual(forced.body['data'], { a: '9' });
  const owners = (forced.body.metadata['managedFields'] as Array<{ manager: string }>).map((m) => m.manager);
  assert.deepEqual(owners, ['bob'], 'alice lost her only field');

  // Same value = shared ownership, no conflict.
  const shared = await admin.request<Obj>('PATCH', apply('carol'), { contentType: yaml, body: cm('app', { a: '9', c: '3' }) });
  assert.equal(shared.status, 200);
  assert.deepEqual(shared.body['data'], { a: '9', c: '3' });

  const noManager = await admin.request('PATCH', `${base}/app`, { contentType: yaml, body: cm('app') });
  assert.equal(noManager.status, 422, 'apply requires fieldManager');
});

test('a plain update takes ownership of what it changed', async (t) => {
  const { admin } = await shardForTest(t);
  await admin.request('PATCH', apply('alice'), { contentType: yaml, body: cm('app', { a: '1' }) });
  await admin.request('PATCH', `${base}/app?fieldManager=editor`, { contentType: 'application/merge-patch+json', body: { data: { a: '2' } } });
  const conflict = await admin.request<{ message: string }>('PATCH', apply('alice'), { contentType: yaml, body: cm('app', { a: '3' }) });
  assert.equal(conflict.status, 409);
  assert.match(conflict.body.message, /conflict with "editor"/);
});
