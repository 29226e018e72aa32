// Where a service-account token may go through the gateway: its own logical cluster, an APIExport
// virtual workspace of an export its cluster owns, and a path with no cluster at all (routed to its
// own, as kcp does for in-cluster clients). The ServiceAccount is looked up on the owning shard over
// the gateway's pool, as the configured lookup identity.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_ORG_REALMS_SETTINGS } from '../../src/auth/realm-settings.ts';
import { ServiceAccountAuthenticator } from '../../src/auth/service-account-authenticator.ts';
import { ShardObjectReader } from '../../src/gateway/shard-object-reader.ts';
import { ShardPools } from '../../src/gateway/shard-pools.ts';
import { createServiceAccountSigner } from '../../src/sim/service-account-tokens.ts';
import { get, startTestGateway, startTestShard, StaticRoutingTable, testPki } from './fixtures.ts';

const issuer = 'https://kcp.default.svc';

test("a service-account token reaches its own cluster, its exports' virtual workspaces and cluster-less paths; nothing else", async (t) => {
  const pki = await testPki();
  let serviceAccountExists = true;
  const shard = await startTestShard(t, pki, (req, res, seen) => {
    const lookup = /^\/clusters\/c-provider\/api\/v1\/namespaces\/sync\/serviceaccounts\/agent$/.test(seen.url);
    const body = lookup
      ? serviceAccountExists
        ? { kind: 'ServiceAccount', metadata: { name: 'agent', namespace: 'sync', uid: 'uid-agent' } }
        : { kind: 'Status', code: 404 }
      : { kind: 'Echo', url: seen.url, user: seen.headers['x-remote-user'] ?? null };
    res.writeHead(lookup && !serviceAccountExists ? 404 : 200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
    void req;
  });
  const routing = new StaticRoutingTable()
    .addShard('a', shard.url)
    .addRoute('root:org-acme:provider', 'a', 'c-provider')
    .addRoute('root:org-acme:consumer', 'a', 'c-consumer')
    .addRoute('root:org-globex:other', 'a', 'c-other')
    .addShard('dead', 'https://127.0.0.1:1')
    .addRoute('root:org-acme:on-dead-shard', 'dead', 'c-dead');
  const signer = await createServiceAccountSigner(issuer);
  const pools = new ShardPools({ clientCertPem: pki.gatewayClient.certPem, clientKeyPem: pki.gatewayClient.keyPem, caPem: pki.ca.certPem });
  const authenticator = new ServiceAccountAuthenticator({
    settings: {
      issuers: [{ issuer, keys: [signer.publicKeyPem], discoveryUrl: undefined, ca: undefined }],
      audiences: [issuer],
      legacyTokens: true,
      leewaySeconds: 60,
      maxTokenBytes: 16384,
      tokenCache: { maxEntries: 100, maxTtlSeconds: 300 },
      lookupCacheMs: 0,
      jwks: DEFAULT_ORG_REALMS_SETTINGS.jwks,
    },
    lookup: new ShardObjectReader({ routing, pools, identity: { user: 'system:kcp-edge:token-lookup', groups: ['system:masters'] }, timeoutMs: 2000 }),
  });
  t.after(() => authenticator.close());
  const gateway = await startTestGateway(t, pki, routing, { authenticators: [authenticator], pools });
  const { token } = await signer.mintBound({ cluster: 'c-provider', namespace: 'sync', name: 'agent', uid: 'uid-agent' });

  const allowed: [string, string][] = [
    ['/clusters/org-acme:provider/api/v1/namespaces', '/clusters/c-provider/api/v1/namespaces'],
    ['/clusters/c-provider/api/v1/namespaces', '/clusters/c-provider/api/v1/namespaces'],
    ['/services/apiexport/org-acme:provider/widgets/clusters/*/apis/example.io/v1/widgets', '/services/apiexport/c-provider/widgets/clusters/*/apis/example.io/v1/widgets'],
    [
      '/services/apiexport/org-acme:provider/widgets/clusters/org-acme:consumer/apis/example.io/v1/widgets',
      '/services/apiexport/c-provider/widgets/clusters/c-consumer/apis/example.io/v1/widgets',
    ],
    ['/api/v1/namespaces/sync/configmaps?limit=5', '/clusters/c-provider/api/v1/namespaces/sync/configmaps?limit=5'],
    ['/version', '/clusters/c-provider/version'],
  ];
  for (const [path, upstream] of allowed) {
    const reply = await get(gateway, pki, path, { token });
    assert.equal(reply.status, 200, `${path}: ${reply.body}`);
    const forwarded = shard.seen.at(-1)!;
    assert.equal(forwarded.url, upstream, path);
    assert.equal(forwarded.headers['x-remote-user'], 'system:serviceaccount:sync:agent', path);
    assert.equal(forwarded.headers['x-remote-extra-authentication.kcp.io%2fcluster-name'], 'c-provider', path);
    const lookup = shard.seen.at(-2)!;
    assert.equal(lookup.url, '/clusters/c-provider/api/v1/namespaces/sync/serviceaccounts/agent', 'the lookup went to the owning shard');
    assert.equal(lookup.headers['x-remote-user'], 'system:kcp-edge:token-lookup');
  }

  const refused = [
    '/clusters/org-acme:consumer/api/v1/namespaces',
    '/clusters/org-globex:other/api/v1/namespaces',
    '/services/apiexport/org-acme:consumer/widgets/clusters/*/apis/example.io/v1/widgets',
    '/clusters/org-acme:nowhere/api/v1/namespaces',
  ];
  for (const path of refused) {
    const seen = shard.seen.length;
    const reply = await get(gateway, pki, path, { token });
    assert.equal(reply.status, 401, `${path}: ${reply.body}`);
    assert.equal(JSON.parse(reply.body).reason, 'Unauthorized');
    assert.equal(shard.seen.length, seen, `${path} never reached the shard`);
  }

  // The token's own shard is unreachable: it cannot vouch, so the answer is its outage, at once.
  const { token: deadToken } = await signer.mintBound({ cluster: 'c-dead', namespace: 'sync', name: 'agent', uid: 'uid-agent' });
  const down = await get(gateway, pki, '/clusters/org-acme:on-dead-shard/api/v1/namespaces', { token: deadToken });
  assert.equal(down.status, 503, down.body);
  assert.equal(JSON.parse(down.body).reason, 'ServiceUnavailable');

  serviceAccountExists = false;
  assert.equal((await get(gateway, pki, '/clusters/org-acme:provider/api/v1/namespaces', { token })).status, 401, 'the ServiceAccount is gone');
});
