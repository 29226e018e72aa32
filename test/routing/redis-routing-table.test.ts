import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { isGatewayError } from '../../src/kube/gateway-error.ts';
import { registerRoutingMetrics } from '../../src/routing/metrics.ts';
import { parseRedisUrl, type RedisConnectionConfig } from '../../src/routing/redis-connection.ts';
import { RedisRouteStore } from '../../src/routing/redis-route-store.ts';
import { RedisRoutingTable, type RedisRoutingTableOptions } from '../../src/routing/redis-routing-table.ts';
import { startRedis, type RedisServer } from '../helpers/redis.ts';
import { waitFor } from '../helpers/wait.ts';

let redis: RedisServer;
let config: RedisConnectionConfig;
let store: RedisRouteStore;
let admin: Redis;

before(async () => {
  redis = await startRedis();
  config = parseRedisUrl(redis.url);
  store = RedisRouteStore.connect(config);
  admin = new Redis(redis.port, '127.0.0.1', { maxRetriesPerRequest: 0 });
  admin.on('error', () => {});
  await seed();
});
after(async () => {
  await store.close();
  admin.disconnect();
  await redis[Symbol.asyncDispose]();
});

async function seed(): Promise<void> {
  await store.putShard({ name: 'alpha', url: 'https://alpha.example:6443', state: 'active', labels: {} });
  await store.putShard({ name: 'beta', url: 'https://beta.example:6443', state: 'active', labels: {} });
}

async function openTable(t: { after(fn: () => Promise<void>): void }, options: Partial<RedisRoutingTableOptions> = {}): Promise<RedisRoutingTable> {
  const table = new RedisRoutingTable({ redis: config, ...options });
  t.after(() => table.close());
  await table.waitUntilSynced();
  return table;
}

/** Times Redis ran a command (any EVALSHA/EVAL: lookups are one script call). */
async function scriptCalls(): Promise<number> {
  const info = await admin.info('commandstats');
  let calls = 0;
  for (const m of info.matchAll(/cmdstat_(?:evalsha|eval):calls=(\d+)/g)) calls += Number(m[1]);
  return calls;
}

test('a route set through the store reaches another replica within 100 ms', async (t) => {
  const a = await openTable(t);
  const b = await openTable(t);
  await store.putRoute({ path: 'root:org:web', shard: 'alpha', cluster: 'web1', phase: 'Ready' });
  assert.equal((await a.resolve('root:org:web'))?.shard.name, 'alpha');
  assert.equal((await b.resolve('root:org:web'))?.shard.name, 'alpha');
  assert.equal((await b.resolve('web1'))?.route.path, 'root:org:web');

  await store.putRoute({ path: 'root:org:web', shard: 'beta', cluster: 'web2', phase: 'Moving' });
  await waitFor(async () => (await b.resolve('root:org:web'))?.shard.name === 'beta', { timeoutMs: 100, intervalMs: 2, what: 'route change on b' });
  await waitFor(async () => (await a.resolve('root:org:web'))?.route.phase === 'Moving', { timeoutMs: 100, intervalMs: 2, what: 'route change on a' });
  // The old logical cluster no longer resolves, the new one does.
  assert.equal(await b.resolve('web1'), undefined);
  assert.equal((await b.resolve('web2'))?.route.path, 'root:org:web');

  await store.deleteRoute('root:org:web');
  await waitFor(async () => (await a.resolve('root:org:web')) === undefined, { timeoutMs: 100, intervalMs: 2, what: 'deletion on a' });
});

test('shard state changes reach cached resolutions', async (t) => {
  const a = await openTable(t);
  await store.putRoute({ path: 'root:cordon-me', shard: 'alpha', cluster: 'cm1', phase: 'Ready' });
  assert.equal((await a.resolve('root:cordon-me'))?.shard.state, 'active');
  await store.setShardState('alpha', 'cordoned');
  t.after(() => store.setShardState('alpha', 'active').then(() => undefined));
  await waitFor(async () => (await a.resolve('root:cordon-me'))?.shard.state === 'cordoned', { timeoutMs: 100, intervalMs: 2, what: 'shard state' });
  assert.equal((await a.getShard('alpha'))?.state, 'cordoned');
});

test('warm lookups never reach Redis, concurrent cold ones share one call, unknown ones are cached briefly', async (t) => {
  const registry = new Registry();
  const metrics = registerRoutingMetrics(registry);
  const table = await openTable(t, { metrics });
  await store.putRoute({ path: 'root:hot', shard: 'alpha', cluster: 'hot1', phase: 'Ready' });
  await store.getRoute('root:hot'); // loads the script, so the count below is of EVALSHA only

  const before = await scriptCalls();
  const results = await Promise.all(Array.from({ length: 50 }, () => table.resolve('root:hot')));
  assert.ok(results.every((r) => r?.route.cluster === 'hot1'));
  const afterCold = await scriptCalls();
  assert.equal(afterCold - before, 1);

  for (let i = 0; i < 1000; i++) await table.resolve('root:hot');
  assert.equal(await scriptCalls(), afterCold);

  assert.equal(await table.resolve('root:nobody'), undefined);
  assert.equal(await table.resolve('root:nobody'), undefined);
  assert.equal(await scriptCalls(), afterCold + 1);
  // The negative entry is dropped by the change message, not kept until it expires.
  await store.putRoute({ path: 'root:nobody', shard: 'beta', cluster: 'nb1', phase: 'Ready' });
  await waitFor(async () => (await table.resolve('root:nobody'))?.shard.name === 'beta', { timeoutMs: 100, intervalMs: 2, what: 'negative entry dropped' });

  const text = await registry.metrics();
  assert.match(text, /kcp_edge_routing_cache_hits_total 1\d{3}/);
  assert.match(text, /kcp_edge_routing_cache_misses_total \d+/);
  assert.match(text, /kcp_edge_routing_changes_total [1-9]/);
  assert.match(text, /kcp_edge_routing_seconds_since_last_sync 0\b/);
});

test('negative entries expire on their own', async (t) => {
  const table = await openTable(t, { negativeTtlMs: 50 });
  assert.equal(await table.resolve('root:late'), undefined);
  // Written behind the table's back (no message), as a writer from an older version might.
  await admin.hset(store.keys.routes, 'root:late', JSON.stringify({ shard: 'alpha', cluster: 'late1', phase: 'Ready', rev: 1 }));
  await waitFor(async () => (await table.resolve('root:late'))?.shard.name === 'alpha', { what: 'negative entry expiry' });
});

test('a Redis outage keeps warm routes, fails cold ones with 503, and recovers by itself, also from an empty restart', async (t) => {
  const registry = new Registry();
  const metrics = registerRoutingMetrics(registry);
  const table = await openTable(t, { metrics, retryAfterSeconds: 3 });
  await store.putRoute({ path: 'root:warm', shard: 'alpha', cluster: 'warm1', phase: 'Ready' });
  assert.equal((await table.resolve('root:warm'))?.shard.name, 'alpha');

  await redis.stop();
  let down = true;
  t.after(async () => {
    // Leave a running server to the tests after this one, even if this one failed.
    if (down) {
      await redis.start();
      await seed();
    }
  });

  assert.equal((await table.resolve('root:warm'))?.shard.name, 'alpha');
  await assert.rejects(table.resolve('root:cold'), (err: unknown) => {
    assert.ok(isGatewayError(err));
    assert.equal(err.code, 'ROUTING_UNAVAILABLE');
    assert.equal(err.httpStatus, 503);
    assert.equal(err.retryAfterSeconds, 3);
    return true;
  });
  assert.equal(table.ready(), true, 'a warm cache keeps the replica ready');
  await waitFor(() => table.secondsSinceSync() > 0.05, { what: 'sync age to grow' });
  assert.match(await registry.metrics(), /kcp_edge_routing_redis_errors_total [1-9]/);

  // A replica started during the outage has nothing to serve from: not ready.
  const cold = new RedisRoutingTable({ redis: config });
  t.after(() => cold.close());
  assert.equal(cold.ready(), false);

  // Redis comes back empty (it lost its data): the warm entry keeps serving while the table is rebuilt,
  // an unknown workspace gets 503 (the empty table cannot say it does not exist), the replica is unready.
  await redis.start();
  down = false;
  await waitFor(() => table.rebuilding, { what: 'the loss to be noticed' });
  assert.equal((await table.resolve('root:warm'))?.shard.name, 'alpha');
  await assert.rejects(table.resolve('root:cold'), (err: unknown) => isGatewayError(err) && err.code === 'ROUTING_UNAVAILABLE');
  assert.equal(table.ready(), false, 'a lost table is not ready, warm or not');
  assert.match(await registry.metrics(), /kcp_edge_routing_table_complete 0\b/);
  // Kept by hand (no indexer, no generation marker): the table counts as whole once it holds anything.
  await seed();
  await store.putRoute({ path: 'root:warm', shard: 'beta', cluster: 'warm2', phase: 'Ready' });
  await waitFor(async () => (await table.resolve('root:warm'))?.shard.name === 'beta', { what: 'recovered lookups' });
  // The subscriber reconnects on its own connection, a moment after the command connection.
  await waitFor(() => table.secondsSinceSync() === 0, { what: 'the change subscription to be back' });
  await waitFor(() => table.ready(), { what: 'ready again' });
  assert.match(await registry.metrics(), /kcp_edge_routing_table_complete 1\b/);
  assert.equal(await table.resolve('root:cold'), undefined);
  await cold.waitUntilSynced();
  assert.equal(cold.ready(), true);
});

test('the key prefix separates tables sharing one Redis', async (t) => {
  const other: RedisConnectionConfig = { ...config, keyPrefix: 'other:' };
  const otherStore = RedisRouteStore.connect(other);
  t.after(() => otherStore.close());
  await otherStore.putShard({ name: 'gamma', url: 'https://gamma.example', state: 'active', labels: {} });
  await otherStore.putRoute({ path: 'root:only-other', shard: 'gamma', cluster: 'oo1', phase: 'Ready' });
  const mine = await openTable(t);
  const theirs = await openTable(t, { redis: other });
  assert.equal(await mine.resolve('root:only-other'), undefined);
  assert.equal((await theirs.resolve('root:only-other'))?.shard.name, 'gamma');
  assert.deepEqual((await mine.listShards()).map((s) => s.name).sort(), ['alpha', 'beta']);
});
