// Fault: Redis restarts without its data. The local stack (gateway from its gateway.yaml, two stand-in
// shards, an indexer) routes through a real redis-server, which is killed and replaced by an empty one on
// the same port. The indexer reaches Redis through a forwarder the test holds shut for a while, so the
// gateway is sure to see the empty table before anyone rebuilds it. What a client sees is checked from a
// poller that runs throughout: warm workspaces keep answering, nothing that exists ever gets a 403, a cold
// workspace gets 503 + Retry-After while the table is unknown, /readyz is 503 until it is rebuilt, and
// the whole table comes back with no command typed.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { Agent, request } from 'node:https';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startDevStack } from '../../src/dev/start.ts';
import { devSteps } from '../../src/dev/steps.ts';
import { shardUserName } from '../../src/dev/steps/access.ts';
import { useRedis } from '../../src/dev/steps/routing.ts';
import { parseRedisUrl } from '../../src/routing/redis-connection.ts';
import { RedisRouteStore } from '../../src/routing/redis-route-store.ts';
import { createWorkspace } from '../../src/sim/index.ts';
import { startRedis } from '../helpers/redis.ts';
import { startTcpProxy } from '../helpers/tcp-proxy.ts';
import { makeTempDir, waitFor } from '../helpers/wait.ts';

interface Sample {
  at: number;
  path: string;
  status: number;
  retryAfter: string | undefined;
}

const namespaces = (workspace: string) => `/clusters/${workspace}/api/v1/namespaces`;

test('a Redis that comes back empty: warm workspaces keep serving, nothing that exists gets 403, /readyz is 503 until the indexer has rebuilt the table', async (t) => {
  // Undone last-first once the test ends, passed or not: clients before the stack, the stack before Redis.
  const undo: (() => unknown)[] = [];
  t.after(async () => {
    for (const step of undo.reverse()) await step();
  });
  const tmp = await makeTempDir();
  undo.push(() => tmp[Symbol.asyncDispose]());
  const redis = await startRedis();
  undo.push(() => redis[Symbol.asyncDispose]());
  const indexerPath = await startTcpProxy(redis.port);
  undo.push(() => indexerPath[Symbol.asyncDispose]());
  const steps = devSteps.map((step) =>
    step.name === 'routing' ? { name: 'routing', run: (s: Parameters<typeof useRedis>[0]) => useRedis(s, redis.url, `redis://127.0.0.1:${indexerPath.port}`) } : step,
  );
  const stack = await startDevStack({ dir: tmp.dir, port: 0, redis: redis.url }, steps);
  undo.push(() => stack.stop());
  const store = RedisRouteStore.connect(parseRedisUrl(redis.url));
  undo.push(() => store.close());

  const agent = new Agent({ keepAlive: true, ca: await readFile(join(stack.files.certs, 'ca.crt'), 'utf8') });
  undo.push(() => agent.destroy());
  const token = stack.users.find((u) => u.org === 'org-acme')!.token;
  const port = stack.gateway!.gateway.port;
  const get = (path: string) =>
    new Promise<Sample>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path, agent, headers: { authorization: `Bearer ${token}` } }, (res) => {
        res.resume();
        res.on('end', () => resolve({ at: Date.now(), path, status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'] }));
        res.on('error', reject);
      });
      req.setTimeout(5_000, () => req.destroy(new Error(`${path}: no answer within 5 s`)));
      req.on('error', reject);
      req.end();
    });

  const warm = ['root:org-acme:proj-frontend', 'root:org-acme:proj-backend'].map(namespaces);
  for (const path of warm) assert.equal((await get(path)).status, 200, path);
  assert.equal((await get('/readyz')).status, 200);
  // A workspace the gateway has never looked up: nothing in its cache can answer for it.
  const admin = await stack.shards.get('shard-a')!.client();
  // The dev shards enforce RBAC: alice owns a new workspace of her org as she owns the others.
  const alice = shardUserName(stack.users.find((u) => u.org === 'org-acme')!);
  const createOwned = async (name: string, shard: string): Promise<void> => {
    const ws = await createWorkspace(admin, 'root:org-acme', name, { shard });
    const client = await stack.shards.get(shard)!.client();
    try {
      const owner = await client.request('POST', `/clusters/${ws.cluster}/apis/rbac.authorization.k8s.io/v1/clusterrolebindings`, {
        body: {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'ClusterRoleBinding',
          metadata: { name: 'workspace-admin:alice' },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
          subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: alice }],
        },
      });
      assert.equal(owner.status, 201, owner.text);
    } finally {
      client.close();
    }
  };
  await createOwned('proj-cold', 'shard-b');
  await waitFor(async () => (await store.getRoute('root:org-acme:proj-cold'))?.phase === 'Ready', { what: 'the indexer to route proj-cold' });
  const cold = namespaces('root:org-acme:proj-cold');

  // Clients keep asking throughout; every answer is kept.
  const samples: Sample[] = [];
  let polling = true;
  const poller = (async () => {
    while (polling) {
      samples.push(...(await Promise.all([...warm, '/readyz'].map(get))));
      await sleep(10);
    }
  })();
  undo.push(async () => {
    polling = false;
    await poller.catch(() => undefined);
  });

  indexerPath.hold();
  undo.push(() => indexerPath.release()); // an assertion failing while held: the indexer still stops cleanly
  await redis.stop();
  await redis.start();
  const emptyAt = Date.now();

  await waitFor(async () => (await get('/readyz')).status === 503, { timeoutMs: 5_000, what: '/readyz to go 503 while the table is unknown' });
  const unknown = await get(cold);
  assert.equal(unknown.status, 503, 'a workspace the empty table cannot answer for is unavailable, not forbidden');
  assert.ok(Number(unknown.retryAfter) > 0, 'with Retry-After');

  // The indexer reconnects: it seeds the table, re-registers the shards and rewrites every route.
  indexerPath.release();
  await waitFor(async () => (await get('/readyz')).status === 200, { timeoutMs: 15_000, what: '/readyz to be 200 again' });
  const rebuiltMs = Date.now() - emptyAt;
  assert.equal((await get(cold)).status, 200, 'the cold workspace is served again');
  // The test's own connection may still be reconnecting: a command sent then could be refused.
  await waitFor(() => store.client.status === 'ready', { what: "the test store's connection" });
  assert.equal((await store.listShards()).length, 2, 'both shards registered again, nothing typed');
  polling = false;
  await poller;

  const during = samples.filter((s) => s.at >= emptyAt);
  const readyz = during.filter((s) => s.path === '/readyz');
  assert.ok(
    readyz.some((s) => s.status === 503),
    'the poller saw /readyz 503',
  );
  for (const s of samples.filter((x) => x.path !== '/readyz')) {
    assert.notEqual(s.status, 403, `${s.path} exists and got 403`);
    assert.equal(s.status, 200, `warm ${s.path} kept serving (got ${s.status})`);
  }
  t.diagnostic(
    `empty Redis → rebuilt and ready in ${rebuiltMs} ms (indexer held off for part of it); ${during.length - readyz.length} warm requests meanwhile, all 200; /readyz 503 ×${readyz.filter((s) => s.status === 503).length}`,
  );

  // Once more, nothing held back: whichever of gateway and indexer reconnects first, a workspace that
  // exists is served or answered 503, never 403.
  await createOwned('proj-cold2', 'shard-a');
  await waitFor(async () => (await store.getRoute('root:org-acme:proj-cold2'))?.phase === 'Ready', { what: 'the indexer to route proj-cold2' });
  const cold2 = namespaces('root:org-acme:proj-cold2');
  await redis.stop();
  await redis.start();
  const againAt = Date.now();
  const answers: Sample[] = [];
  await waitFor(
    async () => {
      const round = await Promise.all([cold2, ...warm].map(get));
      answers.push(...round);
      return round.every((answer) => answer.status === 200) && (await get('/readyz')).status === 200;
    },
    { timeoutMs: 15_000, what: 'every workspace served and /readyz 200 after the second empty restart' },
  );
  for (const answer of answers) {
    assert.ok(answer.status === 200 || (answer.status === 503 && answer.retryAfter !== undefined), `${answer.path} exists and got ${answer.status}`);
  }
  t.diagnostic(`second empty restart, nothing held back: served and ready after ${Date.now() - againAt} ms`);
});
