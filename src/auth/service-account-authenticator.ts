// The Authenticator for kcp service-account tokens. A token is this authenticator's to judge when its
// issuer is a configured service-account issuer (or the legacy one); then it must verify, it must be
// used on its own logical cluster only, and the objects it stands for must still exist on the shard
// that owns that cluster (the ServiceAccount with the token's uid, the Secret or Pod a token is bound
// to, a legacy token's Secret still holding this very token), as kube-apiserver checks against its
// informers. Those answers are cached for `lookupCacheMs`: a deleted ServiceAccount's tokens stop
// working within that bound. Verified tokens are cached by SHA-256 until they expire.
import { timingSafeEqual } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { GatewayError } from '../kube/gateway-error.ts';
import { AuthFailure, authFailureOf } from './auth-failure.ts';
import type { Authenticator, Credentials, Identity } from './identity.ts';
import type { AuthMetrics } from './metrics.ts';
import { JsonFetcher } from './oidc-fetch.ts';
import type { JwksSettings } from './realm-settings.ts';
import type { ServiceAccountClaims } from './service-account-claims.ts';
import { IssuerKeys, type ServiceAccountIssuer } from './service-account-keys.ts';
import { tokenKey } from './token-key.ts';
import { isServiceAccountToken, verifyServiceAccountToken, type ServiceAccountVerification, type VerifiedServiceAccountToken } from './verify-service-account-token.ts';

/** kcp's user extra naming the logical cluster a service account belongs to. */
export const clusterNameExtra = 'authentication.kcp.io/cluster-name';
/** kube-apiserver's user extra identifying the credential (JTI=<jti>), for audit. */
export const credentialIdExtra = 'authentication.kubernetes.io/credential-id';

export type LookedUpResource = 'serviceaccounts' | 'secrets' | 'pods';

export interface LookedUpObject {
  uid: string;
  /** deletionTimestamp is set. */
  deleting: boolean;
  /** For a Secret: its data.token, decoded. */
  token: string | undefined;
}

/** Reads one object from the shard that owns a logical cluster, as a privileged identity. */
export interface ShardObjectLookup {
  /** Undefined when it does not exist; throws when the shard cannot be asked or does not answer. */
  get(cluster: string, resource: LookedUpResource, namespace: string, name: string): Promise<LookedUpObject | undefined>;
}

/** A shard's answer about one object, and when it was given (performance.now()). */
interface ObjectAnswer {
  found: LookedUpObject | undefined;
  at: number;
}

export interface ServiceAccountSettings {
  issuers: ServiceAccountIssuer[];
  /** Default: the issuers (as kcp's front-proxy and kube-apiserver default --api-audiences). */
  audiences: string[];
  legacyTokens: boolean;
  leewaySeconds: number;
  maxTokenBytes: number;
  tokenCache: { maxEntries: number; maxTtlSeconds: number };
  /** How long an answer about an object (present or absent) is reused: the bound on how late a deletion is noticed. */
  lookupCacheMs: number;
  jwks: JwksSettings;
}

export interface ServiceAccountAuthenticatorOptions {
  settings: ServiceAccountSettings;
  /** Without it nothing is checked against the shards: a token stays good until it expires, whatever is deleted. */
  lookup: ShardObjectLookup | undefined;
  metrics?: AuthMetrics;
}

export class ServiceAccountAuthenticator implements Authenticator {
  readonly #settings: ServiceAccountSettings;
  readonly #verification: ServiceAccountVerification;
  readonly #lookup: ShardObjectLookup | undefined;
  readonly #metrics: AuthMetrics | undefined;
  readonly #fetcher: JsonFetcher;
  readonly #verified: LRUCache<string, VerifiedServiceAccountToken>;
  readonly #identities = new WeakMap<ServiceAccountClaims, Identity>();
  readonly #objects: LRUCache<string, ObjectAnswer>;
  /** Until when (performance.now()) the liveness of a verified token's objects is known without asking. */
  readonly #aliveUntil = new WeakMap<ServiceAccountClaims, number>();
  /** Hashes of tokens of no service-account issuer: whether a token is ours is decided once. */
  readonly #foreign = new LRUCache<string, true>({ max: 10_000 });
  readonly #pending = new Map<string, Promise<ObjectAnswer>>();

  constructor(options: ServiceAccountAuthenticatorOptions) {
    const { settings } = options;
    this.#settings = settings;
    this.#lookup = options.lookup;
    this.#metrics = options.metrics;
    this.#fetcher = new JsonFetcher({ timeoutMs: settings.jwks.timeoutMs, maxResponseBytes: settings.jwks.maxResponseBytes });
    this.#verification = {
      issuers: new Map(settings.issuers.map((i) => [i.issuer, new IssuerKeys(i, this.#fetcher, settings.jwks)])),
      audiences: settings.audiences,
      legacyTokens: settings.legacyTokens,
      leewaySeconds: settings.leewaySeconds,
    };
    this.#verified = new LRUCache({ max: settings.tokenCache.maxEntries, ttl: Math.max(1, settings.tokenCache.maxTtlSeconds * 1000) });
    this.#objects = new LRUCache({ max: 10_000, ttl: Math.max(1, settings.lookupCacheMs) });
  }

  async authenticate(credentials: Credentials): Promise<Identity | undefined> {
    const token = credentials.token;
    if (token === undefined || token.length > this.#settings.maxTokenBytes) return undefined;
    // Most tokens are someone else's (org realms): one hash answers that, not a JWT decode per request.
    const key = tokenKey(token);
    if (this.#foreign.has(key)) return undefined;
    if (!this.#verified.has(key) && !isServiceAccountToken(token, this.#verification)) {
      this.#foreign.set(key, true);
      return undefined;
    }
    try {
      let verified = this.#verified.get(key);
      const cache = verified === undefined ? 'miss' : 'hit';
      verified ??= await this.#verify(token, key);
      const { claims } = verified;
      // kcp's front-proxy authenticates a foreign service account and leaves it to the shard's
      // authorizer; the edge refuses it outright, so it never reaches a workspace it does not belong to.
      if (credentials.cluster !== claims.cluster) {
        throw new AuthFailure('cluster_mismatch', `token of logical cluster ${claims.cluster} used on ${credentials.cluster ?? 'an unknown workspace'}`);
      }
      // Steady state: the shard's answers about these objects are still fresh, so nothing is looked up.
      if (this.#lookup !== undefined && !(performance.now() < (this.#aliveUntil.get(claims) ?? 0))) await this.#checkStillValid(claims, token);
      // Counted once accepted: a token refused after its signature checked out is a failure only.
      this.#metrics?.success(cache);
      return this.#identityOf(claims);
    } catch (err) {
      const failure = authFailureOf(err);
      this.#metrics?.failure(failure.reason);
      // A genuine token whose shard cannot say whether its ServiceAccount exists is refused, but as
      // the shard's outage (503, retried by clients), not as bad credentials.
      if (failure.reason === 'lookup_unavailable') {
        throw new GatewayError('SHARD_UNAVAILABLE', 'the shard serving this workspace is unavailable, try again later', {
          internalReason: `service account: ${failure.message}`,
          cause: failure,
        });
      }
      throw new GatewayError('UNAUTHORIZED', 'Unauthorized', { internalReason: `service account: ${failure.message}`, cause: failure });
    }
  }

  async #verify(token: string, key: string): Promise<VerifiedServiceAccountToken> {
    const verified = await verifyServiceAccountToken(token, this.#verification);
    const maxTtl = this.#settings.tokenCache.maxTtlSeconds * 1000;
    const ttl = verified.expiresAt === undefined ? maxTtl : Math.min(maxTtl, verified.expiresAt * 1000 - Date.now());
    if (ttl >= 1) this.#verified.set(key, verified, { ttl: Math.floor(ttl) });
    return verified;
  }

  async #checkStillValid(claims: ServiceAccountClaims, token: string): Promise<void> {
    const { cluster, namespace } = claims;
    const [sa, secretEntry, podEntry] = await Promise.all([
      this.#object(cluster, 'serviceaccounts', namespace, claims.serviceAccount.name),
      claims.secret === undefined ? undefined : this.#object(cluster, 'secrets', namespace, claims.secret.name),
      claims.pod === undefined ? undefined : this.#object(cluster, 'pods', namespace, claims.pod.name),
    ]);
    const serviceAccount = sa.found;
    const secret = secretEntry?.found;
    const pod = podEntry?.found;
    requireLive(serviceAccount, claims.serviceAccount.uid, `ServiceAccount ${namespace}/${claims.serviceAccount.name}`);
    if (claims.secret !== undefined) {
      requireLive(secret, claims.secret.uid, `Secret ${namespace}/${claims.secret.name}`);
      // A legacy token is good only while its Secret still holds it (kube's legacy validator).
      if (claims.legacy && !sameToken(secret!.token, token)) throw new AuthFailure('service_account_gone', `Secret ${namespace}/${claims.secret.name} no longer holds this token`);
    }
    if (claims.pod !== undefined) requireLive(pod, claims.pod.uid, `Pod ${namespace}/${claims.pod.name}`);
    // Good until the oldest of these answers is as old as the bound allows.
    if (this.#settings.lookupCacheMs > 0) {
      const oldest = Math.min(sa.at, secretEntry?.at ?? Infinity, podEntry?.at ?? Infinity);
      this.#aliveUntil.set(claims, oldest + this.#settings.lookupCacheMs);
    }
  }

  /** One object through the cache; concurrent misses for the same object share one request. */
  async #object(cluster: string, resource: LookedUpResource, namespace: string, name: string): Promise<ObjectAnswer> {
    const key = `${cluster}|${resource}|${namespace}|${name}`;
    const cached = this.#objects.get(key);
    if (cached !== undefined) return cached;
    let pending = this.#pending.get(key);
    if (pending === undefined) {
      pending = this.#lookup!.get(cluster, resource, namespace, name).then(
        (found) => {
          const answer = { found, at: performance.now() };
          if (this.#settings.lookupCacheMs > 0) this.#objects.set(key, answer);
          return answer;
        },
        (err: unknown) => {
          // Not cached: the shard's next answer decides. Until then the token is refused (fail closed).
          throw new AuthFailure('lookup_unavailable', `${resource} ${namespace}/${name} in ${cluster}: ${err instanceof Error ? err.message : String(err)}`);
        },
      );
      pending = pending.finally(() => this.#pending.delete(key));
      this.#pending.set(key, pending);
    }
    return pending;
  }

  /** The same Identity object for the same verified claims, so the forwarder's header cache hits. */
  #identityOf(claims: ServiceAccountClaims): Identity {
    let identity = this.#identities.get(claims);
    if (identity === undefined) {
      const { namespace, cluster } = claims;
      const extra: Record<string, string[]> = { [clusterNameExtra]: [cluster] };
      if (claims.jti !== undefined) extra[credentialIdExtra] = [`JTI=${claims.jti}`];
      if (claims.pod !== undefined) {
        extra['authentication.kubernetes.io/pod-name'] = [claims.pod.name];
        if (claims.pod.uid !== undefined) extra['authentication.kubernetes.io/pod-uid'] = [claims.pod.uid];
      }
      identity = Object.freeze({
        user: `system:serviceaccount:${namespace}:${claims.serviceAccount.name}`,
        groups: Object.freeze(['system:serviceaccounts', `system:serviceaccounts:${namespace}`]) as string[],
        extra: Object.freeze(extra),
      });
      this.#identities.set(claims, identity);
    }
    return identity;
  }

  async close(): Promise<void> {
    this.#verified.clear();
    this.#objects.clear();
    this.#foreign.clear();
    await this.#fetcher.close();
  }
}

function requireLive(found: LookedUpObject | undefined, uid: string | undefined, what: string): void {
  if (found === undefined) throw new AuthFailure('service_account_gone', `${what} does not exist`);
  if (uid !== undefined && found.uid !== uid) throw new AuthFailure('service_account_gone', `${what} was recreated (uid ${found.uid}, token names ${uid})`);
  if (found.deleting) throw new AuthFailure('service_account_gone', `${what} is being deleted`);
}

function sameToken(held: string | undefined, token: string): boolean {
  if (held === undefined) return false;
  const a = Buffer.from(held);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}
