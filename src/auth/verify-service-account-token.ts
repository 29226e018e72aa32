// One kcp service-account token, checked the way kube-apiserver's service-account authenticator
// (kcp's fork of it) checks it: the issuer is one of the shards' (or the legacy issuer, for Secret
// tokens), the algorithm is one a service-account key signs with (never `none`, never HMAC), the
// signature is by one of that issuer's keys, a bound token is for one of our audiences and in its
// lifetime, and the private claims name a service account and its logical cluster. Whether that
// service account still exists is the authenticator's question, not this function's.
import { decodeJwt, decodeProtectedHeader, errors, jwtVerify, type JWTPayload, type JWTVerifyOptions } from 'jose';
import { AuthFailure, authFailureOf } from './auth-failure.ts';
import { legacyIssuer, serviceAccountClaimsOf, type ServiceAccountClaims } from './service-account-claims.ts';
import type { IssuerKeys } from './service-account-keys.ts';

/** What service-account keys sign with: RSA (kube signs RS256 with RSA keys) and ECDSA by curve. */
export const SERVICE_ACCOUNT_ALGORITHMS = ['RS256', 'ES256', 'ES384', 'ES512'] as const;

export interface ServiceAccountVerification {
  /** Key sets by issuer. */
  issuers: ReadonlyMap<string, IssuerKeys>;
  /** A bound token must name one of these in `aud` (kube-apiserver's --api-audiences, default the issuers). */
  audiences: readonly string[];
  /** Accept tokens of `kubernetes.io/service-account-token` Secrets (issuer kubernetes/serviceaccount). */
  legacyTokens: boolean;
  /** Clock skew tolerated on exp, nbf and iat (kube: one minute). */
  leewaySeconds: number;
}

export interface VerifiedServiceAccountToken {
  claims: ServiceAccountClaims;
  /** Seconds since the epoch; undefined for legacy tokens, which never expire. */
  expiresAt: number | undefined;
}

/** Whether a token claims to come from a service-account issuer we know: only those are ours to judge. */
export function isServiceAccountToken(token: string, settings: ServiceAccountVerification): boolean {
  let iss: unknown;
  try {
    iss = decodeJwt(token).iss;
  } catch {
    return false;
  }
  return typeof iss === 'string' && (settings.issuers.has(iss) || (iss === legacyIssuer && settings.legacyTokens));
}

export async function verifyServiceAccountToken(token: string, settings: ServiceAccountVerification): Promise<VerifiedServiceAccountToken> {
  try {
    let alg: unknown;
    let kid: unknown;
    let iss: unknown;
    try {
      ({ alg, kid } = decodeProtectedHeader(token));
      iss = decodeJwt(token).iss;
    } catch (err) {
      throw new AuthFailure('malformed', err instanceof Error ? err.message : String(err), { cause: err });
    }
    if (typeof alg !== 'string' || !(SERVICE_ACCOUNT_ALGORITHMS as readonly string[]).includes(alg)) throw new AuthFailure('algorithm_not_allowed', `alg ${JSON.stringify(alg)}`);
    const legacy = iss === legacyIssuer;
    if (legacy && !settings.legacyTokens) throw new AuthFailure('issuer_mismatch', 'legacy service-account tokens are not accepted');
    // A legacy token names no issuer of its own: any shard's key may have signed it.
    const keySets = legacy ? [...settings.issuers.values()] : [settings.issuers.get(iss as string)].filter((k) => k !== undefined);
    if (keySets.length === 0) throw new AuthFailure('issuer_mismatch', `iss ${JSON.stringify(iss)} is no service-account issuer`);
    const options: JWTVerifyOptions = {
      algorithms: [...SERVICE_ACCOUNT_ALGORITHMS],
      clockTolerance: settings.leewaySeconds,
      ...(legacy ? {} : { issuer: iss as string, audience: [...settings.audiences], requiredClaims: ['exp'] }),
    };
    const header = { alg, ...(typeof kid === 'string' ? { kid } : {}) };
    const payload = await verifyWithAnyKey(
      token,
      keySets.flatMap((keys) => keys.candidates(header)),
      options,
    );
    return { claims: serviceAccountClaimsOf(payload), expiresAt: payload.exp };
  } catch (err) {
    throw authFailureOf(err);
  }
}

type Candidate = ReturnType<IssuerKeys['candidates']>[number];

/** The first key whose signature checks wins; a claim failure (expired, audience) ends the search at once. */
async function verifyWithAnyKey(token: string, candidates: Candidate[], options: JWTVerifyOptions): Promise<JWTPayload> {
  let last: unknown = new AuthFailure('unknown_kid', 'no key of the issuer matches');
  for (const key of candidates) {
    try {
      const { payload } = typeof key === 'function' ? await jwtVerify(token, key, options) : await jwtVerify(token, key, options);
      return payload;
    } catch (err) {
      const wrongKey =
        err instanceof errors.JWSSignatureVerificationFailed || err instanceof errors.JWKSNoMatchingKey || (err instanceof AuthFailure && err.reason === 'unknown_kid');
      // A key of another type for this alg (an EC key for RS256) is just not this token's key.
      const otherKeyType = err instanceof TypeError || err instanceof errors.JOSENotSupported;
      if (!wrongKey && !otherKeyType) throw err;
      if (wrongKey || last instanceof AuthFailure) last = err;
    }
  }
  throw last;
}
