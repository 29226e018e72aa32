// Clients that reset their watch while an earlier stage still waits on I/O — a cold route lookup on a
// Redis that stopped answering, the first use of a token whose realm's JWKS is slow — must leave
// nothing behind: no request reaches the shard, none is held in the gateway's upstream pool. Before
// the fix every such watch was forwarded once the I/O returned, and held open at the shard for good.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { Redis } from 'ioredis';
import { DEFAULT_ORG_REALMS_SETTINGS } from '../../src/auth/realm-settings.ts';
import type { Gateway } from '../../src/gateway/server.ts';
import { parseRedisUrl } from '../../src/routing/redis-connection.ts';
import { RedisRouteStore } from '../../src/routing/redis-route-store.ts';
import { RedisRoutingTable } from '../../src/routing/redis-routing-table.ts';
import { newAuthenticator, startIssuerFixture } from '../auth/fixtures.ts';
import { StaticRoutingTable, startTestGateway, testPki, type Pki } from '../gateway/fixtures.ts';
import { sample } from '../helpers/metrics.ts';
import { startRedis } from '../helpers/redis.ts';
import { startWatchShard, type WatchShard } from '../helpers/watch-shard.ts';
import { waitFor } from '../helpers/wait.ts';
import { openHttp1, openHttp2, openHttp2Watch, resetHttp1, resetHttp2 } from './clients.ts';

const h1Clients = 40;
const h2Sessions = 4;
const streamsPerSession = 15;

interface Scenario {
  pki: Pki;
  shard: WatchShard;
  gateway: Gateway;
  token: string;
  /** Where the watches go that clients reset while the stage waits. */
  resetPath: (i: number) => string;
  /** A watch asked for after the stall ends, queued behind the stalled I/O, that the client keeps. */
  probePath: string;
  /** Makes the stage's I/O wait; returns what ends the stall. */
  stall(): Promise<() => Promise<void>>;
}

async function resetWhileStalled(t: TestContext, s: Scenario): Promise<void> {
  const { pki, shard, gateway } = s;
  const target = { port: gateway.port, caPem: pki.ca.certPem };
  const h1 = await Promise.all(Array.from({ length: h1Clients }, () => openHttp1(target)));
  const h2 = await Promise.all(Array.from({ length: h2Sessions }, () => openHttp2(target)));
  t.after(() => h2.forEach((session) => session.destroy()));

  const resume = await s.stall();
  await Promise.all([
    ...h1.map((socket, i) => resetHttp1(socket, s.resetPath(i), s.token)),
    ...h2.flatMap((session, n) => Array.from({ length: streamsPerSession }, (_, j) => resetHttp2(session, s.resetPath(1000 + n * streamsPerSession + j), s.token))),
  ]);
  const resets = h1Clients + h2Sessions * streamsPerSession;
  // The gateway has seen every client go (499 in its request count) while the stage still waits.
  await waitFor(async () => sample(await gateway.metrics.metrics(), 'kcp_edge_requests_total', { code: '499' }) === resets, {
    what: `${resets} client resets seen by the gateway`,
  });
  await resume();

  // The probe's I/O is answered after the stalled one: once its watch is open, every reset request's
  // stage has been answered too and its fate decided.
  const probe = await openHttp2Watch(h2[0]!, s.probePath, s.token);
  assert.equal(probe.headers[':status'], 200);
  const upstream = async () => sample(await gateway.metrics.metrics(), 'kcp_edge_upstream_requests');
  await waitFor(async () => shard.open === 1 && (await upstream()) === 1, { timeoutMs: 5_000, what: 'only the probe open at the shard and in the pool' });
  assert.deepEqual(
    shard.paths.filter((p) => p.includes('reset=')),
    [],
    'no reset request reached the shard',
  );

  probe.stream.close();
  await waitFor(async () => shard.open === 0 && (await upstream()) === 0, { timeoutMs: 5_000, what: 'nothing open at the shard or in the pool' });
}

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
  const admin = new Redis(redis.port, '127.0.0.1', { maxRetriesPerRequest: 0 });
  admin.on('error', () => undefined);
  t.after(() => admin.disconnect());
  const pid = Number(/process_id:(\d+)/.exec(await admin.info('server'))![1]);

  await resetWhileStalled(t, {
    pki,
    shard,
    gateway,
    token: 'alice-token',
    resetPath: (i) => `/clusters/root:org-acme:cold/api/v1/namespaces/default/configmaps?watch=1&reset=${i}`,
    probePath: '/clusters/root:org-acme:probe/api/v1/namespaces/default/configmaps?watch=1',
    async stall() {
      process.kill(pid, 'SIGSTOP');
      let resumed = false;
      t.after(() => {
        if (!resumed) process.kill(pid, 'SIGCONT');
      });
      return async () => {
        process.kill(pid, 'SIGCONT');
        resumed = true;
      };
    },
  });
});

test('watches reset during the first use of a token (slow JWKS) are never forwarded', async (t) => {
  const pki = await testPki();
  const shard = await startWatchShard(t, pki);
  const { issuer, settings } = await startIssuerFixture(t, ['org-acme']);
  // Long JWKS timeout: the validations must wait for the realm, not give up with a 401.
  const { authenticator } = newAuthenticator(t, settings({ jwks: { ...DEFAULT_ORG_REALMS_SETTINGS.jwks, timeoutMs: 30_000 } }));
  const routing = new StaticRoutingTable().addShard('shard-a', shard.url).addRoute('root:org-acme:web', 'shard-a', 'web1');
  const gateway = await startTestGateway(t, pki, routing, { authenticators: [authenticator] });

  await resetWhileStalled(t, {
    pki,
    shard,
    gateway,
    token: await issuer.mint('org-acme'),
    resetPath: (i) => `/clusters/org-acme:web/api/v1/namespaces/default/configmaps?watch=1&reset=${i}`,
    probePath: '/clusters/org-acme:web/api/v1/namespaces/default/configmaps?watch=1',
    async stall() {
      const release = issuer.holdJwks('org-acme');
      t.after(release);
      return async () => {
        // The gateway is waiting on the JWKS fetch, not still on discovery or not yet asking.
        await waitFor(() => issuer.requestCounts('org-acme').jwks >= 1, { what: 'the JWKS fetch under way' });
        release();
      };
    },
  });
});
