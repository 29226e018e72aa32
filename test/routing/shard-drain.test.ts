// `kcp-edge shards drain`: every workspace on a stand-in shard moves to the other shards, deepest first,
// a move left half-done by an earlier run is resumed, and the shard is cordoned in kcp.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { parseRedisUrl } from '../../src/routing/redis-connection.ts';
import { RedisRouteStore } from '../../src/routing/redis-route-store.ts';
import { moveWorkspace } from '../../src/routing/workspace-move.ts';
import { connectShards, createCertificateAuthority, createWorkspace, startShard, type ApiClient, type SimShard } from '../../src/sim/index.ts';
import { startRedis, type RedisServer } from '../helpers/redis.ts';
import { makeTempDir } from '../helpers/wait.ts';

const execFileAsync = promisify(execFile);
let redis: RedisServer;
let store: RedisRouteStore;
let shards: SimShard[];
let apiA: ApiClient;
let tmp: Awaited<ReturnType<typeof makeTempDir>>;
let kubeconfig: string;

before(async () => {
  const ca = await createCertificateAuthority('kcp-ca');
  let a: SimShard, b: SimShard, c: SimShard;
  [redis, a, b, c, tmp] = await Promise.all([startRedis(), startShard({ name: 'alpha', ca }), startShard({ name: 'beta', ca }), startShard({ name: 'gamma', ca }), makeTempDir()]);
  shards = [a, b, c];
  connectShards(a, b, c);
  store = RedisRouteStore.connect(parseRedisUrl(redis.url));
  apiA = await a.client();
  for (const s of shards) await store.putShard({ name: s.name, url: s.url, state: 'active', labels: s.labels });
  await store.putRoute({ path: 'root', shard: 'alpha', cluster: 'root', phase: 'Ready' });
  kubeconfig = join(tmp.dir, 'admin.kubeconfig');
  await writeFile(kubeconfig, await a.kubeconfig());
});
after(async () => {
  await store.close();
  await Promise.all(shards.map((s) => s.close()));
  await redis[Symbol.asyncDispose]();
  await tmp[Symbol.asyncDispose]();
});

async function onAlpha(parent: { path: string; cluster: string }, name: string, configMaps: number): Promise<{ path: string; cluster: string }> {
  const ws = await createWorkspace(apiA, parent.path, name, { shard: 'alpha' });
  await store.putRoute({ path: ws.path, shard: 'alpha', cluster: ws.cluster, phase: 'Ready' });
  for (let i = 0; i < configMaps; i++) {
    const res = await apiA.request('POST', `/clusters/${ws.cluster}/api/v1/namespaces/default/configmaps`, { body: { metadata: { name: `cm-${i}` }, data: { i: String(i) } } });
    assert.equal(res.status, 201, res.text);
  }
  return ws;
}

test('drain moves every workspace off the shard in waves, resuming a move an earlier run left', async () => {
  const root = { path: 'root', cluster: 'root' };
  const org = await onAlpha(root, 'org', 3);
  const child = await onAlpha(org, 'child', 3);
  const w1 = await onAlpha(root, 'w1', 10);
  await onAlpha(root, 'w2', 3);
  // An earlier run died copying w1 to gamma.
  const credentials = { ...(await shards[0]!.issueClientCertificate('kcp-edge-mover', ['system:masters'])), caPem: shards[0]!.caPem };
  await assert.rejects(
    moveWorkspace({
      store,
      credentials,
      path: w1.path,
      to: 'gamma',
      onProgress: ({ copied }) => {
        if (copied >= 3) throw new Error('killed');
      },
    }),
    /killed/,
  );

  const { stdout } = await execFileAsync(process.execPath, ['src/cli.ts', 'shards', 'drain', 'alpha', '--parallel', '2', '--kubeconfig', kubeconfig], {
    env: { PATH: process.env.PATH ?? '', KCP_EDGE_REDIS_URL: redis.url },
  });
  const lines = stdout.trim().split('\n');
  // Deepest first: the child goes before its parent's wave.
  const order = lines
    .filter((l) => l.includes(': moved'))
    .map((l) =>
      l
        .split(':')
        .slice(0, -1)
        .join(':')
        .replace(/: moved.*/, ''),
    );
  assert.equal(order.length, 4, stdout);
  assert.ok(lines[0]!.startsWith(`${child.path}: moved alpha → `), stdout);
  assert.ok(
    lines.some((l) => l.startsWith(`${w1.path}: moved alpha → gamma`)),
    `w1 resumed to gamma:\n${stdout}`,
  );
  assert.match(lines.at(-1)!, /shard alpha draining: 4 moved, 0 failed; kept root/);

  const left: string[] = [];
  for await (const r of store.listRoutes({ shard: 'alpha' })) left.push(r.path);
  assert.deepEqual(left, ['root']);
  assert.equal((await store.getShard('alpha'))?.state, 'draining');
  const alphaShard = await apiA.request<{ metadata: { labels?: Record<string, string> } }>('GET', '/clusters/root/apis/core.kcp.io/v1alpha1/shards/alpha');
  assert.equal(alphaShard.body.metadata.labels?.['scheduling.kcp-edge.io/cordoned'], 'true');

  // The child's Workspace (inside org, which moved after it) points at where the child is now.
  const orgRoute = (await store.getRoute(org.path))!;
  const childRoute = (await store.getRoute(child.path))!;
  const orgShard = shards.find((s) => s.name === orgRoute.shard)!;
  const childWs = await (
    await orgShard.client()
  ).request<{ metadata: { annotations?: Record<string, string> } }>('GET', `/clusters/${org.cluster}/apis/tenancy.kcp.io/v1alpha1/workspaces/child`);
  assert.equal(childWs.body.metadata.annotations?.['internal.tenancy.kcp.io/shard'], childRoute.shard);
  // Nothing of them is left on alpha.
  for (const ws of [org, child, w1]) {
    assert.equal((await apiA.request('GET', `/clusters/${ws.cluster}/apis/core.kcp.io/v1alpha1/logicalclusters/cluster`)).status, 404, ws.path);
  }
});
