// Shards found where kcp lists them: the Shard objects in the root workspace of the root shard. Two
// stand-in shards and a real Redis; the indexer is told only where the root shard is.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Indexer } from '../../src/routing/indexer.ts';
import { parseRedisUrl } from '../../src/routing/redis-connection.ts';
import { RedisRouteStore } from '../../src/routing/redis-route-store.ts';
import { connectShards, createCertificateAuthority, createWorkspace, startShard, type ApiClient, type CertificateAuthority, type SimShard } from '../../src/sim/index.ts';
import { startRedis, type RedisServer } from '../helpers/redis.ts';
import { waitFor } from '../helpers/wait.ts';

let redis: RedisServer;
let store: RedisRouteStore;
let ca: CertificateAuthority;
let a: SimShard;
let b: SimShard;
let apiA: ApiClient;
let credentials: { certPem: string; keyPem: string; caPem: string };

before(async () => {
  ca = await createCertificateAuthority('kcp-ca');
  [redis, a, b] = await Promise.all([startRedis(), startShard({ name: 'alpha', ca }), startShard({ name: 'beta', ca, labels: { name: 'beta', region: 'eu' } })]);
  connectShards(a, b);
  store = RedisRouteStore.connect(parseRedisUrl(redis.url));
  apiA = await a.client();
  credentials = { ...(await a.issueClientCertificate('kcp-edge-indexer', ['system:masters'])), caPem: ca.certPem };
});
after(async () => {
  await store.close();
  await Promise.all([a.close(), b.close()]);
  await redis[Symbol.asyncDispose]();
});

async function shardNames(): Promise<string[]> {
  return (await store.listShards()).map((s) => s.name).sort();
}

test('the stand-in serves a Shard object in root for itself and every shard it knows', async () => {
  const res = await apiA.request<{ items: { metadata: { name: string; labels?: Record<string, string> }; spec: { baseURL: string; externalURL: string } }[] }>(
    'GET',
    '/clusters/root/apis/core.kcp.io/v1alpha1/shards',
  );
  assert.equal(res.status, 200, res.text);
  const byName = new Map(res.body.items.map((s) => [s.metadata.name, s]));
  assert.deepEqual([...byName.keys()].sort(), ['alpha', 'beta']);
  assert.equal(byName.get('alpha')?.spec.baseURL, a.url);
  assert.equal(byName.get('beta')?.spec.externalURL, b.url);
  assert.deepEqual(byName.get('beta')?.metadata.labels, { name: 'beta', region: 'eu' });
});

test('shards come from kcp: no `shards add`, a Redis that restarted empty gets them back, new shards join', async (t) => {
  // One the operator added by hand, which kcp does not list: it stays.
  await store.putShard({ name: 'manual', url: 'https://manual.invalid:6443', state: 'active', labels: {} });
  assert.deepEqual(await shardNames(), ['manual']);

  const indexer = new Indexer({ store, credentials, rootShard: { url: a.url, caPem: ca.certPem }, shardRefreshMs: 100 });
  t.after(() => indexer.stop());
  await indexer.start();
  const beta = await store.getShard('beta');
  assert.equal(beta?.url, b.url);
  assert.deepEqual(beta?.labels, { name: 'beta', region: 'eu' });
  assert.equal(beta?.state, 'active');

  // Discovered shards are watched like registered ones: a workspace on beta becomes a route.
  await createWorkspace(apiA, 'root', 'found', { shard: 'beta' });
  await waitFor(async () => (await store.getRoute('root:found'))?.shard === 'beta', { what: 'root:found routed to beta' });

  // Redis loses everything (restarted without persistence): the shard list rebuilds itself.
  await redis.stop();
  await redis.start();
  await waitFor(async () => (await shardNames().catch(() => [])).join() === 'alpha,beta', { what: 'shards rebuilt after the Redis restart', timeoutMs: 15_000 });

  // A new shard registers with kcp (its Shard object in root): it is routed to without being added.
  const c = await startShard({ name: 'gamma', ca });
  t.after(() => c.close());
  connectShards(a, b, c);
  await waitFor(async () => (await store.getShard('gamma'))?.url === c.url, { what: 'gamma discovered' });
  await createWorkspace(apiA, 'root', 'later', { shard: 'gamma' });
  await waitFor(async () => (await store.getRoute('root:later'))?.shard === 'gamma', { what: 'root:later routed to gamma' });
});
