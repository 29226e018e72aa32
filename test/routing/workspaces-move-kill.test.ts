// `kcp-edge workspaces move` killed with SIGKILL in the middle of its copy: re-running it finishes the
// move; `--abort` instead rolls it back. Real processes, a real Redis, two stand-in shards.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { MoveRecords } from '../../src/routing/move-record.ts';
import { parseRedisUrl } from '../../src/routing/redis-connection.ts';
import { RedisRouteStore } from '../../src/routing/redis-route-store.ts';
import { connectShards, createCertificateAuthority, createWorkspace, startShard, type ApiClient, type SimShard } from '../../src/sim/index.ts';
import { startRedis, type RedisServer } from '../helpers/redis.ts';
import { makeTempDir, waitFor } from '../helpers/wait.ts';

const execFileAsync = promisify(execFile);
let redis: RedisServer;
let store: RedisRouteStore;
let a: SimShard;
let b: SimShard;
let apiA: ApiClient;
let apiB: ApiClient;
let tmp: Awaited<ReturnType<typeof makeTempDir>>;
let kubeconfig: string;
const objects = 200;

before(async () => {
  const ca = await createCertificateAuthority('kcp-ca');
  [redis, a, b, tmp] = await Promise.all([startRedis(), startShard({ name: 'alpha', ca }), startShard({ name: 'beta', ca }), makeTempDir()]);
  connectShards(a, b);
  store = RedisRouteStore.connect(parseRedisUrl(redis.url));
  [apiA, apiB] = await Promise.all([a.client(), b.client()]);
  for (const s of [a, b]) await store.putShard({ name: s.name, url: s.url, state: 'active', labels: s.labels });
  await store.putRoute({ path: 'root', shard: 'alpha', cluster: 'root', phase: 'Ready' });
  kubeconfig = join(tmp.dir, 'admin.kubeconfig');
  await writeFile(kubeconfig, await a.kubeconfig());
});
after(async () => {
  await store.close();
  await Promise.all([a.close(), b.close()]);
  await redis[Symbol.asyncDispose]();
  await tmp[Symbol.asyncDispose]();
});

const env = () => ({ PATH: process.env.PATH ?? '', KCP_EDGE_REDIS_URL: redis.url });
const cms = (cluster: string) => `/clusters/${cluster}/api/v1/namespaces/default/configmaps`;
const count = async (api: ApiClient, cluster: string) => {
  const res = await api.request<{ items?: unknown[] }>('GET', cms(cluster));
  return res.status === 200 ? (res.body.items?.length ?? 0) : -1;
};

async function workspaceWith(name: string): Promise<{ path: string; cluster: string }> {
  const ws = await createWorkspace(apiA, 'root', name, { shard: 'alpha' });
  await store.putRoute({ path: ws.path, shard: 'alpha', cluster: ws.cluster, phase: 'Ready' });
  await Promise.all(
    Array.from({ length: 8 }, async (_, w) => {
      for (let i = w; i < objects; i += 8) {
        const res = await apiA.request('POST', cms(ws.cluster), { body: { metadata: { name: `cm-${i}` }, data: { i: String(i) } } });
        assert.equal(res.status, 201, res.text);
      }
    }),
  );
  return ws;
}

/** Starts a move and SIGKILLs it once part of the copy is on the target. */
async function killMidCopy(path: string, cluster: string): Promise<void> {
  const child = spawn(process.execPath, ['src/cli.ts', 'workspaces', 'move', path, '--to', 'beta', '--kubeconfig', kubeconfig], { env: env(), stdio: 'ignore' });
  const exited = once(child, 'exit');
  await waitFor(async () => (await count(apiB, cluster)) >= 20, { what: 'the copy under way', timeoutMs: 20_000, intervalMs: 5 });
  child.kill('SIGKILL');
  await exited;
  const copied = await count(apiB, cluster);
  assert.ok(copied < objects, `killed mid-copy (${copied} of ${objects} on the target)`);
  assert.equal((await new MoveRecords(store.client, store.keys).get(path))?.phase, 'copying');
  // Killed in the bulk of the copy, while the source still takes writes.
  assert.deepEqual(await store.getRoute(path).then((r) => [r?.shard, r?.phase]), ['alpha', 'Ready']);
}

test('kill -9 mid-copy, then re-run: the move finishes with everything on the target', async () => {
  const { path, cluster } = await workspaceWith('killed-resumed');
  await killMidCopy(path, cluster);
  const { stdout } = await execFileAsync(process.execPath, ['src/cli.ts', 'workspaces', 'move', path, '--kubeconfig', kubeconfig], { env: env() });
  assert.match(stdout, /moved alpha → beta/);
  assert.equal(await count(apiB, cluster), objects);
  assert.equal((await apiA.request('GET', `/clusters/${cluster}/apis/core.kcp.io/v1alpha1/logicalclusters/cluster`)).status, 404, 'nothing left on alpha');
});

test('kill -9 mid-copy, then --abort: the source serves again, the target copy is gone', async () => {
  const { path, cluster } = await workspaceWith('killed-aborted');
  await killMidCopy(path, cluster);
  const { stdout } = await execFileAsync(process.execPath, ['src/cli.ts', 'workspaces', 'move', path, '--abort', '--kubeconfig', kubeconfig], { env: env() });
  assert.match(stdout, /move to beta aborted/);
  assert.deepEqual(await store.getRoute(path).then((r) => [r?.shard, r?.phase]), ['alpha', 'Ready']);
  assert.equal(await count(apiA, cluster), objects);
  assert.equal((await apiB.request('GET', `/clusters/${cluster}/apis/core.kcp.io/v1alpha1/logicalclusters/cluster`)).status, 404);
});
