// A Keycloak stand-in for tests and the dev stack: one realm per organisation at /realms/<org>, each
// with OIDC discovery, a JWKS endpoint and a password-grant token endpoint, served over HTTPS. Tokens
// are signed with jose. Tests drive what a real identity provider does to a gateway: key rotation,
// an outage of one realm's JWKS endpoint, and counting how often the gateway asks for keys.
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import type { KeyPair } from './pki.ts';

export type SigningAlgorithm = 'RS256' | 'ES256' | 'PS256';

interface SigningKey {
  kid: string;
  alg: SigningAlgorithm;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export interface RealmRequestCounts {
  discovery: number;
  jwks: number;
  token: number;
}

interface Realm {
  org: string;
  /** keys[0] signs; the rest are still published (a rotation keeps the previous key until tokens expire). */
  keys: SigningKey[];
  /** When set, the JWKS endpoint answers with this HTTP status (an outage). */
  jwksFailure: number | undefined;
  /** While set, JWKS requests wait for it: a slow identity provider. */
  jwksHold?: Promise<void>;
  counts: RealmRequestCounts;
}

export interface OidcIssuerOptions {
  /** Serving certificate; tests and the dev stack issue one from src/sim/pki.ts. */
  tls: KeyPair;
  host?: string;
  port?: number;
  /** Realms to create at start; more with addRealm. */
  realms?: string[];
  algorithm?: SigningAlgorithm;
  /** `aud` of minted tokens unless a mint says otherwise. */
  audience?: string;
  /** Lifetime of minted tokens unless a mint says otherwise. */
  tokenLifetimeSeconds?: number;
}

export interface MintOptions {
  /** preferred_username (and the local part of email); default "alice". */
  user?: string;
  groups?: string[];
  audience?: string | string[];
  /** Seconds since the epoch; default now. */
  issuedAt?: number;
  /** Seconds since the epoch; default issuedAt + the issuer's token lifetime. */
  expiresAt?: number;
  notBefore?: number;
  /** Extra or replacing claims (set a claim to undefined to leave it out). */
  claims?: Record<string, unknown>;
  /** Sign with an older published key: 0 is the active one, 1 the previous one, … */
  keyIndex?: number;
  /** Put this kid in the header instead of the signing key's. */
  kid?: string;
}

export interface OidcIssuer {
  /** https://127.0.0.1:<port> */
  readonly url: string;
  issuerUrl(org: string): string;
  addRealm(org: string, algorithm?: SigningAlgorithm): Promise<void>;
  mint(org: string, options?: MintOptions): Promise<string>;
  /** Publishes a new signing key and makes it the active one; the old one stays published unless told otherwise. Returns the new kid. */
  rotate(org: string, options?: { algorithm?: SigningAlgorithm; retainPrevious?: boolean }): Promise<string>;
  activeKid(org: string): string;
  /** The realm's public key of the active signer as PEM-free JWK (tests sign HS256 with it). */
  publicJwk(org: string): JWK;
  /** Makes the realm's JWKS endpoint answer with `status` (e.g. 503), or heal it with undefined. */
  failJwks(org: string, status: number | undefined): void;
  /** Makes the realm's JWKS endpoint hold every request until the returned function is called. */
  holdJwks(org: string): () => void;
  requestCounts(org: string): RealmRequestCounts;
  close(): Promise<void>;
}

const realmPath = /^\/realms\/([a-z0-9]([-a-z0-9]*[a-z0-9])?)(\/[^?]*)?(?:\?.*)?$/;

async function newSigningKey(alg: SigningAlgorithm): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const kid = randomBytes(9).toString('base64url');
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { kid, alg, privateKey, publicJwk };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > 64 * 1024) throw new Error('form too large');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

export async function startOidcIssuer(options: OidcIssuerOptions): Promise<OidcIssuer> {
  const host = options.host ?? '127.0.0.1';
  const defaultAlg = options.algorithm ?? 'RS256';
  const audience = options.audience ?? 'kcp-edge';
  const lifetime = options.tokenLifetimeSeconds ?? 300;
  const realms = new Map<string, Realm>();
  let base = '';

  const realmOf = (org: string): Realm => {
    const realm = realms.get(org);
    if (realm === undefined) throw new Error(`oidc issuer: no realm "${org}"`);
    return realm;
  };
  const issuerUrl = (org: string) => `${base}/realms/${org}`;

  const mint = async (org: string, mintOptions: MintOptions = {}): Promise<string> => {
    const realm = realmOf(org);
    const key = realm.keys[mintOptions.keyIndex ?? 0];
    if (key === undefined) throw new Error(`oidc issuer: realm "${org}" has no key ${mintOptions.keyIndex}`);
    const user = mintOptions.user ?? 'alice';
    const iat = mintOptions.issuedAt ?? Math.floor(Date.now() / 1000);
    const claims: JWTPayload = {
      iss: issuerUrl(org),
      // Keycloak's sub is a UUID; a stable digest keeps one user one subject across tokens.
      sub: createHash('sha256').update(`${org}/${user}`).digest('hex').slice(0, 32),
      aud: mintOptions.audience ?? audience,
      azp: audience,
      typ: 'Bearer',
      iat,
      exp: mintOptions.expiresAt ?? iat + lifetime,
      ...(mintOptions.notBefore !== undefined ? { nbf: mintOptions.notBefore } : {}),
      jti: randomBytes(12).toString('base64url'),
      preferred_username: user,
      email: `${user}@${org}.example.com`,
      email_verified: true,
      groups: mintOptions.groups ?? [],
    };
    for (const [name, value] of Object.entries(mintOptions.claims ?? {})) {
      if (value === undefined) delete claims[name];
      else claims[name] = value;
    }
    return new SignJWT(claims).setProtectedHeader({ alg: key.alg, typ: 'JWT', kid: mintOptions.kid ?? key.kid }).sign(key.privateKey);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const match = realmPath.exec(req.url ?? '');
    const realm = match === null ? undefined : realms.get(match[1]!);
    if (match === null || realm === undefined) return send(res, 404, { error: 'Realm does not exist' });
    const rest = match[3] ?? '';
    if (req.method === 'GET' && rest === '/.well-known/openid-configuration') {
      realm.counts.discovery++;
      const issuer = issuerUrl(realm.org);
      return send(res, 200, {
        issuer,
        authorization_endpoint: `${issuer}/protocol/openid-connect/auth`,
        token_endpoint: `${issuer}/protocol/openid-connect/token`,
        jwks_uri: `${issuer}/protocol/openid-connect/certs`,
        response_types_supported: ['code'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: [...new Set(realm.keys.map((k) => k.alg))],
        grant_types_supported: ['password'],
        claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'preferred_username', 'email', 'email_verified', 'groups'],
      });
    }
    if (req.method === 'GET' && rest === '/protocol/openid-connect/certs') {
      realm.counts.jwks++;
      if (realm.jwksHold !== undefined) await realm.jwksHold;
      if (realm.jwksFailure !== undefined) return send(res, realm.jwksFailure, { error: 'unavailable' });
      return send(res, 200, { keys: realm.keys.map((k) => k.publicJwk) });
    }
    if (req.method === 'POST' && rest === '/protocol/openid-connect/token') {
      realm.counts.token++;
      // Resource-owner password grant, as Keycloak offers it: the dev stack's way to get a token for
      // any user of the realm. No password check: this is a local stand-in, never a real IdP.
      const form = await readForm(req);
      const user = form.get('username');
      if (form.get('grant_type') !== 'password' || user === null || user === '') {
        return send(res, 400, { error: 'unsupported_grant_type', error_description: 'grant_type=password with a username is required' });
      }
      const groups = form.getAll('group');
      const token = await mint(realm.org, { user, groups });
      return send(res, 200, { access_token: token, id_token: token, token_type: 'Bearer', expires_in: lifetime });
    }
    return send(res, 404, { error: 'not found' });
  };

  const server: Server = createServer({ cert: options.tls.certPem, key: options.tls.keyPem }, (req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, { error: String(err) });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  base = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;

  const addRealm = async (org: string, algorithm: SigningAlgorithm = defaultAlg): Promise<void> => {
    if (realms.has(org)) return;
    realms.set(org, { org, keys: [await newSigningKey(algorithm)], jwksFailure: undefined, counts: { discovery: 0, jwks: 0, token: 0 } });
  };
  for (const org of options.realms ?? []) await addRealm(org);

  return {
    url: base,
    issuerUrl,
    addRealm,
    mint,
    async rotate(org, { algorithm, retainPrevious = true } = {}) {
      const realm = realmOf(org);
      const key = await newSigningKey(algorithm ?? realm.keys[0]?.alg ?? defaultAlg);
      realm.keys = retainPrevious ? [key, ...realm.keys] : [key];
      return key.kid;
    },
    activeKid: (org) => realmOf(org).keys[0]!.kid,
    publicJwk: (org) => ({ ...realmOf(org).keys[0]!.publicJwk }),
    failJwks(org, status) {
      realmOf(org).jwksFailure = status;
    },
    holdJwks(org) {
      const realm = realmOf(org);
      let release!: () => void;
      const hold = new Promise<void>((resolve) => (release = resolve));
      realm.jwksHold = hold;
      return () => {
        if (realm.jwksHold === hold) delete realm.jwksHold;
        release();
      };
    },
    requestCounts: (org) => ({ ...realmOf(org).counts }),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
