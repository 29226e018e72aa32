import assert from 'node:assert/strict';
import { test } from 'node:test';
import { serveGatewayEndpoints, type EndpointDeps } from '../../../src/gateway/stages/gateway-endpoints.ts';
import type { RoutingTable } from '../../../src/routing/types.ts';
import { fakeContext } from '../fake-context.ts';

function deps({ ready = true, draining = false } = {}): EndpointDeps {
  const routing: RoutingTable = { resolve: async () => undefined, getShard: async () => undefined, listShards: async () => [], ready: () => ready, close: async () => {} };
  return { routing, isDraining: () => draining, metrics: { contentType: 'text/plain; version=0.0.4', metrics: async () => 'requests_total 1\n' } };
}

async function get(path: string, d: EndpointDeps) {
  const exchange = fakeContext({ url: path });
  await serveGatewayEndpoints(d)(exchange.ctx);
  return exchange;
}

test('/livez, /readyz and /metrics are answered by the gateway itself', async () => {
  const live = await get('/livez', deps());
  assert.equal(live.res.statusCode, 200);
  assert.equal(live.res.body, 'ok');
  assert.equal((await get('/readyz', deps())).res.statusCode, 200);
  const metrics = await get('/metrics', deps());
  assert.equal(metrics.res.statusCode, 200);
  assert.equal(metrics.res.headers['content-type'], 'text/plain; version=0.0.4');
  assert.equal(metrics.res.body, 'requests_total 1\n');
});

test('/readyz is 503 while draining or while the routing table cannot answer', async () => {
  const draining = await get('/readyz', deps({ draining: true }));
  assert.deepEqual([draining.res.statusCode, draining.res.body], [503, 'draining']);
  const cold = await get('/readyz', deps({ ready: false }));
  assert.deepEqual([cold.res.statusCode, cold.res.body], [503, 'routing table not ready']);
});

test('every other path is left to the stages after this one', async () => {
  for (const path of ['/clusters/root/api', '/services/apiexport/x', '/', '/livez/extra', '/metric']) {
    const { ctx } = await get(path, deps());
    assert.equal(ctx.responded, false, path);
  }
});
