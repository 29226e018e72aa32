// What a rotation may swap in: real openssl-issued pairs and bundles, and the edits a rotation can
// leave half done or wrong.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { test } from 'node:test';
import { checkCertificateBundle, checkKeyPair, TlsMaterialError } from '../../src/gateway/tls-material.ts';
import { createCertificateAuthority } from '../../src/sim/pki.ts';
import { testPki } from './fixtures.ts';

const day = 24 * 3600 * 1000;

test('a matching, current pair passes and reports its end of validity and fingerprint', async () => {
  const { gatewayServing } = await testPki();
  const leaf = new X509Certificate(gatewayServing.certPem);
  const facts = checkKeyPair(gatewayServing.certPem, gatewayServing.keyPem);
  assert.equal(facts.notAfter.getTime(), leaf.validToDate.getTime());
  assert.equal(facts.fingerprint256, leaf.fingerprint256);
});

test('a pair is refused, with the reason, when the key is not the certificate’s, either part is garbage, or the certificate is not valid now', async () => {
  const { gatewayServing, gatewayClient } = await testPki();
  const cases: [string, () => unknown, RegExp][] = [
    ['key of another pair', () => checkKeyPair(gatewayServing.certPem, gatewayClient.keyPem), /key: does not match the certificate/],
    ['garbage certificate', () => checkKeyPair('not a certificate', gatewayServing.keyPem), /certificate: no PEM certificate/],
    ['truncated certificate', () => checkKeyPair(gatewayServing.certPem.slice(0, 200) + '\n-----END CERTIFICATE-----\n', gatewayServing.keyPem), /certificate 1 does not parse/],
    ['garbage key', () => checkKeyPair(gatewayServing.certPem, '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n'), /key: does not parse/],
    ['empty key (half written)', () => checkKeyPair(gatewayServing.certPem, ''), /key: does not parse/],
    ['expired', () => checkKeyPair(gatewayServing.certPem, gatewayServing.keyPem, Date.now() + 400 * day), /certificate: expired at/],
    ['not yet valid', () => checkKeyPair(gatewayServing.certPem, gatewayServing.keyPem, Date.now() - 2 * day), /certificate: not valid before/],
  ];
  for (const [what, check, reason] of cases) {
    assert.throws(check, (err: unknown) => err instanceof TlsMaterialError && reason.test(err.message), what);
  }
});

test('a CA bundle passes while one certificate in it is valid, and reports the longest-lived one', async () => {
  const { ca } = await testPki();
  const longer = await createCertificateAuthority('longer-ca', { days: 730 });
  const bundle = ca.certPem + longer.certPem;
  assert.equal(checkCertificateBundle(bundle).notAfter.getTime(), new X509Certificate(longer.certPem).validToDate.getTime());
  // The first CA has expired, the second not yet: a rotation bundle still works.
  assert.equal(checkCertificateBundle(bundle, Date.now() + 400 * day).notAfter.getTime(), new X509Certificate(longer.certPem).validToDate.getTime());
  assert.throws(() => checkCertificateBundle(bundle, Date.now() + 800 * day), /CA bundle: no certificate in it is valid now/);
  assert.throws(() => checkCertificateBundle('garbage'), /CA bundle: no PEM certificate/);
  assert.throws(() => checkCertificateBundle(ca.certPem + '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'), /CA bundle: certificate 2 does not parse/);
});
