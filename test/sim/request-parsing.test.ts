// Query parameters, content types and path encodings read as kube-apiserver reads them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { queryBool, queryInt } from '../../src/sim/query-params.ts';
import { cm, shardForTest } from './fixture.ts';

test('booleans are false only for 0 or false in any case, and true whenever present otherwise', () => {
  const cases: Array<[string, boolean]> = [
    ['', false],
    ['watch', true],
    ['watch=', true],
    ['watch=true', true],
    ['watch=True', true],
    ['watch=1', true],
    ['watch=yes', true],
    ['watch=false', false],
    ['watch=FALSE', false],
    ['watch=False', false],
    ['watch=0', false],
    ['watch=0&watch=1', false],
    ['watch=1&watch=0', true],
  ];
  for (const [query, expected] of cases) assert.equal(queryBool(new URLSearchParams(query), 'watch'), expected, query);
});

test('integers parse or are a 400', () => {
  assert.equal(queryInt(new URLSearchParams('limit=5'), 'limit'), 5);
  assert.equal(queryInt(new URLSearchParams(''), 'limit'), undefined);
  for (const bad of ['limit=five', 'limit=1.5', 'limit=1e3', 'limit=99999999999999999999']) {
    assert.throws(
      () => queryInt(new URLSearchParams(bad), 'limit'),
      (err: { code?: number }) => err.code === 400,
      bad,
    );
  }
});

test('?watch, ?watch= and watch=True are watches; watch=FALSE and watch=0 are lists', async (t) => {
  const { admin } = await shardForTest(t);
  assert.equal((await admin.request('POST', '/clusters/root/api/v1/namespaces/default/configmaps', { body: cm('one') })).status, 201);
  const base = '/clusters/root/api/v1/namespaces/default/configmaps';
  for (const query of ['watch', 'watch=', 'watch=True', 'watch=yes']) {
    const stream = await admin.watch(`${base}?${query}`);
    const event = await stream.next();
    stream.close();
    assert.deepEqual([event?.type, (event?.object as { metadata?: { name?: string } })?.metadata?.name], ['ADDED', 'one'], query);
  }
  for (const query of ['watch=FALSE', 'watch=0', 'watch=false']) {
    const list = await admin.request<{ kind: string }>('GET', `${base}?${query}`);
    assert.equal(list.body.kind, 'ConfigMapList', query);
  }
  const badLimit = await admin.request<{ kind: string; code: number }>('GET', `${base}?limit=lots`);
  assert.deepEqual([badLimit.status, badLimit.body.kind], [400, 'Status']);
});

test('a create or update body in an unknown content type is a 415 Status; none at all means JSON', async (t) => {
  const { admin } = await shardForTest(t);
  const base = '/clusters/root/api/v1/namespaces/default/configmaps';
  for (const contentType of ['text/plain', 'application/xml', 'application/json-patch+json', 'garbage']) {
    const created = await admin.request<{ kind: string; reason: string }>('POST', base, { body: cm('typed'), contentType });
    assert.deepEqual([created.status, created.body.kind, created.body.reason], [415, 'Status', 'UnsupportedMediaType'], contentType);
  }
  assert.equal((await admin.request('POST', base, { body: cm('typed'), contentType: 'application/json; charset=utf-8' })).status, 201);
  const updated = await admin.request<{ reason: string }>('PUT', `${base}/typed`, { body: cm('typed', { a: 'b' }), contentType: 'text/html' });
  assert.deepEqual([updated.status, updated.body.reason], [415, 'UnsupportedMediaType']);
  const yaml = await admin.request('PUT', `${base}/typed`, { body: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: typed}\ndata: {a: b}\n', contentType: 'application/yaml' });
  assert.equal(yaml.status, 200, yaml.text);
});

test('names and paths with malformed escapes or bytes that are not UTF-8 are a 4xx Status, never a 500', async (t) => {
  const { admin } = await shardForTest(t);
  const base = '/clusters/root/api/v1/namespaces/default/configmaps';
  for (const name of ['%u002e', '%c0%ae', '%ff', '%e2%82', '%zz', '%', 'a%2', '%ed%a0%80']) {
    for (const path of [`${base}/${name}`, `/clusters/${name}/api/v1/configmaps`, `/api/v1/namespaces/${name}/configmaps`]) {
      const got = await admin.request<{ kind: string; code: number }>('GET', path);
      assert.ok(got.status >= 400 && got.status < 500, `${path}: ${got.status} ${got.text}`);
      assert.equal(got.body.kind, 'Status', path);
    }
  }
});
