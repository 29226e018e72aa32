// The indexer against two stand-in shards (which schedule Workspaces like KCP: spec.cluster, spec.URL naming the front door,
// a LogicalCluster annotated with its path on the chosen shard, phases Scheduling → Initializing →
// Ready) and a real Redis, observed through a gateway replica's routing table.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { isGatewayError } from '../../src/kube/gateway-error.ts';
import { Indexer } from '../../src/routing/indexer.ts';
import { LeaseRunner } from '../../src/routing/indexer-lease.ts';
import { parseRedisUrl } from '../../src/routing/redis-connection.ts';
import { readTableState, redisTableGeneration } from '../../src/routing/redis-generation.ts';
import { RedisRouteStore } from '../../src/routing/redis-route-store.ts';
import { RedisRoutingTable } from '../../src/routing/redis-routing-table.ts';
import type { Shard } from '../../src/routing/types.ts';
import { connectShards, createCertificateAuthority, createWorkspace, startShard, type ApiClient, type SimShard } from '../../src/sim/index.ts';
import { recordingLog } from '../helpers/log.ts';
import { startRedis, type RedisServer } from '../helpers/redis.ts';
import { makeTempDir, waitFor } from '../helpers/wait.ts';

/** Workspaces report a front door's address, as kcp's do: spec.URL names no shard, so routes cannot come from it. */
const externalURL = 'https://edge.invalid:6443';
let redis: RedisServer;
let store: RedisRouteStore;
let table: RedisRoutingTable;
let a: SimShard;
let b: SimShard;
let apiA: ApiClient;
let apiB: ApiClient;
let credentials: { certPem: string; keyPem: string; caPem: string };

before(async () => {
  const ca = await createCertificateAuthority('kcp-ca');
  [redis, a, b] = await Promise.all([startRedis(), startShard({ name: 'alpha', ca, externalURL }), startShard({ name: 'beta', ca, externalURL })]);
  connectShards(a, b);
  store = RedisRouteStore.connect(parseRedisUrl(redis.url));
  table = new RedisRoutingTable({ redis: parseRedisUrl(redis.url) });
  await table.waitUntilSynced();
  [apiA, apiB] = await Promise.all([a.client(), b.client()]);
  const cert = await a.issueClientCertificate('kcp-edge-indexer', ['system:masters']);
  credentials = { ...cert, caPem: ca.certPem };
  await store.putShard({ name: 'alpha', url: a.url, state: 'active', labels: {} });
  await store.putShard({ name: 'beta', url: b.url, state: 'active', labels: {} });
});
after(async () => {
  await table.close();
  await store.close();
  await Promise.all([a.close(), b.close()]);
  await redis[Symbol.asyncDispose]();
});

const wsPath = (cluster: string, name = '') => `/clusters/${cluster}/apis/tenancy.kcp.io/v1alpha1/workspaces${name === '' ? '' : `/${name}`}`;
const lcPath = (cluster: string) => `/clusters/${cluster}/apis/core.kcp.io/v1alpha1/logicalclusters`;

async function ok<T>(p: Promise<{ status: number; text: string; body: T }>): Promise<T> {
  const r = await p;
  assert.ok(r.status >= 200 && r.status < 300, `${r.status}: ${r.text}`);
  return r.body;
}

async function deleteWorkspace(api: ApiClient, parent: string, name: string): Promise<void> {
  await ok(api.request('DELETE', wsPath(parent, name)));
}

async function routed(path: string, expected: { shard: string; phase: string } | undefined): Promise<void> {
  await waitFor(
    async () => {
      const r = await table.resolve(path);
      if (expected === undefined) return r === undefined;
      return r !== undefined && r.shard.name === expected.shard && r.route.phase === expected.phase;
    },
    { what: `${path} → ${JSON.stringify(expected)}` },
  );
}

test('workspaces become routes as they are created, move and go', async (t) => {
  // A route nothing stands for (a workspace deleted while no indexer ran) is cleaned up on the first list.
  await store.putRoute({ path: 'root:ghost', shard: 'beta', cluster: 'ghostcluster', phase: 'Ready' });
  const indexer = new Indexer({ store, credentials, shardRefreshMs: 200 });
  t.after(() => indexer.stop());
  await indexer.start();
  await indexer.synced();
  assert.equal(await store.getRoute('root:ghost'), undefined);
  assert.ok(await store.getRoute('root'), 'the root workspace is routed');

  // Created on alpha (where root lives), scheduled to beta.
  const org = await createWorkspace(apiA, 'root', 'org', { shard: 'beta' });
  await routed('root:org', { shard: 'beta', phase: 'Ready' });
  assert.equal((await table.resolve(org.cluster))?.route.path, 'root:org');

  // A child, created through the shard holding its parent, scheduled back to alpha.
  const team = await createWorkspace(apiB, 'root:org', 'team', { shard: 'alpha' });
  await routed('root:org:team', { shard: 'alpha', phase: 'Ready' });

  // Moved (KCP has no automatic move; an operator's tooling does what kcp would): the logical cluster
  // appears on beta, the Workspace is rescheduled there, alpha's copy goes. The route follows the
  // LogicalCluster objects: it stays on alpha while both hold one, and moves once alpha's copy is gone.
  const lc = { apiVersion: 'core.kcp.io/v1alpha1', kind: 'LogicalCluster', metadata: { name: 'cluster', annotations: { 'kcp.io/path': 'root:org:team' } }, spec: {} };
  await ok(apiB.request('POST', lcPath(team.cluster), { body: lc }));
  await ok(
    apiB.request('PATCH', wsPath(org.cluster, 'team'), {
      body: { metadata: { annotations: { 'internal.tenancy.kcp.io/shard': 'beta' } } },
      contentType: 'application/merge-patch+json',
    }),
  );
  await routed('root:org:team', { shard: 'alpha', phase: 'Ready' });
  await ok(apiA.request('DELETE', `${lcPath(team.cluster)}/cluster`));
  await routed('root:org:team', { shard: 'beta', phase: 'Ready' });

  // Deleted: KCP removes the logical cluster, then the Workspace; the route goes with them.
  await deleteWorkspace(apiB, org.cluster, 'team');
  await routed('root:org:team', undefined);
  assert.equal(await table.resolve(team.cluster), undefined);
});

test('a restarted indexer catches up with what happened while it was away', async (t) => {
  const away = await createWorkspace(apiA, 'root', 'away', { shard: 'alpha' });
  const first = new Indexer({ store, credentials });
  t.after(() => first.stop()); // stopping twice is harmless; a failed assertion must not leave it running
  await first.start();
  await first.synced();
  await routed('root:away', { shard: 'alpha', phase: 'Ready' });
  await first.stop();

  // While no indexer runs: one workspace is deleted, another created.
  await deleteWorkspace(apiA, 'root', 'away');
  await waitFor(async () => (await apiA.request('GET', wsPath('root', 'away'))).status === 404, { what: 'away deleted' });
  await createWorkspace(apiA, 'root', 'later', { shard: 'beta' });

  const second = new Indexer({ store, credentials });
  t.after(() => second.stop());
  await second.start();
  await second.synced();
  await routed('root:away', undefined);
  assert.equal(await table.resolve(away.cluster), undefined);
  await routed('root:later', { shard: 'beta', phase: 'Ready' });
});

test('rotated credentials restart the watches with them: an indexer the shards refused gets going', async (t) => {
  const stranger = await (await createCertificateAuthority('not-kcp-ca')).issue({ commonName: 'kcp-edge-indexer', organizations: ['system:masters'], usage: 'client' });
  const log = recordingLog();
  // Registry re-reads are far apart: only the rotation itself may restart the watches.
  const indexer = new Indexer({ store, credentials: { ...stranger, caPem: credentials.caPem }, shardRefreshMs: 60_000, log });
  t.after(() => indexer.stop());
  await indexer.start();
  await waitFor(() => log.entries.some((e) => e.level === 'warn'), { what: 'the shards to refuse the certificate' });
  const rotatedIn = await createWorkspace(apiA, 'root', 'rotated', { shard: 'alpha' });

  indexer.setCredentials(credentials);
  await Promise.race([indexer.synced(), new Promise((_, reject) => setTimeout(() => reject(new Error('not synced 10 s after the rotation')), 10_000).unref())]);
  await routed('root:rotated', { shard: 'alpha', phase: 'Ready' });
  assert.equal((await table.resolve(rotatedIn.cluster))?.route.path, 'root:rotated');
});

test('stop() while the shard registry is being re-read leaves no watch running', async () => {
  // The registry read in flight when stop() is called must not start watches after it: they would
  // outlive the indexer (and keep this test file's process from exiting).
  let gate: PromiseWithResolvers<void> | undefined;
  let reads = 0;
  const slow = new Proxy(store, {
    get(target, prop, receiver) {
      if (prop !== 'listShards') return Reflect.get(target, prop, receiver) as unknown;
      return async () => {
        reads++;
        const shards = await target.listShards();
        if (gate !== undefined) await gate.promise;
        return shards;
      };
    },
  });
  const indexer = new Indexer({ store: slow, credentials, shardRefreshMs: 50 });
  await indexer.start();
  assert.deepEqual(indexer.watching.sort(), ['alpha', 'beta']);
  gate = Promise.withResolvers<void>();
  const before = reads;
  await waitFor(() => reads > before, { what: 'a registry re-read in flight' });
  const stopping = indexer.stop();
  // The watches stop at once; only then does the read come back.
  await waitFor(() => indexer.watching.length === 0, { what: 'watches stopped' });
  gate.resolve();
  await stopping;
  // What the read would start, it starts as soon as it resumes.
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(indexer.watching, [], 'no watch started after stop()');
});

test('exactly one replica holds the indexer lease, and another takes over when it stops', async (t) => {
  const started: string[] = [];
  const stopped: string[] = [];
  const runner = (name: string) =>
    new LeaseRunner({
      client: store.client,
      keys: store.keys,
      ttlMs: 300,
      holder: name,
      async run() {
        started.push(name);
        return { stop: async () => void stopped.push(name) };
      },
    });
  const one = runner('one');
  const two = runner('two');
  t.after(() => Promise.all([one.stop(), two.stop()]));
  one.start();
  await waitFor(() => one.holding, { what: 'one holds the lease' });
  two.start();
  // Two tries for longer than a lease lives (ttl/3 per try): it would have got an unrenewed lease.
  await waitFor(() => two.attempts >= 5, { what: 'two tries repeatedly' });
  assert.deepEqual(started, ['one']);
  assert.equal(two.holding, false);
  await one.stop();
  await waitFor(() => two.holding, { what: 'two takes over' });
  assert.deepEqual(started, ['one', 'two']);
  assert.deepEqual(stopped, ['one']);
  await two.stop();
});

test('kcp-edge index --once writes the routes of what the shards hold', async () => {
  await using tmp = await makeTempDir();
  await createWorkspace(apiA, 'root', 'viacli', { shard: 'beta' });
  await writeFile(join(tmp.dir, 'tls.crt'), credentials.certPem);
  await writeFile(join(tmp.dir, 'tls.key'), credentials.keyPem);
  await writeFile(join(tmp.dir, 'ca.crt'), credentials.caPem);
  const { stdout } = await promisify(execFile)(process.execPath, [
    'src/cli.ts',
    'index',
    '--once',
    '--redis',
    redis.url,
    '--client-cert',
    join(tmp.dir, 'tls.crt'),
    '--client-key',
    join(tmp.dir, 'tls.key'),
    '--ca',
    join(tmp.dir, 'ca.crt'),
    '--log-level',
    'warn',
  ]);
  assert.match(stdout, /indexed: \d+ route change/);
  await routed('root:viacli', { shard: 'beta', phase: 'Ready' });
});

test('an indexer that finds the table without a generation seeds the configured shards; one that sees it lost rewrites every route', async (t) => {
  // A table of its own (key prefix): the other tests' table is left alone.
  const config = { ...parseRedisUrl(redis.url), keyPrefix: 'seeded:' };
  const seeded = RedisRouteStore.connect(config);
  t.after(() => seeded.close());
  const seeds: Shard[] = [
    { name: 'alpha', url: a.url, state: 'active', labels: {} },
    { name: 'beta', url: b.url, state: 'active', labels: { seeded: 'yes' } },
  ];
  const generation = redisTableGeneration(seeded.client, seeded.keys, seeds);
  const indexer = new Indexer({ store: seeded, credentials, shardRefreshMs: 100_000, generation });
  t.after(() => indexer.stop());
  const state = () => readTableState(seeded.client, seeded.keys);
  assert.deepEqual(await state(), { generation: undefined, complete: false, serving: false }, 'an empty table is not a complete one');

  await indexer.start();
  await indexer.synced();
  assert.deepEqual(
    (await seeded.listShards()).map((s) => [s.name, s.labels]),
    [
      ['alpha', {}],
      ['beta', { seeded: 'yes' }],
    ],
  );
  const first = await state();
  assert.equal(first.complete, true);
  const root = await seeded.getRoute('root');
  assert.ok(root !== undefined, 'routes written');
  const routeCount = () => seeded.client.hlen(seeded.keys.routes);
  const written = await routeCount();

  // Redis loses the table: nothing to go by but the indexer's own memory (and the seeds).
  await seeded.client.del(...Object.values(seeded.keys));
  indexer.refreshNow();
  await waitFor(
    async () => {
      const now = await state();
      return now.complete && now.generation !== first.generation;
    },
    { what: 'a new complete generation' },
  );
  assert.equal(await routeCount(), written, 'every route rewritten');
  assert.deepEqual((await seeded.getRoute('root'))?.shard, root.shard);
  assert.deepEqual(
    (await seeded.listShards()).map((s) => s.name),
    ['alpha', 'beta'],
  );
});

test('a shard that cannot be listed leaves a rebuilt table partial: replicas serve what is known and are ready, unknown workspaces stay 503', async (t) => {
  const config = { ...parseRedisUrl(redis.url), keyPrefix: 'partial:' };
  const partial = RedisRouteStore.connect(config);
  t.after(() => partial.close());
  const replica = new RedisRoutingTable({ redis: config });
  t.after(() => replica.close());
  await replica.waitUntilSynced();
  assert.equal(replica.ready(), false, 'nothing seeded yet: not ready');
  const seeds: Shard[] = [
    { name: 'alpha', url: a.url, state: 'active', labels: {} },
    { name: 'beta', url: b.url, state: 'active', labels: {} },
    { name: 'gone', url: 'https://127.0.0.1:9', state: 'active', labels: {} }, // nothing listens there
  ];
  const generation = redisTableGeneration(partial.client, partial.keys, seeds);
  const indexer = new Indexer({ store: partial, credentials, shardRefreshMs: 100_000, rebuildGraceMs: 200, generation });
  t.after(() => indexer.stop());
  await indexer.start();

  await waitFor(() => replica.ready(), { what: 'the replica ready once the table is partial' });
  const state = await readTableState(partial.client, partial.keys);
  assert.deepEqual([state.complete, state.serving], [false, true], 'partial');
  assert.ok(await replica.resolve('root'), 'what the listed shards hold is served');
  await assert.rejects(replica.resolve('root:nowhere'), (err: unknown) => isGatewayError(err) && err.code === 'ROUTING_UNAVAILABLE', 'unknown is not "does not exist" yet');

  // The shard leaves the registry: every shard left is listed, and unknown means unknown again.
  await partial.removeShard('gone', { force: true });
  indexer.refreshNow();
  await waitFor(async () => (await replica.resolve('root:nowhere').catch(() => 'unavailable')) === undefined, { what: 'the table complete' });
  assert.equal(replica.ready(), true);
});

test('a lease holder whose work fails to start (Redis failing right after the lease) tries again instead of rejecting unhandled', async (t) => {
  let attempts = 0;
  const lease = new LeaseRunner({
    client: store.client,
    keys: { ...store.keys, indexerLease: `${store.keys.indexerLease}-retry` },
    ttlMs: 150,
    holder: 'flaky',
    async run() {
      if (++attempts === 1) throw new Error('Reached the max retries per request limit (which is 1)');
      return { stop: async () => undefined };
    },
  });
  t.after(() => lease.stop());
  lease.start();
  await waitFor(() => lease.holding, { what: 'the work to start on the next round' });
  assert.equal(attempts, 2);
});
