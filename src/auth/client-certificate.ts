// Client-certificate authentication, as kube-apiserver's x509 authenticator does it: the common name
// is the user, each organisation a group. The TLS layer has already verified the chain to the client CA.
import type { Authenticator, Credentials, Identity } from './identity.ts';

export class ClientCertificateAuthenticator implements Authenticator {
  // One Identity per certificate fingerprint, so downstream caches keyed by identity hit.
  readonly #identities = new Map<string, Identity>();

  async authenticate(credentials: Credentials): Promise<Identity | undefined> {
    const certificate = credentials.clientCertificate;
    if (certificate === undefined) return undefined;
    const known = this.#identities.get(certificate.fingerprint256);
    if (known !== undefined) return known;
    const user = firstOf(certificate.subject.CN);
    if (user === undefined || user === '') return undefined;
    const organizations = certificate.subject.O;
    const groups = organizations === undefined ? [] : Array.isArray(organizations) ? [...organizations] : [organizations];
    const identity: Identity = { user, groups, extra: {} };
    if (this.#identities.size > 10_000) this.#identities.clear();
    this.#identities.set(certificate.fingerprint256, identity);
    return identity;
  }
}

function firstOf(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
