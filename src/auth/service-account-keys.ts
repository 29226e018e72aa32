// The public keys one service-account issuer signs with: PEM files (kube-apiserver's
// --service-account-key-file) and/or the keys the issuer publishes through OIDC discovery
// (/.well-known/openid-configuration → jwks_uri, as every kube-apiserver and kcp shard serves).
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import type { JWSHeaderParameters } from 'jose';
import type { JsonFetcher } from './oidc-fetch.ts';
import { RealmKeySet, type KeySetObserver } from './realm-key-set.ts';
import type { JwksSettings } from './realm-settings.ts';

export interface ServiceAccountIssuer {
  /** The `iss` of its bound tokens, e.g. https://kcp.default.svc */
  issuer: string;
  /** PEM text of public (or private: the public half is used) RSA/ECDSA keys. */
  keys: string[];
  /** Where the issuer's discovery document is; keys are also fetched from its jwks_uri when set. */
  discoveryUrl: string | undefined;
  /** PEM bundle trusted for discovery and JWKS. */
  ca: string | undefined;
}

export interface StaticKey {
  kid: string;
  key: KeyObject;
}

/** kube-apiserver's key id: base64url(SHA-256(DER of the SubjectPublicKeyInfo)), so kids match the shards'. */
export function keyIdOf(key: KeyObject): string {
  return createHash('sha256')
    .update(key.export({ type: 'spki', format: 'der' }))
    .digest('base64url');
}

/** Every key in PEM text (several blocks allowed, as in kube's key files); throws on a block that is none. */
export function parsePublicKeys(pem: string, source: string): StaticKey[] {
  const blocks = pem.match(/-----BEGIN [A-Z ]+-----[\s\S]+?-----END [A-Z ]+-----/g) ?? [];
  const keys: StaticKey[] = [];
  for (const block of blocks) {
    if (/BEGIN CERTIFICATE/.test(block)) continue;
    let key: KeyObject;
    try {
      key = createPublicKey(block);
    } catch (err) {
      throw new Error(`${source}: not a PEM public or private key (${(err as Error).message})`);
    }
    if (key.asymmetricKeyType !== 'rsa' && key.asymmetricKeyType !== 'ec')
      throw new Error(`${source}: only RSA and ECDSA keys sign service-account tokens, got ${key.asymmetricKeyType ?? 'unknown'}`);
    keys.push({ kid: keyIdOf(key), key });
  }
  if (keys.length === 0) throw new Error(`${source}: no PEM public or private key`);
  return keys;
}

export class IssuerKeys {
  readonly issuer: string;
  readonly #static: StaticKey[];
  readonly #discovered: RealmKeySet<{ org: string; issuer: string; discoveryUrl: string; ca: string | undefined }> | undefined;

  constructor(issuer: ServiceAccountIssuer, fetcher: JsonFetcher, jwks: JwksSettings, observer?: KeySetObserver) {
    this.issuer = issuer.issuer;
    this.#static = issuer.keys.flatMap((pem, i) => parsePublicKeys(pem, `${issuer.issuer} key ${i + 1}`));
    this.#discovered =
      issuer.discoveryUrl === undefined
        ? undefined
        : new RealmKeySet({ org: issuer.issuer, issuer: issuer.issuer, discoveryUrl: issuer.discoveryUrl, ca: issuer.ca }, fetcher, jwks, observer);
  }

  /**
   * The keys to try for this header, best first: a static key with the token's kid, else every static
   * key (kube's own tokens carry a kid, hand-made ones may not); then the discovered key set, whose
   * lookup refetches on an unknown kid. Each is tried until one verifies.
   */
  candidates(header: JWSHeaderParameters): (KeyObject | RealmKeySet<never>['getKey'])[] {
    const byKid = header.kid === undefined ? [] : this.#static.filter((k) => k.kid === header.kid);
    const statics = byKid.length > 0 ? byKid : this.#static;
    const out: (KeyObject | RealmKeySet<never>['getKey'])[] = statics.map((k) => k.key);
    if (this.#discovered !== undefined && byKid.length === 0) out.push(this.#discovered.getKey);
    return out;
  }
}
