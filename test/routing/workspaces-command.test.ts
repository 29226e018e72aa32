// `kcp-edge workspaces list`: where each workspace lives and its state, from a real Redis.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { MoveRecords } from '../../src/routing/move-record.ts';
import { parseRedisUrl } from '../../src/routing/redis-connection.ts';
import { RedisRouteStore } from '../../src/routing/redis-route-store.ts';
import { startRedis, type RedisServer } from '../helpers/redis.ts';

const execFileAsync = promisify(execFile);
let redis: RedisServer;
let store: RedisRouteStore;

before(async () => {
  redis = await startRedis();
  store = RedisRouteStore.connect(parseRedisUrl(redis.url));
  for (const name of ['shard-a', 'shard-b']) await store.putShard({ name, url: `https://${name}.invalid:6443`, state: 'active', labels: {} });
  await store.putRoute({ path: 'root:org-acme', shard: 'shard-a', cluster: 'orgacme', phase: 'Ready' });
  await store.putRoute({ path: 'root:org-acme:proj-frontend', shard: 'shard-a', cluster: 'frontend', phase: 'Ready' });
  await store.putRoute({ path: 'root:org-acme:proj-backend', shard: 'shard-b', cluster: 'backend', phase: 'Unavailable' });
  const now = new Date().toISOString();
  await new MoveRecords(store.client, store.keys).put({
    path: 'root:org-acme:proj-frontend',
    cluster: 'frontend',
    from: 'shard-a',
    to: 'shard-b',
    phase: 'copying',
    startedAt: now,
    updatedAt: now,
  });
});
after(async () => {
  await store.close();
  await redis[Symbol.asyncDispose]();
});

async function cli(args: string[]): Promise<string> {
  const { stdout } = await execFileAsync(process.execPath, ['src/cli.ts', ...args], { env: { PATH: process.env.PATH ?? '', KCP_EDGE_REDIS_URL: redis.url } });
  return stdout;
}

test('workspaces list shows where each workspace lives and its state, a move included', async () => {
  const table = (await cli(['workspaces', 'list'])).trim().split('\n');
  assert.match(table[0]!, /^PATH\s+SHARD\s+CLUSTER\s+STATE$/);
  assert.match(table[1]!, /^root:org-acme\s+shard-a\s+orgacme\s+active$/);
  assert.match(table[2]!, /^root:org-acme:proj-backend\s+shard-b\s+backend\s+unavailable$/);
  assert.match(table[3]!, /^root:org-acme:proj-frontend\s+shard-a\s+frontend\s+moving \(copying → shard-b\)$/);

  const onB = JSON.parse(await cli(['workspaces', 'list', '--shard', 'shard-b', '-o', 'json'])) as { path: string }[];
  assert.deepEqual(
    onB.map((w) => w.path),
    ['root:org-acme:proj-backend'],
  );
});
