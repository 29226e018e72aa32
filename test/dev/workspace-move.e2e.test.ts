// What an operator sees with `kcp-edge dev --redis`: while kubectl reads and writes a project through
// the gateway and a `kubectl get cm -w` is open, `kcp-edge workspaces move` takes the project to the
// other shard. Reads never fail, every write lands, the watch ends cleanly, everything is on the target.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { startDevStack } from '../../src/dev/start.ts';
import { parseRedisUrl } from '../../src/routing/redis-connection.ts';
import { RedisRouteStore } from '../../src/routing/redis-route-store.ts';
import { startRedis } from '../helpers/redis.ts';
import { makeTempDir } from '../helpers/wait.ts';

const run = promisify(execFile);
const kubectlPath = '/usr/bin/kubectl';
const skip = existsSync(kubectlPath) ? false : `${kubectlPath} is not installed: the kubectl end-to-end tests need it`;

test('dev --redis: a project moves to shard-b under kubectl reads, writes and a watch', { skip }, async (t) => {
  await using tmp = await makeTempDir();
  await using redis = await startRedis();
  const stack = await startDevStack({ dir: tmp.dir, port: 0, redis: redis.url });
  t.after(() => stack.stop());
  const store = RedisRouteStore.connect(parseRedisUrl(redis.url));
  t.after(() => store.close());
  const path = 'root:org-acme:proj-frontend';
  assert.equal((await store.getRoute(path))?.shard, 'shard-a');
  const admin = join(tmp.dir, 'shard-admin.kubeconfig');
  await writeFile(admin, await stack.shards.get('shard-a')!.kubeconfig());

  const base = ['--kubeconfig', stack.files.kubeconfig, '--cache-dir', join(tmp.dir, 'kube-cache'), '--context', 'org-acme:proj-frontend', '--request-timeout=20s'];
  const kubectl = async (...args: string[]) => (await run(kubectlPath, [...base, ...args])).stdout;
  const apply = async (name: string) => {
    const file = join(tmp.dir, `${name}.yaml`);
    await writeFile(file, `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n  namespace: default\ndata:\n  k: "${name}"\n`);
    return kubectl('apply', '-f', file);
  };
  for (let i = 0; i < 20; i++) await apply(`before-${i}`);

  const watch = spawn(kubectlPath, [...base, 'get', 'cm', '-n', 'default', '-w', '-o', 'name'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let watched = '';
  watch.stdout.on('data', (c: Buffer) => (watched += c.toString()));
  const watchExit = new Promise<number | null>((resolve) => watch.on('exit', (code) => resolve(code)));
  t.after(() => watch.kill());

  // Reads and writes keep going while the move runs.
  let moving = true;
  let readFailures = 0;
  let reads = 0;
  const written: string[] = [];
  const loop = (async () => {
    for (let i = 0; moving; i++) {
      try {
        await kubectl('get', 'cm', '-n', 'default', '-o', 'name');
        reads++;
      } catch {
        readFailures++;
      }
      await apply(`during-${i}`);
      written.push(`during-${i}`);
    }
  })();
  const started = Date.now();
  const moved = await run(process.execPath, ['src/cli.ts', 'workspaces', 'move', path, '--to', 'shard-b', '--kubeconfig', admin], {
    env: { PATH: process.env.PATH ?? '', KCP_EDGE_REDIS_URL: redis.url },
  });
  const moveMs = Date.now() - started;
  assert.match(moved.stdout, /moved shard-a → shard-b/);
  await apply('after-move');
  moving = false;
  await loop;

  assert.equal(readFailures, 0, `${readFailures} failed reads of ${reads}`);
  const route = await store.getRoute(path);
  assert.deepEqual([route?.shard, route?.phase], ['shard-b', 'Ready']);
  const names = (await kubectl('get', 'cm', '-n', 'default', '-o', 'name')).split('\n');
  for (const name of ['before-0', 'before-19', ...written, 'after-move']) assert.ok(names.includes(`configmap/${name}`), `${name} is there after the move`);
  const onA = await stack.shards.get('shard-a')!.client();
  assert.equal(
    (await onA.request('GET', `/clusters/${route!.cluster}/api/v1/namespaces/default/configmaps`)).status === 200 &&
      (await onA.request<{ items: unknown[] }>('GET', `/clusters/${route!.cluster}/api/v1/namespaces/default/configmaps`)).body.items.length > 0,
    false,
    'nothing left on shard-a',
  );
  // The watch on shard-a was ended cleanly rather than left silent (kubectl get -w exits 0 then).
  assert.equal(await Promise.race([watchExit, new Promise((r) => setTimeout(() => r('open'), 5_000))]), 0, `watch output: ${watched}`);
  t.diagnostic(`move under load: ${moveMs} ms, ${reads} reads, ${written.length} writes during it`);
});
