// One token against one realm. Cheap checks on the unverified token come first (algorithm allow-list,
// exact issuer), so a token of another realm or a forged header never costs a key lookup, let alone a
// JWKS fetch; then jose verifies signature, issuer, audience and times.
import { decodeJwt, decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';
import { AuthFailure, authFailureOf } from './auth-failure.ts';
import type { RealmKeySet } from './realm-key-set.ts';
import type { Realm } from './realm-settings.ts';

/** Names the org a foreign issuer belongs to, for a better log line. */
export type IssuerOwner = (iss: string) => string | undefined;

export async function verifyRealmToken(realm: Realm, keys: RealmKeySet, token: string, ownerOf: IssuerOwner): Promise<JWTPayload> {
  try {
    precheck(realm, token, ownerOf);
    const { payload } = await jwtVerify(token, keys.getKey, {
      algorithms: realm.algorithms,
      issuer: realm.issuer,
      audience: realm.audiences,
      // jose applies one tolerance to nbf and exp; it gets the generous nbf leeway and exp is held
      // to the small skew below.
      clockTolerance: realm.notBeforeLeewaySeconds,
      requiredClaims: ['exp'],
    });
    const now = Date.now() / 1000;
    if (payload.exp! <= now - realm.expirySkewSeconds) throw new AuthFailure('expired', `exp ${payload.exp} is in the past`);
    if (payload.iat !== undefined && payload.iat > now + realm.notBeforeLeewaySeconds) throw new AuthFailure('issued_in_future', `iat ${payload.iat}`);
    return payload;
  } catch (err) {
    throw authFailureOf(err);
  }
}

function precheck(realm: Realm, token: string, ownerOf: IssuerOwner): void {
  let alg: unknown;
  let iss: unknown;
  try {
    alg = decodeProtectedHeader(token).alg;
    iss = decodeJwt(token).iss;
  } catch (err) {
    throw new AuthFailure('malformed', err instanceof Error ? err.message : String(err), { cause: err });
  }
  if (typeof alg !== 'string' || !(realm.algorithms as string[]).includes(alg)) {
    throw new AuthFailure('algorithm_not_allowed', `alg ${JSON.stringify(alg)}`);
  }
  if (iss !== realm.issuer) {
    const owner = typeof iss === 'string' ? ownerOf(iss) : undefined;
    if (owner !== undefined && owner !== realm.org) throw new AuthFailure('org_mismatch', `token of org ${owner} on a workspace of org ${realm.org}`);
    throw new AuthFailure('issuer_mismatch', `iss ${JSON.stringify(iss)}, expected ${realm.issuer}`);
  }
}
