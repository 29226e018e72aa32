// A shard that dies in the middle of a watch must not look like a watch that ended normally: the
// client has to see a broken stream (an HTTP/2 reset with an error code, an HTTP/1.1 chunked body
// without its terminating chunk), or kubectl takes the crash for a clean end and exits 0.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { connect, constants } from 'node:http2';
import { request } from 'node:https';
import { test, type TestContext } from 'node:test';
import { waitFor } from '../helpers/wait.ts';
import { startTestGateway, startTestShard, StaticRoutingTable, testPki, type Pki, type TestShard } from '../gateway/fixtures.ts';
import type { Gateway } from '../../src/gateway/server.ts';
import type { UpstreamProtocol } from '../../src/gateway/shard-pools.ts';

const watchPath = '/clusters/org-acme:proj/api/v1/namespaces/default/configmaps?watch=true';
const event = '{"type":"ADDED","object":{"kind":"ConfigMap","metadata":{"name":"a","resourceVersion":"11"}}}\n';

interface Setup {
  pki: Pki;
  gw: Gateway;
  shard: TestShard;
  watches: ServerResponse[];
  /** Each watch's protocol as the shard saw it ('1.1' or '2.0'). */
  versions: string[];
}

async function watchingShard(t: TestContext, protocol: UpstreamProtocol = 'h1'): Promise<Setup> {
  const pki = await testPki();
  const watches: ServerResponse[] = [];
  const versions: string[] = [];
  const shard = await startTestShard(t, pki, (req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write(event);
    watches.push(res);
    versions.push(req.httpVersion);
  });
  const routing = new StaticRoutingTable().addShard('a', shard.url).addRoute('root:org-acme:proj', 'a', 'c-proj');
  const upstream = { clientCertPem: pki.gatewayClient.certPem, clientKeyPem: pki.gatewayClient.keyPem, caPem: pki.ca.certPem, connectTimeoutMs: 2000, protocol };
  const gw = await startTestGateway(t, pki, routing, { upstream });
  return { pki, gw, shard, watches, versions };
}

/** The shard process goes away: every connection it holds is cut. */
function crash(shard: TestShard): void {
  shard.cutConnections();
  shard.server.close();
}

for (const protocol of ['h1', 'h2'] as const) {
  test(`HTTP/2: a shard crashing mid-watch resets the client stream with an error code, not a clean end (${protocol} to the shard)`, async (t) => {
    const { pki, gw, shard, watches, versions } = await watchingShard(t, protocol);
    const session = connect(gw.url, { ca: pki.ca.certPem });
    t.after(() => session.destroy());
    session.on('error', () => undefined);
    const stream = session.request({ ':path': watchPath, authorization: 'Bearer alice-token' });
    stream.on('error', () => undefined);
    const [headers] = (await once(stream, 'response')) as [Record<string, string | number>];
    assert.equal(headers[':status'], 200);
    let body = '';
    let endedCleanly = false;
    stream.on('data', (c: Buffer) => (body += c.toString('utf8')));
    stream.on('end', () => (endedCleanly = true));
    await waitFor(() => body === event, { what: 'the first event' });

    const closed = new Promise((resolve) => stream.once('close', resolve));
    crash(shard);
    await closed;
    assert.equal(watches.length, 1);
    assert.deepEqual(versions, [protocol === 'h2' ? '2.0' : '1.1']);
    assert.equal(endedCleanly, false, 'the client must not see END_STREAM');
    assert.equal(stream.rstCode, constants.NGHTTP2_INTERNAL_ERROR);
    // The connection itself survives: other streams on it keep working.
    const livez = session.request({ ':path': '/livez' });
    const [livezHeaders] = (await once(livez, 'response')) as [Record<string, string | number>];
    assert.equal(livezHeaders[':status'], 200);
    livez.resume();
  });

  test(`HTTP/1.1: a shard crashing mid-watch truncates the chunked body instead of ending it (${protocol} to the shard)`, async (t) => {
    const { pki, gw, shard, versions } = await watchingShard(t, protocol);
    const req = request({ host: '127.0.0.1', port: gw.port, path: watchPath, ca: pki.ca.certPem, agent: false, headers: { authorization: 'Bearer alice-token' } });
    req.on('error', () => undefined);
    req.end();
    const [res] = (await once(req, 'response')) as [IncomingMessage];
    assert.equal(res.statusCode, 200);
    let body = '';
    res.on('data', (c: Buffer) => (body += c.toString('utf8')));
    res.on('error', () => undefined);
    const outcome = new Promise<'end' | 'cut'>((resolve) => {
      res.once('end', () => resolve('end'));
      res.once('aborted', () => resolve('cut'));
      res.once('close', () => resolve(res.complete ? 'end' : 'cut'));
    });
    await waitFor(() => body === event, { what: 'the first event' });
    crash(shard);
    assert.equal(await outcome, 'cut');
    assert.equal(res.complete, false);
    assert.deepEqual(versions, [protocol === 'h2' ? '2.0' : '1.1']);
  });
}

test('the gateway draining still ends an HTTP/2 watch cleanly, so clients simply re-watch', async (t) => {
  const { pki, gw } = await watchingShard(t);
  const session = connect(gw.url, { ca: pki.ca.certPem });
  t.after(() => session.destroy());
  session.on('error', () => undefined);
  const stream = session.request({ ':path': watchPath, authorization: 'Bearer alice-token' });
  stream.on('error', () => undefined);
  await once(stream, 'response');
  let body = '';
  stream.on('data', (c: Buffer) => (body += c.toString('utf8')));
  await waitFor(() => body === event, { what: 'the first event' });
  const ended = once(stream, 'end');
  const closing = gw.close();
  await ended;
  await once(stream, 'close');
  assert.equal(stream.rstCode, constants.NGHTTP2_NO_ERROR);
  await closing;
});
