// Checks TLS material before the gateway swaps it in: a rotated certificate must never be able to
// take a working listener or shard connection down. A pair is good when its PEM parses, the key is the
// certificate's and the certificate is valid now; a CA bundle when it parses and holds a certificate
// valid now. Last, OpenSSL itself builds a context from it, so what passes here is what will load.
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { createSecureContext } from 'node:tls';

/** What the listener presents and checks: its certificate chain and key, and the client CA bundle. */
export interface ServingCredentials {
  certPem: string;
  keyPem: string;
  /** Client certificates this bundle signs authenticate (asked for only when set at start). */
  clientCAPem?: string;
}

/** What the gateway presents to shards (mTLS) and the CA bundle it verifies shards naming none against. */
export interface UpstreamCredentials {
  clientCertPem: string;
  clientKeyPem: string;
  caPem?: string;
}

/** Why material was refused; the message names the problem, never the material. */
export class TlsMaterialError extends Error {
  override readonly name = 'TlsMaterialError';
}

export interface CertificateFacts {
  /** The end of validity: of the leaf for a pair, of the longest-lived certificate for a bundle. */
  notAfter: Date;
  /** SHA-256 fingerprint of the leaf (a pair) or of the first certificate (a bundle), for logs. */
  fingerprint256: string;
}

const pemCertificate = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

function parseCertificates(pem: string, what: string): X509Certificate[] {
  const blocks = pem.match(pemCertificate) ?? [];
  if (blocks.length === 0) throw new TlsMaterialError(`${what}: no PEM certificate in it`);
  return blocks.map((block, i) => {
    try {
      return new X509Certificate(block);
    } catch (err) {
      throw new TlsMaterialError(`${what}: certificate ${i + 1} does not parse (${(err as Error).message})`);
    }
  });
}

function validityProblem(certificate: X509Certificate, now: number): string | undefined {
  if (now < certificate.validFromDate.getTime()) return `not valid before ${certificate.validFromDate.toISOString()}`;
  if (now > certificate.validToDate.getTime()) return `expired at ${certificate.validToDate.toISOString()}`;
  return undefined;
}

function loadable(what: string, options: Parameters<typeof createSecureContext>[0]): void {
  try {
    createSecureContext(options);
  } catch (err) {
    throw new TlsMaterialError(`${what}: refused by OpenSSL (${(err as Error).message})`);
  }
}

/** Checks a certificate (chain) and its private key; throws TlsMaterialError saying what is wrong. */
export function checkKeyPair(certPem: string, keyPem: string, now = Date.now()): CertificateFacts {
  const leaf = parseCertificates(certPem, 'certificate')[0] as X509Certificate;
  let key: KeyObject;
  try {
    key = createPrivateKey(keyPem);
  } catch (err) {
    throw new TlsMaterialError(`key: does not parse as an unencrypted PEM private key (${(err as Error).message})`);
  }
  if (!leaf.checkPrivateKey(key)) throw new TlsMaterialError('key: does not match the certificate');
  const problem = validityProblem(leaf, now);
  if (problem !== undefined) throw new TlsMaterialError(`certificate: ${problem}`);
  loadable('certificate and key', { cert: certPem, key: keyPem });
  return { notAfter: leaf.validToDate, fingerprint256: leaf.fingerprint256 };
}

/** Checks a CA bundle: every certificate parses and at least one is valid now (rotation bundles overlap). */
export function checkCertificateBundle(pem: string, now = Date.now()): CertificateFacts {
  const certificates = parseCertificates(pem, 'CA bundle');
  const valid = certificates.filter((c) => validityProblem(c, now) === undefined);
  if (valid.length === 0) throw new TlsMaterialError(`CA bundle: no certificate in it is valid now (${validityProblem(certificates[0] as X509Certificate, now) ?? ''})`);
  loadable('CA bundle', { ca: pem });
  const notAfter = Math.max(...valid.map((c) => c.validToDate.getTime()));
  return { notAfter: new Date(notAfter), fingerprint256: (certificates[0] as X509Certificate).fingerprint256 };
}
