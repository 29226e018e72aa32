import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import { connect } from 'node:http2';
import { request } from 'node:https';
import { test } from 'node:test';
import { waitFor } from '../helpers/wait.ts';
import { startTestGateway, startTestShard, StaticRoutingTable, testPki } from './fixtures.ts';

const watchPath = '/clusters/org-acme:proj/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=10&allowWatchBookmarks=true';

async function watchSetup(t: import('node:test').TestContext) {
  const pki = await testPki();
  const watchers: ServerResponse[] = [];
  const shard = await startTestShard(t, pki, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.flushHeaders();
    watchers.push(res);
  });
  const routing = new StaticRoutingTable().addShard('a', shard.url).addRoute('root:org-acme:proj', 'a', 'c-proj');
  const gw = await startTestGateway(t, pki, routing);
  const emit = (i: number) => {
    const sentAt = performance.now();
    watchers[0]!.write(JSON.stringify({ type: 'ADDED', object: { kind: 'ConfigMap', metadata: { name: `cm-${i}`, resourceVersion: String(10 + i) } } }) + '\n');
    return sentAt;
  };
  return { pki, gw, watchers, emit };
}

test('watch events stream through HTTP/1.1 one by one, each within 100 ms of the shard writing it', async (t) => {
  const { pki, gw, watchers, emit } = await watchSetup(t);
  const req = request({ host: '127.0.0.1', port: gw.port, path: watchPath, ca: pki.ca.certPem, agent: false, headers: { authorization: 'Bearer alice-token' } });
  req.end();
  const [res] = (await once(req, 'response')) as [import('node:http').IncomingMessage];
  assert.equal(res.statusCode, 200);
  assert.equal(res.headers['content-type'], 'application/json');
  await waitFor(() => watchers.length === 1, { what: 'the watch to reach the shard' });
  assert.match(String(await gw.metrics.metrics()), /kcp_edge_open_watches\{shard="a"\} 1/);

  const arrivals: number[] = [];
  res.on('data', () => arrivals.push(performance.now()));
  for (let i = 0; i < 3; i++) {
    const sentAt = emit(i);
    await waitFor(() => arrivals.length === i + 1, { what: `event ${i}`, intervalMs: 1 });
    const latency = arrivals[i]! - sentAt;
    assert.ok(latency < 100, `event ${i} took ${latency.toFixed(1)} ms`);
  }
  watchers[0]!.end();
  await once(res, 'end');
  await waitFor(async () => /kcp_edge_open_watches\{shard="a"\} 0/.test(await gw.metrics.metrics()), { what: 'open watches back to 0' });
});

test('HTTP/2 clients reach the same pipeline, and watches stream over h2 too', async (t) => {
  const { pki, gw, watchers, emit } = await watchSetup(t);
  const session = connect(gw.url, { ca: pki.ca.certPem });
  t.after(() => session.destroy());
  const stream = session.request({ ':path': watchPath, authorization: 'Bearer alice-token' });
  const [headers] = (await once(stream, 'response')) as [Record<string, string | number>];
  assert.equal(headers[':status'], 200);
  await waitFor(() => watchers.length === 1, { what: 'the watch to reach the shard' });
  let received = '';
  let arrivedAt = 0;
  stream.on('data', (chunk: Buffer) => {
    received += chunk.toString('utf8');
    arrivedAt = performance.now();
  });
  const sentAt = emit(0);
  await waitFor(() => received.includes('cm-0'), { what: 'the event over h2', intervalMs: 1 });
  assert.ok(arrivedAt - sentAt < 100, `took ${(arrivedAt - sentAt).toFixed(1)} ms`);

  // Client goes away: the gateway stops the shard side too.
  const shardSideClosed = once(watchers[0]!, 'close');
  stream.close();
  await shardSideClosed;
});
