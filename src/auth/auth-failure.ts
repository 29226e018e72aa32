// Why a token was refused. The reason is for the log and the failures counter only; the client always
// gets the same 401 body, so a probe learns nothing about which check it failed.
import { errors } from 'jose';

export type AuthFailureReason =
  | 'token_too_large'
  | 'malformed'
  | 'algorithm_not_allowed'
  | 'unknown_org'
  | 'org_mismatch'
  | 'issuer_mismatch'
  | 'jwks_unavailable'
  | 'unknown_kid'
  | 'signature_invalid'
  | 'expired'
  | 'not_yet_valid'
  | 'issued_in_future'
  | 'audience_mismatch'
  | 'claim_invalid'
  | 'required_claim_mismatch'
  | 'username_missing'
  | 'email_not_verified'
  | 'system_identity'
  | 'cluster_mismatch'
  | 'service_account_gone'
  | 'lookup_unavailable'
  | 'webhook_denied'
  | 'webhook_unavailable';

/** Thrown inside the auth concern; translated to GatewayError('UNAUTHORIZED') at its edge. */
export class AuthFailure extends Error {
  readonly reason: AuthFailureReason;
  constructor(reason: AuthFailureReason, detail?: string, options?: { cause?: unknown }) {
    super(detail === undefined ? reason : `${reason}: ${detail}`, options);
    this.name = 'AuthFailure';
    this.reason = reason;
  }
}

/** jose's errors → our reasons. Anything unexpected is a malformed token, never a 500. */
export function authFailureOf(err: unknown): AuthFailure {
  if (err instanceof AuthFailure) return err;
  if (err instanceof errors.JWTExpired) return new AuthFailure('expired', err.message, { cause: err });
  if (err instanceof errors.JWTClaimValidationFailed) {
    switch (err.claim) {
      case 'nbf':
        return new AuthFailure('not_yet_valid', err.message, { cause: err });
      case 'iat':
        return new AuthFailure('issued_in_future', err.message, { cause: err });
      case 'aud':
        return new AuthFailure('audience_mismatch', err.message, { cause: err });
      case 'iss':
        return new AuthFailure('issuer_mismatch', err.message, { cause: err });
      default:
        return new AuthFailure('claim_invalid', err.message, { cause: err });
    }
  }
  if (err instanceof errors.JOSEAlgNotAllowed || err instanceof errors.JOSENotSupported) {
    return new AuthFailure('algorithm_not_allowed', err.message, { cause: err });
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) return new AuthFailure('signature_invalid', err.message, { cause: err });
  if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys) {
    return new AuthFailure('unknown_kid', err.message, { cause: err });
  }
  return new AuthFailure('malformed', err instanceof Error ? err.message : String(err), { cause: err });
}
