// Fault: a rolling restart. Two `kcp-edge serve` replicas share one routing table in a real Redis, in
// front of two stand-in shards, behind a TCP balancer (round robin, a backend that refuses is skipped).
// Clients keep sending short requests over HTTP/1.1 and HTTP/2 and keep watches open on both shards
// while replica A is stopped (SIGTERM, drain, exit) and started again, then replica B. Counted from the
// client side: no short request fails, and every watch resumes from its last resourceVersion and sees
// every event the shards wrote, in order, exactly once.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { testPki, startTestShard, type Pki } from '../gateway/fixtures.ts';
import { fetchFresh, logged, serveDir, startServe, type ServeProcess } from '../serve/serve-fixtures.ts';
import { parseRedisUrl } from '../../src/routing/redis-connection.ts';
import { RedisRouteStore } from '../../src/routing/redis-route-store.ts';
import { startRedis } from '../helpers/redis.ts';
import { startTcpBalancer } from '../helpers/tcp-balancer.ts';
import { waitFor } from '../helpers/wait.ts';
import { EventLog, resumingWatch, shortRequests, type Tally } from './rolling-load.ts';

interface Replica {
  serve: ServeProcess;
  port: number;
}

/** A replica serving and ready (/readyz 200), as a Service would admit it to its endpoints. */
async function startReplica(t: TestContext, dir: string, pki: Pki, redisUrl: string): Promise<Replica> {
  const serve = startServe(t, dir, ['--redis', redisUrl]);
  const started = await waitFor(() => logged(serve.lines, 'kcp-edge gateway serving'), { what: 'a replica to serve', timeoutMs: 30_000 });
  const url = String(started['url']);
  await waitFor(async () => (await fetchFresh(url, pki, '/readyz')).status === 200, { what: 'the replica to be ready' });
  return { serve, port: Number(new URL(url).port) };
}

const workspaces = [
  { path: 'root:org-acme:proj-x', cluster: 'projx', shard: 'a' },
  { path: 'root:org-acme:proj-y', cluster: 'projy', shard: 'b' },
];
const configmaps = (workspace: string) => `/clusters/${workspace}/api/v1/namespaces/default/configmaps`;

test('rolling restart of two replicas under load: no short request fails, every watch resumes without losing an event', async (t) => {
  const pki = await testPki();
  const logs = { a: new EventLog(), b: new EventLog() };
  const shards = { a: await startTestShard(t, pki, logs.a.handler), b: await startTestShard(t, pki, logs.b.handler) };
  const redis = await startRedis();
  t.after(() => redis[Symbol.asyncDispose]());
  const store = RedisRouteStore.connect(parseRedisUrl(redis.url));
  t.after(() => store.close());
  for (const name of ['a', 'b'] as const) await store.putShard({ name, url: shards[name].url, state: 'active', labels: {} });
  for (const w of workspaces) await store.putRoute({ path: w.path, shard: w.shard, cluster: w.cluster, phase: 'Ready' });

  const dir = await serveDir(t, pki, shards.a.url);
  const replicas = [await startReplica(t, dir, pki, redis.url), await startReplica(t, dir, pki, redis.url)];
  const balancer = await startTcpBalancer(replicas.map((r) => r.port));
  t.after(() => balancer[Symbol.asyncDispose]());
  const target = { port: balancer.port, caPem: pki.ca.certPem, token: 'alice-token' };

  // Load: three short-request loops per protocol, a watch per protocol and workspace (two of each).
  let running = true;
  const tally: Tally = { ok: 0, failed: [], retried: 0 };
  const loops = (['h1', 'h2'] as const).flatMap((protocol) => [0, 1, 2].map((i) => shortRequests(target, protocol, configmaps(workspaces[i % 2]!.path), () => running, tally)));
  const watches = (['h1', 'h2'] as const).flatMap((protocol) =>
    workspaces.flatMap((w) => [0, 1].map(() => ({ log: w.shard === 'a' ? logs.a : logs.b, watch: resumingWatch(target, protocol, configmaps(w.path)) }))),
  );
  t.after(() => {
    running = false;
    for (const { watch } of watches) watch.stop();
  });
  // The shards write an event every 20 ms throughout.
  const writer = setInterval(() => {
    logs.a.append();
    logs.b.append();
  }, 20);
  t.after(() => clearInterval(writer));
  const allCaughtUp = () => watches.every(({ log, watch }) => watch.seen.at(-1) === log.last);
  await waitFor(() => tally.ok >= 200 && logs.a.last >= 10 && allCaughtUp(), { what: 'load flowing and every watch open', timeoutMs: 15_000 });

  const restarts: string[] = [];
  for (const index of [0, 1]) {
    const old = replicas[index]!;
    const before = tally.ok;
    const stoppedAt = Date.now();
    old.serve.child.kill('SIGTERM');
    const [code] = await old.serve.exited;
    assert.equal(code, 0, `replica ${index} drained and exited 0`);
    const drainedMs = Date.now() - stoppedAt;
    // Watches are ended at the start of the drain, not held until its bound (drain.timeoutSeconds: 2).
    assert.ok(drainedMs < 2_000, `replica ${index} took ${drainedMs} ms to drain`);
    balancer.remove(old.port);
    const fresh = await startReplica(t, dir, pki, redis.url);
    balancer.add(fresh.port);
    replicas[index] = fresh;
    restarts.push(`replica ${'AB'[index]}: drained in ${drainedMs} ms, back in ${Date.now() - stoppedAt} ms, ${tally.ok - before} requests served meanwhile`);
  }

  // Every watch has seen every event written, through the restarts.
  const lastA = logs.a.last;
  const lastB = logs.b.last;
  await waitFor(() => watches.every(({ log, watch }) => (watch.seen.at(-1) ?? 0) >= (log === logs.a ? lastA : lastB)), { what: 'every watch to catch up', timeoutMs: 10_000 });
  running = false;
  clearInterval(writer);
  await Promise.all(loops);
  for (const { watch } of watches) watch.stop();
  await Promise.all(watches.map(({ watch }) => watch.done));

  assert.deepEqual(tally.failed, [], `short requests failed (${tally.ok} succeeded)`);
  for (const { log, watch } of watches) {
    assert.deepEqual(watch.failed, [], 'no watch was refused');
    const expected = Array.from({ length: watch.seen.length }, (_, i) => i + 1);
    assert.deepEqual(watch.seen, expected, 'every event once, in order');
    assert.ok(watch.seen.length >= (log === logs.a ? lastA : lastB));
  }
  // Keep-alive clients move only when their connection ends: B's clients went to the new A.
  assert.ok((balancer.accepted.get(replicas[0]!.port) ?? 0) > 0, 'the restarted replica A took the clients B let go');
  const resumed = watches.reduce((n, { watch }) => n + watch.opened - 1, 0);
  assert.ok(resumed >= watches.length, `every watch was ended by a drain and resumed (${resumed} resumptions)`);
  t.diagnostic(restarts.join('; '));
  t.diagnostic(
    `${tally.ok} short requests (h1+h2), 0 failed, ${tally.retried} sent again after no answer byte; ${watches.length} watches resumed ${resumed} times, ${lastA}+${lastB} events each seen once in order`,
  );
});
