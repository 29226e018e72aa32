import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { parseRedisUrl } from '../../src/routing/redis-connection.ts';
import { RedisRouteStore } from '../../src/routing/redis-route-store.ts';
import { RouteStoreError } from '../../src/routing/route-store.ts';
import { startRedis, type RedisServer } from '../helpers/redis.ts';

let redis: RedisServer;
let store: RedisRouteStore;
before(async () => {
  redis = await startRedis();
  store = RedisRouteStore.connect(parseRedisUrl(`${redis.url}?prefix=store-test:`));
});
after(async () => {
  await store.close();
  await redis[Symbol.asyncDispose]();
});

const shard = (name: string) => ({ name, url: `https://${name}.example:6443`, state: 'active' as const, labels: { region: 'eu' } });

test('routes to an unknown shard are refused and nothing is written', async () => {
  await store.putShard(shard('a'));
  await assert.rejects(
    store.putRoutes([
      { path: 'root:ok', shard: 'a', cluster: 'c-ok', phase: 'Ready' },
      { path: 'root:bad', shard: 'nope', cluster: 'c-bad', phase: 'Ready' },
    ]),
    (err: unknown) => err instanceof RouteStoreError && err.reason === 'UnknownShard' && /"nope"/.test(err.message),
  );
  assert.equal(await store.getRoute('root:ok'), undefined);
});

test('invalid paths and names are refused before Redis is asked', async () => {
  for (const path of ['org', 'root:', 'root:UPPER', 'root:a::b', 'root:a/b']) {
    await assert.rejects(store.putRoute({ path, shard: 'a', cluster: 'c1', phase: 'Ready' }), { name: 'RouteStoreError', reason: 'Invalid' });
  }
});

test('a route is found by path and by logical cluster, and moves keep the indexes true', async () => {
  await store.putShard(shard('a'));
  await store.putShard(shard('b'));
  const first = await store.putRoute({ path: 'root:org:p1', shard: 'a', cluster: 'c1', phase: 'Ready' });
  assert.deepEqual(await store.getRoute('root:org:p1'), first);
  assert.deepEqual(await store.getRoute('c1'), first);
  // Same content again: no new rev.
  assert.equal((await store.putRoute({ path: 'root:org:p1', shard: 'a', cluster: 'c1', phase: 'Ready' })).rev, first.rev);
  const moved = await store.putRoute({ path: 'root:org:p1', shard: 'b', cluster: 'c2', phase: 'Ready' });
  assert.ok(moved.rev > first.rev);
  assert.equal(await store.getRoute('c1'), undefined);
  assert.equal((await store.getRoute('c2'))?.shard, 'b');
  const counts = await store.countRoutesByShard();
  assert.equal(counts.a ?? 0, (await collect(store.listRoutes({ shard: 'a' }))).length);
  assert.equal(counts.b, (await collect(store.listRoutes({ shard: 'b' }))).length);
  assert.equal(await store.deleteRoute('root:org:p1'), true);
  assert.equal(await store.deleteRoute('root:org:p1'), false);
  assert.equal(await store.getRoute('c2'), undefined);
});

test('a shard holding workspaces is only removed when forced', async () => {
  await store.putShard(shard('busy'));
  await store.putRoute({ path: 'root:busy-ws', shard: 'busy', cluster: 'busy1', phase: 'Ready' });
  await assert.rejects(store.removeShard('busy'), { name: 'RouteStoreError', reason: 'ShardNotEmpty' });
  assert.ok(await store.getShard('busy'));
  assert.equal(await store.removeShard('busy', { force: true }), true);
  assert.equal(await store.getShard('busy'), undefined);
  assert.equal(await store.removeShard('busy'), false);
});

test('shard state changes keep the rest of the record', async () => {
  await store.putShard({ ...shard('s'), ca: '-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n' });
  const cordoned = await store.setShardState('s', 'cordoned');
  assert.deepEqual(cordoned, { ...shard('s'), ca: '-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n', state: 'cordoned' });
  await assert.rejects(store.setShardState('missing', 'active'), { reason: 'NotFound' });
});

test('listing under a path matches whole segments only', async () => {
  await store.putShard(shard('a'));
  await store.putRoutes([
    { path: 'root:acme', shard: 'a', cluster: 'l1', phase: 'Ready' },
    { path: 'root:acme:web', shard: 'a', cluster: 'l2', phase: 'Ready' },
    { path: 'root:acme-two', shard: 'a', cluster: 'l3', phase: 'Ready' },
  ]);
  const paths = (await collect(store.listRoutes({ under: 'root:acme' }))).map((r) => r.path).sort();
  assert.deepEqual(paths, ['root:acme', 'root:acme:web']);
});

test('URLs of every connection mode parse', () => {
  assert.deepEqual(parseRedisUrl('redis://127.0.0.1:7000/2'), { mode: 'standalone', nodes: [{ host: '127.0.0.1', port: 7000 }], keyPrefix: 'kcp-edge:', db: 2 });
  assert.deepEqual(parseRedisUrl('redis+sentinel://u:p%40ss@s1:26379,s2/primary?prefix=x:'), {
    mode: 'sentinel',
    nodes: [
      { host: 's1', port: 26379 },
      { host: 's2', port: 6379 },
    ],
    keyPrefix: 'x:',
    username: 'u',
    password: 'p@ss',
    masterName: 'primary',
  });
  assert.deepEqual(parseRedisUrl('rediss+cluster://n1:7000,n2:7001'), {
    mode: 'cluster',
    nodes: [
      { host: 'n1', port: 7000 },
      { host: 'n2', port: 7001 },
    ],
    keyPrefix: 'kcp-edge:',
    tls: {},
  });
  assert.throws(() => parseRedisUrl('http://x'), /invalid Redis URL/);
  assert.throws(() => parseRedisUrl('redis+sentinel://s1:26379'), /master name/);
});

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}
