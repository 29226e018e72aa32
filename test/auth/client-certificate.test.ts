import assert from 'node:assert/strict';
import { request } from 'node:https';
import { test } from 'node:test';
import { startTestGateway, startTestShard, StaticRoutingTable, testPki } from '../gateway/fixtures.ts';

function getWithCertificate(port: number, ca: string, cert: { certPem: string; keyPem: string }): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/clusters/org-acme:proj/api', ca, cert: cert.certPem, key: cert.keyPem, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

test('a client certificate signed by the client CA authenticates: CN is the user, O the groups', async (t) => {
  const pki = await testPki();
  const shard = await startTestShard(t, pki);
  const routing = new StaticRoutingTable().addShard('a', shard.url).addRoute('root:org-acme:proj', 'a', 'c-proj');
  const gw = await startTestGateway(t, pki, routing);

  const dave = await pki.clientCA.issue({ commonName: 'dave', organizations: ['ops', 'system:masters'], usage: 'client' });
  assert.equal(await getWithCertificate(gw.port, pki.ca.certPem, dave), 200);
  assert.equal(shard.seen[0]!.headers['x-remote-user'], 'dave');
  assert.equal(shard.seen[0]!.headers['x-remote-group'], 'ops', 'system:masters is dropped');

  // Signed by another CA (here: the shard CA): not an identity, so 401.
  const stranger = await pki.ca.issue({ commonName: 'mallory', usage: 'client' });
  assert.equal(await getWithCertificate(gw.port, pki.ca.certPem, stranger), 401);
  assert.equal(shard.seen.length, 1);
});
