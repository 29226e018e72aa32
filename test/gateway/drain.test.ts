import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { connect } from 'node:http2';
import { request } from 'node:https';
import { test } from 'node:test';
import { waitFor } from '../helpers/wait.ts';
import { get, startTestGateway, startTestShard, StaticRoutingTable, testPki } from './fixtures.ts';

test('close() drains: in-flight requests finish, watches end cleanly, new connections are refused', async (t) => {
  const pki = await testPki();
  const held: ServerResponse[] = [];
  const watches: ServerResponse[] = [];
  const shard = await startTestShard(t, pki, (req, res) => {
    if (req.url?.includes('watch=true')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"type":"ADDED","object":{}}\n');
      watches.push(res);
    } else {
      held.push(res); // a slow list: answered only when the test says so
    }
  });
  const routing = new StaticRoutingTable().addShard('a', shard.url).addRoute('root:org-acme:proj', 'a', 'c-proj');
  const gw = await startTestGateway(t, pki, routing, { drainTimeoutMs: 5000 });

  const slow = get(gw, pki, '/clusters/org-acme:proj/api/v1/configmaps');
  const watch = request({
    host: '127.0.0.1',
    port: gw.port,
    path: '/clusters/org-acme:proj/api/v1/configmaps?watch=true',
    ca: pki.ca.certPem,
    agent: false,
    headers: { authorization: 'Bearer alice-token' },
  });
  watch.end();
  const [watchRes] = (await once(watch, 'response')) as [IncomingMessage];
  let watchBody = '';
  watchRes.on('data', (c: Buffer) => (watchBody += c.toString()));
  const watchEnded = once(watchRes, 'end');
  await waitFor(() => held.length === 1 && watches.length === 1, { what: 'both requests at the shard' });

  const closed = gw.close();
  // The watch ends with a complete chunked body (a clean EOF the client answers by re-watching).
  await watchEnded;
  assert.equal(watchBody, '{"type":"ADDED","object":{}}\n');
  // No new connections once draining.
  await assert.rejects(get(gw, pki, '/livez'), /ECONNREFUSED|ECONNRESET/);
  // The slow list still completes.
  held[0]!.writeHead(200, { 'content-type': 'application/json' });
  held[0]!.end('{"kind":"ConfigMapList","items":[]}');
  const reply = await slow;
  assert.equal(reply.status, 200);
  assert.equal(reply.body, '{"kind":"ConfigMapList","items":[]}');
  const started = performance.now();
  await closed;
  assert.ok(performance.now() - started < 2000, 'close() returns once nothing is in flight, not at the bound');
});

test('close() cuts what is still running at the drain bound', async (t) => {
  const pki = await testPki();
  const shard = await startTestShard(t, pki, () => undefined); // never answers
  const routing = new StaticRoutingTable().addShard('a', shard.url).addRoute('root:org-acme:proj', 'a', 'c-proj');
  const gw = await startTestGateway(t, pki, routing, { drainTimeoutMs: 200 });
  const stuck = get(gw, pki, '/clusters/org-acme:proj/api/v1/configmaps');
  await waitFor(() => shard.seen.length === 1, { what: 'the request at the shard' });
  const cut = assert.rejects(stuck, /socket hang up|ECONNRESET/);
  const started = performance.now();
  await gw.close();
  assert.ok(performance.now() - started < 2000);
  await cut;
});

test('close() over HTTP/2: GOAWAY for the session, an open watch stream ends cleanly', async (t) => {
  const pki = await testPki();
  const watches: ServerResponse[] = [];
  const shard = await startTestShard(t, pki, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"type":"ADDED","object":{}}\n');
    watches.push(res);
  });
  const routing = new StaticRoutingTable().addShard('a', shard.url).addRoute('root:org-acme:proj', 'a', 'c-proj');
  const gw = await startTestGateway(t, pki, routing, { drainTimeoutMs: 5000 });
  const session = connect(gw.url, { ca: pki.ca.certPem });
  t.after(() => session.destroy());
  session.on('error', () => undefined);
  const stream = session.request({ ':path': '/clusters/org-acme:proj/api/v1/configmaps?watch=true', authorization: 'Bearer alice-token' });
  let body = '';
  stream.on('data', (c: Buffer) => (body += c.toString()));
  const ended = once(stream, 'end');
  const goaway = once(session, 'goaway');
  await waitFor(() => body.length > 0, { what: 'the first watch event over h2' });

  const started = performance.now();
  await gw.close();
  await goaway;
  await ended;
  assert.equal(stream.rstCode, 0, 'ended with END_STREAM, not reset');
  assert.equal(body, '{"type":"ADDED","object":{}}\n');
  assert.ok(performance.now() - started < 2000, 'the watch did not hold close() until the bound');
});
