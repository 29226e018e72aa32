// After a move, a list or watch presenting a resourceVersion from the shard the workspace left gets 410
// Expired at the edge; rv ""/"0", numbers the new shard issued, gets and an expired fence pass. A real
// Redis routing table with the fence a move leaves, an HTTPS shard whose counter stands at 300.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Gateway } from '../../src/gateway/server.ts';
import { parseRedisUrl } from '../../src/routing/redis-connection.ts';
import { RedisRoutingTable } from '../../src/routing/redis-routing-table.ts';
import { redisRoutesForFile } from './redis-routes-fixture.ts';
import { get, startTestGateway, startTestShard, type ShardHandler, type TestShard } from './fixtures.ts';

const shared = redisRoutesForFile();

/** Lists and watches answer with the shard's counter, 300; everything else echoes nothing much. */
const atThreeHundred: ShardHandler = (_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end('{"kind":"ConfigMapList","apiVersion":"v1","metadata":{"resourceVersion":"300"},"items":[]}');
};

const collection = (path: string) => `/clusters/${path}/api/v1/namespaces/default/configmaps`;

test('resourceVersions from before a move get 410 Expired at the edge for a while', async (t) => {
  const b: TestShard = await startTestShard(t, shared.pki, atThreeHundred);
  await shared.store.putShard({ name: 'shard-a', url: 'https://127.0.0.1:1', state: 'active', labels: {} });
  await shared.store.putShard({ name: 'shard-b', url: b.url, state: 'active', labels: {} });
  const until = Date.now() + 600_000;
  // Moved a → b: the target stood at 100 before the flip, the source ended at 500.
  for (const [path, fence] of [
    ['root:org:moved', { shard: 'shard-b', targetRV: '100', sourceRV: '500', until }],
    ['root:org:unknownsource', { shard: 'shard-b', targetRV: '100', until }],
    ['root:org:longago', { shard: 'shard-b', targetRV: '100', sourceRV: '500', until: Date.now() - 1 }],
    ['root:org:movedaway', { shard: 'shard-a', targetRV: '100', sourceRV: '500', until }],
  ] as const) {
    await shared.store.putRoute({ path, shard: 'shard-a', cluster: path.split(':')[2]!, phase: 'Ready' });
    assert.equal(await shared.store.setRouteFence(path, fence), true);
    await shared.store.putRoute({ path, shard: 'shard-b', cluster: path.split(':')[2]!, phase: 'Ready' });
  }
  assert.equal((await shared.store.getRoute('root:org:moved'))?.fence?.sourceRV, '500', 'the flip of the route kept its fence');
  const table = new RedisRoutingTable({ redis: parseRedisUrl(shared.redis.url) });
  t.after(() => table.close());
  await table.waitUntilSynced();
  const gateway: Gateway = await startTestGateway(t, shared.pki, table);

  const cases: [string, string, number][] = [
    ['list with no resourceVersion', `${collection('root:org:moved')}`, 200],
    ['list at rv 0', `${collection('root:org:moved')}?resourceVersion=0`, 200],
    ['list below the target', `${collection('root:org:moved')}?resourceVersion=50`, 410],
    ['watch below the target', `${collection('root:org:moved')}?watch=1&resourceVersion=99`, 410],
    ['legacy watch path below the target', `/clusters/root:org:moved/api/v1/watch/namespaces/default/configmaps?resourceVersion=99`, 410],
    ['watch at the target', `${collection('root:org:moved')}?watch=1&resourceVersion=100`, 200],
    ['watch above the source', `${collection('root:org:moved')}?watch=1&resourceVersion=501`, 200],
    ['watch between, reached by the target', `${collection('root:org:moved')}?watch=1&resourceVersion=300`, 200],
    ['watch between, not reached by the target', `${collection('root:org:moved')}?watch=1&resourceVersion=301`, 410],
    ['source unknown, above what the target reached', `${collection('root:org:unknownsource')}?resourceVersion=9000`, 410],
    ['source unknown, reached by the target', `${collection('root:org:unknownsource')}?resourceVersion=250`, 200],
    ['a get is not fenced', `${collection('root:org:moved')}/one?resourceVersion=50`, 200],
    ['a fence past its time', `${collection('root:org:longago')}?resourceVersion=50`, 200],
    ['a fence for another shard', `${collection('root:org:movedaway')}?resourceVersion=50`, 200],
  ];
  for (const [what, path, status] of cases) {
    const reply = await get(gateway, shared.pki, path, { headers: { accept: 'application/json' } });
    assert.equal(reply.status, status, `${what}: ${reply.body}`);
    if (status === 410) {
      const body = JSON.parse(reply.body) as { kind: string; reason: string; code: number; message: string };
      assert.deepEqual([body.kind, body.reason, body.code], ['Status', 'Expired', 410], what);
      assert.match(body.message, /too old resource version/);
    }
  }
  // The in-between cases asked the target, as the client, where its counter stands.
  const lookups = b.seen.filter((r) => r.url.endsWith('?limit=1'));
  assert.ok(lookups.length >= 3, `looked up ${lookups.length} times`);
  assert.ok(lookups.every((r) => r.headers['x-remote-user'] === 'alice' && r.url.startsWith('/clusters/')));
  const refused = b.seen.filter((r) => /^\/clusters\/(moved|unknownsource)\/.*resourceVersion=(50|99|301|9000)\b/.test(r.url) && !r.url.includes('/one?'));
  assert.deepEqual(
    refused.map((r) => r.url),
    [],
    'no refused resourceVersion reached the shard',
  );
});
