// A watch open when its workspace moves goes on in the same stream, over HTTP/1.1 and HTTP/2: the edge
// lists the collection on the new shard and on the old one (what the client has seen), sends the new
// shard's objects (MODIFIED, or ADDED when the old one lacked them), DELETED for what only the old one
// holds and a bookmark, then follows the new shard's watch from the list's resourceVersion. A watch
// caught in the middle of an event is ended.
// A real Redis routing table, two HTTPS shards.
import assert from 'node:assert/strict';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:http2';
import { test, type TestContext } from 'node:test';
import { parseRedisUrl } from '../../src/routing/redis-connection.ts';
import { RedisRoutingTable } from '../../src/routing/redis-routing-table.ts';
import type { Gateway } from '../../src/gateway/server.ts';
import { waitFor } from '../helpers/wait.ts';
import { redisRoutesForFile } from './redis-routes-fixture.ts';
import { startTestGateway, startTestShard, type ShardHandler } from './fixtures.ts';

const shared = redisRoutesForFile();

const event = (type: string, name: string, rv: string, uid = `uid-${name}`) =>
  `${JSON.stringify({ type, object: { kind: 'ConfigMap', apiVersion: 'v1', metadata: { name, uid, resourceVersion: rv } } })}\n`;

/** The source: one event, then silence (writes are paused while a workspace moves). */
const source =
  (first: string): ShardHandler =>
  (req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    if ((req.url ?? '').includes('watch=')) res.write(first);
    else
      res.end(
        JSON.stringify({
          kind: 'ConfigMapList',
          apiVersion: 'v1',
          metadata: { resourceVersion: '7' },
          items: [{ metadata: { name: 'a', uid: 'uid-a', resourceVersion: '7' } }, { metadata: { name: 'deleted-since', uid: 'uid-d', resourceVersion: '6' } }],
        }),
      );
  };

/** The target: the moved object under its new uid and resourceVersion in a list at 40, then a new object on the watch. */
const target: ShardHandler = (req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  if ((req.url ?? '').includes('watch=')) res.write(event('ADDED', 'created-later', '41'));
  else
    res.end(
      JSON.stringify({
        kind: 'ConfigMapList',
        apiVersion: 'v1',
        metadata: { resourceVersion: '40' },
        items: [{ metadata: { name: 'a', uid: 'uid-on-b', resourceVersion: '33' } }, { metadata: { name: 'added-since', uid: 'uid-n', resourceVersion: '39' } }],
      }),
    );
};

interface OpenWatch {
  text(): string;
  ended(): boolean;
  close(): void;
}

function watchOverHttp1(gateway: Gateway, path: string): OpenWatch {
  let body = '';
  let ended = false;
  const req = httpsRequest({ host: '127.0.0.1', port: gateway.port, path, ca: shared.pki.ca.certPem, agent: false, headers: { authorization: 'Bearer alice-token' } }, (res) => {
    res.on('data', (c: Buffer) => (body += c.toString()));
    res.on('end', () => (ended = true));
    res.on('error', () => (ended = true));
  });
  req.on('error', () => (ended = true));
  req.end();
  return { text: () => body, ended: () => ended, close: () => req.destroy() };
}

function watchOverHttp2(gateway: Gateway, path: string): OpenWatch {
  let body = '';
  let ended = false;
  const session = connect(`https://127.0.0.1:${gateway.port}`, { ca: shared.pki.ca.certPem });
  session.on('error', () => (ended = true));
  const stream = session.request({ ':path': path, authorization: 'Bearer alice-token' });
  stream.on('data', (c: Buffer) => (body += c.toString()));
  stream.on('end', () => (ended = true));
  stream.on('error', () => (ended = true));
  return { text: () => body, ended: () => ended, close: () => session.destroy() };
}

async function setUp(t: TestContext, name: string, sourceHandler: ShardHandler) {
  const a = await startTestShard(t, shared.pki, sourceHandler);
  const b = await startTestShard(t, shared.pki, target);
  await shared.store.putShard({ name: `${name}-a`, url: a.url, state: 'active', labels: {} });
  await shared.store.putShard({ name: `${name}-b`, url: b.url, state: 'active', labels: {} });
  const path = `root:org:${name}`;
  await shared.store.putRoute({ path, shard: `${name}-a`, cluster: `${name}cluster`, phase: 'Ready' });
  const table = new RedisRoutingTable({ redis: parseRedisUrl(shared.redis.url) });
  t.after(() => table.close());
  await table.waitUntilSynced();
  const gateway = await startTestGateway(t, shared.pki, table);
  const moveToB = () => shared.store.putRoute({ path, shard: `${name}-b`, cluster: `${name}cluster`, phase: 'Ready' });
  return { a, b, gateway, moveToB, watchPath: `/clusters/${path}/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=5&allowWatchBookmarks=true` };
}

for (const [protocol, open] of [
  ['HTTP/1.1', watchOverHttp1],
  ['HTTP/2', watchOverHttp2],
] as const) {
  test(`${protocol}: a watch goes on across a move, with the new shard's objects and resourceVersions`, async (t) => {
    const name = protocol === 'HTTP/2' ? 'web2' : 'web1';
    const { a, b, gateway, moveToB, watchPath } = await setUp(t, name, source(event('ADDED', 'a', '7')));
    const watch = open(gateway, watchPath);
    t.after(() => watch.close());
    await waitFor(() => watch.text().includes('"ADDED"'), { what: 'the first event from the source' });

    await moveToB();
    await waitFor(() => watch.text().includes('created-later'), { what: 'the new shard’s event in the same stream', timeoutMs: 5_000 });
    const lines = watch
      .text()
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as { type: string; object: { kind: string; apiVersion: string; metadata: { name: string; uid: string; resourceVersion: string } } });
    assert.deepEqual(
      lines.map((e) => [e.type, e.object.kind, e.object.apiVersion, e.object.metadata.name, e.object.metadata.uid, e.object.metadata.resourceVersion]),
      [
        ['ADDED', 'ConfigMap', 'v1', 'a', 'uid-a', '7'],
        ['MODIFIED', 'ConfigMap', 'v1', 'a', 'uid-on-b', '33'],
        ['ADDED', 'ConfigMap', 'v1', 'added-since', 'uid-n', '39'],
        ['DELETED', 'ConfigMap', 'v1', 'deleted-since', 'uid-d', '40'],
        ['BOOKMARK', 'ConfigMap', 'v1', undefined, undefined, '40'],
        ['ADDED', 'ConfigMap', 'v1', 'created-later', 'uid-created-later', '41'],
      ],
    );
    assert.equal(watch.ended(), false, 'the stream is still open');
    const list = b.seen.find((r) => !r.url.includes('watch='));
    assert.ok(
      a.seen.some((r) => r.url === `/clusters/${name}cluster/api/v1/namespaces/default/configmaps`),
      'the old shard was listed for what the client has seen',
    );
    assert.equal(list?.url, `/clusters/${name}cluster/api/v1/namespaces/default/configmaps`);
    const rewatch = new URL(b.seen.find((r) => r.url.includes('watch='))!.url, 'https://x');
    assert.equal(rewatch.searchParams.get('resourceVersion'), '40', "watched from the list's resourceVersion");
    assert.equal(rewatch.searchParams.get('allowWatchBookmarks'), 'true');
    assert.equal(list?.headers['x-remote-user'], 'alice', 'as the client');
    watch.close();
  });
}

test('a watch caught in the middle of an event is ended rather than spliced', async (t) => {
  const half = event('ADDED', 'a', '7');
  const { b, gateway, moveToB, watchPath } = await setUp(t, 'half', source(half.slice(0, 20)));
  const watch = watchOverHttp1(gateway, watchPath);
  t.after(() => watch.close());
  await waitFor(() => watch.text().length > 0, { what: 'the first bytes' });
  await moveToB();
  await waitFor(() => watch.ended(), { what: 'the watch to end', timeoutMs: 5_000 });
  assert.equal(b.seen.length, 0, 'nothing asked of the new shard');
});
