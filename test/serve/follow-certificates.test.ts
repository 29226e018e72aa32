// Certificates rotated on disk while the gateway runs (runGateway, as `kcp-edge serve` runs it): the
// serving pair, the client CA and the upstream client pair each apply to new connections without a
// restart, open connections and their watches keep going, and a broken edit is refused with a log line
// while the previous certificate keeps serving.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFile, rename, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { connect as connectH2, type ClientHttp2Stream } from 'node:http2';
import { request } from 'node:https';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { connect as connectTls, type TLSSocket } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { pino } from 'pino';
import { loadConfig } from '../../src/config/index.ts';
import { gatewayConfigKind } from '../../src/serve/gateway-config.ts';
import { runGateway, type RunningGateway } from '../../src/serve/run-gateway.ts';
import { createCertificateAuthority, issueLoopbackServer, type KeyPair } from '../../src/sim/pki.ts';
import { get, startTestShard, testPki, type Pki, type TestShard } from '../gateway/fixtures.ts';
import { mountedSecret, type MountedSecret } from '../helpers/mounted-secret.ts';
import { waitFor } from '../helpers/wait.ts';
import { allLogged, logged, serveDir, startServe } from './serve-fixtures.ts';

const WATCH = '/clusters/org-acme:proj-x/api/v1/namespaces?watch=1';
const LIST = '/clusters/org-acme:proj-x/api/v1/namespaces';
// Long enough for a debounced file event on a loaded machine, short enough that a failure is quick.
const ROTATION = { timeoutMs: 5_000 };

interface Setup {
  pki: Pki;
  shard: TestShard;
  /** Watches open on the shard, in arrival order. */
  watchers: ServerResponse[];
  gateway: RunningGateway['gateway'];
  /** The admin listener's port: it serves with the serving certificate, and follows it. */
  adminPort: number;
  dir: string;
  logs: string[];
}

/** A shard that keeps watches open (events written by the test) and echoes user and client certificate otherwise. */
async function setup(
  t: TestContext,
  tls: { certFile: string; keyFile: string },
  extra: { upstreamCertFile?: string; upstreamKeyFile?: string; probes?: boolean } = {},
): Promise<Setup> {
  const pki = await testPki();
  const watchers: ServerResponse[] = [];
  const shard = await startTestShard(t, pki, (req: IncomingMessage, res, seen) => {
    if (seen.url.includes('watch=1')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.flushHeaders();
      watchers.push(res);
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ user: req.headers['x-remote-user'] ?? null, gatewayCN: seen.clientCertCN ?? null }));
  });
  const dir = await serveDir(t, pki, shard.url, [], {
    'client-ca.crt': pki.clientCA.certPem,
    'gateway.yaml': [
      'listen: { address: 127.0.0.1, port: 0 }',
      `tls: { certFile: "${tls.certFile}", keyFile: "${tls.keyFile}" }`,
      'routing: { embedded: { file: routing.yaml } }',
      'authentication: { tokenFile: tokens.csv, clientCAFile: client-ca.crt }',
      `upstream: { clientCertFile: "${extra.upstreamCertFile ?? 'client.crt'}", clientKeyFile: "${extra.upstreamKeyFile ?? 'client.key'}", caFile: ca.crt }`,
      extra.probes === true ? 'shardHealth: { intervalSeconds: 0.2 }' : 'shardHealth: { enabled: false }',
      'drain: { timeoutSeconds: 1 }',
      'admin: { listen: { address: 127.0.0.1, port: 0 }, tokenFile: admin-tokens.csv }',
    ].join('\n'),
  });
  const logs: string[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(line) });
  const file = join(dir, 'gateway.yaml');
  const running = await runGateway(file, await loadConfig(gatewayConfigKind, file), logger);
  t.after(() => running.close());
  return { pki, shard, watchers, gateway: running.gateway, adminPort: running.admin!.server.port, dir, logs };
}

/** The certificate a new TLS connection to the gateway is shown. */
async function servedFingerprint(port: number, pki: Pki): Promise<string> {
  const socket = connectTls({ host: '127.0.0.1', port, ca: pki.ca.certPem, ALPNProtocols: ['http/1.1'] });
  try {
    await once(socket, 'secureConnect');
    return socket.getPeerX509Certificate()?.fingerprint256 ?? '';
  } finally {
    socket.destroy();
  }
}

const fingerprint = (pair: KeyPair) => new X509Certificate(pair.certPem).fingerprint256;

/** An h2 watch through the gateway: its session, and every byte it received so far. */
async function openWatch(setup: Setup): Promise<{ stream: ClientHttp2Stream; received: () => string; peer: () => string; close(): void }> {
  const before = setup.watchers.length;
  const session = connectH2(setup.gateway.url, { ca: setup.pki.ca.certPem });
  const stream = session.request({ ':path': WATCH, authorization: 'Bearer alice-token' });
  const [headers] = (await once(stream, 'response')) as [Record<string, string | number>];
  assert.equal(headers[':status'], 200);
  let received = '';
  stream.on('data', (chunk: Buffer) => void (received += chunk.toString('utf8')));
  // The teardown stops the shard under the open watch, which the gateway passes on as a reset stream.
  stream.on('error', () => undefined);
  await waitFor(() => setup.watchers.length > before, { what: 'the watch to reach the shard' });
  return {
    stream,
    received: () => received,
    peer: () => (session.socket as TLSSocket).getPeerX509Certificate()?.fingerprint256 ?? '',
    close: () => session.destroy(),
  };
}

function event(name: string): string {
  return JSON.stringify({ type: 'ADDED', object: { kind: 'Namespace', apiVersion: 'v1', metadata: { name, resourceVersion: '2' } } }) + '\n';
}

async function metric(setup: Setup, series: string): Promise<number | undefined> {
  const text = await setup.gateway.metrics.metrics();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

test('a serving certificate rotated in a mounted Secret (symlink swap) reaches new handshakes; an open h2 watch keeps streaming on the old one', async (t) => {
  const pki = await testPki();
  const next = await issueLoopbackServer(pki.ca, 'gateway-rotated');
  await using secret = await mountedSecret({ 'tls.crt': pki.gatewayServing.certPem, 'tls.key': pki.gatewayServing.keyPem });
  const s = await setup(t, { certFile: secret.path('tls.crt'), keyFile: secret.path('tls.key') });
  assert.equal(await servedFingerprint(s.gateway.port, pki), fingerprint(pki.gatewayServing));
  const watch = await openWatch(s);
  t.after(() => watch.close());

  await secret.update({ 'tls.crt': next.certPem, 'tls.key': next.keyPem });
  await waitFor(async () => (await servedFingerprint(s.gateway.port, pki)) === fingerprint(next), { ...ROTATION, what: 'a new connection to see the new certificate' });
  assert.equal(await servedFingerprint(s.adminPort, pki), fingerprint(next), 'the admin listener follows the serving certificate too');

  // The new context keeps what the listener negotiates: a new client still gets h2.
  const fresh = connectH2(s.gateway.url, { ca: pki.ca.certPem });
  t.after(() => fresh.destroy());
  const listed = fresh.request({ ':path': LIST, authorization: 'Bearer alice-token' });
  const [listedHeaders] = (await once(listed, 'response')) as [Record<string, string | number>];
  assert.equal(listedHeaders[':status'], 200);
  assert.equal(fresh.alpnProtocol, 'h2');
  assert.equal((fresh.socket as TLSSocket).getPeerX509Certificate()?.fingerprint256, fingerprint(next));
  listed.resume();

  // The watch's connection was opened with the old certificate and stays up, streaming.
  assert.equal(watch.peer(), fingerprint(pki.gatewayServing));
  s.watchers[0]!.write(event('after-rotation'));
  await waitFor(() => watch.received().includes('after-rotation'), { what: 'an event on the old connection' });
  assert.equal(s.watchers[0]!.writableEnded, false);

  assert.equal(await metric(s, 'kcp_edge_certificate_not_after_seconds{certificate="serving"}'), new X509Certificate(next.certPem).validToDate.getTime() / 1000);
  assert.equal(await metric(s, 'kcp_edge_certificate_reloads_total{certificate="serving",result="applied"}'), 1);
  const [reloaded] = allLogged(s.logs, 'certificate reloaded; new connections use it');
  assert.equal(reloaded?.['certificate'], 'serving');
  assert.equal(reloaded?.['fingerprint256'], fingerprint(next));
});

test('a client CA replaced on disk (renamed over) makes client certificates of the new CA authenticate', async (t) => {
  const pki = await testPki();
  const nextCA = await createCertificateAuthority('client-ca-rotated');
  const carol = await nextCA.issue({ commonName: 'carol', organizations: ['ops'], usage: 'client' });
  const s = await setup(t, { certFile: 'serving.crt', keyFile: 'serving.key' });
  const asCarol = () =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: s.gateway.port, path: LIST, ca: pki.ca.certPem, cert: carol.certPem, key: carol.keyPem, agent: false }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => void (body += c.toString('utf8')));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });
  assert.equal((await asCarol()).status, 401, 'before the rotation the new CA is unknown');

  // Both CAs for the overlap of a rotation, written the way editors save: a new file renamed over.
  await writeFile(join(s.dir, 'client-ca.crt.tmp'), pki.clientCA.certPem + nextCA.certPem);
  await rename(join(s.dir, 'client-ca.crt.tmp'), join(s.dir, 'client-ca.crt'));
  const reply = await waitFor(
    async () => {
      const r = await asCarol();
      return r.status === 200 && r;
    },
    { ...ROTATION, what: 'a certificate of the new client CA to authenticate' },
  );
  assert.equal(JSON.parse(reply.body).user, 'carol');
  assert.equal(await metric(s, 'kcp_edge_certificate_reloads_total{certificate="client-ca",result="applied"}'), 1);
});

test('an upstream client certificate rotated in a mounted Secret is what new requests reach the shard with; a watch on the old connection goes on', async (t) => {
  const pki = await testPki();
  const trusted = await pki.ca.issue({ commonName: 'kcp-edge-gateway-rotated', usage: 'client' });
  const untrusted = await (await createCertificateAuthority('not-the-shards-ca')).issue({ commonName: 'kcp-edge-gateway-untrusted', usage: 'client' });
  await using secret: MountedSecret = await mountedSecret({ 'tls.crt': pki.gatewayClient.certPem, 'tls.key': pki.gatewayClient.keyPem });
  const s = await setup(
    t,
    { certFile: 'serving.crt', keyFile: 'serving.key' },
    { upstreamCertFile: secret.path('tls.crt'), upstreamKeyFile: secret.path('tls.key'), probes: true },
  );
  // The shard's side of every connection the gateway opened, by the certificate it presented.
  const connections: { cn: string; socket: TLSSocket }[] = [];
  s.shard.server.on('secureConnection', (socket: TLSSocket) => connections.push({ cn: String(socket.getPeerX509Certificate()?.subject ?? ''), socket }));
  const openWith = (cn: string) => connections.filter((c) => c.cn === `CN=${cn}` && !c.socket.destroyed).length;

  const gatewayCN = async () => {
    const reply = await get(s.gateway, pki, LIST);
    return reply.status === 200 ? (JSON.parse(reply.body) as { gatewayCN: string }).gatewayCN : `status ${reply.status}`;
  };
  assert.equal(await gatewayCN(), 'kcp-edge-gateway');
  const watch = await openWatch(s);
  t.after(() => watch.close());

  await secret.update({ 'tls.crt': trusted.certPem, 'tls.key': trusted.keyPem });
  await waitFor(async () => (await gatewayCN()) === 'kcp-edge-gateway-rotated', { ...ROTATION, what: 'requests to reach the shard with the new certificate' });
  // Health probes too: probing with a certificate the shards stop trusting would mark them down.
  await waitFor(() => s.shard.seen.some((r) => r.url === '/readyz' && r.clientCertCN === 'kcp-edge-gateway-rotated'), { ...ROTATION, what: 'a probe with the new certificate' });
  s.watchers[0]!.write(event('still-flowing'));
  await waitFor(() => watch.received().includes('still-flowing'), { what: 'an event of the watch opened before the rotation' });
  assert.ok(openWith('kcp-edge-gateway') > 0, 'the watch is on a connection opened with the old certificate');
  // Once its last watch ends, the retired pool closes its connections (not when the shard's idle timeout would).
  s.watchers[0]!.end();
  await once(watch.stream, 'end');
  await waitFor(() => openWith('kcp-edge-gateway') === 0, { timeoutMs: 2_000, what: 'the old pool to close its connections' });
  assert.ok(openWith('kcp-edge-gateway-rotated') > 0);

  // A certificate the shard does not trust is a good pair all the same: applied, and the shard refuses it.
  await secret.update({ 'tls.crt': untrusted.certPem, 'tls.key': untrusted.keyPem });
  const refused = await waitFor(
    async () => {
      const reply = await get(s.gateway, pki, LIST);
      return reply.status >= 500 && reply;
    },
    { ...ROTATION, what: 'the shard to refuse the untrusted certificate' },
  );
  assert.equal(JSON.parse(refused.body).kind, 'Status');
  assert.equal(await metric(s, 'kcp_edge_certificate_reloads_total{certificate="upstream-client",result="applied"}'), 2);
});

test('a broken edit (key of another pair, garbage, half a rotation) is refused with a log line and the previous certificate keeps serving', async (t) => {
  const pki = await testPki();
  const next = await issueLoopbackServer(pki.ca, 'gateway-next');
  const s = await setup(t, { certFile: 'serving.crt', keyFile: 'serving.key' });
  const old = fingerprint(pki.gatewayServing);
  const rejections = () => allLogged(s.logs, 'certificate change rejected; the previous one stays in use');

  // Written in place, as a careless script would: every state in between is seen too.
  await writeFile(join(s.dir, 'serving.key'), pki.gatewayClient.keyPem);
  await waitFor(() => rejections().length === 1, { ...ROTATION, what: 'the mismatched key to be refused' });
  assert.equal(rejections()[0]?.['certificate'], 'serving');
  assert.match(String(rejections()[0]?.['reason']), /key: does not match the certificate/);
  assert.equal(await servedFingerprint(s.gateway.port, pki), old);
  assert.equal((await get(s.gateway, pki, LIST)).status, 200);

  await writeFile(join(s.dir, 'serving.crt'), 'garbage\n');
  await waitFor(() => rejections().length === 2, { ...ROTATION, what: 'the garbage certificate to be refused' });
  assert.match(String(rejections()[1]?.['reason']), /no PEM certificate/);
  assert.equal(await servedFingerprint(s.gateway.port, pki), old);
  assert.equal(await metric(s, 'kcp_edge_certificate_reloads_total{certificate="serving",result="rejected"}'), 2);
  assert.equal(await metric(s, 'kcp_edge_certificate_not_after_seconds{certificate="serving"}'), new X509Certificate(pki.gatewayServing.certPem).validToDate.getTime() / 1000);

  // Finishing the rotation (certificate, then its key) applies it.
  await writeFile(join(s.dir, 'serving.crt'), next.certPem);
  await writeFile(join(s.dir, 'serving.key'), next.keyPem);
  await waitFor(async () => (await servedFingerprint(s.gateway.port, pki)) === fingerprint(next), { ...ROTATION, what: 'the completed rotation to apply' });
  assert.equal((await get(s.gateway, pki, LIST)).status, 200);

  // A later edit of gateway.yaml finds other certificate contents than at start: that is no reason for a restart.
  const config = join(s.dir, 'gateway.yaml');
  await writeFile(config, (await readFile(config, 'utf8')) + '\nlog: { level: debug }\n');
  await waitFor(() => allLogged(s.logs, 'gateway config reloaded').length === 1, { ...ROTATION, what: 'the config edit to apply' });
  assert.deepEqual(allLogged(s.logs, 'config changed in fields that apply on restart'), []);
});

test('with workers: 2 each worker follows the files itself: every new connection sees the rotated certificate', async (t) => {
  const pki = await testPki();
  const next = await issueLoopbackServer(pki.ca, 'gateway-rotated');
  const shard = await startTestShard(t, pki);
  await using secret = await mountedSecret({ 'tls.crt': pki.gatewayServing.certPem, 'tls.key': pki.gatewayServing.keyPem });
  const dir = await serveDir(t, pki, shard.url, [], {
    'gateway.yaml': [
      'listen: { address: 127.0.0.1, port: 0 }',
      'workers: 2',
      `tls: { certFile: "${secret.path('tls.crt')}", keyFile: "${secret.path('tls.key')}" }`,
      'routing: { embedded: { file: routing.yaml } }',
      'upstream: { clientCertFile: client.crt, clientKeyFile: client.key, caFile: ca.crt }',
      'drain: { timeoutSeconds: 1 }',
      'admin: { listen: { address: 127.0.0.1, port: 0 }, tokenFile: admin-tokens.csv }',
    ].join('\n'),
  });
  const serve = startServe(t, dir);
  const started = await waitFor(() => logged(serve.lines, 'kcp-edge gateway serving'), { what: 'the workers to serve', timeoutMs: 60_000 });
  const workerPids = started['workerPids'] as number[];
  const port = Number(new URL(String(started['url'])).port);

  await secret.update({ 'tls.crt': next.certPem, 'tls.key': next.keyPem });
  const reloadedBy = await waitFor(
    () => {
      const pids = new Set(allLogged(serve.lines, 'certificate reloaded; new connections use it').map((e) => e['pid'] as number));
      return pids.size === 2 && pids;
    },
    { ...ROTATION, what: 'both workers to reload' },
  );
  assert.deepEqual([...reloadedBy].sort(), [...workerPids].sort());
  // The kernel spreads connections over both workers: 16 of them on one worker alone has odds 2^-15.
  const seen = await Promise.all(Array.from({ length: 16 }, () => servedFingerprint(port, pki)));
  assert.deepEqual(new Set(seen), new Set([fingerprint(next)]));
});

test('rotations under load fail no request: new connections and an open h2 session alike', async (t) => {
  const pki = await testPki();
  const pairs = [pki.gatewayServing, await issueLoopbackServer(pki.ca, 'gateway-b')];
  await using secret = await mountedSecret({ 'tls.crt': pki.gatewayServing.certPem, 'tls.key': pki.gatewayServing.keyPem });
  const s = await setup(t, { certFile: secret.path('tls.crt'), keyFile: secret.path('tls.key') });
  const session = connectH2(s.gateway.url, { ca: pki.ca.certPem });
  t.after(() => session.destroy());
  const onSession = () =>
    new Promise<number>((resolve, reject) => {
      const stream = session.request({ ':path': LIST, authorization: 'Bearer alice-token' });
      stream.on('response', (h) => stream.resume().on('end', () => resolve(Number(h[':status']))));
      stream.on('error', reject);
    });
  const statuses: number[] = [];
  const failures: string[] = [];
  let running = true;
  const load = Array.from({ length: 4 }, async (_, i) => {
    while (running) {
      try {
        statuses.push(i % 2 === 0 ? (await get(s.gateway, pki, LIST)).status : await onSession());
      } catch (err) {
        failures.push((err as Error).message);
      }
    }
  });
  const rotations = 6;
  const took: number[] = [];
  for (let r = 1; r <= rotations; r++) {
    const pair = pairs[r % 2]!;
    const start = performance.now();
    await secret.update({ 'tls.crt': pair.certPem, 'tls.key': pair.keyPem });
    await waitFor(async () => (await servedFingerprint(s.gateway.port, pki)) === fingerprint(pair), { ...ROTATION, intervalMs: 5, what: `rotation ${r}` });
    took.push(performance.now() - start);
  }
  running = false;
  await Promise.all(load);
  assert.deepEqual(failures, []);
  assert.ok(statuses.length > 50, `only ${statuses.length} requests`);
  assert.deepEqual(new Set(statuses), new Set([200]));
  assert.equal(await metric(s, 'kcp_edge_certificate_reloads_total{certificate="serving",result="applied"}'), rotations);
  t.diagnostic(`${statuses.length} requests during ${rotations} rotations, none failed; swap to first new handshake ${took.map((ms) => ms.toFixed(0)).join('/')} ms`);
});
