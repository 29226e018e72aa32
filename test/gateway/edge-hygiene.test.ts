// What the edge never lets through: shard addresses in discovery, ambiguous percent-encoding, and a
// request with two Authorization headers.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { get, startTestGateway, startTestShard, StaticRoutingTable, testPki } from './fixtures.ts';

const shardAddress = [{ clientCIDR: '0.0.0.0/0', serverAddress: '10.1.2.3:6443' }];
const apiVersions = { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: shardAddress };
const apiGroupList = {
  kind: 'APIGroupList',
  apiVersion: 'v1',
  groups: [
    {
      name: 'apps',
      versions: [{ groupVersion: 'apps/v1', version: 'v1' }],
      preferredVersion: { groupVersion: 'apps/v1', version: 'v1' },
      serverAddressByClientCIDRs: shardAddress,
    },
  ],
};

test("discovery roots reach the client without the shard's address; other documents stream as they are", async (t) => {
  const pki = await testPki();
  const shard = await startTestShard(t, pki, (req, res, seen) => {
    const path = seen.url.split('?')[0];
    const aggregated = (req.headers.accept ?? '').includes('g=apidiscovery.k8s.io');
    const body = path?.endsWith('/apis') ? apiGroupList : path?.endsWith('/api') ? apiVersions : { kind: 'APIResourceList', serverAddressByClientCIDRs: shardAddress };
    res.writeHead(200, { 'content-type': aggregated ? 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList' : 'application/json' });
    res.end(JSON.stringify(body));
  });
  const routing = new StaticRoutingTable().addShard('a', shard.url).addRoute('root:org-acme:proj', 'a', 'c-proj');
  const gw = await startTestGateway(t, pki, routing);

  const api = await get(gw, pki, '/clusters/org-acme:proj/api?timeout=32s', { headers: { 'accept-encoding': 'gzip' } });
  assert.equal(api.status, 200);
  assert.doesNotMatch(api.body, /10\.1\.2\.3/);
  assert.deepEqual(JSON.parse(api.body), { ...apiVersions, serverAddressByClientCIDRs: [] });
  assert.equal(Number(api.headers['content-length']), Buffer.byteLength(api.body));
  assert.equal(shard.seen[0]?.headers['accept-encoding'], undefined, 'asked uncompressed, so it can be read');

  const apis = await get(gw, pki, '/clusters/org-acme:proj/apis');
  assert.doesNotMatch(apis.body, /10\.1\.2\.3|serverAddressByClientCIDRs/);
  assert.equal((JSON.parse(apis.body) as typeof apiGroupList).groups[0]?.name, 'apps');

  // Only the two roots in legacy JSON are rewritten.
  const aggregated = await get(gw, pki, '/clusters/org-acme:proj/apis', { headers: { accept: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList' } });
  assert.match(aggregated.body, /10\.1\.2\.3/, 'aggregated discovery passes untouched (it has no such field on a real shard)');
  const resources = await get(gw, pki, '/clusters/org-acme:proj/api/v1');
  assert.match(resources.body, /10\.1\.2\.3/, 'a resource list is not a discovery root');
});

test('malformed or ambiguous percent-encoding is a 400 Status at the edge and never reaches a shard', async (t) => {
  const pki = await testPki();
  const shard = await startTestShard(t, pki);
  const routing = new StaticRoutingTable().addShard('a', shard.url).addRoute('root:org-acme:proj', 'a', 'c-proj');
  const gw = await startTestGateway(t, pki, routing);
  for (const segment of ['%u002e%u002e', '%c0%ae%c0%ae', '%e0%80%ae', '%ff', '%zz', 'x%2']) {
    const reply = await get(gw, pki, `/clusters/org-acme:proj/api/v1/namespaces/${segment}/configmaps`);
    assert.equal(reply.status, 400, segment);
    assert.deepEqual([JSON.parse(reply.body).kind, JSON.parse(reply.body).reason], ['Status', 'BadRequest'], segment);
  }
  assert.equal(shard.seen.length, 0);
  const fine = await get(gw, pki, '/clusters/org-acme:proj/api/v1/namespaces/default/configmaps/caf%C3%A9');
  assert.equal(fine.status, 200);
  assert.equal(shard.seen[0]?.url, '/clusters/c-proj/api/v1/namespaces/default/configmaps/caf%C3%A9');
});

test('two Authorization headers are refused with 401, whichever comes first', async (t) => {
  const pki = await testPki();
  const shard = await startTestShard(t, pki);
  const routing = new StaticRoutingTable().addShard('a', shard.url).addRoute('root:org-acme:proj', 'a', 'c-proj');
  const gw = await startTestGateway(t, pki, routing);
  const path = '/clusters/org-acme:proj/api/v1/namespaces/default/configmaps';
  for (const pair of [
    ['Bearer alice-token', 'Bearer bob-token'],
    ['Bearer bob-token', 'Bearer alice-token'],
    ['Bearer alice-token', 'Bearer alice-token'],
  ]) {
    const reply = await get(gw, pki, path, { token: null, headers: { authorization: pair } });
    assert.equal(reply.status, 401, pair.join(' + '));
    assert.equal(JSON.parse(reply.body).reason, 'Unauthorized');
  }
  assert.equal(shard.seen.length, 0);
  assert.equal((await get(gw, pki, path)).status, 200, 'one Authorization header still works');
});
