// HTTP/2 to the shards (upstream.protocol: h2): watches share connections as streams, as many per
// connection as the shard's SETTINGS allow, and a slow watch client holds back only its own stream.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import { connect, constants, type ClientHttp2Stream, type ServerHttp2Session } from 'node:http2';
import { test } from 'node:test';
import { waitFor } from '../helpers/wait.ts';
import { get, startTestGateway, startTestShard, StaticRoutingTable, testPki } from './fixtures.ts';

const watchPath = '/clusters/org-acme:proj/api/v1/namespaces/default/configmaps?watch=true';

test('h2 upstream: watches share shard connections up to the shard’s stream limit, and one stalled watch holds back no other', async (t) => {
  const pki = await testPki();
  const watches: ServerResponse[] = [];
  const versions: string[] = [];
  const shard = await startTestShard(t, pki, (req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"type":"BOOKMARK"}\n');
    watches.push(res);
    versions.push(req.httpVersion);
  });
  // Two streams per connection: five watches need three connections.
  shard.server.updateSettings({ maxConcurrentStreams: 2 });
  let sessions = 0;
  shard.server.on('session', () => sessions++);
  const routing = new StaticRoutingTable().addShard('a', shard.url).addRoute('root:org-acme:proj', 'a', 'c-proj');
  const upstream = { clientCertPem: pki.gatewayClient.certPem, clientKeyPem: pki.gatewayClient.keyPem, caPem: pki.ca.certPem, connectTimeoutMs: 2000, protocol: 'h2' as const };
  const gw = await startTestGateway(t, pki, routing, { upstream });

  const session = connect(gw.url, { ca: pki.ca.certPem });
  t.after(() => session.destroy());
  session.on('error', () => undefined);
  const received: number[] = [];
  const streams: ClientHttp2Stream[] = [];
  for (let i = 0; i < 5; i++) {
    const stream = session.request({ ':path': watchPath, authorization: 'Bearer alice-token' });
    stream.on('error', () => undefined);
    received.push(0);
    streams.push(stream);
    const [headers] = (await once(stream, 'response')) as [Record<string, string | number>];
    assert.equal(headers[':status'], 200);
  }
  await waitFor(() => watches.length === 5, { what: 'five watches at the shard' });
  assert.deepEqual(versions, ['2.0', '2.0', '2.0', '2.0', '2.0']);
  assert.equal(sessions, 3);

  // Watch 0 is never read; the others are. The shard writes 2 MiB to each.
  for (let i = 1; i < 5; i++) streams[i]!.on('data', (c: Buffer) => (received[i]! += c.length));
  const chunk = Buffer.alloc(16 * 1024, 'a');
  const total = 2 * 1024 * 1024;
  const writes = watches.map(async (res) => {
    for (let sent = 0; sent < total; sent += chunk.length) {
      if (!res.write(chunk)) await Promise.race([once(res, 'drain'), once(res, 'close')]);
      if (res.destroyed) return;
    }
  });
  await waitFor(() => received.slice(1).every((n) => n >= total), { what: 'the read watches to receive everything', timeoutMs: 30_000 });
  // Watch 0 shares its connection with watch 1, which got everything: the shard's writes to watch 0
  // alone wait for its reader (HTTP/2 flow control per stream, through the gateway).
  const stalledDone = await Promise.race([writes[0]!.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 300))]);
  assert.equal(stalledDone, false, 'the unread watch must not have taken all 2 MiB');
});

test('h2 upstream: after a shard’s GOAWAY, a new request takes a fresh connection at once while watches finish on the old one', async (t) => {
  const pki = await testPki();
  const watches: ServerResponse[] = [];
  const shard = await startTestShard(t, pki, (req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    if (req.url?.includes('watch=true') === true) {
      res.write('{"type":"BOOKMARK"}\n');
      watches.push(res);
    } else res.end('{"kind":"ConfigMapList","items":[]}');
  });
  const shardSessions: ServerHttp2Session[] = [];
  shard.server.on('session', (s: ServerHttp2Session) => shardSessions.push(s));
  const routing = new StaticRoutingTable().addShard('a', shard.url).addRoute('root:org-acme:proj', 'a', 'c-proj');
  // The default header timeout (60 s): nothing but a fresh connection answers the request in time.
  const upstream = { clientCertPem: pki.gatewayClient.certPem, clientKeyPem: pki.gatewayClient.keyPem, caPem: pki.ca.certPem, protocol: 'h2' as const };
  const gw = await startTestGateway(t, pki, routing, { upstream });

  const session = connect(gw.url, { ca: pki.ca.certPem });
  t.after(() => session.destroy());
  session.on('error', () => undefined);
  const watch = session.request({ ':path': watchPath, authorization: 'Bearer alice-token' });
  watch.on('error', () => undefined);
  let watchBody = '';
  watch.setEncoding('utf8');
  watch.on('data', (c: string) => (watchBody += c));
  await waitFor(() => watches.length === 1 && watchBody.includes('BOOKMARK'), { what: 'the watch to stream' });
  assert.equal(shardSessions.length, 1);

  // A graceful shard shutdown: no new streams on this session, the open watch goes on.
  shardSessions[0]!.goaway(constants.NGHTTP2_NO_ERROR);
  await waitFor(() => gw.inflight.size === 1, { what: 'the gateway to hold only the watch' });
  const started = performance.now();
  const answered = await Promise.race([
    get(gw, pki, '/clusters/org-acme:proj/api/v1/namespaces/default/configmaps'),
    new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 5_000).unref()),
  ]);
  assert.ok(answered !== undefined, 'the request waited behind the watch on the closing session');
  assert.equal(answered.status, 200, answered.body);
  t.diagnostic(`answered over a fresh connection in ${(performance.now() - started).toFixed(0)} ms`);
  assert.equal(shardSessions.length, 2);

  // The watch on the old session still streams.
  watches[0]!.write('{"type":"ADDED"}\n');
  await waitFor(() => watchBody.includes('ADDED'), { what: 'the old session’s watch to go on streaming' });
});
