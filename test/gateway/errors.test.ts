import assert from 'node:assert/strict';
import { test } from 'node:test';
import { get, startTestGateway, startTestShard, StaticRoutingTable, testPki } from './fixtures.ts';

// What kube-apiserver answers when authorization denies bob a list of configmaps in "default".
const kubeForbidden =
  '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"configmaps is forbidden: User \\"bob\\" cannot list resource \\"configmaps\\" in API group \\"\\" in the namespace \\"default\\"","reason":"Forbidden","details":{"kind":"configmaps"},"code":403}';

test('an unknown workspace answers exactly what a forbidden one does', async (t) => {
  const pki = await testPki();
  const shard = await startTestShard(t, pki, (_req, res, seen) => {
    if (seen.headers['x-remote-user'] === 'bob') {
      res.writeHead(403, { 'content-type': 'application/json' });
      res.end(kubeForbidden);
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{}');
  });
  const routing = new StaticRoutingTable().addShard('a', shard.url).addRoute('root:org-acme:proj', 'a', 'c-proj');
  const gw = await startTestGateway(t, pki, routing);

  const forbidden = await get(gw, pki, '/clusters/org-acme:proj/api/v1/namespaces/default/configmaps', { token: 'bob-token' });
  const unknown = await get(gw, pki, '/clusters/org-acme:nope/api/v1/namespaces/default/configmaps', { token: 'bob-token' });
  const unknownByCluster = await get(gw, pki, '/clusters/zz9/api/v1/namespaces/default/configmaps', { token: 'bob-token' });
  assert.equal(forbidden.status, 403);
  assert.equal(forbidden.body, kubeForbidden);
  assert.equal(unknown.status, 403);
  assert.equal(unknown.body, forbidden.body);
  assert.equal(unknownByCluster.body, forbidden.body);
  assert.equal(shard.seen.length, 1, 'the unknown workspace never reached a shard');

  // Unauthenticated: 401 whether or not the workspace exists.
  const anonKnown = await get(gw, pki, '/clusters/org-acme:proj/api', { token: null });
  const anonUnknown = await get(gw, pki, '/clusters/org-acme:nope/api', { token: 'wrong' });
  assert.equal(anonKnown.status, 401);
  assert.equal(anonUnknown.body, anonKnown.body);
  assert.equal(JSON.parse(anonKnown.body).reason, 'Unauthorized');
});

test('malformed paths get 400 and unserved paths 404, as Status bodies', async (t) => {
  const pki = await testPki();
  const routing = new StaticRoutingTable();
  const gw = await startTestGateway(t, pki, routing);
  const bad = await get(gw, pki, '/clusters/Root/api');
  assert.equal(bad.status, 400);
  assert.equal(JSON.parse(bad.body).kind, 'Status');
  assert.equal(JSON.parse(bad.body).reason, 'BadRequest');
  const encoded = await get(gw, pki, '/clusters/root/api/%2e%2e/x');
  assert.equal(encoded.status, 400);
  const missing = await get(gw, pki, '/api/v1/pods');
  assert.equal(missing.status, 404);
  assert.equal(JSON.parse(missing.body).reason, 'NotFound');
});

test('request bodies over the limit get 413, declared or streamed', async (t) => {
  const pki = await testPki();
  const shard = await startTestShard(t, pki);
  const routing = new StaticRoutingTable().addShard('a', shard.url).addRoute('root:org-acme:proj', 'a', 'c-proj');
  const gw = await startTestGateway(t, pki, routing, { maxBodyBytes: 1024 });
  const path = '/clusters/org-acme:proj/api/v1/namespaces/default/configmaps';

  const small = await get(gw, pki, path, { method: 'POST', body: 'x'.repeat(1024), headers: { 'content-type': 'application/json' } });
  assert.equal(small.status, 200);
  assert.equal(shard.seen[0]!.body, 'x'.repeat(1024), 'the body reaches the shard intact');

  const declared = await get(gw, pki, path, { method: 'POST', body: 'x'.repeat(1025) });
  assert.equal(declared.status, 413);
  assert.equal(JSON.parse(declared.body).reason, 'RequestEntityTooLarge');

  const chunked = await get(gw, pki, path, { method: 'POST', body: 'x'.repeat(5000), headers: { 'transfer-encoding': 'chunked' } });
  assert.equal(chunked.status, 413);
  assert.equal(shard.seen.filter((s) => s.body.length > 1024).length, 0);
});

test('a shard that is down fails only its own workspaces, with 502; the other shard keeps serving', async (t) => {
  const pki = await testPki();
  const up = await startTestShard(t, pki);
  const down = await startTestShard(t, pki);
  down.server.close();
  down.cutConnections();
  const routing = new StaticRoutingTable()
    .addShard('a', up.url)
    .addShard('b', down.url)
    .addRoute('root:org-acme:frontend', 'a', 'c-front')
    .addRoute('root:org-acme:backend', 'b', 'c-back');
  const failures: string[] = [];
  const gw = await startTestGateway(t, pki, routing, {
    health: { isAvailable: () => true, reportFailure: (s) => failures.push(s), reportSuccess: () => undefined },
  });
  const broken = await get(gw, pki, '/clusters/org-acme:backend/api');
  assert.equal(broken.status, 502, broken.body);
  assert.equal(JSON.parse(broken.body).kind, 'Status');
  assert.ok(!broken.body.includes('127.0.0.1'), 'no internal address leaks to the client');
  assert.deepEqual(failures, ['b']);
  const fine = await get(gw, pki, '/clusters/org-acme:frontend/api');
  assert.equal(fine.status, 200);
});

test('a shard that accepts but never answers gets 504; a shard known to be down gets 503 at once, without Retry-After', async (t) => {
  const pki = await testPki();
  const silent = await startTestShard(t, pki, () => undefined);
  const routing = new StaticRoutingTable()
    .addShard('a', silent.url)
    .addShard('b', silent.url)
    .addRoute('root:org-acme:slow', 'a', 'c-slow')
    .addRoute('root:org-acme:out', 'b', 'c-out');
  const gw = await startTestGateway(t, pki, routing, {
    upstream: { ...(await upstreamOf(pki)), headersTimeoutMs: 300 },
    health: { isAvailable: (s) => s !== 'b', reportFailure: () => undefined, reportSuccess: () => undefined },
  });
  const slow = await get(gw, pki, '/clusters/org-acme:slow/api');
  assert.equal(slow.status, 504, slow.body);
  const out = await get(gw, pki, '/clusters/org-acme:out/api');
  assert.equal(out.status, 503);
  // Fail fast: with Retry-After, client-go would retry the call up to ten times.
  assert.equal(out.headers['retry-after'], undefined);
  const status = JSON.parse(out.body) as { reason: string; message: string };
  assert.equal(status.reason, 'ServiceUnavailable');
  assert.match(status.message, /the shard serving this workspace is unavailable/);
});

async function upstreamOf(pki: Awaited<ReturnType<typeof testPki>>) {
  return { clientCertPem: pki.gatewayClient.certPem, clientKeyPem: pki.gatewayClient.keyPem, caPem: pki.ca.certPem };
}

test('a shard whose certificate another CA signed is refused (502)', async (t) => {
  const pki = await testPki();
  const shard = await startTestShard(t, pki);
  const { createCertificateAuthority } = await import('../../src/sim/pki.ts');
  const stranger = await createCertificateAuthority('stranger');
  const routing = new StaticRoutingTable().addShard('a', shard.url, stranger.certPem).addRoute('root:org-acme:proj', 'a', 'c');
  const gw = await startTestGateway(t, pki, routing);
  const reply = await get(gw, pki, '/clusters/org-acme:proj/api');
  assert.equal(reply.status, 502);
  assert.equal(shard.seen.length, 0);
});
