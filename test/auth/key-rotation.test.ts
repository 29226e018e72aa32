import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isGatewayError } from '../../src/kube/gateway-error.ts';
import { waitFor } from '../helpers/wait.ts';
import { credentials, metricValue, newAuthenticator, startIssuerFixture } from './fixtures.ts';

const failsWith = (reason: string) => (err: unknown) => isGatewayError(err) && err.code === 'UNAUTHORIZED' && (err.internalReason ?? '').startsWith(reason);

test('a key rotation in the issuer is picked up without a restart', async (t) => {
  const { issuer, settings } = await startIssuerFixture(t, ['org-acme']);
  const { authenticator } = newAuthenticator(t, settings({ jwks: { ...settings().jwks, minRefetchIntervalMs: 0 } }));
  const before = await issuer.mint('org-acme');
  assert.ok(await authenticator.authenticate(credentials('org-acme', before)));

  const oldKid = issuer.activeKid('org-acme');
  const newKid = await issuer.rotate('org-acme', { retainPrevious: false });
  assert.notEqual(newKid, oldKid);
  const after = await issuer.mint('org-acme');
  assert.equal((await authenticator.authenticate(credentials('org-acme', after)))?.user, 'org-acme:alice');
  // The old key is gone from the refetched JWKS: a token naming it, not verified before, is refused.
  const namingRemovedKey = await issuer.mint('org-acme', { kid: oldKid, user: 'mallory' });
  await assert.rejects(authenticator.authenticate(credentials('org-acme', namingRemovedKey)), failsWith('unknown_kid'));
});

test('concurrent tokens with an unknown kid cause one JWKS fetch', async (t) => {
  const { issuer, settings } = await startIssuerFixture(t, ['org-acme']);
  const { authenticator } = newAuthenticator(t, settings({ jwks: { ...settings().jwks, minRefetchIntervalMs: 0 } }));
  assert.ok(await authenticator.authenticate(credentials('org-acme', await issuer.mint('org-acme'))));
  assert.equal(issuer.requestCounts('org-acme').jwks, 1);

  await issuer.rotate('org-acme');
  // Distinct tokens (distinct users), so the verified-token cache cannot answer for any of them.
  const tokens = await Promise.all(Array.from({ length: 25 }, (_, i) => issuer.mint('org-acme', { user: `user-${i}` })));
  const identities = await Promise.all(tokens.map((token) => authenticator.authenticate(credentials('org-acme', token))));
  assert.deepEqual(
    identities.map((id) => id?.user),
    tokens.map((_, i) => `org-acme:user-${i}`),
  );
  assert.equal(issuer.requestCounts('org-acme').jwks, 2);
  assert.equal(issuer.requestCounts('org-acme').discovery, 1);
});

test('unknown kids are rate-limited per realm and negatively cached', async (t) => {
  const { issuer, settings } = await startIssuerFixture(t, ['org-acme']);
  const limited = newAuthenticator(t, settings({ jwks: { ...settings().jwks, minRefetchIntervalMs: 60_000 } })).authenticator;
  assert.ok(await limited.authenticate(credentials('org-acme', await issuer.mint('org-acme'))));
  for (let i = 0; i < 20; i++) {
    await assert.rejects(limited.authenticate(credentials('org-acme', await issuer.mint('org-acme', { kid: `garbage-${i}` }))), failsWith('unknown_kid'));
  }
  assert.equal(issuer.requestCounts('org-acme').jwks, 1, 'no refetch inside the rate-limit interval');

  const cached = newAuthenticator(t, settings({ jwks: { ...settings().jwks, minRefetchIntervalMs: 0, negativeCacheTtlMs: 60_000 } })).authenticator;
  const start = issuer.requestCounts('org-acme').jwks;
  for (let i = 0; i < 10; i++) {
    await assert.rejects(cached.authenticate(credentials('org-acme', await issuer.mint('org-acme', { kid: 'same-garbage', user: `u${i}` }))), failsWith('unknown_kid'));
  }
  // One fetch for the key set, one refetch proving the kid absent, then the negative cache answers.
  assert.equal(issuer.requestCounts('org-acme').jwks - start, 2);
});

test('a JWKS outage of one realm keeps its cached keys working and leaves other realms alone', async (t) => {
  const { issuer, settings } = await startIssuerFixture(t, ['org-acme', 'org-globex', 'org-initech']);
  const { authenticator, registry } = newAuthenticator(t, settings({ jwks: { ...settings().jwks, minRefetchIntervalMs: 0 } }));
  assert.ok(await authenticator.authenticate(credentials('org-acme', await issuer.mint('org-acme'))));

  issuer.failJwks('org-acme', 503);
  // A fresh token (not in the verified-token cache) signed with the known key still verifies.
  assert.equal((await authenticator.authenticate(credentials('org-acme', await issuer.mint('org-acme', { user: 'carol' }))))?.user, 'org-acme:carol');
  // An unknown kid makes it try, fail, and keep the keys it had.
  await assert.rejects(authenticator.authenticate(credentials('org-acme', await issuer.mint('org-acme', { kid: 'rotated-away' }))), failsWith('unknown_kid'));
  assert.equal(await metricValue(registry, 'kcp_edge_authn_jwks_fetches_total', { org: 'org-acme', outcome: 'error' }), 1);
  assert.ok(await authenticator.authenticate(credentials('org-acme', await issuer.mint('org-acme', { user: 'dave' }))));

  // Other realms: one never seen before fetches its keys normally.
  assert.equal((await authenticator.authenticate(credentials('org-globex', await issuer.mint('org-globex'))))?.user, 'org-globex:alice');
  // A realm whose endpoint is down before we ever had its keys is refused, not hung.
  issuer.failJwks('org-initech', 500);
  await assert.rejects(authenticator.authenticate(credentials('org-initech', await issuer.mint('org-initech'))), failsWith('jwks_unavailable'));

  issuer.failJwks('org-acme', undefined);
  await issuer.rotate('org-acme');
  assert.ok(await authenticator.authenticate(credentials('org-acme', await issuer.mint('org-acme', { user: 'erin' }))), 'recovers after the outage');
});

test('the verified-token cache answers repeats, never outlives the token, and keeps the org binding', async (t) => {
  const { issuer, settings } = await startIssuerFixture(t);
  const { authenticator, registry } = newAuthenticator(t, settings({ expirySkewSeconds: 0 }));
  const token = await issuer.mint('org-globex');
  for (let i = 0; i < 3; i++) assert.ok(await authenticator.authenticate(credentials('org-globex', token)));
  assert.equal(await metricValue(registry, 'kcp_edge_authn_successes_total', { cache: 'miss' }), 1);
  assert.equal(await metricValue(registry, 'kcp_edge_authn_successes_total', { cache: 'hit' }), 2);
  await assert.rejects(authenticator.authenticate(credentials('org-acme', token)), failsWith('org_mismatch'));

  const shortLived = await issuer.mint('org-acme', { expiresAt: Math.floor(Date.now() / 1000) + 2 });
  assert.ok(await authenticator.authenticate(credentials('org-acme', shortLived)));
  await waitFor(
    () =>
      authenticator.authenticate(credentials('org-acme', shortLived)).then(
        () => false,
        (err: unknown) => failsWith('expired')(err),
      ),
    { timeoutMs: 5_000, what: 'the short-lived token to expire out of the cache' },
  );
});

test('a realm settings reload re-verifies cached tokens', async (t) => {
  const { issuer, settings } = await startIssuerFixture(t, ['org-acme']);
  const { authenticator } = newAuthenticator(t, settings());
  const token = await issuer.mint('org-acme');
  assert.ok(await authenticator.authenticate(credentials('org-acme', token)));
  authenticator.registry.setSettings(settings({ audiences: ['another-audience'] }));
  await assert.rejects(authenticator.authenticate(credentials('org-acme', token)), failsWith('audience_mismatch'));
});
