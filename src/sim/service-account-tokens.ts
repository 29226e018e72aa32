// The shard's service-account token signer, minting what kcp's Kubernetes fork mints: bound tokens
// (TokenRequest) with the logical cluster in `kubernetes.io.clusterName`, and legacy Secret tokens
// with the flat `kubernetes.io/serviceaccount/*` claims and issuer `kubernetes/serviceaccount`.
// Keys are RSA, signed RS256 with kube's key id (base64url SHA-256 of the public key's DER).
import { createHash, randomUUID } from 'node:crypto';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';

export const legacyServiceAccountIssuer = 'kubernetes/serviceaccount';
/** kcp's default --service-account-issuer. */
export const defaultServiceAccountIssuer = 'https://kcp.default.svc';

export interface BoundObject {
  kind: 'Secret' | 'Pod';
  name: string;
  uid: string;
}

export interface BoundTokenRequest {
  cluster: string;
  namespace: string;
  name: string;
  uid: string;
  /** Default: the issuer (kube-apiserver's default --api-audiences). */
  audiences?: string[];
  expirationSeconds?: number;
  boundObject?: BoundObject;
}

export interface LegacyTokenRequest {
  cluster: string;
  namespace: string;
  name: string;
  uid: string;
  secretName: string;
}

export interface ServiceAccountSigner {
  issuer: string;
  kid: string;
  publicKeyPem: string;
  jwks(): { keys: JWK[] };
  /** The discovery document kube-apiserver serves at /.well-known/openid-configuration. */
  discovery(jwksUri: string): Record<string, unknown>;
  mintBound(request: BoundTokenRequest): Promise<{ token: string; expiresAt: Date }>;
  mintLegacy(request: LegacyTokenRequest): Promise<string>;
}

export async function createServiceAccountSigner(issuer: string = defaultServiceAccountIssuer): Promise<ServiceAccountSigner> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
  const publicKeyPem = await exportSPKI(publicKey);
  const der = Buffer.from(publicKeyPem.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64');
  const kid = createHash('sha256').update(der).digest('base64url');
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  const sign = (key: CryptoKey, claims: Record<string, unknown>) => new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid }).sign(key);
  return {
    issuer,
    kid,
    publicKeyPem,
    jwks: () => ({ keys: [jwk] }),
    discovery: (jwksUri) => ({
      issuer,
      jwks_uri: jwksUri,
      response_types_supported: ['id_token'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
    }),
    async mintBound(r) {
      const now = Math.floor(Date.now() / 1000);
      // kube-apiserver: at least 10 minutes, an hour by default.
      const lifetime = Math.max(600, r.expirationSeconds ?? 3600);
      const bound: Record<string, unknown> = {};
      if (r.boundObject !== undefined) bound[r.boundObject.kind === 'Secret' ? 'secret' : 'pod'] = { name: r.boundObject.name, uid: r.boundObject.uid };
      const token = await sign(privateKey, {
        iss: issuer,
        sub: `system:serviceaccount:${r.namespace}:${r.name}`,
        aud: r.audiences ?? [issuer],
        iat: now,
        nbf: now,
        exp: now + lifetime,
        jti: randomUUID(),
        'kubernetes.io': { clusterName: r.cluster, namespace: r.namespace, serviceaccount: { name: r.name, uid: r.uid }, ...bound },
      });
      return { token, expiresAt: new Date((now + lifetime) * 1000) };
    },
    mintLegacy(r) {
      return sign(privateKey, {
        iss: legacyServiceAccountIssuer,
        sub: `system:serviceaccount:${r.namespace}:${r.name}`,
        'kubernetes.io/serviceaccount/namespace': r.namespace,
        'kubernetes.io/serviceaccount/secret.name': r.secretName,
        'kubernetes.io/serviceaccount/service-account.name': r.name,
        'kubernetes.io/serviceaccount/service-account.uid': r.uid,
        'kubernetes.io/serviceaccount/clusterName': r.cluster,
      });
    },
  };
}
