// Fault: the Redis master dies and Sentinel promotes its replica. A `kcp-edge serve` process reaches
// Redis through `redis+sentinel://` only (routing table and rate policy both). A client polls a warm
// workspace throughout; while there is no master the rate limiter runs on its local fallback and a
// cold workspace is at worst unavailable (503 + Retry-After); once the replica is master the gateway
// follows it on its own, cold lookups are answered from the promoted replica's copy of the table, the
// limiter is back on Redis, no answer was ever a 500, and nothing went unhandled in the process.
import assert from 'node:assert/strict';
import { Agent, request } from 'node:https';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { startTestShard, testPki } from '../gateway/fixtures.ts';
import { ADMIN_TOKEN, adminUrl, fetchFresh, logged, serveDir, startServe } from '../serve/serve-fixtures.ts';
import { parseRedisUrl } from '../../src/routing/redis-connection.ts';
import { RedisRouteStore } from '../../src/routing/redis-route-store.ts';
import { sample } from '../helpers/metrics.ts';
import { startRedis, startSentinel } from '../helpers/redis.ts';
import { waitFor } from '../helpers/wait.ts';

const policy = `
priorityLevels:
  - name: tenants
    limits: { rate: 100000, burst: 100000, maxOpenWatches: 100 }
flowSchemas:
  - { name: per-user, precedence: 100, priorityLevel: tenants, distinguisher: byUser, rules: [{ orgs: ["*"] }] }
`;

interface Answer {
  at: number;
  path: string;
  status: number;
  retryAfter: string | undefined;
}

const namespaces = (workspace: string) => `/clusters/${workspace}/api/v1/namespaces`;

test('Sentinel failover: the gateway follows the promoted replica, falls back locally meanwhile, never answers 500', async (t) => {
  const undo: (() => unknown)[] = [];
  t.after(async () => {
    for (const step of undo.reverse()) await step();
  });
  const pki = await testPki();
  const shard = await startTestShard(t, pki);
  const master = await startRedis();
  undo.push(() => master[Symbol.asyncDispose]());
  const replica = await startRedis({ args: ['--replicaof', '127.0.0.1', String(master.port)] });
  undo.push(() => replica[Symbol.asyncDispose]());
  const direct = new Redis({ port: replica.port, host: '127.0.0.1', lazyConnect: true });
  await direct.connect();
  undo.push(() => direct.disconnect());
  await waitFor(async () => (await direct.info('replication')).includes('master_link_status:up'), { what: 'the replica to follow the master' });
  const sentinel = await startSentinel({ master, downAfterMs: 1_000 });
  undo.push(() => sentinel[Symbol.asyncDispose]());
  const asSentinel = new Redis({ port: sentinel.port, host: '127.0.0.1', lazyConnect: true });
  await asSentinel.connect();
  undo.push(() => asSentinel.disconnect());
  // Sentinel learns of replicas from the master's INFO; it can only promote one it knows.
  await waitFor(async () => ((await asSentinel.call('SENTINEL', 'REPLICAS', 'mymaster')) as unknown[]).length === 1, { what: 'Sentinel to know the replica' });

  const store = RedisRouteStore.connect(parseRedisUrl(sentinel.url));
  undo.push(() => store.close());
  await store.putShard({ name: 'a', url: shard.url, state: 'active', labels: {} });
  for (const name of ['proj-x', 'proj-cold', 'proj-cold2']) await store.putRoute({ path: `root:org-acme:${name}`, shard: 'a', cluster: name.replace('-', ''), phase: 'Ready' });
  // Everything written is on the replica before its master dies (asynchronous replication otherwise).
  await waitFor(async () => Number(await store.client.call('WAIT', '1', '1000')) === 1, { what: 'the table to reach the replica' });

  const dir = await serveDir(t, pki, shard.url, ['rateLimit: { policyFile: ratelimit.yaml }'], { 'ratelimit.yaml': policy });
  const serve = startServe(t, dir, ['--redis', sentinel.url]);
  const started = await waitFor(() => logged(serve.lines, 'kcp-edge gateway serving'), { what: 'the gateway to serve', timeoutMs: 30_000 });
  const port = Number(new URL(String(started['url'])).port);
  const agent = new Agent({ keepAlive: true, ca: pki.ca.certPem });
  undo.push(() => agent.destroy());
  const get = (path: string, token: string | undefined = 'alice-token') =>
    new Promise<Answer>((resolve, reject) => {
      const headers = token === undefined ? {} : { authorization: `Bearer ${token}` };
      const req = request({ host: '127.0.0.1', port, path, agent, servername: 'localhost', headers }, (res) => {
        res.resume();
        res.on('end', () => resolve({ at: Date.now(), path, status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'] }));
        res.on('error', reject);
      });
      req.setTimeout(5_000, () => req.destroy(new Error(`${path}: no answer within 5 s`)));
      req.on('error', reject);
      req.end();
    });
  const admin = adminUrl(started);
  const fallback = async () => {
    const scraped = await fetchFresh(admin, pki, '/metrics', ADMIN_TOKEN);
    assert.equal(scraped.status, 200, 'the admin listener serves the metrics');
    return sample(scraped.body, 'kcp_edge_ratelimit_local_fallback');
  };

  const warm = namespaces('root:org-acme:proj-x');
  assert.equal((await get(warm)).status, 200);
  assert.equal(await fallback(), 0, 'the limiter is on Redis before the fault');

  // A client keeps asking for the warm workspace throughout; every answer is kept.
  const answers: Answer[] = [];
  let polling = true;
  const poller = (async () => {
    while (polling) {
      answers.push(await get(warm));
      await sleep(5);
    }
  })();
  undo.push(async () => {
    polling = false;
    await poller.catch(() => undefined);
  });

  await master.stop();
  const killedAt = Date.now();
  // No master at all for at least Sentinel's down-after bound: a cold lookup now cannot be answered.
  const during = await get(namespaces('root:org-acme:proj-cold2'));
  answers.push(during);
  await waitFor(async () => (await fallback()) === 1, { what: 'the rate limiter to fall back locally', timeoutMs: 5_000 });
  const fellBackMs = Date.now() - killedAt;

  await waitFor(async () => Number(((await asSentinel.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', 'mymaster')) as string[])[1]) === replica.port, {
    what: 'Sentinel to promote the replica',
    timeoutMs: 20_000,
    intervalMs: 100,
  });
  const promotedMs = Date.now() - killedAt;
  const cold = await waitFor(
    async () => {
      const answer = await get(namespaces('root:org-acme:proj-cold'));
      answers.push(answer);
      return answer.status === 200 && answer;
    },
    { what: 'a cold lookup answered from the promoted replica', timeoutMs: 15_000, intervalMs: 100 },
  );
  const coldMs = cold.at - killedAt;
  await waitFor(async () => (await fallback()) === 0, { what: 'the rate limiter back on Redis', timeoutMs: 15_000, intervalMs: 100 });
  const backMs = Date.now() - killedAt;
  polling = false;
  await poller;

  for (const a of answers) {
    assert.notEqual(a.status, 500, `${a.path} got a 500`);
    if (a.path === warm) assert.equal(a.status, 200, `the warm workspace kept serving (got ${a.status})`);
    else assert.ok(a.status === 200 || (a.status === 503 && a.retryAfter !== undefined), `${a.path}: ${a.status}, not 200 or 503 with Retry-After`);
  }
  assert.equal(serve.child.exitCode, null, 'the gateway is still running');
  const stderr = serve.stderr.join('');
  assert.doesNotMatch(stderr, /unhandled|uncaught/i, 'nothing went unhandled in the gateway process');
  const warmCount = answers.filter((a) => a.path === warm).length;
  t.diagnostic(
    `master killed: limiter on local fallback after ${fellBackMs} ms; cold lookup with no master → ${during.status}${during.retryAfter === undefined ? '' : ` (Retry-After ${during.retryAfter})`}; replica promoted after ${promotedMs} ms; cold lookup 200 after ${coldMs} ms; limiter back on Redis after ${backMs} ms; ${warmCount} warm requests, all 200; 0 × 500`,
  );
});
