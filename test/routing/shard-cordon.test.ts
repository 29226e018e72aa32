// `kcp-edge shards cordon|uncordon` acts where kcp schedules: a label on kcp's Shard object, which the
// stand-in's workspace scheduler honours (Workspace spec.location.selector against Shard labels, less
// the cordoned shards), and the routing table's state follows.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { parseRedisUrl } from '../../src/routing/redis-connection.ts';
import { RedisRouteStore } from '../../src/routing/redis-route-store.ts';
import { connectShards, createCertificateAuthority, startShard, type ApiClient, type SimShard } from '../../src/sim/index.ts';
import { startRedis, type RedisServer } from '../helpers/redis.ts';
import { makeTempDir, waitFor } from '../helpers/wait.ts';

const execFileAsync = promisify(execFile);
const cordonLabel = 'scheduling.kcp-edge.io/cordoned';
let redis: RedisServer;
let store: RedisRouteStore;
let a: SimShard;
let b: SimShard;
let apiA: ApiClient;
let apiB: ApiClient;
let tmp: Awaited<ReturnType<typeof makeTempDir>>;
let kubeconfig: string;

before(async () => {
  const ca = await createCertificateAuthority('kcp-ca');
  [redis, a, b, tmp] = await Promise.all([
    startRedis(),
    startShard({ name: 'alpha', ca, labels: { name: 'alpha', tier: 'gold' } }),
    startShard({ name: 'beta', ca, labels: { name: 'beta', tier: 'gold' } }),
    makeTempDir(),
  ]);
  connectShards(a, b);
  store = RedisRouteStore.connect(parseRedisUrl(redis.url));
  [apiA, apiB] = await Promise.all([a.client(), b.client()]);
  for (const s of [a, b]) await store.putShard({ name: s.name, url: s.url, state: 'active', labels: s.labels });
  kubeconfig = join(tmp.dir, 'root.kubeconfig');
  await writeFile(kubeconfig, await a.kubeconfig());
});
after(async () => {
  await store.close();
  await Promise.all([a.close(), b.close()]);
  await redis[Symbol.asyncDispose]();
  await tmp[Symbol.asyncDispose]();
});

async function shards(verb: string, name: string): Promise<string> {
  const { stdout } = await execFileAsync(process.execPath, ['src/cli.ts', 'shards', verb, name, '--kubeconfig', kubeconfig], {
    env: { PATH: process.env.PATH ?? '', KCP_EDGE_REDIS_URL: redis.url },
  });
  return stdout;
}

const shardPath = (name: string) => `/clusters/root/apis/core.kcp.io/v1alpha1/shards/${name}`;
const wsPath = (name = '') => `/clusters/root/apis/tenancy.kcp.io/v1alpha1/workspaces${name === '' ? '' : `/${name}`}`;

async function labelsOf(api: ApiClient, shard: string): Promise<Record<string, string>> {
  const res = await api.request<{ metadata: { labels?: Record<string, string> } }>('GET', shardPath(shard));
  assert.equal(res.status, 200, res.text);
  return res.body.metadata.labels ?? {};
}

async function createGold(name: string): Promise<void> {
  const body = { apiVersion: 'tenancy.kcp.io/v1alpha1', kind: 'Workspace', metadata: { name }, spec: { location: { selector: { matchLabels: { tier: 'gold' } } } } };
  const res = await apiA.request('POST', wsPath(), { body });
  assert.equal(res.status, 201, res.text);
}

async function placed(name: string): Promise<{ phase?: string; url?: string }> {
  const res = await apiA.request<{ spec?: { URL?: string }; status?: { phase?: string } }>('GET', wsPath(name));
  return { ...(res.body.status?.phase === undefined ? {} : { phase: res.body.status.phase }), ...(res.body.spec?.URL === undefined ? {} : { url: res.body.spec.URL }) };
}

test('a cordoned shard takes no new workspaces, in kcp and in the routing table; uncordon undoes it', async () => {
  assert.match(await shards('cordon', 'alpha'), /shard alpha cordoned/);
  assert.equal((await labelsOf(apiA, 'alpha'))[cordonLabel], 'true');
  assert.equal((await store.getShard('alpha'))?.state, 'cordoned');
  // Every shard's scheduler sees it (kcp shares Shard objects between shards).
  await waitFor(async () => (await labelsOf(apiB, 'alpha'))[cordonLabel] === 'true', { what: "the cordon on beta's copy" });

  // Both shards match the selector; alpha (where the parent lives) would be chosen, but it is cordoned.
  await createGold('first');
  const first = await waitFor(async () => ((await placed('first')).phase === 'Ready' ? placed('first') : undefined), { what: 'first Ready' });
  assert.ok(first.url?.startsWith(`${b.url}/clusters/`), `first went to ${first.url}`);

  // Nothing left to place on: the workspace waits in Scheduling, as kcp's does.
  await shards('cordon', 'beta');
  await waitFor(async () => (await labelsOf(apiA, 'beta'))[cordonLabel] === 'true', { what: 'beta cordoned' });
  await createGold('second');
  await waitFor(async () => (await placed('second')).phase === 'Scheduling', { what: 'second unschedulable' });
  assert.equal((await placed('second')).url, undefined);

  // Uncordoned: the label goes, the state is active again, and the waiting workspace is placed.
  assert.match(await shards('uncordon', 'alpha'), /shard alpha active/);
  assert.equal((await labelsOf(apiA, 'alpha'))[cordonLabel], undefined);
  assert.equal((await store.getShard('alpha'))?.state, 'active');
  const second = await waitFor(async () => ((await placed('second')).phase === 'Ready' ? placed('second') : undefined), { what: 'second Ready', timeoutMs: 20_000 });
  assert.ok(second.url?.startsWith(`${a.url}/clusters/`), `second went to ${second.url}`);
});
