// What an operator sees with `kcp-edge dev --redis`: while kubectl reads and writes a project through
// the gateway and a `kubectl get cm -w` is open, `kcp-edge workspaces move` takes the project to the
// other shard. Reads never fail, every write lands, the watch goes on across the cutover and sees what
// changes later, everything is on the target.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { startDevStack } from '../../src/dev/start.ts';
import { Reflector } from '../../src/kube/reflector.ts';
import { RestClient } from '../../src/kube/rest-client.ts';
import { parseRedisUrl } from '../../src/routing/redis-connection.ts';
import { RedisRouteStore } from '../../src/routing/redis-route-store.ts';
import { startRedis } from '../helpers/redis.ts';
import { makeTempDir, waitFor } from '../helpers/wait.ts';

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

  // Two watches: one of plain JSON objects (-o name), one of Table rows (kubectl's default printing).
  const startWatch = (...args: string[]) => {
    const child = spawn(kubectlPath, [...base, 'get', 'cm', '-n', 'default', '-w', '--output-watch-events', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const watch = { child, out: '', exit: new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code))) };
    child.stdout.on('data', (c: Buffer) => (watch.out += c.toString()));
    t.after(() => child.kill());
    return watch;
  };
  const named = startWatch('-o', 'name');
  const table = startWatch();
  // And a client-go style reflector over HTTP/1.1 (kubectl speaks HTTP/2), with alice's token.
  const alice = stack.users.find((u) => u.name === 'alice')!;
  const client = new RestClient({ server: `${stack.url}/clusters/${path}`, token: alice.token, caPem: stack.ca!.certPem });
  t.after(() => client.close());
  const gone: string[] = [];
  const reflector = new Reflector({
    client,
    path: '/api/v1/namespaces/default/configmaps',
    keyOf: (o) => o.metadata.name ?? '',
    onChange: (key, object) => void (object === undefined && gone.push(key)),
  });
  reflector.start();
  t.after(() => reflector.stop());
  await waitFor(() => named.out.includes('configmap/before-19') && table.out.includes('before-19') && reflector.synced, { what: 'the watches to list what is there' });

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
  // The watches were carried over to shard-b: still running, they print what was created after the cutover.
  await waitFor(() => named.out.includes('configmap/after-move') && /ADDED +after-move/.test(table.out), {
    what: 'the watches to print after-move',
    // Generous: the whole stack shares two loaded cores with kubectl.
    timeoutMs: 30_000,
  }).catch((err: unknown) => assert.fail(`${String(err)}\n-o name watch:\n${named.out}\ntable watch:\n${table.out}`));
  for (const w of [named, table]) assert.equal(w.child.exitCode, null, 'kubectl get -w is still running');
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
  await apply('later');
  await waitFor(() => named.out.includes('configmap/later') && /ADDED +later/.test(table.out), { what: 'the watches to print a later change', timeoutMs: 30_000 }).catch(
    (err: unknown) => assert.fail(`${String(err)}\n-o name watch:\n${named.out}\ntable watch:\n${table.out}`),
  );
  // The reflector's cache is what shard-b holds: same objects, shard-b's uids and resourceVersions.
  const truth = async () =>
    (await client.list('/api/v1/namespaces/default/configmaps')).items.map((o) => `${o.metadata.name} ${o.metadata.uid} ${o.metadata.resourceVersion}`).sort();
  const expected = await truth();
  const cached = () => [...reflector.store.values()].map((o) => `${o.metadata.name} ${o.metadata.uid} ${o.metadata.resourceVersion}`).sort();
  await waitFor(() => JSON.stringify(cached()) === JSON.stringify(expected), { what: "the reflector's cache to match shard-b" }).catch(() => assert.deepEqual(cached(), expected));
  assert.deepEqual(gone, [], 'the reflector saw no object go away');
  for (const w of [named, table]) {
    assert.equal(w.child.exitCode, null, 'kubectl get -w is still running');
    // The source's copy went after the cutover: a client carried over must not hear of it as deletions.
    assert.doesNotMatch(w.out, /DELETED/, w.out);
    w.child.kill();
    await w.exit;
  }
  t.diagnostic(`move under load: ${moveMs} ms, ${reads} reads, ${written.length} writes during it`);
});
