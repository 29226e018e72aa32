import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { Agent, request } from 'undici';
import { startOidcIssuer } from '../../src/sim/oidc-issuer.ts';
import { createCertificateAuthority, issueLoopbackServer } from '../../src/sim/pki.ts';

test('the OIDC issuer stand-in serves discovery, JWKS and password-grant tokens per realm over HTTPS', async (t) => {
  const ca = await createCertificateAuthority('issuer test CA');
  const issuer = await startOidcIssuer({ tls: await issueLoopbackServer(ca, 'oidc'), realms: ['org-acme'], algorithm: 'ES256' });
  t.after(() => issuer.close());
  const agent = new Agent({ connect: { ca: ca.certPem } });
  t.after(() => agent.close());
  const get = async (url: string) => {
    const res = await request(url, { dispatcher: agent });
    return { status: res.statusCode, body: (await res.body.json()) as Record<string, unknown> };
  };

  const discovery = await get(`${issuer.issuerUrl('org-acme')}/.well-known/openid-configuration`);
  assert.equal(discovery.status, 200);
  assert.equal(discovery.body.issuer, issuer.issuerUrl('org-acme'));
  const jwks = await get(String(discovery.body.jwks_uri));
  assert.equal(jwks.status, 200);

  const res = await request(String(discovery.body.token_endpoint), {
    method: 'POST',
    dispatcher: agent,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', client_id: 'kcp-edge', username: 'bob', group: 'devs' }).toString(),
  });
  assert.equal(res.statusCode, 200);
  const { access_token: token } = (await res.body.json()) as { access_token: string };
  const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(jwks.body as never), { issuer: issuer.issuerUrl('org-acme'), audience: 'kcp-edge' });
  assert.equal(protectedHeader.alg, 'ES256');
  assert.equal(payload.preferred_username, 'bob');
  assert.deepEqual(payload.groups, ['devs']);

  assert.equal((await get(`${issuer.url}/realms/org-nope/.well-known/openid-configuration`)).status, 404);
  issuer.failJwks('org-acme', 503);
  assert.equal((await get(String(discovery.body.jwks_uri))).status, 503);
  assert.deepEqual(issuer.requestCounts('org-acme'), { discovery: 1, jwks: 2, token: 1 });
});
