import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { base64url, SignJWT } from 'jose';
import type { AuthFailure, AuthFailureReason } from '../../src/auth/auth-failure.ts';
import type { Credentials } from '../../src/auth/identity.ts';
import type { AuthMetrics } from '../../src/auth/metrics.ts';
import { DEFAULT_ORG_REALMS_SETTINGS } from '../../src/auth/realm-settings.ts';
import {
  ServiceAccountAuthenticator,
  type LookedUpObject,
  type LookedUpResource,
  type ServiceAccountSettings,
  type ShardObjectLookup,
} from '../../src/auth/service-account-authenticator.ts';
import { isGatewayError } from '../../src/kube/gateway-error.ts';
import { IssuerKeys } from '../../src/auth/service-account-keys.ts';
import { JsonFetcher } from '../../src/auth/oidc-fetch.ts';
import { verifyServiceAccountToken } from '../../src/auth/verify-service-account-token.ts';
import { createServiceAccountSigner, type ServiceAccountSigner } from '../../src/sim/service-account-tokens.ts';

const issuer = 'https://kcp.default.svc';
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const sa = { cluster: 'c-frontend', namespace: 'default', name: 'default', uid: 'uid-sa' };

/** The shard's objects, as the lookup would read them: what exists in which cluster. */
class ShardObjects implements ShardObjectLookup {
  readonly objects = new Map<string, LookedUpObject>();
  asked = 0;
  put(cluster: string, resource: LookedUpResource, namespace: string, name: string, object: LookedUpObject): this {
    this.objects.set(`${cluster}/${resource}/${namespace}/${name}`, object);
    return this;
  }
  delete(cluster: string, resource: LookedUpResource, namespace: string, name: string): void {
    this.objects.delete(`${cluster}/${resource}/${namespace}/${name}`);
  }
  async get(cluster: string, resource: LookedUpResource, namespace: string, name: string): Promise<LookedUpObject | undefined> {
    this.asked++;
    return this.objects.get(`${cluster}/${resource}/${namespace}/${name}`);
  }
}

function settings(signer: ServiceAccountSigner, overrides: Partial<ServiceAccountSettings> = {}): ServiceAccountSettings {
  return {
    issuers: [{ issuer, keys: [signer.publicKeyPem], discoveryUrl: undefined, ca: undefined }],
    audiences: [issuer],
    legacyTokens: true,
    leewaySeconds: 60,
    maxTokenBytes: 16 * 1024,
    tokenCache: { maxEntries: 100, maxTtlSeconds: 300 },
    lookupCacheMs: 0,
    jwks: DEFAULT_ORG_REALMS_SETTINGS.jwks,
    ...overrides,
  };
}

async function fixture(t: TestContext, overrides: Partial<ServiceAccountSettings> = {}) {
  const signer = await createServiceAccountSigner(issuer);
  const shard = new ShardObjects().put(sa.cluster, 'serviceaccounts', sa.namespace, sa.name, { uid: sa.uid, deleting: false, token: undefined });
  const authenticator = new ServiceAccountAuthenticator({ settings: settings(signer, overrides), lookup: shard });
  t.after(() => authenticator.close());
  return { signer, shard, authenticator };
}

const on = (cluster: string | undefined, token: string): Credentials => ({ token, cluster, org: 'org-acme', workspace: 'root:org-acme:proj', clientCertificate: undefined });

async function refusal(authenticator: ServiceAccountAuthenticator, credentials: Credentials): Promise<AuthFailureReason> {
  try {
    await authenticator.authenticate(credentials);
  } catch (err) {
    assert.ok(isGatewayError(err) && err.code === 'UNAUTHORIZED', String(err));
    return (err.cause as AuthFailure).reason;
  }
  assert.fail('the token was accepted');
}

function forge(token: string, edit: (parts: { header: Record<string, unknown>; payload: Record<string, unknown> }) => void): string {
  const [h, p, s] = token.split('.');
  const parts = { header: JSON.parse(text(base64url.decode(h!))) as Record<string, unknown>, payload: JSON.parse(text(base64url.decode(p!))) as Record<string, unknown> };
  edit(parts);
  const encode = (v: unknown) => base64url.encode(JSON.stringify(v));
  return `${encode(parts.header)}.${encode(parts.payload)}.${s}`;
}

test('a bound token of the ServiceAccount is accepted on its own cluster as system:serviceaccount:<ns>:<name> with the cluster-name extra', async (t) => {
  const { signer, authenticator } = await fixture(t);
  const { token } = await signer.mintBound(sa);
  const identity = await authenticator.authenticate(on(sa.cluster, token));
  assert.equal(identity?.user, 'system:serviceaccount:default:default');
  assert.deepEqual(identity?.groups, ['system:serviceaccounts', 'system:serviceaccounts:default']);
  assert.deepEqual(identity?.extra['authentication.kcp.io/cluster-name'], [sa.cluster]);
  assert.match(identity?.extra['authentication.kubernetes.io/credential-id']?.[0] ?? '', /^JTI=/);
});

interface ForgeryCase {
  name: string;
  token: (signer: ServiceAccountSigner) => Promise<string>;
  reason: AuthFailureReason;
}

const forgeries: ForgeryCase[] = [
  {
    name: 'signed by another key (a forger with their own RSA key and the right kid)',
    token: async (signer) => {
      const forger = await createServiceAccountSigner(issuer);
      return forge((await forger.mintBound(sa)).token, ({ header }) => void (header.kid = signer.kid));
    },
    reason: 'signature_invalid',
  },
  {
    // A kid no key has: every key of the issuer is tried, as kube-apiserver does, and none verifies.
    name: 'signed by another key with its own kid',
    token: async () => (await (await createServiceAccountSigner(issuer)).mintBound(sa)).token,
    reason: 'signature_invalid',
  },
  {
    name: 'alg none',
    token: async (s) => forge((await s.mintBound(sa)).token, ({ header }) => void (header.alg = 'none')).replace(/\.[^.]*$/, '.'),
    reason: 'algorithm_not_allowed',
  },
  {
    name: "HS256 signed with the issuer's public key as the HMAC secret",
    token: async (s) =>
      new SignJWT({ ...JSON.parse(text(base64url.decode((await s.mintBound(sa)).token.split('.')[1]!))) })
        .setProtectedHeader({ alg: 'HS256', kid: s.kid })
        .sign(new TextEncoder().encode(s.publicKeyPem)),
    reason: 'algorithm_not_allowed',
  },
  {
    name: "tampered payload: another cluster's claim under the original signature",
    token: async (s) => forge((await s.mintBound(sa)).token, ({ payload }) => void ((payload['kubernetes.io'] as Record<string, unknown>).clusterName = 'c-backend')),
    reason: 'signature_invalid',
  },
  {
    name: 'expired',
    token: resignExpired,
    reason: 'expired',
  },
  { name: 'wrong audience', token: async (s) => (await s.mintBound({ ...sa, audiences: ['https://elsewhere.example'] })).token, reason: 'audience_mismatch' },
];

/** A genuinely signed token that expired two minutes ago, beyond the minute of leeway. */
async function resignExpired(signer: ServiceAccountSigner): Promise<string> {
  const original = Date.now;
  Date.now = () => original() - 2 * 3600_000 - 120_000;
  try {
    return (await signer.mintBound({ ...sa, expirationSeconds: 3600 })).token;
  } finally {
    Date.now = original;
  }
}

for (const c of forgeries) {
  test(`refused: ${c.name}`, async (t) => {
    const { signer, authenticator } = await fixture(t);
    assert.equal(await refusal(authenticator, on(sa.cluster, await c.token(signer))), c.reason);
  });
}

test("refused: another cluster's token (a genuine token of c-frontend on c-backend, on an unknown workspace)", async (t) => {
  const signer = await createServiceAccountSigner(issuer);
  const shard = new ShardObjects().put(sa.cluster, 'serviceaccounts', sa.namespace, sa.name, { uid: sa.uid, deleting: false, token: undefined });
  const counted: string[] = [];
  const metrics: AuthMetrics = { failure: (reason) => counted.push(`failure ${reason}`), success: (cache) => counted.push(`success ${cache}`), jwksFetch: () => undefined };
  const authenticator = new ServiceAccountAuthenticator({ settings: settings(signer), lookup: shard, metrics });
  t.after(() => authenticator.close());
  const { token } = await signer.mintBound(sa);
  assert.equal(await refusal(authenticator, on('c-backend', token)), 'cluster_mismatch');
  assert.equal(await refusal(authenticator, on(undefined, token)), 'cluster_mismatch');
  // A refused token is a failure only, whether its signature was checked now or found in the cache.
  assert.deepEqual(counted, ['failure cluster_mismatch', 'failure cluster_mismatch']);
  assert.ok(await authenticator.authenticate(on(sa.cluster, token)), 'still good on its own cluster');
  assert.deepEqual(counted.slice(2), ['success hit']);
});

test('not ours: a token of another issuer is left to the next authenticator (no verdict, no error)', async (t) => {
  const { authenticator } = await fixture(t);
  const other = await createServiceAccountSigner('https://some-other-cluster.example');
  assert.equal(await authenticator.authenticate(on(sa.cluster, (await other.mintBound({ ...sa, audiences: [issuer] })).token)), undefined);
  assert.equal(await authenticator.authenticate(on(sa.cluster, 'not-a-jwt')), undefined);
});

test('refused once the ServiceAccount is deleted or recreated with another uid, and while it is being deleted', async (t) => {
  const { signer, shard, authenticator } = await fixture(t);
  const { token } = await signer.mintBound(sa);
  assert.ok(await authenticator.authenticate(on(sa.cluster, token)));
  shard.put(sa.cluster, 'serviceaccounts', sa.namespace, sa.name, { uid: sa.uid, deleting: true, token: undefined });
  assert.equal(await refusal(authenticator, on(sa.cluster, token)), 'service_account_gone');
  shard.put(sa.cluster, 'serviceaccounts', sa.namespace, sa.name, { uid: 'uid-new', deleting: false, token: undefined });
  assert.equal(await refusal(authenticator, on(sa.cluster, token)), 'service_account_gone');
  shard.delete(sa.cluster, 'serviceaccounts', sa.namespace, sa.name);
  assert.equal(await refusal(authenticator, on(sa.cluster, token)), 'service_account_gone');
});

test('a deletion is noticed within the lookup cache bound, not before: answers are reused for lookupCacheMs', async (t) => {
  const { signer, shard, authenticator } = await fixture(t, { lookupCacheMs: 300 });
  const { token } = await signer.mintBound(sa);
  assert.ok(await authenticator.authenticate(on(sa.cluster, token)));
  assert.ok(await authenticator.authenticate(on(sa.cluster, token)));
  assert.equal(shard.asked, 1, 'the second request was answered from the cache');
  shard.delete(sa.cluster, 'serviceaccounts', sa.namespace, sa.name);
  assert.ok(await authenticator.authenticate(on(sa.cluster, token)), 'inside the bound the cached answer stands');
  const deadline = Date.now() + 2000;
  for (;;) {
    try {
      await authenticator.authenticate(on(sa.cluster, token));
    } catch {
      break;
    }
    assert.ok(Date.now() < deadline, 'still accepted long after the cache bound');
    await new Promise((r) => setTimeout(r, 20));
  }
});

test('a token bound to a Secret dies with the Secret; a legacy token only while its Secret still holds it', async (t) => {
  const { signer, shard, authenticator } = await fixture(t);
  const bound = (await signer.mintBound({ ...sa, boundObject: { kind: 'Secret', name: 'tok', uid: 'uid-secret' } })).token;
  const legacy = await signer.mintLegacy({ ...sa, secretName: 'default-token' });
  shard.put(sa.cluster, 'secrets', sa.namespace, 'tok', { uid: 'uid-secret', deleting: false, token: undefined });
  shard.put(sa.cluster, 'secrets', sa.namespace, 'default-token', { uid: 'uid-legacy', deleting: false, token: legacy });
  assert.equal((await authenticator.authenticate(on(sa.cluster, bound)))?.user, 'system:serviceaccount:default:default');
  assert.equal((await authenticator.authenticate(on(sa.cluster, legacy)))?.user, 'system:serviceaccount:default:default');
  assert.equal(await refusal(authenticator, on('c-backend', legacy)), 'cluster_mismatch');

  shard.delete(sa.cluster, 'secrets', sa.namespace, 'tok');
  assert.equal(await refusal(authenticator, on(sa.cluster, bound)), 'service_account_gone');
  shard.put(sa.cluster, 'secrets', sa.namespace, 'default-token', { uid: 'uid-legacy', deleting: false, token: 'another-token' });
  assert.equal(await refusal(authenticator, on(sa.cluster, legacy)), 'service_account_gone');
});

test('legacy tokens are refused when legacyTokens is off', async (t) => {
  const { signer, authenticator } = await fixture(t, { legacyTokens: false });
  const legacy = await signer.mintLegacy({ ...sa, secretName: 'default-token' });
  assert.equal(await authenticator.authenticate(on(sa.cluster, legacy)), undefined, 'not a token of any issuer it accepts');
});

test('the shard not answering refuses the token (fails closed, as 503: the shard is out, not the token) and is asked again next time', async (t) => {
  const signer = await createServiceAccountSigner(issuer);
  let up = false;
  const lookup: ShardObjectLookup = {
    async get() {
      if (!up) throw new Error('connect ECONNREFUSED');
      return { uid: sa.uid, deleting: false, token: undefined };
    },
  };
  const authenticator = new ServiceAccountAuthenticator({ settings: settings(signer, { lookupCacheMs: 60_000 }), lookup });
  t.after(() => authenticator.close());
  const { token } = await signer.mintBound(sa);
  await assert.rejects(authenticator.authenticate(on(sa.cluster, token)), (err: unknown) => {
    assert.ok(isGatewayError(err) && err.code === 'SHARD_UNAVAILABLE', String(err));
    assert.equal((err.cause as AuthFailure).reason, 'lookup_unavailable');
    return true;
  });
  up = true;
  assert.ok(await authenticator.authenticate(on(sa.cluster, token)));
});

test('refused by the validator: wrong issuer (a token of an issuer it does not trust, even signed by a trusted key)', async (t) => {
  const signer = await createServiceAccountSigner(issuer);
  const impostor = await createServiceAccountSigner('https://evil.example');
  const fetcher = new JsonFetcher({ timeoutMs: 1000, maxResponseBytes: 1024 });
  t.after(() => fetcher.close());
  const keys = new IssuerKeys({ issuer, keys: [signer.publicKeyPem], discoveryUrl: undefined, ca: undefined }, fetcher, DEFAULT_ORG_REALMS_SETTINGS.jwks);
  const settings = { issuers: new Map([[issuer, keys]]), audiences: [issuer], legacyTokens: true, leewaySeconds: 60 };
  const reasonOf = (token: string) =>
    verifyServiceAccountToken(token, settings).then(
      () => assert.fail('accepted'),
      (err: AuthFailure) => err.reason,
    );
  assert.equal(await reasonOf((await impostor.mintBound({ ...sa, audiences: [issuer] })).token), 'issuer_mismatch');
  // The trusted key's signature over a token naming another issuer: the iss is part of what was signed.
  const renamed = forge((await signer.mintBound(sa)).token, ({ payload }) => void (payload.iss = 'https://evil.example'));
  assert.equal(await reasonOf(renamed), 'issuer_mismatch');
  assert.equal((await verifyServiceAccountToken((await signer.mintBound(sa)).token, settings)).claims.cluster, sa.cluster);
});
