// Clients that reset their watch while an earlier stage still waits on I/O (here: a cold route lookup
// on a Redis that stopped answering) must leave nothing behind: no request reaches the shard, none is
// held in the gateway's upstream pool. Before the fix every such watch was forwarded once Redis
// answered, and held open at the shard for good.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { parseRedisUrl } from '../../src/routing/redis-connection.ts';
import { RedisRouteStore } from '../../src/routing/redis-route-store.ts';
import { RedisRoutingTable } from '../../src/routing/redis-routing-table.ts';
import { get, startTestGateway, testPki } from '../gateway/fixtures.ts';
import { startRedis } from '../helpers/redis.ts';
import { waitFor } from '../helpers/wait.ts';
import { sample } from '../helpers/metrics.ts';
import { openHttp1, openHttp2, openHttp2Watch, resetHttp1, resetHttp2 } from './clients.ts';
import { startWatchShard } from '../helpers/watch-shard.ts';

const h1Clients = 40;
const h2Sessions = 4;
const streamsPerSession = 15;

test('watches reset during a cold route lookup are never forwarded', async (t) => {
  const pki = await testPki();
  const shard = await startWatchShard(t, pki);
  const redis = await startRedis();
  t.after(() => redis[Symbol.asyncDispose]());
  const config = parseRedisUrl(redis.url);
  const store = RedisRouteStore.connect(config);
  t.after(() => store.close());
  await store.putShard({ name: 'shard-a', url: shard.url, state: 'active', labels: {} });
  await store.putRoute({ path: 'root:org-acme:cold', shard: 'shard-a', cluster: 'cold1', phase: 'Ready' });
  await store.putRoute({ path: 'root:org-acme:probe', shard: 'shard-a', cluster: 'probe1', phase: 'Ready' });
  // Long command timeout: the lookups must wait for Redis, not give up with a 503.
  const routing = new RedisRoutingTable({ redis: { ...config, commandTimeoutMs: 30_000 } });
  t.after(() => routing.close());
  await routing.waitUntilSynced();
  const gateway = await startTestGateway(t, pki, routing);
  const target = { port: gateway.port, caPem: pki.ca.certPem };

  const admin = new Redis(redis.port, '127.0.0.1', { maxRetriesPerRequest: 0 });
  admin.on('error', () => undefined);
  t.after(() => admin.disconnect());
  const pid = Number(/process_id:(\d+)/.exec(await admin.info('server'))![1]);

  const h1 = await Promise.all(Array.from({ length: h1Clients }, () => openHttp1(target)));
  const h2 = await Promise.all(Array.from({ length: h2Sessions }, () => openHttp2(target)));
  t.after(() => h2.forEach((s) => s.destroy()));

  process.kill(pid, 'SIGSTOP');
  let resumed = false;
  t.after(() => {
    if (!resumed) process.kill(pid, 'SIGCONT');
  });
  const path = (i: number) => `/clusters/root:org-acme:cold/api/v1/namespaces/default/configmaps?watch=1&reset=${i}`;
  await Promise.all([
    ...h1.map((socket, i) => resetHttp1(socket, path(i), 'alice-token')),
    ...h2.flatMap((session, s) => Array.from({ length: streamsPerSession }, (_, j) => resetHttp2(session, path(1000 + s * streamsPerSession + j), 'alice-token'))),
  ]);
  const resets = h1Clients + h2Sessions * streamsPerSession;
  // The gateway has seen every client go (499 in its request count) while the lookups still wait.
  await waitFor(async () => sample((await get(gateway, pki, '/metrics')).body, 'kcp_edge_requests_total', { code: '499' }) === resets, {
    what: `${resets} client resets seen by the gateway`,
  });
  process.kill(pid, 'SIGCONT');
  resumed = true;

  // Redis answers in order: once a later cold lookup has been served and its watch is open, every
  // reset request's lookup has been answered too and its fate decided.
  const probe = await openHttp2Watch(h2[0]!, '/clusters/root:org-acme:probe/api/v1/namespaces/default/configmaps?watch=1', 'alice-token');
  assert.equal(probe.headers[':status'], 200);
  const upstream = async () => sample((await get(gateway, pki, '/metrics')).body, 'kcp_edge_upstream_requests');
  await waitFor(async () => shard.open === 1 && (await upstream()) === 1, { timeoutMs: 5_000, what: 'only the probe open at the shard and in the pool' });
  assert.deepEqual(shard.paths.filter((p) => p.includes('reset=')), [], 'no reset request reached the shard');

  probe.stream.close();
  await waitFor(async () => shard.open === 0 && (await upstream()) === 0, { timeoutMs: 5_000, what: 'nothing open at the shard or in the pool' });
});
