// A shard that hangs: connections it already had go silent, new ones are accepted by the kernel and
// never answered (a raw TCP listener on its port stands in for a blackholed or wedged shard). Requests
// must fail with a Status within the configured upstream bounds, and watches open on it must fail
// visibly once the shard is known to be down, instead of hanging with no error.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { connect as connectHttp2, constants } from 'node:http2';
import { request } from 'node:https';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { test, type TestContext } from 'node:test';
import { ShardHealthChecker } from '../../src/routing/shard-health.ts';
import { waitFor } from '../helpers/wait.ts';
import { get, startTestGateway, startTestShard, StaticRoutingTable, testPki, type Pki, type TestShard } from '../gateway/fixtures.ts';

const watchPath = '/clusters/org-acme:proj/api/v1/namespaces/default/configmaps?watch=true';
const event = '{"type":"ADDED","object":{"kind":"ConfigMap","metadata":{"name":"a","resourceVersion":"11"}}}\n';

/**
 * From now on the shard answers nothing: open connections go silent, new ones hit a listener that
 * never speaks. `silence` stops the shard's handler answering what still reaches it.
 */
async function hang(t: TestContext, shard: TestShard, silence: () => void): Promise<void> {
  silence();
  const port = (shard.server.address() as AddressInfo).port;
  shard.server.close(); // stops listening; the open connections stay, silent
  const accepted: Socket[] = [];
  const blackhole = createServer((socket) => accepted.push(socket));
  t.after(() => {
    for (const socket of accepted) socket.destroy();
    blackhole.close();
  });
  // The port is free once the shard's listening handle has closed, a turn of the event loop later.
  await waitFor(
    () =>
      new Promise<boolean>((resolve) => {
        blackhole.once('error', () => resolve(false));
        blackhole.listen(port, '127.0.0.1', () => resolve(true));
      }),
    { what: "the blackhole to take over the shard's port" },
  );
}

async function hungShardSetup(
  t: TestContext,
): Promise<{ pki: Pki; shard: TestShard; silence: () => void; health: ShardHealthChecker; gw: Awaited<ReturnType<typeof startTestGateway>> }> {
  const pki = await testPki();
  let hung = false;
  const shard = await startTestShard(t, pki, (req, res) => {
    if (hung) return; // a request that got in just before: never answered either
    if (req.url === '/readyz') {
      res.end('ok');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write(event);
  });
  const routing = new StaticRoutingTable().addShard('a', shard.url).addRoute('root:org-acme:proj', 'a', 'c-proj');
  const health = new ShardHealthChecker({
    shards: routing,
    clientCertPem: pki.gatewayClient.certPem,
    clientKeyPem: pki.gatewayClient.keyPem,
    caPem: pki.ca.certPem,
    intervalMs: 100,
    downIntervalMs: 100,
    timeoutMs: 200,
    failureThreshold: 2,
  });
  await health.probeAll();
  health.start();
  t.after(() => health.stop());
  const gw = await startTestGateway(t, pki, routing, {
    health,
    upstream: { clientCertPem: pki.gatewayClient.certPem, clientKeyPem: pki.gatewayClient.keyPem, caPem: pki.ca.certPem, connectTimeoutMs: 300, headersTimeoutMs: 500 },
  });
  return { pki, shard, silence: () => (hung = true), health, gw };
}

test('a hung shard: requests get a Status within the upstream bounds, open watches fail visibly, then 503 at once', async (t) => {
  const { pki, shard, silence, health, gw } = await hungShardSetup(t);

  // One watch over HTTP/2, one over HTTP/1.1, both streaming.
  const session = connectHttp2(gw.url, { ca: pki.ca.certPem });
  t.after(() => session.destroy());
  session.on('error', () => undefined);
  const h2 = session.request({ ':path': watchPath, authorization: 'Bearer alice-token' });
  h2.on('error', () => undefined);
  let h2Body = '';
  let h2EndedCleanly = false;
  h2.on('data', (c: Buffer) => (h2Body += c.toString('utf8')));
  h2.on('end', () => (h2EndedCleanly = true));
  const h2Closed = new Promise<void>((resolve) => h2.once('close', resolve));

  const h1req = request({ host: '127.0.0.1', port: gw.port, path: watchPath, ca: pki.ca.certPem, agent: false, headers: { authorization: 'Bearer alice-token' } });
  h1req.on('error', () => undefined);
  h1req.end();
  const [h1] = (await once(h1req, 'response')) as [IncomingMessage];
  let h1Body = '';
  h1.on('data', (c: Buffer) => (h1Body += c.toString('utf8')));
  h1.on('error', () => undefined);
  const h1Outcome = new Promise<'end' | 'cut'>((resolve) => {
    h1.once('end', () => resolve('end'));
    h1.once('aborted', () => resolve('cut'));
    h1.once('close', () => resolve(h1.complete ? 'end' : 'cut'));
  });
  await waitFor(() => h2Body === event && h1Body === event, { what: 'both watches to stream' });

  await hang(t, shard, silence);

  // A new request: a Status within the connect bound (504 before health tracking has caught up, 503 after).
  const started = performance.now();
  const first = await get(gw, pki, '/clusters/org-acme:proj/api/v1/namespaces/default/configmaps');
  const firstMs = performance.now() - started;
  assert.ok(first.status === 504 || first.status === 503, `${first.status} ${first.body}`);
  assert.equal((JSON.parse(first.body) as { kind: string }).kind, 'Status');
  assert.ok(firstMs < 300 + 1_000, `answered after ${firstMs.toFixed(0)} ms`);

  // The open watches end with an error the clients see, not a clean end and not never.
  await waitFor(() => !health.isAvailable('a'), { what: 'health tracking to mark the shard down', timeoutMs: 5_000 });
  await Promise.race([
    Promise.all([h2Closed, h1Outcome]),
    new Promise((_resolve, reject) => setTimeout(() => reject(new Error('the watches on the hung shard are still open')), 5_000).unref()),
  ]);
  assert.equal(h2EndedCleanly, false);
  assert.equal(h2.rstCode, constants.NGHTTP2_INTERNAL_ERROR);
  assert.equal(await h1Outcome, 'cut');

  // While it is down, requests fail fast.
  const fastStarted = performance.now();
  const down = await get(gw, pki, '/clusters/org-acme:proj/api/v1/namespaces/default/configmaps');
  assert.equal(down.status, 503);
  assert.ok(performance.now() - fastStarted < 300, 'a known-down shard is not waited for');
});
