// CVE-2023-44487 "rapid reset": a client opening streams and resetting them at once costs the server
// work per stream while never counting against the stream limit. A flood on one connection must get
// that connection torn down long before much of it reaches a shard, and must not slow other clients.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, constants, type ClientHttp2Session, type ClientHttp2Stream } from 'node:http2';
import { test } from 'node:test';
import { waitFor } from '../helpers/wait.ts';
import { startTestGateway, startTestShard, StaticRoutingTable, testPki } from '../gateway/fixtures.ts';
import type { Resolution } from '../../src/routing/types.ts';

const floodPath = '/clusters/org-acme:proj/api/v1/namespaces/default/configmaps?flood=1';

/** HEADERS for a batch of requests, then RST_STREAM(CANCEL) for each, until the server ends the session. */
async function resetFlood(session: ClientHttp2Session, total: number, batch: number): Promise<number> {
  let sent = 0;
  while (sent < total && !session.closed && !session.destroyed) {
    const streams: ClientHttp2Stream[] = [];
    for (let i = 0; i < batch && !session.closed && !session.destroyed; i++) {
      try {
        const stream = session.request({ ':path': floodPath, authorization: 'Bearer alice-token' });
        stream.on('error', () => undefined);
        streams.push(stream);
      } catch {
        break; // the session went away under us
      }
    }
    // Let the HEADERS go out first: a stream reset before they are written is never sent at all.
    await new Promise((resolve) => setImmediate(resolve));
    for (const stream of streams) stream.close(constants.NGHTTP2_CANCEL);
    sent += streams.length;
    await new Promise((resolve) => setImmediate(resolve));
  }
  return sent;
}

/** Lookups that take a moment, like a cold route in Redis: the gateway is mid-pipeline when the reset arrives. */
class SlowRoutingTable extends StaticRoutingTable {
  override async resolve(pathOrCluster: string): Promise<Resolution | undefined> {
    await new Promise((resolve) => setTimeout(resolve, 5));
    return super.resolve(pathOrCluster);
  }
}

async function get(session: ClientHttp2Session): Promise<{ status: number; ms: number }> {
  const started = performance.now();
  const stream = session.request({ ':path': '/clusters/org-acme:proj/api', authorization: 'Bearer alice-token' });
  const [headers] = (await once(stream, 'response')) as [Record<string, string | number>];
  stream.resume();
  await once(stream, 'close');
  return { status: Number(headers[':status']), ms: performance.now() - started };
}

test('a HEADERS+RST_STREAM flood gets its connection torn down; little reaches the shard; other clients keep working', async (t) => {
  const pki = await testPki();
  const shard = await startTestShard(t, pki);
  const routing = new SlowRoutingTable().addShard('a', shard.url).addRoute('root:org-acme:proj', 'a', 'c-proj');
  // The connection limits are on by default. Connecting to the shard may be slow here: the requests
  // of reset streams that were mid-pipeline are still forwarded, each on a new shard connection.
  const gw = await startTestGateway(t, pki, routing, {
    upstream: { clientCertPem: pki.gatewayClient.certPem, clientKeyPem: pki.gatewayClient.keyPem, caPem: pki.ca.certPem, connectTimeoutMs: 10_000 },
  });

  const normal = connect(gw.url, { ca: pki.ca.certPem });
  t.after(() => normal.destroy());
  assert.equal((await get(normal)).status, 200);
  const attacker = connect(gw.url, { ca: pki.ca.certPem });
  t.after(() => attacker.destroy());
  attacker.on('error', () => undefined);
  let goaway: number | undefined;
  attacker.on('goaway', (code: number) => (goaway = code));
  await once(attacker, 'remoteSettings');

  const total = 5_000;
  const sent = await resetFlood(attacker, total, 100);
  await waitFor(() => attacker.closed || attacker.destroyed, { what: 'the flooding connection to be torn down', timeoutMs: 5_000 });
  assert.notEqual(goaway, undefined, 'torn down with a GOAWAY');
  assert.notEqual(goaway, constants.NGHTTP2_NO_ERROR);

  assert.ok(sent < 1_000, `the connection was cut only after ${sent} streams`);

  // A client on another connection is served. The bound is loose: client, gateway and shard share
  // this one process, which has just absorbed the flood.
  const after = await get(normal);
  assert.equal(after.status, 200);
  assert.ok(after.ms < 10_000, `a normal request took ${after.ms.toFixed(0)} ms`);

  // What the gateway had already taken in may still be on its way to the shard: wait until it settles.
  let reached = -1;
  await waitFor(
    () => {
      const now = shard.seen.filter((r) => r.url.includes('flood=1')).length;
      const settled = now === reached;
      reached = now;
      return settled;
    },
    { what: 'the flood to stop reaching the shard', intervalMs: 500, timeoutMs: 20_000 },
  );
  t.diagnostic(`sent ${sent}, reached the shard ${reached}, GOAWAY code ${goaway}, then a normal request took ${after.ms.toFixed(1)} ms`);
  assert.ok(reached < total / 5, `${reached} of ${total} flooded requests reached the shard`);
});
