import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:http2';
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

test('HTTP/2 requests: bodies stream to the shard, bodiless requests stay bodiless, headers come back', async (t) => {
  const pki = await testPki();
  const shard = await startTestShard(t, pki);
  const routing = new StaticRoutingTable().addShard('a', shard.url).addRoute('root:org-acme:proj', 'a', 'c-proj');
  const gw = await startTestGateway(t, pki, routing);
  const session = connect(gw.url, { ca: pki.ca.certPem });
  t.after(() => session.close());

  const send = async (headers: Record<string, string>, body?: string) => {
    const stream = session.request({ authorization: 'Bearer alice-token', ...headers }, { endStream: body === undefined });
    if (body !== undefined) stream.end(body);
    const [response] = (await once(stream, 'response')) as [Record<string, string | number>];
    let text = '';
    for await (const chunk of stream) text += String(chunk);
    return { response, text };
  };
  const created = await send({ ':method': 'POST', ':path': '/clusters/org-acme:proj/api/v1/namespaces/default/configmaps', 'content-type': 'application/json' }, '{"kind":"ConfigMap"}');
  assert.equal(created.response[':status'], 200);
  assert.equal(shard.seen[0]!.body, '{"kind":"ConfigMap"}');
  assert.equal(shard.seen[0]!.headers['content-type'], 'application/json');

  const listed = await send({ ':method': 'GET', ':path': '/clusters/org-acme:proj/api/v1/namespaces/default/configmaps?limit=1' });
  assert.equal(listed.response[':status'], 200);
  assert.equal(listed.response['content-type'], 'application/json');
  assert.equal(shard.seen[1]!.headers['transfer-encoding'], undefined);
  assert.equal(shard.seen[1]!.headers['content-length'], undefined);
  assert.equal(shard.seen[1]!.url, '/clusters/c-proj/api/v1/namespaces/default/configmaps?limit=1');
});
