// `kcp-edge dev --redis`: the stack routes through the shared Redis table, and a workspace created
// through the gateway with kubectl becomes reachable by its path once the indexer has seen it.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { startDevStack } from '../../src/dev/start.ts';
import { parseRedisUrl } from '../../src/routing/redis-connection.ts';
import { RedisRouteStore } from '../../src/routing/redis-route-store.ts';
import { startRedis } from '../helpers/redis.ts';
import { makeTempDir, waitFor } from '../helpers/wait.ts';

const run = promisify(execFile);
const kubectlPath = '/usr/bin/kubectl';
const skip = existsSync(kubectlPath) ? false : `${kubectlPath} is not installed: the kubectl end-to-end tests need it`;

test('dev --redis: a workspace created through the gateway is routed by the indexer', { skip }, async (t) => {
  await using tmp = await makeTempDir();
  await using redis = await startRedis();
  const stack = await startDevStack({ dir: tmp.dir, port: 0, redis: redis.url });
  t.after(() => stack.stop());
  const store = RedisRouteStore.connect(parseRedisUrl(redis.url));
  t.after(() => store.close());
  assert.equal((await store.getRoute('root:org-acme:proj-frontend'))?.shard, 'shard-a');

  const kubectl = async (...args: string[]) =>
    (
      await run(kubectlPath, [
        '--kubeconfig',
        stack.files.kubeconfig,
        '--cache-dir',
        join(tmp.dir, 'kube-cache'),
        '--context',
        'org-acme:proj-frontend',
        '--request-timeout=10s',
        ...args,
      ])
    ).stdout;
  assert.match(await kubectl('get', 'namespaces', '-o', 'name'), /namespace\/default/);

  const manifest = join(tmp.dir, 'team.yaml');
  await writeFile(manifest, 'apiVersion: tenancy.kcp.io/v1alpha1\nkind: Workspace\nmetadata:\n  name: team\nspec: {}\n');
  assert.match(await kubectl('create', '-f', manifest), /created/);
  // Initializing first (routed as Unavailable: 503 + Retry-After), then Ready.
  const route = await waitFor(
    async () => {
      const r = await store.getRoute('root:org-acme:proj-frontend:team');
      return r?.phase === 'Ready' ? r : undefined;
    },
    { what: 'the indexer to route the new workspace as Ready' },
  );
  assert.ok(route.shard === 'shard-a' || route.shard === 'shard-b');
  const server = (await kubectl('config', 'view', '--minify', '-o', 'jsonpath={.clusters[0].cluster.server}')).replace(/\/clusters\/.*$/, '');
  assert.match(await kubectl('--server', `${server}/clusters/root:org-acme:proj-frontend:team`, 'get', 'namespaces', '-o', 'name'), /namespace\/default/);
});
