import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createSecureServer } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { request } from 'node:https';
import { test } from 'node:test';
import { waitFor } from '../helpers/wait.ts';
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
  const created = await send(
    { ':method': 'POST', ':path': '/clusters/org-acme:proj/api/v1/namespaces/default/configmaps', 'content-type': 'application/json' },
    '{"kind":"ConfigMap"}',
  );
  assert.equal(created.response[':status'], 200);
  assert.equal(shard.seen[0]!.body, '{"kind":"ConfigMap"}');
  assert.equal(shard.seen[0]!.headers['content-type'], 'application/json');
  // With Content-Length, as client-go sends it: the shard's answer must still reach the client whole.
  const sized = await send({ ':method': 'POST', ':path': '/clusters/org-acme:proj/api/v1/namespaces/default/configmaps', 'content-length': '21' }, '{"kind":"ConfigMap"} ');
  assert.equal(sized.response[':status'], 200);
  assert.equal(JSON.parse(sized.text).kind, 'Echo');
  assert.equal(shard.seen.at(-1)!.body, '{"kind":"ConfigMap"} ');

  const listed = await send({ ':method': 'GET', ':path': '/clusters/org-acme:proj/api/v1/namespaces/default/configmaps?limit=1' });
  assert.equal(listed.response[':status'], 200);
  assert.equal(listed.response['content-type'], 'application/json');
  const get = shard.seen.at(-1)!;
  assert.equal(get.headers['transfer-encoding'], undefined);
  assert.equal(get.headers['content-length'], undefined);
  assert.equal(get.url, '/clusters/c-proj/api/v1/namespaces/default/configmaps?limit=1');
});

test('virtual-workspace URLs: routed by the consumer workspace, or for * by the export owner, each rewritten to its cluster', async (t) => {
  const pki = await testPki();
  const ownerShard = await startTestShard(t, pki);
  const consumerShard = await startTestShard(t, pki);
  const routing = new StaticRoutingTable()
    .addShard('a', ownerShard.url)
    .addShard('b', consumerShard.url)
    .addRoute('root:org-acme:services', 'a', 'svc123')
    .addRoute('root:org-acme:proj', 'b', 'proj456');
  const gw = await startTestGateway(t, pki, routing);

  const all = await get(gw, pki, '/services/apiexport/org-acme:services/databases.example.io/clusters/*/apis/example.io/v1/databases?watch=1');
  assert.equal(all.status, 200, all.body);
  assert.equal(ownerShard.seen[0]!.url, '/services/apiexport/svc123/databases.example.io/clusters/*/apis/example.io/v1/databases?watch=1');

  const one = await get(gw, pki, '/services/apiexport/root:org-acme:services/databases.example.io/clusters/org-acme:proj/apis/example.io/v1/databases');
  assert.equal(one.status, 200, one.body);
  assert.equal(consumerShard.seen[0]!.url, '/services/apiexport/svc123/databases.example.io/clusters/proj456/apis/example.io/v1/databases');

  const unknownOwner = await get(gw, pki, '/services/apiexport/org-acme:nope/databases.example.io/clusters/*/apis/example.io/v1/databases');
  assert.equal(unknownOwner.status, 403);
});

test('a slow client slows the shard down: the gateway applies backpressure instead of buffering', async (t) => {
  const pki = await testPki();
  const chunk = Buffer.alloc(64 * 1024, 120);
  const total = 1024; // chunks: 64 MiB if nothing pushed back
  let written = 0;
  let finished = false;
  const shard = await startTestShard(t, pki, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    const pump = () => {
      while (written < total) {
        written++;
        if (!res.write(chunk)) {
          res.once('drain', pump);
          return;
        }
      }
      finished = true;
      res.end();
    };
    pump();
  });
  const routing = new StaticRoutingTable().addShard('a', shard.url).addRoute('root:org-acme:proj', 'a', 'c-proj');
  const gw = await startTestGateway(t, pki, routing);

  const req = request({
    host: '127.0.0.1',
    port: gw.port,
    path: '/clusters/org-acme:proj/api/v1/namespaces/default/pods/web/log',
    ca: pki.ca.certPem,
    agent: false,
    headers: { authorization: 'Bearer alice-token' },
  });
  req.end();
  const [res] = (await once(req, 'response')) as [import('node:http').IncomingMessage];
  res.pause(); // the client reads nothing
  t.after(() => res.destroy());
  // The shard stops making progress once the buffers between it and the client are full.
  let last = -1;
  let stableFor = 0;
  await waitFor(
    () => {
      stableFor = written === last ? stableFor + 1 : 0;
      last = written;
      return stableFor >= 10;
    },
    { what: 'the shard to be held back', intervalMs: 50, timeoutMs: 20_000 },
  );
  assert.equal(finished, false, 'the whole body went into the gateway');
  assert.ok(written * chunk.length < 32 * 1024 * 1024, `the shard pushed ${(written * chunk.length) / 2 ** 20} MiB into the gateway`);
  // Reading again lets it all through.
  let received = 0;
  res.on('data', (c: Buffer) => (received += c.length));
  res.resume();
  await once(res, 'end');
  assert.equal(received, total * chunk.length);
});

test('response bodies reach the client byte for byte: binary, UTF-8, small and large, HTTP/1.1 and HTTP/2', async (t) => {
  const pki = await testPki();
  const every = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  const small = Buffer.concat([every, Buffer.from('{"note":"ü € 😀"}', 'utf8'), every]);
  const large = Buffer.concat(Array.from({ length: 200 }, () => small));
  const shard = await startTestShard(t, pki, (req, res) => {
    const body = req.url!.includes('large') ? large : small;
    res.writeHead(200, { 'content-type': 'application/vnd.kubernetes.protobuf', 'content-length': body.length });
    res.end(body);
  });
  const routing = new StaticRoutingTable().addShard('a', shard.url).addRoute('root:org-acme:proj', 'a', 'c-proj');
  const gw = await startTestGateway(t, pki, routing);

  const viaHttp1 = (path: string) =>
    new Promise<Buffer>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: gw.port, path, ca: pki.ca.certPem, agent: false, headers: { authorization: 'Bearer alice-token' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(Buffer.concat(chunks)));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
  const session = connect(gw.url, { ca: pki.ca.certPem });
  t.after(() => session.close());
  const viaHttp2 = async (path: string) => {
    const stream = session.request({ ':path': path, authorization: 'Bearer alice-token' });
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  };
  for (const [name, expected] of [
    ['small', small],
    ['large', large],
  ] as const) {
    const path = `/clusters/org-acme:proj/api/v1/namespaces/default/configmaps/${name}`;
    assert.ok((await viaHttp1(path)).equals(expected), `${name} over HTTP/1.1`);
    assert.ok((await viaHttp2(path)).equals(expected), `${name} over HTTP/2`);
  }
});

test('by default a shard that offers HTTP/2 (as kube-apiserver does) gets short requests over HTTP/1.1 and watches over HTTP/2', async (t) => {
  const pki = await testPki();
  const versions: string[] = [];
  const shard = createSecureServer(
    { allowHTTP1: true, cert: pki.shardServing.certPem, key: pki.shardServing.keyPem, ca: pki.ca.certPem, requestCert: true, rejectUnauthorized: true },
    (req, res) => {
      versions.push(`${req.url?.includes('watch=true') === true ? 'watch' : 'get'} ${req.httpVersion}`);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"kind":"Echo"}');
    },
  );
  shard.listen(0, '127.0.0.1');
  await once(shard, 'listening');
  t.after(() => shard.close());
  const routing = new StaticRoutingTable().addShard('a', `https://127.0.0.1:${(shard.address() as AddressInfo).port}`).addRoute('root:org-acme:proj', 'a', 'c-proj');
  const gw = await startTestGateway(t, pki, routing);
  const reply = await get(gw, pki, '/clusters/org-acme:proj/api/v1/namespaces');
  assert.equal(reply.status, 200, reply.body);
  // The shard ends this watch at once; what matters is the connection it came over.
  const watch = await get(gw, pki, '/clusters/org-acme:proj/api/v1/namespaces?watch=true');
  assert.equal(watch.status, 200, watch.body);
  assert.deepEqual(versions, ['get 1.1', 'watch 2.0']);
});
