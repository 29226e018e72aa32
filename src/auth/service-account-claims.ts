// What a kcp service-account token says about itself. kcp's Kubernetes fork mints two shapes:
//   bound (TokenRequest, `kubectl create token`):
//     {"iss": <issuer>, "aud": [...], "exp", "iat", "nbf", "jti", "sub": "system:serviceaccount:<ns>:<name>",
//      "kubernetes.io": {"clusterName": <logical cluster>, "namespace", "serviceaccount": {"name", "uid"},
//                        "secret"?: {"name", "uid"}, "pod"?: {"name", "uid"}, "node"?: {"name", "uid"}}}
//   legacy (a `kubernetes.io/service-account-token` Secret):
//     {"iss": "kubernetes/serviceaccount", "sub", "kubernetes.io/serviceaccount/namespace",
//      "kubernetes.io/serviceaccount/secret.name", "kubernetes.io/serviceaccount/service-account.name",
//      "kubernetes.io/serviceaccount/service-account.uid", "kubernetes.io/serviceaccount/clusterName"}
// (kcp pkg/server/filters/serviceaccounts.go reads the cluster from exactly these two places.)
import { decodeJwt, type JWTPayload } from 'jose';
import { AuthFailure } from './auth-failure.ts';

/** The issuer kube-apiserver (and kcp) put in legacy Secret tokens, whatever --service-account-issuer says. */
export const legacyIssuer = 'kubernetes/serviceaccount';

const legacyPrefix = 'kubernetes.io/serviceaccount/';

export interface ObjectRef {
  name: string;
  uid: string | undefined;
}

export interface ServiceAccountClaims {
  legacy: boolean;
  /** The logical cluster the service account lives in: the only one the token is good for. */
  cluster: string;
  namespace: string;
  serviceAccount: ObjectRef;
  /** The Secret a bound token is bound to, or a legacy token's own Secret. */
  secret: ObjectRef | undefined;
  pod: ObjectRef | undefined;
  node: ObjectRef | undefined;
  jti: string | undefined;
}

/**
 * The logical cluster an unverified token claims, for routing a request that names no cluster (an
 * in-cluster client); undefined for anything that is not a service-account JWT. Nothing is trusted
 * here: the request is authenticated afterwards like any other.
 */
export function claimedClusterOf(token: string): string | undefined {
  let payload: JWTPayload;
  try {
    payload = decodeJwt(token);
  } catch {
    return undefined;
  }
  const bound = objectAt(payload, 'kubernetes.io')?.['clusterName'];
  const cluster = typeof bound === 'string' ? bound : payload[`${legacyPrefix}clusterName`];
  return typeof cluster === 'string' && cluster !== '' ? cluster : undefined;
}

/** The private claims of a verified token; throws AuthFailure('claim_invalid') when they are not a service account's. */
export function serviceAccountClaimsOf(payload: JWTPayload): ServiceAccountClaims {
  return payload.iss === legacyIssuer ? legacyClaims(payload) : boundClaims(payload);
}

function boundClaims(payload: JWTPayload): ServiceAccountClaims {
  const k = objectAt(payload, 'kubernetes.io');
  if (k === undefined) throw new AuthFailure('claim_invalid', 'no "kubernetes.io" claim');
  const cluster = requiredString(k['clusterName'], 'kubernetes.io.clusterName');
  const namespace = requiredString(k['namespace'], 'kubernetes.io.namespace');
  const serviceAccount = refAt(k, 'serviceaccount');
  if (serviceAccount === undefined || serviceAccount.uid === undefined) throw new AuthFailure('claim_invalid', 'kubernetes.io.serviceaccount needs a name and a uid');
  checkSubject(payload, namespace, serviceAccount.name);
  return {
    legacy: false,
    cluster,
    namespace,
    serviceAccount,
    secret: refAt(k, 'secret'),
    pod: refAt(k, 'pod'),
    node: refAt(k, 'node'),
    jti: typeof payload.jti === 'string' && payload.jti !== '' ? payload.jti : undefined,
  };
}

function legacyClaims(payload: JWTPayload): ServiceAccountClaims {
  const claim = (name: string) => requiredString(payload[legacyPrefix + name], legacyPrefix + name);
  const namespace = claim('namespace');
  const serviceAccount = { name: claim('service-account.name'), uid: claim('service-account.uid') };
  checkSubject(payload, namespace, serviceAccount.name);
  return {
    legacy: true,
    cluster: claim('clusterName'),
    namespace,
    serviceAccount,
    secret: { name: claim('secret.name'), uid: undefined },
    pod: undefined,
    node: undefined,
    jti: undefined,
  };
}

function checkSubject(payload: JWTPayload, namespace: string, name: string): void {
  const expected = `system:serviceaccount:${namespace}:${name}`;
  if (payload.sub !== expected) throw new AuthFailure('claim_invalid', `sub ${JSON.stringify(payload.sub)} does not name ${expected}`);
}

function objectAt(from: Record<string, unknown>, key: string): Record<string, unknown> | undefined {
  const value = from[key];
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function refAt(from: Record<string, unknown>, key: string): ObjectRef | undefined {
  const ref = objectAt(from, key);
  if (ref === undefined) return undefined;
  const uid = ref['uid'];
  return { name: requiredString(ref['name'], `kubernetes.io.${key}.name`), uid: typeof uid === 'string' && uid !== '' ? uid : undefined };
}

function requiredString(value: unknown, name: string): string {
  if (typeof value !== 'string' || value === '') throw new AuthFailure('claim_invalid', `claim ${name} is missing or not a string`);
  return value;
}
