// Rounds of 2 000 (KCP_EDGE_CHURN_COUNT) watch opens and client resets (HTTP/1.1 and HTTP/2, before and
// after the answer) through a `kcp-edge serve` process — routing table and rate policy in a real Redis,
// so every request awaits Redis once — leave no watch at the shard, nothing in the gateway's upstream
// pool, and the gateway's resident memory, once quiet, within 10 % of where it was after a warm-up.
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

// CI runs 2 000 twice; KCP_EDGE_CHURN_COUNT=10000 runs the size the operations figures quote, and
// KCP_EDGE_CHURN_ROUNDS more rounds (a leak grows round after round, retained capacity does not).
const count = Number(process.env['KCP_EDGE_CHURN_COUNT'] ?? 2000);
const rounds = Number(process.env['KCP_EDGE_CHURN_ROUNDS'] ?? 2);

const path = (i: number) => `/clusters/org-acme:proj-x/api/v1/namespaces/default/configmaps?watch=1&n=${i}`;

// Bounded by the churn's size: a 2-core machine under other load has taken up to 100 ms per open and reset.
const timeout = 120_000 + rounds * count * 150;

test('watch churn leaves zero upstream watches and gateway memory back within 10 %', { timeout }, async (t) => {
  const pki = await testPki();
  const shard = await startWatchShard(t, pki);
  const redis = await startRedis();
  t.after(() => redis[Symbol.asyncDispose]());
  const store = RedisRouteStore.connect(parseRedisUrl(redis.url));
  t.after(() => store.close());
  await store.putShard({ name: 'a', url: shard.url, state: 'active', labels: {} });
  await store.putRoute({ path: 'root:org-acme:proj-x', shard: 'a', cluster: 'projx', phase: 'Ready' });
  // With the Redis routing store the rate policy's counters and watch slots live in that Redis.
  const dir = await serveDir(t, pki, shard.url, ['rateLimit: { policyFile: ratelimit.yaml }', 'memory: { releaseAfterQuietSeconds: 5 }'], { 'ratelimit.yaml': policy });
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
  const churn = { http1Share: 0.1, concurrency: 25 };
  const mib = (n: number) => (n / 2 ** 20).toFixed(0);

  // Warm-up: code compiled, TLS and pools at their working size, as a production gateway is measured.
  await churnWatches(target, { ...churn, count: 300, path });
  await waitFor(settled, { timeoutMs: 10_000, what: 'nothing open after the warm-up' });
  const before = await rssBytes(pid);
  const reports: string[] = [];
  for (let round = 1; round <= rounds; round++) {
    const churnStart = Date.now();
    await churnWatches(target, { ...churn, count, path: (i) => path(round * 100_000 + i) });
    const churnMs = Date.now() - churnStart;
    await waitFor(settled, { timeoutMs: 20_000, what: 'no watch at the shard, nothing in the gateway pool' });
    assert.ok(shard.paths.length >= round * count * 0.75, 'the watches kept until answered reached the shard');
    const right = await rssBytes(pid);
    // Memory grown in the burst is handed back once the gateway has been quiet for 5 s (configured above).
    const after = await waitFor(
      async () => {
        const rss = await rssBytes(pid);
        return rss <= before * 1.1 && rss;
      },
      { timeoutMs: 30_000, intervalMs: 500, what: `gateway RSS within 10 % of ${mib(before)} MiB after churn ${round} (${mib(right)} MiB when it ended)` },
    );
    const releases = sample(await metrics(), 'kcp_edge_heap_releases_total');
    reports.push(`churn ${round}: ${count} opens and resets in ${churnMs} ms, RSS ${mib(right)} MiB when it ended, ${mib(after)} MiB once quiet (${releases} releases so far)`);
  }
  t.diagnostic(`upstream watches left ${shard.open}; gateway RSS ${mib(before)} MiB after the warm-up; ${reports.join('; ')}`);
});
