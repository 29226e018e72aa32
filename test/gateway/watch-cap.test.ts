// Open watches are bounded: by the rate policy's maxOpenWatches and by the gateway's own cap per
// process and per organisation. A watch is whatever kube-apiserver takes for one, `?watch` and
// `?watch=` included, so no spelling slips past either bound.
import assert from 'node:assert/strict';
import type { ClientRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { test, type TestContext } from 'node:test';
import { Registry } from 'prom-client';
import type { Gateway } from '../../src/gateway/server.ts';
import { MemoryLimiter } from '../../src/ratelimit/memory-limiter.ts';
import { registerRateLimitMetrics } from '../../src/ratelimit/metrics.ts';
import { parsePolicy } from '../../src/ratelimit/policy.ts';
import { staticPolicy } from '../../src/ratelimit/policy-source.ts';
import { sample } from '../helpers/metrics.ts';
import { startWatchShard } from '../helpers/watch-shard.ts';
import { waitFor } from '../helpers/wait.ts';
import { get, StaticRoutingTable, startTestGateway, testPki, type Pki } from './fixtures.ts';

interface OpenedWatch {
  status: number;
  headers: Record<string, unknown>;
  body: Promise<string>;
  close(): void;
}

/** A watch that stays open until close(); resolves once the response headers arrived. */
function openWatch(gw: Gateway, pki: Pki, path: string, token = 'alice-token'): Promise<OpenedWatch> {
  return new Promise((resolve, reject) => {
    const req: ClientRequest = httpsRequest({ host: '127.0.0.1', port: gw.port, path, ca: pki.ca.certPem, agent: false, headers: { authorization: `Bearer ${token}` } }, (res) => {
      const body = new Promise<string>((done) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => done(text));
        res.on('error', () => done(text));
      });
      resolve({ status: res.statusCode ?? 0, headers: res.headers, body, close: () => req.destroy() });
    });
    req.on('error', reject);
    req.end();
  });
}

async function setup(t: TestContext, overrides: Parameters<typeof startTestGateway>[3]) {
  const pki = await testPki();
  const shard = await startWatchShard(t, pki);
  const routing = new StaticRoutingTable().addShard('a', shard.url).addRoute('root:org-acme:web', 'a', 'acme1').addRoute('root:org-globex:apps', 'a', 'globex1');
  const gw = await startTestGateway(t, pki, routing, overrides);
  return { pki, shard, gw };
}

const acme = '/clusters/org-acme:web/api/v1/namespaces/default/configmaps';
const globex = '/clusters/org-globex:apps/api/v1/namespaces/default/configmaps';

test('?watch and ?watch= are watches: the rate policy counts them against maxOpenWatches', async (t) => {
  const policy = `
priorityLevels:
  - name: tenants
    limits: { rate: 1000, burst: 1000, maxOpenWatches: 1 }
flowSchemas:
  - { name: per-user, precedence: 100, priorityLevel: tenants, distinguisher: byUser, rules: [{ orgs: ["*"] }] }
`;
  const registry = new Registry();
  const limiter = new MemoryLimiter({ policy: staticPolicy(await parsePolicy(policy)), metrics: registerRateLimitMetrics(registry) });
  t.after(() => limiter.close());
  const { pki, shard, gw } = await setup(t, { limiter, registry });

  const bare = await openWatch(gw, pki, `${acme}?watch`);
  assert.equal(bare.status, 200);
  await waitFor(() => shard.open === 1, { what: 'the watch open at the shard' });
  for (const spelling of ['?watch=', '?watch=True', '?watch=yes']) {
    // Opened as a watch, so that one let through shows as a 200 rather than a wait for its end.
    const refused = await openWatch(gw, pki, `${acme}${spelling}`);
    if (refused.status !== 429) refused.close();
    assert.equal(refused.status, 429, spelling);
    assert.match(JSON.parse(await refused.body).message, /too many open watches/);
  }
  // Lists are not watches: ?watch=0 and ?watch=FALSE pass while the watch slot is taken.
  for (const spelling of ['?watch=0', '?watch=FALSE']) assert.equal((await get(gw, pki, `${acme}${spelling}`)).status, 200, spelling);
  bare.close();
  await waitFor(() => shard.open === 0, { what: 'the watch closed at the shard' });
  const empty = await openWatch(gw, pki, `${acme}?watch=`);
  assert.equal(empty.status, 200);
  empty.close();
});

test('the gateway caps open watches per process and per organisation: 429 with Retry-After, counted', async (t) => {
  const { pki, shard, gw } = await setup(t, { watchLimits: { maxOpen: 3, maxOpenPerOrg: 2 } });
  const first = await openWatch(gw, pki, `${acme}?watch`);
  const second = await openWatch(gw, pki, `${acme}?watch=&resourceVersion=1`);
  assert.deepEqual([first.status, second.status], [200, 200]);

  const orgFull = await get(gw, pki, `${acme}?watch=True`);
  assert.equal(orgFull.status, 429, orgFull.body);
  assert.equal(orgFull.headers['retry-after'], '5');
  const status = JSON.parse(orgFull.body);
  assert.equal(status.kind, 'Status');
  assert.equal(status.reason, 'TooManyRequests');
  assert.match(status.message, /too many open watches for this organisation/);

  // Another organisation still gets its watch, up to the gateway's own bound.
  const third = await openWatch(gw, pki, `${globex}?watch=1`, 'bob-token');
  assert.equal(third.status, 200);
  const gatewayFull = await get(gw, pki, `${globex}?watch=1`, { token: 'bob-token' });
  assert.equal(gatewayFull.status, 429, gatewayFull.body);
  assert.match(JSON.parse(gatewayFull.body).message, /too many open watches for this gateway/);
  // Ordinary requests are not watches and pass.
  assert.equal((await get(gw, pki, `${acme}?limit=5`)).status, 200);

  const metrics = await gw.metrics.metrics();
  assert.equal(sample(metrics, 'kcp_edge_watch_cap_rejections_total', { scope: 'org' }), 1);
  assert.equal(sample(metrics, 'kcp_edge_watch_cap_rejections_total', { scope: 'gateway' }), 1);
  await waitFor(() => shard.open === 3, { what: 'three watches open at the shard' });

  // A watch that ends gives its slot back.
  first.close();
  await waitFor(() => shard.open === 2, { what: 'the closed watch gone at the shard' });
  const again = await openWatch(gw, pki, `${acme}?watch=1`);
  assert.equal(again.status, 200);
  for (const w of [second, third, again]) w.close();
  await waitFor(() => shard.open === 0, { what: 'every watch closed at the shard' });
});
