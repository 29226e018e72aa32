import assert from 'node:assert/strict';
import { test } from 'node:test';
import { get, startTestGateway, startTestShard, StaticRoutingTable, testPki } from './fixtures.ts';

test('forwards a workspace request to its shard with the canonical cluster path and the query byte for byte', async (t) => {
  const pki = await testPki();
  const shard = await startTestShard(t, pki);
  const routing = new StaticRoutingTable().addShard('a', shard.url).addRoute('root:org-acme:proj-frontend', 'a', '2x8f7ab3');
  const gw = await startTestGateway(t, pki, routing);

  const query = '?labelSelector=app%3Dweb%2Ctier+in+(a,b)&limit=500&fieldSelector=metadata.name%3D%3Dx&empty=&dup=1&dup=2';
  const reply = await get(gw, pki, `/clusters/org-acme:proj-frontend/api/v1/namespaces/default/configmaps${query}`);
  assert.equal(reply.status, 200, reply.body);
  assert.equal(shard.seen.length, 1);
  assert.equal(shard.seen[0]!.url, `/clusters/2x8f7ab3/api/v1/namespaces/default/configmaps${query}`);
  assert.equal(shard.seen[0]!.clientCertCN, 'kcp-edge-gateway');
  assert.equal(shard.seen[0]!.headers['x-remote-user'], 'alice');
  assert.equal(JSON.parse(reply.body).user, 'alice');
});
