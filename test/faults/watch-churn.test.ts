// 2 000 (KCP_EDGE_CHURN_COUNT) watch opens and client resets (HTTP/1.1 and HTTP/2, before and after
// the answer) through a `kcp-edge serve` process — routing table and rate policy in a real Redis, so
// every request awaits Redis once — leave no watch at the shard, nothing in the gateway's upstream
// pool, and the gateway's resident memory within a bound of where it was after a warm-up churn.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { testPki } from '../gateway/fixtures.ts';
import { ADMIN_TOKEN, adminUrl, fetchFresh, logged, serveDir, startServe } from '../serve/serve-fixtures.ts';
import { parseRedisUrl } from '../../src/routing/redis-connection.ts';
import { RedisRouteStore } from '../../src/routing/redis-route-store.ts';
import { startRedis } from '../helpers/redis.ts';
import { startWatchShard } from '../helpers/watch-shard.ts';
import { waitFor } from '../helpers/wait.ts';
import { sample } from '../helpers/metrics.ts';
import { churnWatches, rssBytes } from './watch-churn.ts';

const policy = `
priorityLevels:
  - name: tenants
    limits: { rate: 100000, burst: 100000, maxOpenWatches: 10000 }
flowSchemas:
  - { name: per-user, precedence: 100, priorityLevel: tenants, distinguisher: byUser, rules: [{ orgs: ["*"] }] }
`;

// CI runs 2 000; KCP_EDGE_CHURN_COUNT=10000 runs the same scenario at the size the operations figures quote.
const count = Number(process.env['KCP_EDGE_CHURN_COUNT'] ?? 2000);

const path = (i: number) => `/clusters/org-acme:proj-x/api/v1/namespaces/default/configmaps?watch=1&n=${i}`;

test('watch churn leaves zero upstream watches and bounded gateway memory', async (t) => {
  const pki = await testPki();
  const shard = await startWatchShard(t, pki);
  const redis = await startRedis();
  t.after(() => redis[Symbol.asyncDispose]());
  const store = RedisRouteStore.connect(parseRedisUrl(redis.url));
  t.after(() => store.close());
  await store.putShard({ name: 'a', url: shard.url, state: 'active', labels: {} });
  await store.putRoute({ path: 'root:org-acme:proj-x', shard: 'a', cluster: 'projx', phase: 'Ready' });
  // With the Redis routing store the rate policy's counters and watch slots live in that Redis.
  const dir = await serveDir(t, pki, shard.url, ['rateLimit: { policyFile: ratelimit.yaml }'], { 'ratelimit.yaml': policy });
  const serve = startServe(t, dir, ['--redis', redis.url]);
  const started = await waitFor(() => logged(serve.lines, 'kcp-edge gateway serving'), { what: 'the gateway to serve', timeoutMs: 30_000 });
  const url = new URL(String(started['url']));
  const target = { port: Number(url.port), caPem: pki.ca.certPem };
  const pid = serve.child.pid!;
  const admin = adminUrl(started);
  const metrics = async (): Promise<string> => {
    const scraped = await fetchFresh(admin, pki, '/metrics', ADMIN_TOKEN);
    // A failed scrape reads as zeros, which would pass for "nothing left open".
    assert.equal(scraped.status, 200, 'the admin listener serves the metrics');
    return scraped.body;
  };
  const settled = async (): Promise<boolean> => {
    if (shard.open !== 0) return false;
    const text = await metrics();
    return sample(text, 'kcp_edge_upstream_requests') === 0 && sample(text, 'kcp_edge_open_watches') === 0;
  };
  // V8 grows its young generation under load up to the runtime's bound and keeps it: capacity sized
  // by a runtime flag, not memory the watches hold, so it is taken out of the growth.
  const youngGeneration = async () => sample(await metrics(), 'kcp_edge_nodejs_heap_space_size_total_bytes', { space: 'new' });
  const churn = { http1Share: 0.1, concurrency: 25 };

  // Warm-up: code paths compiled, pools and heaps at their working size.
  await churnWatches(target, { ...churn, count: 300, path });
  await waitFor(settled, { timeoutMs: 10_000, what: 'nothing open after the warm-up' });
  const before = await rssBytes(pid);
  const youngBefore = await youngGeneration();
  const heapUsed = async () => sample(await metrics(), 'kcp_edge_nodejs_heap_size_used_bytes');
  const heapBefore = await heapUsed();
  const heapTotal = async () => sample(await metrics(), 'kcp_edge_nodejs_heap_size_total_bytes');
  const heapTotalBefore = await heapTotal();

  const churnStart = Date.now();
  await churnWatches(target, { ...churn, count, path: (i) => path(100_000 + i) });
  const churnMs = Date.now() - churnStart;
  await waitFor(settled, { timeoutMs: 10_000, what: 'no watch at the shard, nothing in the gateway pool' });
  assert.ok(shard.paths.length >= count * 0.75, 'the watches kept until answered reached the shard');
  const after = await rssBytes(pid);
  const youngGrowth = (await youngGeneration()) - youngBefore;
  const growth = (after - youngGrowth - before) / before;
  const mib = (n: number) => (n / 2 ** 20).toFixed(0);
  t.diagnostic(
    `${count} watch opens and resets in ${churnMs} ms: upstream watches left ${shard.open}, gateway RSS ${mib(before)} → ${mib(after)} MiB (young generation +${mib(youngGrowth)} MiB, growth net of it ${(growth * 100).toFixed(1)}%), heap used ${mib(heapBefore)} → ${mib(await heapUsed())} MiB of ${mib(heapTotalBefore)} → ${mib(await heapTotal())} MiB`,
  );
  assert.ok(growth < 0.1, `gateway RSS grew ${(growth * 100).toFixed(1)}% (${mib(before)} → ${mib(after)} MiB, young generation +${mib(youngGrowth)} MiB)`);
});
