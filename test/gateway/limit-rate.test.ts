import assert from 'node:assert/strict';
import { request as httpsRequest } from 'node:https';
import type { ClientRequest } from 'node:http';
import { test, type TestContext } from 'node:test';
import { Registry } from 'prom-client';
import { MemoryLimiter } from '../../src/ratelimit/memory-limiter.ts';
import { registerRateLimitMetrics } from '../../src/ratelimit/metrics.ts';
import { parsePolicy, stableUid } from '../../src/ratelimit/policy.ts';
import { staticPolicy } from '../../src/ratelimit/policy-source.ts';
import type { Gateway } from '../../src/gateway/server.ts';
import { waitFor } from '../helpers/wait.ts';
import { get, startTestGateway, startTestShard, StaticRoutingTable, testPki, type Pki } from './fixtures.ts';

const policy = `
priorityLevels:
  - name: tenants
    limits: { rate: 0.01, burst: 3, maxOpenWatches: 1 }
flowSchemas:
  - { name: per-user, precedence: 100, priorityLevel: tenants, distinguisher: byUser, rules: [{ orgs: ["*"] }] }
`;

const ws = '/clusters/org-acme:proj-frontend';

async function setup(t: TestContext) {
  const pki = await testPki();
  // Watches stay open until the client goes; everything else is echoed.
  const shard = await startTestShard(t, pki, (req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    if ((req.url ?? '').includes('watch=1')) res.write('{"type":"BOOKMARK"}\n');
    else res.end('{"kind":"ConfigMapList"}');
  });
  const routing = new StaticRoutingTable().addShard('a', shard.url).addRoute('root:org-acme:proj-frontend', 'a', 'c1');
  const registry = new Registry();
  const limiter = new MemoryLimiter({ policy: staticPolicy(await parsePolicy(policy)), metrics: registerRateLimitMetrics(registry) });
  const gw = await startTestGateway(t, pki, routing, { limiter, registry });
  t.after(() => limiter.close());
  return { pki, shard, gw };
}

/** Opens a watch and resolves once its headers arrived; `close()` ends it from the client side. */
function openWatch(gw: Gateway, pki: Pki): Promise<{ status: number; headers: Record<string, unknown>; close(): void }> {
  return new Promise((resolve, reject) => {
    const req: ClientRequest = httpsRequest(
      `${gw.url}${ws}/api/v1/configmaps?watch=1`,
      { ca: pki.ca.certPem, agent: false, headers: { authorization: 'Bearer bob-token' } },
      (res) => {
        res.resume();
        resolve({ status: res.statusCode ?? 0, headers: res.headers, close: () => req.destroy() });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

test('over the limit: 429 Status with Retry-After and a readable message; flow headers on every response', async (t) => {
  const { pki, shard, gw } = await setup(t);
  const path = `${ws}/api/v1/namespaces/default/configmaps?limit=10`;
  for (let i = 0; i < 3; i++) {
    const ok = await get(gw, pki, path);
    assert.equal(ok.status, 200, ok.body);
    assert.equal(ok.headers['x-kubernetes-pf-flowschema-uid'], stableUid('flowschema', 'per-user'));
    assert.equal(ok.headers['x-kubernetes-pf-prioritylevel-uid'], stableUid('prioritylevel', 'tenants'));
  }
  const limited = await get(gw, pki, path);
  assert.equal(limited.status, 429);
  // 0.01/s: the next unit is ~100 s away.
  const retryAfter = Number(limited.headers['retry-after']);
  assert.ok(retryAfter >= 99 && retryAfter <= 100, `Retry-After ${retryAfter}`);
  assert.equal(limited.headers['x-kubernetes-pf-flowschema-uid'], stableUid('flowschema', 'per-user'));
  const status = JSON.parse(limited.body);
  assert.equal(status.kind, 'Status');
  assert.equal(status.reason, 'TooManyRequests');
  assert.equal(status.code, 429);
  assert.equal(status.details.retryAfterSeconds, retryAfter);
  assert.match(status.message, /too many requests for user "alice" \(flow schema "per-user", priority level "tenants"\)/);
  assert.equal(shard.seen.length, 3, 'the limited request never reached the shard');

  // Another user has a flow of its own; probes are exempt however often they come.
  assert.equal((await get(gw, pki, path, { token: 'bob-token' })).status, 200);
  for (let i = 0; i < 10; i++) {
    const probe = await get(gw, pki, `${ws}/readyz`);
    assert.equal(probe.status, 200);
    assert.equal(probe.headers['x-kubernetes-pf-prioritylevel-uid'], stableUid('prioritylevel', 'exempt'));
  }
  const metrics = await gw.metrics.metrics();
  assert.match(metrics, /kcp_edge_ratelimit_rejected_total\{priority_level="tenants",flow_schema="per-user",reason="rate"\} 1/);
});

test('an open watch holds its slot until it ends', async (t) => {
  const { pki, gw } = await setup(t);
  const first = await openWatch(gw, pki);
  assert.equal(first.status, 200);
  const second = await get(gw, pki, `${ws}/api/v1/configmaps?watch=1`, { token: 'bob-token' });
  assert.equal(second.status, 429);
  assert.match(JSON.parse(second.body).message, /too many open watches/);
  first.close();
  const third = await waitFor(
    async () => {
      const w = await openWatch(gw, pki);
      if (w.status === 200) return w;
      return undefined;
    },
    { what: 'the watch slot to be released' },
  );
  third.close();
});
