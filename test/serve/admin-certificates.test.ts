// The admin listener with TLS files of its own, rotated on disk while the gateway runs (runGateway, as
// `kcp-edge serve` runs it): its serving pair reaches new handshakes while an open connection goes on
// with the old one, its client CA admits certificates of the new CA, and the public listener is not
// touched by either.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { X509Certificate } from 'node:crypto';
import { rename, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:https';
import { join } from 'node:path';
import { test } from 'node:test';
import { connect as connectTls, type TLSSocket } from 'node:tls';
import { pino } from 'pino';
import { loadConfig } from '../../src/config/index.ts';
import { gatewayConfigKind } from '../../src/serve/gateway-config.ts';
import { runGateway } from '../../src/serve/run-gateway.ts';
import { createCertificateAuthority, issueLoopbackServer, type KeyPair } from '../../src/sim/pki.ts';
import { startTestShard, testPki, type Pki } from '../gateway/fixtures.ts';
import { mountedSecret } from '../helpers/mounted-secret.ts';
import { waitFor } from '../helpers/wait.ts';
import { ADMIN_TOKEN, allLogged, serveDir } from './serve-fixtures.ts';

const ROTATION = { timeoutMs: 5_000 };
const fingerprint = (pair: KeyPair) => new X509Certificate(pair.certPem).fingerprint256;

async function servedFingerprint(port: number, pki: Pki): Promise<string> {
  const socket = connectTls({ host: '127.0.0.1', port, ca: pki.ca.certPem, ALPNProtocols: ['http/1.1'] });
  try {
    await once(socket, 'secureConnect');
    return socket.getPeerX509Certificate()?.fingerprint256 ?? '';
  } finally {
    socket.destroy();
  }
}

/** GET /metrics on the admin listener: with the token, or with a client certificate. */
function scrape(port: number, pki: Pki, auth: { token: string } | { cert: KeyPair }, agent?: Agent): Promise<{ status: number; peer: string; socket: TLSSocket }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/metrics',
        ca: pki.ca.certPem,
        ...('token' in auth ? { headers: { authorization: `Bearer ${auth.token}` } } : { cert: auth.cert.certPem, key: auth.cert.keyPem }),
        agent: agent ?? false,
      },
      (res) => {
        // Read now: a kept-alive socket goes back to the agent at the end.
        const socket = res.socket as TLSSocket;
        const peer = socket.getPeerX509Certificate()?.fingerprint256 ?? '';
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, peer, socket }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

test("the admin listener's own pair and client CA rotated on disk reach new handshakes; an open connection goes on", async (t) => {
  const pki = await testPki();
  const adminFirst = await issueLoopbackServer(pki.ca, 'admin');
  const adminNext = await issueLoopbackServer(pki.ca, 'admin-rotated');
  const adminCA = await createCertificateAuthority('admin-client-ca');
  const nextAdminCA = await createCertificateAuthority('admin-client-ca-rotated');
  const scraper = await nextAdminCA.issue({ commonName: 'prometheus', organizations: ['system:monitoring'], usage: 'client' });
  const shard = await startTestShard(t, pki);
  await using secret = await mountedSecret({ 'tls.crt': adminFirst.certPem, 'tls.key': adminFirst.keyPem });
  const dir = await serveDir(t, pki, shard.url, [], {
    'admin-client-ca.crt': adminCA.certPem,
    'gateway.yaml': [
      'listen: { address: 127.0.0.1, port: 0 }',
      'tls: { certFile: serving.crt, keyFile: serving.key }',
      'routing: { embedded: { file: routing.yaml } }',
      'authentication: { tokenFile: tokens.csv }',
      'upstream: { clientCertFile: client.crt, clientKeyFile: client.key, caFile: ca.crt }',
      'shardHealth: { enabled: false }',
      'drain: { timeoutSeconds: 1 }',
      'admin:',
      '  listen: { address: 127.0.0.1, port: 0 }',
      `  tls: { certFile: "${secret.path('tls.crt')}", keyFile: "${secret.path('tls.key')}" }`,
      '  clientCAFile: admin-client-ca.crt',
      '  tokenFile: admin-tokens.csv',
    ].join('\n'),
  });
  const logs: string[] = [];
  const file = join(dir, 'gateway.yaml');
  const running = await runGateway(file, await loadConfig(gatewayConfigKind, file), pino({ level: 'info' }, { write: (line: string) => void logs.push(line) }));
  t.after(() => running.close());
  const adminPort = running.admin!.server.port;
  assert.equal(await servedFingerprint(adminPort, pki), fingerprint(adminFirst));

  // A scraper's kept-alive connection, opened on the first certificate.
  const keepAlive = new Agent({ keepAlive: true, maxSockets: 1 });
  t.after(() => keepAlive.destroy());
  const before = await scrape(adminPort, pki, { token: ADMIN_TOKEN }, keepAlive);
  assert.deepEqual([before.status, before.peer], [200, fingerprint(adminFirst)]);

  await secret.update({ 'tls.crt': adminNext.certPem, 'tls.key': adminNext.keyPem });
  await waitFor(async () => (await servedFingerprint(adminPort, pki)) === fingerprint(adminNext), { ...ROTATION, what: 'a new admin handshake to see the new certificate' });
  assert.equal(await servedFingerprint(running.gateway.port, pki), fingerprint(pki.gatewayServing), 'the public listener keeps its own');
  const after = await scrape(adminPort, pki, { token: ADMIN_TOKEN }, keepAlive);
  assert.equal(after.status, 200);
  assert.equal(after.socket, before.socket, 'the open connection, made with the old certificate, goes on');

  // The client CA: a certificate of the next CA is refused until the bundle names that CA.
  assert.equal((await scrape(adminPort, pki, { cert: scraper })).status, 401);
  await writeFile(join(dir, 'admin-client-ca.crt.tmp'), adminCA.certPem + nextAdminCA.certPem);
  await rename(join(dir, 'admin-client-ca.crt.tmp'), join(dir, 'admin-client-ca.crt'));
  await waitFor(async () => (await scrape(adminPort, pki, { cert: scraper })).status === 200, { ...ROTATION, what: 'a certificate of the new admin client CA to be admitted' });
  assert.equal(await servedFingerprint(adminPort, pki), fingerprint(adminNext), 'the CA change keeps the rotated pair');

  const metrics = await running.gateway.metrics.metrics();
  assert.match(metrics, /kcp_edge_certificate_reloads_total\{certificate="admin-serving",result="applied"\} 1/);
  assert.match(metrics, /kcp_edge_certificate_reloads_total\{certificate="admin-client-ca",result="applied"\} 1/);
  assert.doesNotMatch(metrics, /kcp_edge_certificate_reloads_total\{certificate="serving"/, 'the public pair did not change');
  assert.deepEqual(
    allLogged(logs, 'certificate reloaded; new connections use it').map((e) => e['certificate']),
    ['admin-serving', 'admin-client-ca'],
  );
});
