// The signing keys of one realm, with the refetching under our control (jose's createRemoteJWKSet
// refetches on its own schedule and forgets its keys on a failed fetch; we need neither):
// - discovery finds jwks_uri once, again only after a JWKS fetch failed;
// - an unknown kid refetches, but all concurrent callers share one fetch, at most one fetch starts per
//   minRefetchInterval, and a kid a fresh key set lacked is refused from a negative cache for a while,
//   so garbage tokens cannot make us hammer Keycloak;
// - a failed fetch keeps the keys we had, so a realm whose JWKS endpoint is down keeps validating;
// - keys older than maxAge are refreshed in the background, never on the request's time.
import { createLocalJWKSet, errors, type CryptoKey, type FlattenedJWSInput, type JSONWebKeySet, type JWSHeaderParameters, type LocalJWKSet } from 'jose';
import { LRUCache } from 'lru-cache';
import { AuthFailure } from './auth-failure.ts';
import type { JsonFetcher } from './oidc-fetch.ts';
import type { JwksSettings, Realm } from './realm-settings.ts';

export interface KeySetObserver {
  fetched(org: string, outcome: 'ok' | 'error', error?: string): void;
}

/** Where a key set comes from: an org's realm, or a shard's service-account issuer. */
export type KeySetSource = Pick<Realm, 'org' | 'issuer' | 'discoveryUrl' | 'ca'>;

export class RealmKeySet<R extends KeySetSource = Realm> {
  readonly realm: R;
  readonly #fetcher: JsonFetcher;
  readonly #settings: JwksSettings;
  readonly #observer: KeySetObserver | undefined;
  #keys: LocalJWKSet | undefined;
  #fetchedAt = -Infinity;
  #lastAttempt = -Infinity;
  #lastError: string | undefined;
  #jwksUri: string | undefined;
  #inflight: Promise<boolean> | undefined;
  readonly #absentKids: LRUCache<string, true>;

  constructor(realm: R, fetcher: JsonFetcher, settings: JwksSettings, observer?: KeySetObserver) {
    this.realm = realm;
    this.#fetcher = fetcher;
    this.#settings = settings;
    this.#observer = observer;
    this.#absentKids = new LRUCache({ max: 1000, ttl: Math.max(1, settings.negativeCacheTtlMs) });
  }

  /** A jose key-resolution function: the key for this header, or an AuthFailure. */
  readonly getKey = async (header: JWSHeaderParameters, token: FlattenedJWSInput): Promise<CryptoKey> => {
    let keys = this.#keys;
    if (keys === undefined) {
      await this.#refresh();
      keys = this.#keys;
      if (keys === undefined) throw new AuthFailure('jwks_unavailable', `${this.realm.org}: ${this.#lastError ?? 'no keys yet'}`);
    } else if (performance.now() - this.#fetchedAt > this.#settings.maxAgeMs) {
      void this.#refresh();
    }
    const found = await match(keys, header, token);
    if (found !== undefined) return found;

    const kid = header.kid ?? '';
    if (this.#absentKids.has(kid)) throw new AuthFailure('unknown_kid', `${this.realm.org}: kid "${kid}" (recently absent)`);
    const fetched = await this.#refresh();
    if (this.#keys !== undefined && this.#keys !== keys) {
      const again = await match(this.#keys, header, token);
      if (again !== undefined) return again;
    }
    // Only a key set fetched after this token arrived proves its kid absent.
    if (fetched) this.#absentKids.set(kid, true);
    throw new AuthFailure('unknown_kid', `${this.realm.org}: kid "${kid}"${fetched ? '' : ' (refetch rate-limited)'}`);
  };

  /** Starts a fetch unless one is running (then joins it) or one started too recently (then resolves false at once). */
  #refresh(): Promise<boolean> {
    if (this.#inflight !== undefined) return this.#inflight;
    const now = performance.now();
    if (now - this.#lastAttempt < this.#settings.minRefetchIntervalMs) return Promise.resolve(false);
    this.#lastAttempt = now;
    this.#inflight = this.#fetch()
      .then(
        () => {
          this.#observer?.fetched(this.realm.org, 'ok');
          return true;
        },
        (err: unknown) => {
          this.#lastError = err instanceof Error ? err.message : String(err);
          this.#observer?.fetched(this.realm.org, 'error', this.#lastError);
          return false;
        },
      )
      .finally(() => {
        this.#inflight = undefined;
      });
    return this.#inflight;
  }

  async #fetch(): Promise<void> {
    const { realm } = this;
    if (this.#jwksUri === undefined) this.#jwksUri = jwksUriOf(await this.#fetcher.get(realm.discoveryUrl, realm.ca), realm);
    let body: unknown;
    try {
      body = await this.#fetcher.get(this.#jwksUri, realm.ca);
    } catch (err) {
      // The realm may have moved its keys; look again next time.
      this.#jwksUri = undefined;
      throw err;
    }
    const keys = createLocalJWKSet(body as JSONWebKeySet); // throws JWKSInvalid on anything but {keys: [...]}
    this.#keys = keys;
    this.#fetchedAt = performance.now();
    this.#lastError = undefined;
  }
}

async function match(keys: LocalJWKSet, header: JWSHeaderParameters, token: FlattenedJWSInput): Promise<CryptoKey | undefined> {
  try {
    return await keys(header, token);
  } catch (err) {
    if (err instanceof errors.JWKSNoMatchingKey) return undefined;
    throw err;
  }
}

function jwksUriOf(doc: unknown, realm: KeySetSource): string {
  const fields = typeof doc === 'object' && doc !== null ? (doc as Record<string, unknown>) : {};
  // OIDC Discovery §4.3: the document's issuer must be exactly the issuer we expect.
  if (fields.issuer !== realm.issuer) throw new Error(`discovery at ${realm.discoveryUrl} names issuer ${JSON.stringify(fields.issuer)}, expected ${realm.issuer}`);
  const uri = fields.jwks_uri;
  if (typeof uri !== 'string') throw new Error(`discovery at ${realm.discoveryUrl} has no jwks_uri`);
  const parsed = new URL(uri);
  if (parsed.protocol !== 'https:' && new URL(realm.discoveryUrl).protocol === 'https:') {
    throw new Error(`discovery at ${realm.discoveryUrl} points jwks_uri at ${uri}, which is not https`);
  }
  return uri;
}
