import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { before, test } from 'node:test';
import { Registry } from 'prom-client';
import { registerRoutingMetrics } from '../../src/routing/metrics.ts';
import { ShardHealthChecker } from '../../src/routing/shard-health.ts';
import type { Shard } from '../../src/routing/types.ts';
import { createCertificateAuthority, issueLoopbackServer, type CertificateAuthority, type KeyPair } from '../../src/sim/pki.ts';
import { waitFor } from '../helpers/wait.ts';

let ca: CertificateAuthority;
let serving: KeyPair;
let client: KeyPair;

before(async () => {
  ca = await createCertificateAuthority('shard-ca');
  serving = await issueLoopbackServer(ca, 'shard');
  client = await ca.issue({ commonName: 'kcp-edge-gateway', usage: 'client' });
});

/** A shard's /readyz that insists on a client certificate signed by the CA, like kcp's requestheader setup. */
async function startShard(port = 0, ready = () => true): Promise<Server> {
  const server = createServer({ cert: serving.certPem, key: serving.keyPem, ca: ca.certPem, requestCert: true, rejectUnauthorized: true }, (req, res) => {
    res.writeHead(req.url === '/readyz' && ready() ? 200 : 500).end(req.url === '/readyz' ? 'ok' : 'no');
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return server;
}

async function stopShard(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
}

function shardAt(name: string, server: Server, withCA = true): Shard {
  return { name, url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`, ...(withCA ? { ca: ca.certPem } : {}), state: 'active', labels: {} };
}

test('a stopped shard is marked down, the others stay up, and it recovers by itself', async (t) => {
  let a = await startShard();
  const b = await startShard();
  const port = (a.address() as AddressInfo).port;
  t.after(() => Promise.all([stopShard(a).catch(() => undefined), stopShard(b)]));
  const shards = [shardAt('a', a), shardAt('b', b)];
  const registry = new Registry();
  const changes: string[] = [];
  const health = new ShardHealthChecker({
    shards: { listShards: async () => shards },
    clientCertPem: client.certPem,
    clientKeyPem: client.keyPem,
    intervalMs: 100,
    downIntervalMs: 50,
    metrics: registerRoutingMetrics(registry),
    onChange: (shard, up) => changes.push(`${shard}:${up ? 'up' : 'down'}`),
  });
  t.after(() => health.stop());
  await health.probeAll();
  assert.deepEqual(health.snapshot(), { a: { up: true, failures: 0 }, b: { up: true, failures: 0 } });
  health.start();

  await stopShard(a);
  await waitFor(() => !health.isAvailable('a'), { what: 'shard a down' });
  assert.equal(health.isAvailable('b'), true);
  assert.equal(health.snapshot().a?.reason, 'ECONNREFUSED');
  assert.match(await registry.metrics(), /kcp_edge_shard_up\{shard="a"\} 0/);

  a = await startShard(port);
  await waitFor(() => health.isAvailable('a'), { what: 'shard a back up' });
  assert.deepEqual(
    changes.filter((c) => c.startsWith('a:')),
    ['a:up', 'a:down', 'a:up'],
  );
  assert.match(await registry.metrics(), /kcp_edge_shard_up\{shard="a"\} 1/);
});

test('forwarding failures mark a shard down after the threshold, and a good probe brings it back', async (t) => {
  const server = await startShard();
  t.after(() => stopShard(server));
  const health = new ShardHealthChecker({
    shards: { listShards: async () => [shardAt('p', server)] },
    clientCertPem: client.certPem,
    clientKeyPem: client.keyPem,
    intervalMs: 60_000,
    downIntervalMs: 50,
    failureThreshold: 3,
  });
  t.after(() => health.stop());
  await health.probeAll();
  health.reportFailure('p');
  health.reportFailure('p');
  assert.equal(health.isAvailable('p'), true);
  health.reportFailure('p');
  assert.equal(health.isAvailable('p'), false);
  health.start();
  await waitFor(() => health.isAvailable('p'), { what: 'recovery probe' });
});

test('probes authenticate with the client certificate and verify the shard CA', async (t) => {
  const server = await startShard();
  t.after(() => stopShard(server));
  const cases: { name: string; withCA: boolean; cert: boolean; up: boolean }[] = [
    { name: 'trusted', withCA: true, cert: true, up: true },
    { name: 'no-client-cert', withCA: true, cert: false, up: false },
    { name: 'unknown-ca', withCA: false, cert: true, up: false },
  ];
  for (const c of cases) {
    const health = new ShardHealthChecker({
      shards: { listShards: async () => [shardAt(c.name, server, c.withCA)] },
      ...(c.cert ? { clientCertPem: client.certPem, clientKeyPem: client.keyPem } : {}),
      failureThreshold: 1,
    });
    await health.probeAll();
    assert.equal(health.isAvailable(c.name), c.up, `${c.name}: ${JSON.stringify(health.snapshot())}`);
  }
});

test('an unready shard (/readyz 500) is marked down only after repeated failures', async (t) => {
  let ready = false;
  const server = await startShard(0, () => ready);
  t.after(() => stopShard(server));
  const health = new ShardHealthChecker({
    shards: { listShards: async () => [shardAt('u', server)] },
    clientCertPem: client.certPem,
    clientKeyPem: client.keyPem,
    failureThreshold: 2,
  });
  await health.probeAll();
  assert.equal(health.isAvailable('u'), true);
  await health.probeAll();
  assert.equal(health.isAvailable('u'), false);
  assert.equal(health.snapshot().u?.reason, '/readyz answered 500');
  ready = true;
  await health.probeAll();
  assert.equal(health.isAvailable('u'), true);
});
