import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { registerRateLimitMetrics } from '../../src/ratelimit/metrics.ts';
import { parsePolicy } from '../../src/ratelimit/policy.ts';
import { staticPolicy } from '../../src/ratelimit/policy-source.ts';
import { RedisLimiter } from '../../src/ratelimit/redis-limiter.ts';
import { startRedis, type RedisServer } from '../helpers/redis.ts';
import { waitFor } from '../helpers/wait.ts';
import { req, tenantPolicy, user, ws } from './fixtures.ts';

const paged = req('GET', '/api/v1/namespaces/default/configmaps?limit=10');
const watch = req('GET', '/api/v1/configmaps?watch=1');

async function redisFor(t: TestContext): Promise<RedisServer> {
  const server = await startRedis();
  t.after(() => server[Symbol.asyncDispose]());
  return server;
}

async function limiterOn(t: TestContext, server: RedisServer, policyText: string, extra: { registry?: Registry; prefix?: string; leaseMs?: number } = {}): Promise<RedisLimiter> {
  const l = new RedisLimiter({
    policy: staticPolicy(await parsePolicy(policyText)),
    redis: server.url,
    prefix: extra.prefix ?? 'test:',
    leaseMs: extra.leaseMs ?? 1000,
    heartbeatMs: 150,
    metrics: extra.registry === undefined ? undefined : registerRateLimitMetrics(extra.registry),
  });
  t.after(() => l.close());
  await l.ready();
  assert.equal(l.mode, 'shared');
  return l;
}

function client(t: TestContext, server: RedisServer): Redis {
  const r = new Redis(server.url, { lazyConnect: false });
  t.after(() => r.disconnect());
  return r;
}

test('two replicas on one Redis share one burst exactly', async (t) => {
  const server = await redisFor(t);
  const policy = tenantPolicy.replace('rate: 2, burst: 5', 'rate: 0.001, burst: 20');
  const [a, b] = [await limiterOn(t, server, policy), await limiterOn(t, server, policy)];
  let admitted = 0;
  for (let i = 0; i < 40; i++) {
    const d = await (i % 2 === 0 ? a : b).admit(user(`u${i}`), paged, ws('org-acme:p'));
    if (d.allowed) admitted++;
    d.release();
  }
  assert.equal(admitted, 20);
});

test('two replicas hammering one flow together admit burst + rate × time, within 10 %', async (t) => {
  const server = await redisFor(t);
  // A burst of one second's worth keeps the result independent of scheduling hiccups on a loaded box:
  // a replica stalled for less than a second loses nothing, so the total measures the limiter alone.
  const policy = tenantPolicy.replace('rate: 2, burst: 5, maxOpenWatches: 2, maxInFlight: 3', 'rate: 40, burst: 40');
  const replicas = [await limiterOn(t, server, policy), await limiterOn(t, server, policy)];
  const perReplica = [0, 0];
  const started = performance.now();
  const durationMs = 2000;
  await Promise.all(
    replicas.map(async (l, i) => {
      while (performance.now() - started < durationMs) {
        const d = await l.admit(user('alice'), paged, ws('org-acme:p'));
        if (d.allowed) perReplica[i]!++;
        d.release();
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  const expected = 40 + 40 * elapsed;
  const total = perReplica[0]! + perReplica[1]!;
  t.diagnostic(`admitted ${total} (${perReplica.join(' + ')}), expected ${expected.toFixed(1)}`);
  assert.ok(Math.abs(total - expected) <= expected * 0.1, `admitted ${total}, expected ${expected.toFixed(0)} ± 10 %`);
  assert.ok(
    perReplica.every((n) => n > 0),
    `both replicas admitted some: ${perReplica.join(', ')}`,
  );
});

test('a noisy org is limited on every replica while another org keeps its full share', async (t) => {
  const server = await redisFor(t);
  // A near-zero refill rate makes the count exact however slowly a loaded machine runs the loop.
  const policy = tenantPolicy.replace('rate: 2, burst: 5', 'rate: 0.001, burst: 5');
  const [a, b] = [await limiterOn(t, server, policy), await limiterOn(t, server, policy)];
  let noisy = 0;
  for (let i = 0; i < 30; i++) {
    const d = await (i % 2 === 0 ? a : b).admit(user(`n${i}`), paged, ws('org-noisy:p'));
    if (d.allowed) noisy++;
    d.release();
  }
  assert.equal(noisy, 5);
  for (let i = 0; i < 5; i++) {
    const d = await (i % 2 === 0 ? a : b).admit(user('q'), paged, ws('org-quiet:p'));
    assert.equal(d.allowed, true, `quiet request ${i}`);
    d.release();
  }
  const denied = await a.admit(user('n'), paged, ws('org-noisy:p'));
  assert.equal(denied.allowed, false);
  assert.ok(denied.retryAfterSeconds >= 1);
  assert.match(denied.message!, /organisation "org-noisy"/);
});

test('keys live under the prefix, hash-tagged per flow; exempt requests never touch Redis', async (t) => {
  const server = await redisFor(t);
  const l = await limiterOn(t, server, tenantPolicy.replace(', maxOpenWatches: 2, maxInFlight: 3', ''), { prefix: 'edge-a:' });
  const r = client(t, server);
  for (let i = 0; i < 100; i++) (await l.admit(user('k'), req('GET', '/livez'), ws('org-a:p'))).release();
  assert.deepEqual(
    (await r.keys('*')).filter((k) => !k.includes('{replicas}')),
    [],
  );
  (await l.admit(user('k'), paged, ws('org-a:p'))).release();
  const keys = (await r.keys('*')).sort();
  assert.deepEqual(keys, ['edge-a:{replicas}', 'edge-a:{rl:per-org/org-a}:rate']);
  // Lost scripts (restart, SCRIPT FLUSH) are reloaded with EVAL.
  await r.script('FLUSH');
  assert.equal((await l.admit(user('k'), paged, ws('org-a:p'))).allowed, true);
});

test('open watches are counted across replicas and released when the watch ends', async (t) => {
  const server = await redisFor(t);
  const registry = new Registry();
  const a = await limiterOn(t, server, tenantPolicy, { registry });
  const b = await limiterOn(t, server, tenantPolicy);
  const first = await a.admit(user('x'), watch, ws('org-a:p'));
  const second = await b.admit(user('y'), watch, ws('org-a:p'));
  assert.ok(first.allowed && second.allowed);
  const third = await a.admit(user('z'), watch, ws('org-a:p'));
  assert.equal(third.allowed, false);
  assert.match(third.message!, /too many open watches/);
  assert.match(await registry.getSingleMetricAsString('kcp_edge_ratelimit_open_watches'), /priority_level="tenants"\} 1/);
  second.release();
  second.release();
  // release() returns at once; the decrement reaches Redis a moment later.
  await waitFor(async () => (await a.admit(user('z'), watch, ws('org-a:p'))).allowed, { what: 'the released slot' });
  assert.equal((await b.admit(user('w'), watch, ws('org-a:p'))).allowed, false, 'a double release freed one slot only');
});

test('in-flight requests: each replica enforces its share of maxInFlight without a second Redis call', async (t) => {
  const server = await redisFor(t);
  const [a, b] = [await limiterOn(t, server, tenantPolicy), await limiterOn(t, server, tenantPolicy)];
  await waitFor(() => a.knownReplicas === 2 && b.knownReplicas === 2, { what: 'both replicas registered' });
  const held = [await a.admit(user('x'), paged, ws('org-a:p')), await a.admit(user('x'), paged, ws('org-a:p'))];
  assert.ok(held.every((d) => d.allowed));
  const third = await a.admit(user('x'), paged, ws('org-a:p'));
  assert.equal(third.allowed, false, 'maxInFlight 3 over 2 replicas: 2 each');
  assert.match(third.message!, /too many requests in flight .*at most 3 at a time/);
  assert.equal((await b.admit(user('x'), paged, ws('org-a:p'))).allowed, true, 'the other replica has its own share');
  held[0]!.release();
  assert.equal((await a.admit(user('x'), paged, ws('org-a:p'))).allowed, true, 'released at once, locally');
  const r = client(t, server);
  assert.equal(await r.exists('test:{rl:per-org/org-a}:in-flight'), 0, 'nothing about in-flight requests goes to Redis');
});

test('a replica that dies holding watches loses its slots when its lease runs out', async (t) => {
  const server = await redisFor(t);
  // A lease long enough that a stalled event loop on a loaded machine cannot outlast it before the check.
  const leaseMs = 3000;
  const survivor = await limiterOn(t, server, tenantPolicy, { leaseMs });
  const doomed = await limiterOn(t, server, tenantPolicy, { leaseMs });
  assert.ok((await doomed.admit(user('x'), watch, ws('org-a:p'))).allowed);
  assert.ok((await doomed.admit(user('x'), watch, ws('org-a:p'))).allowed);
  // Dies without releasing: no more heartbeats.
  await doomed.close();
  const died = performance.now();
  assert.equal((await survivor.admit(user('y'), watch, ws('org-a:p'))).allowed, false, 'slots still leased right after the crash');
  const d = await waitFor(
    async () => {
      const d = await survivor.admit(user('y'), watch, ws('org-a:p'));
      return d.allowed ? d : undefined;
    },
    { what: "the dead replica's slots to expire", timeoutMs: 15_000 },
  );
  assert.ok(performance.now() - died >= leaseMs / 2, 'slots outlived the last heartbeat by most of a lease');
  d.release();
});

test('Redis killed: each replica enforces its share alone; Redis back: shared again', async (t) => {
  const server = await redisFor(t);
  const registry = new Registry();
  const policy = tenantPolicy.replace('rate: 2, burst: 5', 'rate: 0.001, burst: 10');
  const a = await limiterOn(t, server, policy, { registry });
  await limiterOn(t, server, policy);
  await waitFor(() => a.knownReplicas === 2, { what: 'both replicas registered' });

  await server.stop();
  let admitted = 0;
  for (let i = 0; i < 20; i++) {
    const d = await a.admit(user('u'), paged, ws('org-a:p'));
    if (d.allowed) admitted++;
    d.release();
  }
  assert.equal(a.mode, 'local');
  assert.equal(admitted, 5, 'burst 10 divided by 2 known replicas');
  assert.match(await registry.getSingleMetricAsString('kcp_edge_ratelimit_local_fallback'), /kcp_edge_ratelimit_local_fallback 1/);
  assert.match(await registry.getSingleMetricAsString('kcp_edge_ratelimit_known_replicas'), /kcp_edge_ratelimit_known_replicas 2/);

  await server.start();
  await waitFor(() => a.mode === 'shared', { what: 'back to shared', timeoutMs: 8000 });
  assert.match(await registry.getSingleMetricAsString('kcp_edge_ratelimit_local_fallback'), /kcp_edge_ratelimit_local_fallback 0/);
  // The restarted Redis lost its buckets: the flow has its whole shared burst again.
  let shared = 0;
  for (let i = 0; i < 20; i++) {
    const d = await a.admit(user('u'), paged, ws('org-a:p'));
    if (d.allowed) shared++;
    d.release();
  }
  assert.equal(shared, 10);
  const r = client(t, server);
  assert.equal(await r.exists('test:{rl:per-org/org-a}:rate'), 1);
});
