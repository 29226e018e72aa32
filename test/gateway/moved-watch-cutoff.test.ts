// A watch open on the shard a workspace left, which the edge cannot carry on (here the new shard's list
// has no resourceVersion to watch from), ends once the route names another shard, so its client
// re-watches where the workspace is now. A real Redis routing table, two HTTPS shards.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRedisUrl } from '../../src/routing/redis-connection.ts';
import { RedisRoutingTable } from '../../src/routing/redis-routing-table.ts';
import { waitFor } from '../helpers/wait.ts';
import { redisRoutesForFile } from './redis-routes-fixture.ts';
import { get, startTestGateway, startTestShard, type ShardHandler } from './fixtures.ts';

const shared = redisRoutesForFile();

/** Watches get one event and then stay open, as on a quiet collection; other requests an empty list. */
const quietWatch: ShardHandler = (req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  if ((req.url ?? '').includes('watch=1')) res.write(`${JSON.stringify({ type: 'ADDED', object: { kind: 'ConfigMap', metadata: { name: 'a', resourceVersion: '7' } } })}\n`);
  else res.end('{"kind":"ConfigMapList","items":[]}');
};

test('watches on the shard a workspace moved off end cleanly; watches elsewhere stay', async (t) => {
  const a = await startTestShard(t, shared.pki, quietWatch);
  const b = await startTestShard(t, shared.pki, quietWatch);
  await shared.store.putShard({ name: 'shard-a', url: a.url, state: 'active', labels: {} });
  await shared.store.putShard({ name: 'shard-b', url: b.url, state: 'active', labels: {} });
  await shared.store.putRoute({ path: 'root:org:web', shard: 'shard-a', cluster: 'webcluster', phase: 'Ready' });
  await shared.store.putRoute({ path: 'root:org:api', shard: 'shard-a', cluster: 'apicluster', phase: 'Ready' });
  const table = new RedisRoutingTable({ redis: parseRedisUrl(shared.redis.url) });
  t.after(() => table.close());
  await table.waitUntilSynced();
  const gateway = await startTestGateway(t, shared.pki, table);

  let webEnded = false;
  let apiEnded = false;
  let answered = 0;
  const onHead = () => (answered += 1);
  const web = get(gateway, shared.pki, '/clusters/root:org:web/api/v1/namespaces/default/configmaps?watch=1', { onHead }).finally(() => (webEnded = true));
  const api = get(gateway, shared.pki, '/clusters/root:org:api/api/v1/namespaces/default/configmaps?watch=1', { onHead }).finally(() => (apiEnded = true));
  // Both answered by shard-a: a watch the route leaves before its answer started is another case (below).
  await waitFor(() => answered === 2, { what: 'both watches open on shard-a and answered' });

  await shared.store.putRoute({ path: 'root:org:web', shard: 'shard-b', cluster: 'webcluster', phase: 'Ready' });
  await waitFor(() => webEnded, { what: "the moved workspace's watch to end", timeoutMs: 5_000 });
  const reply = await web;
  assert.equal(reply.status, 200);
  assert.match(reply.body, /"ADDED"/, 'ended cleanly, after what it had sent');
  assert.equal(apiEnded, false, 'a watch on a workspace that stayed is left alone');

  // The client's re-watch goes to the new shard.
  const again = get(gateway, shared.pki, '/clusters/root:org:web/api/v1/namespaces/default/configmaps?watch=1');
  await waitFor(() => b.seen.some((r) => r.url.includes('watch=1')), { what: 're-watch on shard-b' });
  await gateway.close();
  await Promise.allSettled([again, api]);
});

// Before, such a client got no answer at all: bounded, so that shows as a failure rather than a hang.
test('a watch whose workspace moves before its shard answered gets a 503 Status to retry on, not a closed connection', { timeout: 20_000 }, async (t) => {
  // Shard-a takes the watch and never answers it.
  const a = await startTestShard(t, shared.pki, (req, res) => {
    if (!(req.url ?? '').includes('watch=1')) res.writeHead(200, { 'content-type': 'application/json' }).end('{"kind":"ConfigMapList","items":[]}');
  });
  const b = await startTestShard(t, shared.pki, quietWatch);
  await shared.store.putShard({ name: 'shard-c', url: a.url, state: 'active', labels: {} });
  await shared.store.putShard({ name: 'shard-d', url: b.url, state: 'active', labels: {} });
  await shared.store.putRoute({ path: 'root:org:slow', shard: 'shard-c', cluster: 'slowcluster', phase: 'Ready' });
  const table = new RedisRoutingTable({ redis: parseRedisUrl(shared.redis.url) });
  t.after(() => table.close());
  await table.waitUntilSynced();
  const gateway = await startTestGateway(t, shared.pki, table);

  const watch = get(gateway, shared.pki, '/clusters/root:org:slow/api/v1/namespaces/default/configmaps?watch=1');
  await waitFor(() => a.seen.some((r) => r.url.includes('watch=1')), { what: 'the watch to reach shard-c' });
  await shared.store.putRoute({ path: 'root:org:slow', shard: 'shard-d', cluster: 'slowcluster', phase: 'Ready' });
  const reply = await watch;
  assert.equal(reply.status, 503);
  assert.equal(reply.headers['retry-after'], '1');
  const status = JSON.parse(reply.body) as { kind: string; reason: string; message: string };
  assert.equal(status.kind, 'Status');
  assert.equal(status.reason, 'ServiceUnavailable');
  assert.match(status.message, /ended before the shard answered/);
  await gateway.close();
});
