import assert from 'node:assert/strict';
import { request } from 'node:https';
import { test } from 'node:test';
import { createApiClient, createCertificateAuthority } from '../../src/sim/index.ts';
import { shardForTest, testCA } from './fixture.ts';

type Review = { kind: string; status: { userInfo: { username: string; groups: string[]; extra?: Record<string, string[]> } } };
const whoami = '/clusters/root/apis/authentication.k8s.io/v1/selfsubjectreviews';
const review = { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' };

test('a client certificate authenticates as CN with O as groups', async (t) => {
  const { shard } = await shardForTest(t);
  const alice = createApiClient(shard.url, shard.caPem, await shard.issueClientCertificate('alice', ['dev', 'ops']));
  t.after(() => alice.close());
  const res = await alice.request<Review>('POST', whoami, { body: review });
  assert.equal(res.status, 201);
  assert.equal(res.body.status.userInfo.username, 'alice');
  assert.deepEqual(res.body.status.userInfo.groups, ['dev', 'ops', 'system:authenticated']);
});

test('no certificate, or one from another CA, is 401 with a Status body', async (t) => {
  const { shard } = await shardForTest(t);
  const anonymous = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request(`${shard.url}/clusters/root/api/v1/namespaces`, { ca: shard.caPem }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
  assert.equal(anonymous.status, 401);
  assert.deepEqual(JSON.parse(anonymous.body), { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 });

  const other = await createCertificateAuthority('other-ca');
  const stranger = createApiClient(shard.url, shard.caPem, await other.issue({ commonName: 'mallory', usage: 'client' }));
  t.after(() => stranger.close());
  assert.equal((await stranger.request('GET', '/clusters/root/api/v1/namespaces')).status, 401);

  // Health and version need no identity, as on kube-apiserver.
  assert.equal((await stranger.request('GET', '/readyz')).status, 200);
  assert.equal((await stranger.request('GET', '/livez')).status, 200);
  assert.equal((await stranger.request<{ major: string }>('GET', '/version')).body.major, '1');
});

test('requestheader identity is honoured only from the front proxy certificate', async (t) => {
  const frontProxyCA = await createCertificateAuthority('front-proxy-ca');
  const { shard } = await shardForTest(t, { requestHeaderCA: frontProxyCA.certPem, requestHeaderAllowedNames: ['kcp-edge-gateway'] });
  const headers = {
    'X-Remote-User': 'oidc:bob',
    'X-Remote-Group': 'org-acme:admins',
    'X-Remote-Extra-Acme.io%2Forg': 'acme',
  };
  const proxy = createApiClient(shard.url, shard.caPem, await frontProxyCA.issue({ commonName: 'kcp-edge-gateway', usage: 'client' }));
  t.after(() => proxy.close());
  const asBob = await proxy.request<Review>('POST', whoami, { body: review, headers: { ...headers, 'X-Remote-Group': 'org-acme:admins, team-x' } });
  assert.equal(asBob.status, 201);
  assert.deepEqual(asBob.body.status.userInfo, {
    username: 'oidc:bob',
    groups: ['org-acme:admins', 'team-x', 'system:authenticated'],
    extra: { 'acme.io/org': ['acme'] },
  });

  // The same headers from an ordinary client certificate are ignored: the certificate's CN counts.
  const carol = createApiClient(shard.url, shard.caPem, await shard.issueClientCertificate('carol'));
  t.after(() => carol.close());
  const asCarol = await carol.request<Review>('POST', whoami, { body: review, headers });
  assert.equal(asCarol.body.status.userInfo.username, 'carol');
  assert.equal(asCarol.body.status.userInfo.extra, undefined);

  // A front-proxy certificate whose CN is not allowed cannot assert identity (and is no client cert).
  const rogue = createApiClient(shard.url, shard.caPem, await frontProxyCA.issue({ commonName: 'somebody-else', usage: 'client' }));
  t.after(() => rogue.close());
  assert.equal((await rogue.request('POST', whoami, { body: review, headers })).status, 401);

  // The front proxy without X-Remote-User is not authenticated.
  assert.equal((await proxy.request('POST', whoami, { body: review })).status, 401);
});

test('unknown logical clusters are 403 Forbidden', async (t) => {
  const { shard } = await shardForTest(t);
  const dave = createApiClient(shard.url, (await testCA()).certPem, await shard.issueClientCertificate('dave'));
  t.after(() => dave.close());
  const res = await dave.request<{ reason: string; code: number }>('GET', '/clusters/nosuchcluster/api/v1/namespaces');
  assert.deepEqual([res.status, res.body.reason], [403, 'Forbidden']);
  assert.equal((await dave.request('GET', '/clusters/root/api/v1/namespaces')).status, 200);
});
