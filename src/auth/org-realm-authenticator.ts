// The Authenticator for organisation realms: a bearer token on a workspace of org X is good only when
// X's realm signed it. Verified tokens are cached by SHA-256 (never longer than the token lives), so
// the steady state costs one hash and one map lookup per request.
import { LRUCache } from 'lru-cache';
import { GatewayError } from '../kube/gateway-error.ts';
import { AuthFailure, authFailureOf } from './auth-failure.ts';
import { mapClaims } from './claim-mapping.ts';
import type { Authenticator, Credentials, Identity } from './identity.ts';
import type { AuthMetrics } from './metrics.ts';
import { JsonFetcher } from './oidc-fetch.ts';
import { RealmKeySet } from './realm-key-set.ts';
import { RealmRegistry } from './realm-registry.ts';
import type { OrgRealmsSettings } from './realm-settings.ts';
import { tokenKey } from './token-key.ts';
import { verifyRealmToken } from './verify-token.ts';
import type { Log } from '../log.ts';

export interface OrgRealmAuthenticatorOptions {
  /** The settings, or a registry shared with whatever keeps the overrides current (Redis). */
  realms: OrgRealmsSettings | RealmRegistry;
  metrics?: AuthMetrics;
  log?: Log;
}

interface VerifiedToken {
  org: string;
  identity: Identity;
}

export class OrgRealmAuthenticator implements Authenticator {
  readonly registry: RealmRegistry;
  readonly #metrics: AuthMetrics | undefined;
  readonly #log: Log | undefined;
  readonly #fetcher: JsonFetcher;
  readonly #keySets = new Map<string, RealmKeySet>();
  #cache: LRUCache<string, VerifiedToken>;
  #jwksSettings: string;
  readonly #unsubscribe: () => void;

  constructor(options: OrgRealmAuthenticatorOptions) {
    this.registry = options.realms instanceof RealmRegistry ? options.realms : new RealmRegistry(options.realms);
    this.#metrics = options.metrics;
    this.#log = options.log;
    const { jwks } = this.registry.settings;
    this.#fetcher = new JsonFetcher({ timeoutMs: jwks.timeoutMs, maxResponseBytes: jwks.maxResponseBytes });
    this.#cache = newTokenCache(this.registry.settings);
    this.#jwksSettings = JSON.stringify(jwks);
    this.#unsubscribe = this.registry.onChange(() => this.#realmsChanged());
  }

  async authenticate(credentials: Credentials): Promise<Identity | undefined> {
    // Without a workspace there is no org, so no realm to judge the token by.
    if (credentials.token === undefined || credentials.org === undefined) return undefined;
    try {
      return await this.#verify(credentials.token, credentials.org);
    } catch (err) {
      const failure = authFailureOf(err);
      this.#metrics?.failure(failure.reason);
      throw new GatewayError('UNAUTHORIZED', 'Unauthorized', { internalReason: failure.message, cause: failure });
    }
  }

  /** The steady state: a token verified before, used on its own organisation. */
  verified(credentials: Credentials): Identity | null | undefined {
    const { token, org } = credentials;
    if (token === undefined || org === undefined) return null;
    if (token.length > this.registry.settings.maxTokenBytes) return undefined;
    const cached = this.#cache.get(tokenKey(token));
    if (cached === undefined || cached.org !== org) return undefined;
    this.#metrics?.success('hit');
    return cached.identity;
  }

  async #verify(token: string, org: string): Promise<Identity> {
    // Length first: nothing parses, hashes or decodes a token we would refuse anyway.
    if (token.length > this.registry.settings.maxTokenBytes) throw new AuthFailure('token_too_large', `${token.length} bytes`);
    const key = tokenKey(token);
    const cached = this.#cache.get(key);
    if (cached !== undefined) {
      if (cached.org !== org) throw new AuthFailure('org_mismatch', `token of org ${cached.org} on a workspace of org ${org}`);
      this.#metrics?.success('hit');
      return cached.identity;
    }
    const realm = this.registry.realmFor(org);
    if (realm === undefined) throw new AuthFailure('unknown_org', org);
    const payload = await verifyRealmToken(realm, this.#keySetOf(org), token, (iss) => this.registry.orgOfIssuer(iss));
    const identity = freezeIdentity(mapClaims(realm, payload));
    const ttl = Math.min(payload.exp! * 1000 - Date.now(), this.registry.settings.tokenCache.maxTtlSeconds * 1000);
    if (ttl >= 1) this.#cache.set(key, { org, identity }, { ttl: Math.floor(ttl) });
    this.#metrics?.success('miss');
    return identity;
  }

  #keySetOf(org: string): RealmKeySet {
    let keys = this.#keySets.get(org);
    if (keys === undefined) {
      const realm = this.registry.realmFor(org)!;
      keys = new RealmKeySet(realm, this.#fetcher, this.registry.settings.jwks, {
        fetched: (fetchedOrg, outcome, error) => {
          this.#metrics?.jwksFetch(fetchedOrg, outcome);
          if (outcome === 'error') this.#log?.warn({ org: fetchedOrg, error }, 'JWKS fetch failed; keeping the keys already held');
        },
      });
      this.#keySets.set(org, keys);
    }
    return keys;
  }

  #realmsChanged(): void {
    // Every verdict may depend on what changed (audiences, mappings), so verified tokens are
    // re-verified; key sets survive unless where their keys come from changed.
    const { settings } = this.registry;
    this.#cache = newTokenCache(settings);
    const jwksChanged = JSON.stringify(settings.jwks) !== this.#jwksSettings;
    this.#jwksSettings = JSON.stringify(settings.jwks);
    for (const [org, keys] of this.#keySets) {
      if (jwksChanged || this.registry.realmFor(org)?.keySource !== keys.realm.keySource) this.#keySets.delete(org);
    }
    this.#log?.info({}, 'organisation realms reloaded');
  }

  async close(): Promise<void> {
    this.#unsubscribe();
    this.#cache.clear();
    await this.#fetcher.close();
  }
}

function newTokenCache(settings: OrgRealmsSettings): LRUCache<string, VerifiedToken> {
  return new LRUCache<string, VerifiedToken>({ max: settings.tokenCache.maxEntries, ttl: settings.tokenCache.maxTtlSeconds * 1000 });
}

function freezeIdentity(identity: Identity): Identity {
  Object.freeze(identity.groups);
  Object.freeze(identity.extra);
  return Object.freeze(identity);
}
