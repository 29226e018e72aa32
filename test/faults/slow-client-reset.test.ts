// A slow HTTP/2 client that resets its watch with NO_ERROR, the code a Node or undici client sends when
// it closes a stream. The gateway holds data it could not yet send; node:http2 then reports the reset as
// 'aborted' but never closes the stream (it waits for a response end that cannot be flushed any more),
// so a gateway listening for 'close' alone kept the upstream watch open for ever. A Go server cancels
// the handler on any reset; so must we, on both upstream protocols.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import { connect as connectHttp2, constants } from 'node:http2';
import { test } from 'node:test';
import { waitFor } from '../helpers/wait.ts';
import { startTestGateway, startTestShard, StaticRoutingTable, testPki } from '../gateway/fixtures.ts';

const watchPath = '/clusters/org-acme:proj/api/v1/namespaces/default/configmaps?watch=true';
const event = Buffer.from(`{"type":"ADDED","object":{"kind":"ConfigMap","data":{"v":"${'x'.repeat(16_000)}"}}}\n`);

for (const protocol of ['h1', 'h2'] as const) {
  test(`a slow client resetting its watch with NO_ERROR closes the watch at the shard (upstream ${protocol})`, async (t) => {
    const pki = await testPki();
    const open = new Set<ServerResponse>();
    let blocked = false;
    const shard = await startTestShard(t, pki, (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      open.add(res);
      // As fast as the gateway takes it: the client reads nothing, so the gateway's buffers fill.
      const pump = () => {
        blocked = false;
        while (!res.destroyed && !blocked) blocked = !res.write(event);
      };
      res.on('drain', pump);
      res.on('close', () => open.delete(res));
      pump();
    });
    const routing = new StaticRoutingTable().addShard('a', shard.url).addRoute('root:org-acme:proj', 'a', 'c-proj');
    const upstream = { clientCertPem: pki.gatewayClient.certPem, clientKeyPem: pki.gatewayClient.keyPem, caPem: pki.ca.certPem, connectTimeoutMs: 2000, protocol };
    const gw = await startTestGateway(t, pki, routing, { upstream });

    const session = connectHttp2(gw.url, { ca: pki.ca.certPem });
    t.after(() => session.destroy());
    const watch = session.request({ ':path': watchPath, authorization: 'Bearer alice-token' });
    const [headers] = (await once(watch, 'response')) as [Record<string, unknown>];
    assert.equal(headers[':status'], 200);
    watch.pause();
    // The client's receive window is full and the shard cannot write: the gateway holds what it read.
    await waitFor(() => (open.size === 1 && blocked && watch.readableLength >= 60_000) || undefined, { what: 'the gateway holding data for the client' });
    watch.close(constants.NGHTTP2_NO_ERROR);

    await waitFor(() => open.size === 0, { what: 'the watch at the shard to close', timeoutMs: 5_000 });
    await waitFor(() => gw.inflight.size === 0, { what: 'the gateway to forget the request', timeoutMs: 5_000 });
  });
}
