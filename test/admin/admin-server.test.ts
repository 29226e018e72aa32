// The admin listener in front of a real gateway: who gets in (a client certificate or a token of the
// configured group), what they see (/metrics, the status JSON with shards, routes and open watches).
import assert from 'node:assert/strict';
import { request } from 'node:https';
import { test, type TestContext } from 'node:test';
import { startAdminServer, type AdminServer } from '../../src/admin/admin-server.ts';
import { gatewayStatus, RecentRejections, type GatewayStatus } from '../../src/admin/gateway-status.ts';
import { ClientCertificateAuthenticator } from '../../src/auth/client-certificate.ts';
import { StaticTokenAuthenticator } from '../../src/auth/static-token.ts';
import type { Gateway } from '../../src/gateway/server.ts';
import { get, startTestGateway, startTestShard, StaticRoutingTable, testPki, type Pki } from '../gateway/fixtures.ts';
import { waitFor } from '../helpers/wait.ts';

const adminTokens = 'scrape-token,prometheus,2001,"system:monitoring"\nalice-admin,alice,1001,"dev"\n';

async function startAdmin(t: TestContext, pki: Pki, gw: Gateway, routing: StaticRoutingTable, rejections: RecentRejections): Promise<AdminServer> {
  const admin = await startAdminServer({
    listen: { host: '127.0.0.1', port: 0 },
    tls: { certPem: pki.gatewayServing.certPem, keyPem: pki.gatewayServing.keyPem, clientCAPem: pki.clientCA.certPem },
    authenticators: [new ClientCertificateAuthenticator(), StaticTokenAuthenticator.fromCsv(adminTokens)],
    group: 'system:monitoring',
    metrics: gw.exposition,
    status: () => gatewayStatus({ routing, inflight: () => gw.inflight, rejections, configRevision: 'rev-1', host: 'test' }),
  });
  t.after(() => admin.close());
  return admin;
}

function adminGet(
  admin: AdminServer,
  pki: Pki,
  path: string,
  auth: { token?: string; cert?: { certPem: string; keyPem: string } } = {},
): Promise<{ status: number; body: string; type: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: admin.port,
        path,
        ca: pki.ca.certPem,
        agent: false,
        ...(auth.cert === undefined ? {} : { cert: auth.cert.certPem, key: auth.cert.keyPem }),
        headers: auth.token === undefined ? {} : { authorization: `Bearer ${auth.token}` },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), type: String(res.headers['content-type']) }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

test('the admin listener admits only its group, by token or client certificate, and serves /metrics there', async (t) => {
  const pki = await testPki();
  const shard = await startTestShard(t, pki);
  const routing = new StaticRoutingTable().addShard('a', shard.url).addRoute('root:org-acme:proj', 'a', 'c-proj');
  const gw = await startTestGateway(t, pki, routing);
  const admin = await startAdmin(t, pki, gw, routing, new RecentRejections());
  assert.equal((await get(gw, pki, '/clusters/org-acme:proj/api/v1/namespaces/default/configmaps')).status, 200);

  const anonymous = await adminGet(admin, pki, '/metrics');
  assert.equal(anonymous.status, 401);
  assert.equal(JSON.parse(anonymous.body).kind, 'Status');
  assert.equal((await adminGet(admin, pki, '/metrics', { token: 'wrong' })).status, 401);
  const outsider = await adminGet(admin, pki, '/metrics', { token: 'alice-admin' });
  assert.equal(outsider.status, 403);
  assert.match(JSON.parse(outsider.body).message, /not in group "system:monitoring"/);

  const scraped = await adminGet(admin, pki, '/metrics', { token: 'scrape-token' });
  assert.equal(scraped.status, 200);
  assert.match(scraped.body, /kcp_edge_requests_total\{shard="a",verb="list",code="200"\} 1/);

  const prometheus = await pki.clientCA.issue({ commonName: 'prometheus', organizations: ['system:monitoring'], usage: 'client' });
  const byCertificate = await adminGet(admin, pki, '/metrics', { cert: prometheus });
  assert.equal(byCertificate.status, 200);
  const stranger = await pki.clientCA.issue({ commonName: 'stranger', organizations: ['dev'], usage: 'client' });
  assert.equal((await adminGet(admin, pki, '/metrics', { cert: stranger })).status, 403);
});

test('the status JSON shows shards, routes per shard and open watches per shard and org', async (t) => {
  const pki = await testPki();
  const shard = await startTestShard(t, pki, (req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    if (req.url?.includes('watch=1')) res.write('');
    else res.end('{}');
  });
  const routing = new StaticRoutingTable()
    .addShard('a', shard.url)
    .addShard('b', shard.url)
    .addRoute('root:org-acme:proj', 'a', 'c-proj')
    .addRoute('root:org-globex:apps', 'a', 'c-apps');
  const gw = await startTestGateway(t, pki, routing);
  const admin = await startAdmin(t, pki, gw, routing, new RecentRejections());
  const watch = get(gw, pki, '/clusters/org-acme:proj/api/v1/configmaps?watch=1');
  const status = await waitFor(
    async () => {
      const reply = await adminGet(admin, pki, '/status.json', { token: 'scrape-token' });
      const body = JSON.parse(reply.body) as GatewayStatus;
      return body.watches.length === 1 && body;
    },
    { what: 'the watch to show' },
  );
  assert.deepEqual(status.watches, [{ shard: 'a', org: 'org-acme', open: 1 }]);
  assert.deepEqual(
    status.shards.map((s) => [s.name, s.state, s.routes, s.openWatches]),
    [
      ['a', 'active', 2, 1],
      ['b', 'active', 0, 0],
    ],
  );
  assert.equal(status.configRevision, 'rev-1');
  assert.equal(status.worker, null, 'one process: no worker to name');
  const page = await adminGet(admin, pki, '/status', { token: 'scrape-token' });
  assert.equal(page.status, 200);
  assert.match(page.type, /^text\/html/);
  void watch.catch(() => undefined);
});
