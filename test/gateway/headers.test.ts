import assert from 'node:assert/strict';
import { test } from 'node:test';
import { get, startTestGateway, startTestShard, StaticRoutingTable, testPki } from './fixtures.ts';

test('spoofed X-Remote-*, hop-by-hop and credential headers never reach the shard; the identity does', async (t) => {
  const pki = await testPki();
  const shard = await startTestShard(t, pki);
  const routing = new StaticRoutingTable().addShard('a', shard.url).addRoute('root:org-acme:proj', 'a', 'c-proj');
  const gw = await startTestGateway(t, pki, routing);

  const reply = await get(gw, pki, '/clusters/org-acme:proj/api/v1/namespaces', {
    headers: {
      'X-Remote-User': 'system:admin',
      'x-remote-group': ['system:masters', 'evil'],
      'X-Remote-Extra-Scopes': 'cluster-admin',
      'X-Remote-Uid': '0',
      connection: 'keep-alive, X-Secret-Hop',
      'x-secret-hop': 'only-for-the-gateway',
      'keep-alive': 'timeout=5',
      'proxy-authorization': 'Basic Zm9vOmJhcg==',
      te: 'trailers',
      'x-forwarded-for': '6.6.6.6',
      'Impersonate-User': 'carol',
      accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json',
      'user-agent': 'kubectl/v1.32.0',
    },
  });
  assert.equal(reply.status, 200, reply.body);
  const seen = shard.seen[0]!;
  const names = seen.rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
  // Exactly the gateway's X-Remote-* headers, in order: the user, then one group per group.
  const remote = seen.rawHeaders.flatMap((v, i) => (i % 2 === 0 && v.toLowerCase().startsWith('x-remote-') ? [[v.toLowerCase(), seen.rawHeaders[i + 1]]] : []));
  assert.deepEqual(
    remote,
    [
      ['x-remote-user', 'alice'],
      ['x-remote-group', 'dev'],
    ],
    'system:masters from the token file is dropped too',
  );
  for (const hop of ['x-secret-hop', 'keep-alive', 'proxy-authorization', 'te', 'authorization']) {
    assert.ok(!names.includes(hop), `${hop} must not be forwarded`);
  }
  assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1');
  assert.equal(seen.headers['impersonate-user'], 'carol', 'Impersonate-* passes by default');
  assert.equal(seen.headers.accept, 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json');
  assert.equal(seen.headers['user-agent'], 'kubectl/v1.32.0');
  // A generated Audit-ID reaches the shard and comes back.
  assert.match(String(seen.headers['audit-id']), /^[0-9a-f-]{36}$/);
  assert.equal(reply.headers['audit-id'], seen.headers['audit-id']);
});

test('a client Audit-ID is passed on; Impersonate-* is dropped when configured; extras are escaped', async (t) => {
  const pki = await testPki();
  const shard = await startTestShard(t, pki);
  const routing = new StaticRoutingTable().addShard('a', shard.url).addRoute('root:org-acme:proj', 'a', 'c-proj');
  const extraIdentity = { user: 'svc', groups: ['g1', 'g2'], extra: { 'scopes.example.io/Role': ['a', 'b'], 'x%y': ['z'] } };
  const gw = await startTestGateway(t, pki, routing, {
    headers: { dropImpersonation: true },
    authenticators: [{ authenticate: async (c) => (c.token === 'svc-token' ? extraIdentity : undefined) }],
  });
  const reply = await get(gw, pki, '/clusters/org-acme:proj/api', {
    token: 'svc-token',
    headers: { 'audit-id': 'my-audit-id', 'impersonate-user': 'carol', 'impersonate-group': 'x' },
  });
  assert.equal(reply.status, 200, reply.body);
  const seen = shard.seen[0]!;
  assert.equal(seen.headers['audit-id'], 'my-audit-id');
  assert.equal(seen.headers['impersonate-user'], undefined);
  assert.equal(seen.headers['impersonate-group'], undefined);
  assert.equal(seen.headers['x-remote-group'], 'g1, g2');
  assert.equal(seen.headers['x-remote-extra-scopes.example.io%2frole'], 'a, b');
  assert.equal(seen.headers['x-remote-extra-x%25y'], 'z');
});

test("kcp's lifecycle groups (system:kcp:initializer:*, system:kcp:terminator:*) are dropped like system:masters; a configured pattern matches by prefix", async (t) => {
  const pki = await testPki();
  const shard = await startTestShard(t, pki);
  const routing = new StaticRoutingTable().addShard('a', shard.url).addRoute('root:org-acme:proj', 'a', 'c-proj');
  const claimed = {
    user: 'sneaky',
    groups: ['dev', 'system:kcp:initializer:root:org', 'system:kcp:terminator:root:custom', 'system:kcp:initializer', 'system:masters'],
    extra: {},
  };
  const authenticators = [{ authenticate: async () => claimed }];
  const gw = await startTestGateway(t, pki, routing, { authenticators });
  assert.equal((await get(gw, pki, '/clusters/org-acme:proj/api')).status, 200);
  assert.equal(shard.seen[0]!.headers['x-remote-group'], 'dev, system:kcp:initializer', 'the prefix pattern needs its trailing colon to match');

  const custom = await startTestGateway(t, pki, routing, { authenticators, headers: { droppedGroups: ['de*'] } });
  assert.equal((await get(custom, pki, '/clusters/org-acme:proj/api')).status, 200);
  assert.equal(shard.seen[1]!.headers['x-remote-group'], 'system:kcp:initializer:root:org, system:kcp:terminator:root:custom, system:kcp:initializer, system:masters');
});
