// End to end: two gateway replicas in front of two HTTPS shards, sharing one real Redis routing table.
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { parseRedisUrl } from '../../src/routing/redis-connection.ts';
import { RedisRouteStore } from '../../src/routing/redis-route-store.ts';
import { RedisRoutingTable } from '../../src/routing/redis-routing-table.ts';
import { ShardHealthChecker } from '../../src/routing/shard-health.ts';
import { get, startTestGateway, startTestShard, testPki, type Pki, type TestShard } from '../gateway/fixtures.ts';
import { startRedis, type RedisServer } from '../helpers/redis.ts';
import { waitFor } from '../helpers/wait.ts';
import type { TestContext } from 'node:test';
import type { Gateway } from '../../src/gateway/server.ts';

let redis: RedisServer;
let store: RedisRouteStore;
let pki: Pki;
before(async () => {
  [redis, pki] = await Promise.all([startRedis(), testPki()]);
  store = RedisRouteStore.connect(parseRedisUrl(redis.url));
  // The first seed must not be queued behind the store's first connection: on a loaded machine that
  // connection may need more than one attempt, and ioredis fails queued commands after the second
  // (maxRetriesPerRequest), as it does after the outage below.
  await waitFor(() => store.client.status === 'ready', { what: "the test store's first connection" });
});
after(async () => {
  await store.close();
  await redis[Symbol.asyncDispose]();
});

async function replica(t: TestContext): Promise<{ gateway: Gateway; table: RedisRoutingTable; health: ShardHealthChecker }> {
  const table = new RedisRoutingTable({ redis: parseRedisUrl(redis.url) });
  t.after(() => table.close());
  await table.waitUntilSynced();
  const health = new ShardHealthChecker({
    shards: table,
    clientCertPem: pki.gatewayClient.certPem,
    clientKeyPem: pki.gatewayClient.keyPem,
    caPem: pki.ca.certPem,
    intervalMs: 100,
    downIntervalMs: 50,
  });
  health.start();
  t.after(() => health.stop());
  const gateway = await startTestGateway(t, pki, table, { health });
  return { gateway, table, health };
}

const workspace = (path: string) => `/clusters/${path}/api/v1/namespaces`;

async function seed(a: TestShard, b: TestShard): Promise<void> {
  await store.putShard({ name: 'shard-a', url: a.url, state: 'active', labels: {} });
  await store.putShard({ name: 'shard-b', url: b.url, state: 'active', labels: {} });
  await store.putRoutes([
    { path: 'root:org:web', shard: 'shard-a', cluster: 'webcluster', phase: 'Ready' },
    { path: 'root:org:api', shard: 'shard-b', cluster: 'apicluster', phase: 'Ready' },
  ]);
}

test('replicas share changes, survive a Redis outage and recover without a restart', async (t) => {
  const a = await startTestShard(t, pki);
  const b = await startTestShard(t, pki);
  await seed(a, b);
  const one = await replica(t);
  const two = await replica(t);

  for (const r of [one, two]) {
    const reply = await get(r.gateway, pki, workspace('org:web'));
    assert.equal(reply.status, 200, reply.body);
  }
  assert.equal(a.seen.filter((s) => s.url === '/clusters/webcluster/api/v1/namespaces').length, 2);

  // A move written once is honoured by the other replica within 100 ms.
  await store.putRoute({ path: 'root:org:web', shard: 'shard-b', cluster: 'webcluster2', phase: 'Ready' });
  await waitFor(async () => (await two.table.resolve('root:org:web'))?.shard.name === 'shard-b', { timeoutMs: 100, intervalMs: 2, what: 'move on replica two' });
  assert.equal((await get(two.gateway, pki, workspace('org:web'))).status, 200);
  assert.ok(b.seen.some((s) => s.url === '/clusters/webcluster2/api/v1/namespaces'));

  // Redis dies: warm workspaces keep working, a cold one fails cleanly with 503 + Retry-After.
  assert.equal((await get(one.gateway, pki, workspace('org:web'))).status, 200);
  await redis.stop();
  let down = true;
  t.after(async () => {
    if (down) await redis.start();
  });
  assert.equal((await get(one.gateway, pki, workspace('org:web'))).status, 200);
  const cold = await get(one.gateway, pki, workspace('org:api'));
  assert.equal(cold.status, 503);
  assert.equal(cold.headers['retry-after'], '2');
  assert.equal(JSON.parse(cold.body).reason, 'ServiceUnavailable');
  assert.equal((await get(one.gateway, pki, '/readyz', { token: null })).status, 200, 'a warm replica stays ready');

  // Redis returns (empty, as after losing its data): the gateways pick it up without a restart.
  await redis.start();
  down = false;
  // The store's own connection is back first: a command sent while it still reconnects may be refused
  // (ioredis gives up on queued commands after maxRetriesPerRequest failed attempts).
  await waitFor(() => store.client.status === 'ready', { what: "the test store's connection to be back" });
  await seed(a, b);
  await waitFor(async () => (await get(one.gateway, pki, workspace('org:api'))).status === 200, { what: 'cold lookups after Redis returns' });
  // Warm entries outlive the loss only until the table is whole again: then the re-seeded route (back
  // on shard-a) is used, not the cached move.
  await waitFor(
    async () => (await get(two.gateway, pki, workspace('org:web'))).status === 200 && a.seen.filter((s) => s.url === '/clusters/webcluster/api/v1/namespaces').length === 3,
    { what: 'fresh route on two' },
  );
});

test('a stopped shard fails fast with 503 while the other keeps serving, and comes back', async (t) => {
  const a = await startTestShard(t, pki);
  const b = await startTestShard(t, pki);
  await seed(a, b);
  const one = await replica(t);
  assert.equal((await get(one.gateway, pki, workspace('org:web'))).status, 200);

  const port = (a.server.address() as AddressInfo).port;
  a.cutConnections();
  await new Promise((resolve) => a.server.close(resolve));
  await waitFor(() => !one.health.isAvailable('shard-a'), { what: 'shard-a marked down' });
  const started = Date.now();
  const failed = await get(one.gateway, pki, workspace('org:web'));
  assert.equal(failed.status, 503);
  // No Retry-After: client-go would retry the call up to ten times instead of failing fast.
  assert.equal(failed.headers['retry-after'], undefined);
  assert.ok(Date.now() - started < 1000, 'fails fast');
  assert.equal((await get(one.gateway, pki, workspace('org:api'))).status, 200);

  a.server.listen(port, '127.0.0.1');
  await waitFor(() => one.health.isAvailable('shard-a'), { what: 'shard-a back' });
  assert.equal((await get(one.gateway, pki, workspace('org:web'))).status, 200);
});
