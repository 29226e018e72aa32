// The org-realm authenticator inside the real gateway: tokens of the workspace's own org reach the
// shard as X-Remote-* identity; every refused token gets kube-apiserver's 401 and never reaches a shard.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { registerAuthMetrics } from '../../src/auth/metrics.ts';
import { OrgRealmAuthenticator } from '../../src/auth/org-realm-authenticator.ts';
import { get, startTestGateway, startTestShard, StaticRoutingTable, testPki } from '../gateway/fixtures.ts';
import { metricValue, startIssuerFixture } from './fixtures.ts';

const unauthorized = '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}';
const now = () => Math.floor(Date.now() / 1000);

test('gateway with org realms: own org passes with its identity, anything else is 401 before the shard', async (t) => {
  const pki = await testPki();
  const { issuer, settings } = await startIssuerFixture(t);
  const shard = await startTestShard(t, pki);
  const routing = new StaticRoutingTable()
    .addShard('shard-a', shard.url)
    .addRoute('root:org-acme:proj-frontend', 'shard-a', 'lc-acme-frontend')
    .addRoute('root:org-globex:proj-backend', 'shard-a', 'lc-globex-backend');
  const registry = new Registry();
  const authenticator = new OrgRealmAuthenticator({ realms: settings({ maxTokenBytes: 8192 }), metrics: registerAuthMetrics(registry) });
  t.after(() => authenticator.close());
  const gateway = await startTestGateway(t, pki, routing, { authenticators: [authenticator], registry });
  const acmePath = '/clusters/org-acme:proj-frontend/api/v1/namespaces/default/configmaps';
  const globexPath = '/clusters/root:org-globex:proj-backend/api/v1/namespaces/default/configmaps';

  const alice = await issuer.mint('org-acme', { user: 'alice', groups: ['devs'] });
  const ok = await get(gateway, pki, acmePath, { token: alice });
  assert.equal(ok.status, 200, ok.body);
  const seen = shard.seen.at(-1)!;
  assert.equal(seen.headers['x-remote-user'], 'org-acme:alice');
  assert.equal(seen.headers['x-remote-group'], 'org-acme:devs');
  assert.equal(seen.headers.authorization, undefined, 'the bearer token never travels to the shard');

  // The same user through the WebSocket bearer subprotocol (no Authorization header).
  const viaSubprotocol = await get(gateway, pki, acmePath, {
    token: null,
    headers: { 'sec-websocket-protocol': `base64url.bearer.authorization.k8s.io.${Buffer.from(alice).toString('base64url')}` },
  });
  assert.equal(viaSubprotocol.status, 200, viaSubprotocol.body);

  const carol = await issuer.mint('org-globex', { user: 'carol' });
  assert.equal((await get(gateway, pki, globexPath, { token: carol })).status, 200);

  const reachedShard = shard.seen.length;
  const refused: [string, string | null, string][] = [
    ['org-globex token on an org-acme workspace', carol, 'org_mismatch'],
    ['expired', await issuer.mint('org-acme', { issuedAt: now() - 900, expiresAt: now() - 300 }), 'expired'],
    ['wrong audience', await issuer.mint('org-acme', { audience: 'grafana' }), 'audience_mismatch'],
    ['unknown kid', await issuer.mint('org-acme', { kid: 'who-knows' }), 'unknown_kid'],
    ['garbage', 'garbage', 'malformed'],
    // Node refuses headers over 16 KiB itself (431); below that the realm's own bound applies.
    ['oversized', await issuer.mint('org-acme', { claims: { padding: 'x'.repeat(10_000) } }), 'token_too_large'],
    ['no token at all', null, ''],
  ];
  for (const [name, token, reason] of refused) {
    const reply = await get(gateway, pki, acmePath, { token });
    assert.equal(reply.status, 401, name);
    assert.equal(reply.body, unauthorized, name);
    if (reason !== '') assert.ok((await metricValue(registry, 'kcp_edge_authn_failures_total', { reason })) >= 1, `${name}: counted as ${reason}`);
  }
  assert.equal(shard.seen.length, reachedShard, 'no refused request reached the shard');
  assert.ok((await gateway.metrics.metrics()).includes('kcp_edge_authn_failures_total{reason="org_mismatch"} 1'));
});
