import assert from 'node:assert/strict';
import { test } from 'node:test';
import { serveGatewayEndpoints, type EndpointDeps } from '../../../src/gateway/stages/gateway-endpoints.ts';
import type { RoutingTable } from '../../../src/routing/types.ts';
import { fakeContext } from '../fake-context.ts';

function deps({ ready = true, draining = false } = {}): EndpointDeps {
  const routing: RoutingTable = { resolve: async () => undefined, getShard: async () => undefined, listShards: async () => [], ready: () => ready, close: async () => {} };
  return { routing, isDraining: () => draining };
}

async function get(path: string, d: EndpointDeps) {
  const exchange = fakeContext({ url: path });
  await serveGatewayEndpoints(d)(exchange.ctx);
  return exchange;
}

test('/livez and /readyz are answered by the gateway itself, open to anyone', async () => {
  const live = await get('/livez', deps());
  assert.equal(live.res.statusCode, 200);
  assert.equal(live.res.body, 'ok');
  assert.equal((await get('/readyz', deps())).res.statusCode, 200);
});

test('/readyz is 503 while draining or while the routing table cannot answer', async () => {
  const draining = await get('/readyz', deps({ draining: true }));
  assert.deepEqual([draining.res.statusCode, draining.res.body], [503, 'draining']);
  const cold = await get('/readyz', deps({ ready: false }));
  assert.deepEqual([cold.res.statusCode, cold.res.body], [503, 'routing table not ready']);
});

test('every other path is left to the stages after this one', async () => {
  // /metrics is served by the admin listener only: on the public port it is no gateway endpoint.
  for (const path of ['/clusters/root/api', '/services/apiexport/x', '/', '/livez/extra', '/metric', '/metrics']) {
    const { ctx } = await get(path, deps());
    assert.equal(ctx.responded, false, path);
  }
});
