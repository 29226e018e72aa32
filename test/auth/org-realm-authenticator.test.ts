import assert from 'node:assert/strict';
import { test } from 'node:test';
import { base64url, exportSPKI, importJWK, SignJWT, type CryptoKey } from 'jose';
import type { AuthFailureReason } from '../../src/auth/auth-failure.ts';
import { isGatewayError } from '../../src/kube/gateway-error.ts';
import type { OidcIssuer } from '../../src/sim/oidc-issuer.ts';
import { credentials, metricValue, newAuthenticator, startIssuerFixture } from './fixtures.ts';

const unauthorizedBody = '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}';
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const now = () => Math.floor(Date.now() / 1000);

interface Case {
  name: string;
  /** The org of the workspace the token is presented on. */
  org?: string;
  token: (issuer: OidcIssuer) => Promise<string>;
  reason: AuthFailureReason;
}

function resign(token: string, edit: (parts: { header: Record<string, unknown>; payload: Record<string, unknown> }) => void): string {
  const [h, p, s] = token.split('.');
  const parts = { header: JSON.parse(text(base64url.decode(h!))) as Record<string, unknown>, payload: JSON.parse(text(base64url.decode(p!))) as Record<string, unknown> };
  edit(parts);
  const encode = (v: unknown) => base64url.encode(JSON.stringify(v));
  return `${encode(parts.header)}.${encode(parts.payload)}.${s}`;
}

const rejected: Case[] = [
  { name: 'expired', token: (i) => i.mint('org-acme', { issuedAt: now() - 600, expiresAt: now() - 120 }), reason: 'expired' },
  { name: 'expired beyond the small exp skew (inside the nbf leeway)', token: (i) => i.mint('org-acme', { issuedAt: now() - 600, expiresAt: now() - 30 }), reason: 'expired' },
  { name: 'not yet valid', token: (i) => i.mint('org-acme', { notBefore: now() + 300 }), reason: 'not_yet_valid' },
  { name: 'issued in the future', token: (i) => i.mint('org-acme', { issuedAt: now() + 300, expiresAt: now() + 600 }), reason: 'issued_in_future' },
  { name: 'wrong audience', token: (i) => i.mint('org-acme', { audience: 'someone-else' }), reason: 'audience_mismatch' },
  { name: 'wrong issuer', token: (i) => i.mint('org-acme', { claims: { iss: 'https://keycloak.evil.example/realms/org-acme' } }), reason: 'issuer_mismatch' },
  { name: "other org's realm", token: (i) => i.mint('org-globex'), reason: 'org_mismatch' },
  { name: "other org's key with this org's issuer", token: (i) => i.mint('org-globex', { claims: { iss: i.issuerUrl('org-acme') } }), reason: 'unknown_kid' },
  { name: 'unknown kid', token: (i) => i.mint('org-acme', { kid: 'no-such-key' }), reason: 'unknown_kid' },
  {
    name: 'tampered payload',
    token: async (i) => resign(await i.mint('org-acme'), ({ payload }) => void (payload.preferred_username = 'admin')),
    reason: 'signature_invalid',
  },
  {
    name: 'alg none',
    token: async (i) => resign(await i.mint('org-acme'), ({ header }) => void (header.alg = 'none')).replace(/\.[^.]*$/, '.'),
    reason: 'algorithm_not_allowed',
  },
  {
    name: "HS256 signed with the realm's public key",
    token: async (i) => {
      const jwk = i.publicJwk('org-acme');
      const pem = await exportSPKI((await importJWK(jwk, 'RS256', { extractable: true })) as CryptoKey);
      const valid = await i.mint('org-acme');
      const claims = JSON.parse(text(base64url.decode(valid.split('.')[1]!))) as Record<string, unknown>;
      return new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: jwk.kid! }).sign(new TextEncoder().encode(pem));
    },
    reason: 'algorithm_not_allowed',
  },
  { name: 'oversized', token: (i) => i.mint('org-acme', { claims: { padding: 'x'.repeat(20_000) } }), reason: 'token_too_large' },
  { name: 'garbage', token: async () => 'not-a-jwt', reason: 'malformed' },
  { name: 'three garbage segments', token: async () => 'a.b.c', reason: 'malformed' },
  { name: 'system: user', token: (i) => i.mint('org-acme', { user: 'system:admin' }), reason: 'system_identity' },
  { name: 'system: group', token: (i) => i.mint('org-acme', { groups: ['system:masters'] }), reason: 'system_identity' },
  { name: 'no username', token: (i) => i.mint('org-acme', { claims: { preferred_username: undefined } }), reason: 'username_missing' },
  { name: 'no exp', token: (i) => i.mint('org-acme', { claims: { exp: undefined } }), reason: 'claim_invalid' },
  { name: 'groups of the wrong type', token: (i) => i.mint('org-acme', { claims: { groups: { admin: true } } }), reason: 'claim_invalid' },
];

test('org realm tokens: every bad token is a 401 with the kube-apiserver body and a reason only in the metrics', async (t) => {
  const { issuer, settings } = await startIssuerFixture(t);
  const { authenticator, registry } = newAuthenticator(t, settings());

  const ok = await authenticator.authenticate(credentials('org-acme', await issuer.mint('org-acme', { user: 'alice', groups: ['devs', 'ops'] })));
  // `source`: what the token named before the prefixes, for the audit log (never sent to a shard).
  assert.deepEqual(ok, { user: 'org-acme:alice', groups: ['org-acme:devs', 'org-acme:ops'], extra: {}, source: { user: 'alice', groups: ['devs', 'ops'] } });

  for (const c of rejected) {
    await t.test(c.name, async () => {
      const token = await c.token(issuer);
      const before = await metricValue(registry, 'kcp_edge_authn_failures_total', { reason: c.reason });
      await assert.rejects(authenticator.authenticate(credentials(c.org ?? 'org-acme', token)), (err: unknown) => {
        assert.ok(isGatewayError(err));
        assert.equal(err.code, 'UNAUTHORIZED');
        assert.equal(JSON.stringify(err.toStatus()), unauthorizedBody);
        assert.match(err.internalReason ?? '', new RegExp(`^${c.reason}`));
        return true;
      });
      assert.equal(await metricValue(registry, 'kcp_edge_authn_failures_total', { reason: c.reason }), before + 1);
    });
  }
});

test('org realm tokens: accepted within the nbf leeway, the username prefix is configurable, email needs email_verified', async (t) => {
  const { issuer, settings } = await startIssuerFixture(t, ['org-acme']);
  const { authenticator } = newAuthenticator(t, settings());
  const early = await authenticator.authenticate(credentials('org-acme', await issuer.mint('org-acme', { notBefore: now() + 30 })));
  assert.equal(early?.user, 'org-acme:alice');

  const byEmail = newAuthenticator(t, settings({ claimMappings: { username: { claim: 'email', prefix: '' }, groups: { claim: 'groups', prefix: 'oidc:' } } })).authenticator;
  const verified = await byEmail.authenticate(credentials('org-acme', await issuer.mint('org-acme', { user: 'bob', groups: ['a'] })));
  assert.deepEqual(verified, { user: 'bob@org-acme.example.com', groups: ['oidc:a'], extra: {}, source: { user: 'bob@org-acme.example.com', groups: ['a'] } });
  await assert.rejects(
    byEmail.authenticate(credentials('org-acme', await issuer.mint('org-acme', { user: 'bob', claims: { email_verified: false } }))),
    (err: unknown) => isGatewayError(err) && /^email_not_verified/.test(err.internalReason ?? ''),
  );
});

test('org realm tokens: not its to judge without a token or without an org', async (t) => {
  const { issuer, settings } = await startIssuerFixture(t, ['org-acme']);
  const { authenticator } = newAuthenticator(t, settings());
  assert.equal(await authenticator.authenticate(credentials('org-acme', undefined)), undefined);
  assert.equal(await authenticator.authenticate(credentials(undefined, await issuer.mint('org-acme'))), undefined);
});

test('org realm tokens: a verified token is known at once on its own org, and only there', async (t) => {
  const { issuer, settings } = await startIssuerFixture(t, ['org-acme', 'org-other']);
  const { authenticator, registry } = newAuthenticator(t, settings());
  const token = await issuer.mint('org-acme');
  assert.equal(authenticator.verified(credentials('org-acme', token)), undefined, 'not verified yet: ask authenticate()');
  const identity = await authenticator.authenticate(credentials('org-acme', token));
  assert.equal(authenticator.verified(credentials('org-acme', token)), identity);
  assert.equal(authenticator.verified(credentials('org-other', token)), undefined, "another org's workspace is for authenticate() to refuse");
  assert.equal(authenticator.verified(credentials('org-acme', undefined)), null);
  assert.equal(authenticator.verified(credentials(undefined, token)), null);
  assert.equal(await metricValue(registry, 'kcp_edge_authn_successes_total', { cache: 'hit' }), 1);
});

test('org realm tokens: required claims per org', async (t) => {
  const { issuer, settings } = await startIssuerFixture(t, ['org-acme']);
  const { authenticator } = newAuthenticator(t, settings({ orgs: { 'org-acme': { requiredClaims: { tier: 'gold' } } } }));
  assert.ok(await authenticator.authenticate(credentials('org-acme', await issuer.mint('org-acme', { claims: { tier: 'gold' } }))));
  await assert.rejects(
    authenticator.authenticate(credentials('org-acme', await issuer.mint('org-acme', { claims: { tier: 'tin' } }))),
    (err: unknown) => isGatewayError(err) && /^required_claim_mismatch/.test(err.internalReason ?? ''),
  );
});
