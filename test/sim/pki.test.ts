import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { connect, createServer, type TLSSocket } from 'node:tls';
import { test } from 'node:test';
import type { AddressInfo } from 'node:net';
import { createCertificateAuthority, issueLoopbackServer } from '../../src/sim/pki.ts';

test('issues server and client certificates that complete real mTLS', async (t) => {
  const ca = await createCertificateAuthority('test-ca');
  const server = await issueLoopbackServer(ca, 'shard');
  const client = await ca.issue({ commonName: 'alice', organizations: ['dev', 'ops/x'], usage: 'client' });

  const parsed = new X509Certificate(client.certPem);
  assert.ok(parsed.checkIssued(new X509Certificate(ca.certPem)));
  assert.match(parsed.subject, /CN=alice/);
  assert.match(parsed.subject, /O=dev/);

  const tlsServer = createServer({ cert: server.certPem, key: server.keyPem, ca: ca.certPem, requestCert: true, rejectUnauthorized: true }, (socket) => {
    const peer = socket.getPeerCertificate();
    socket.end(`${peer.subject.CN}|${JSON.stringify(peer.subject.O)}`);
  });
  tlsServer.listen(0, '127.0.0.1');
  await once(tlsServer, 'listening');
  t.after(() => tlsServer.close());
  const { port } = tlsServer.address() as AddressInfo;

  const socket: TLSSocket = connect({ host: '127.0.0.1', port, ca: ca.certPem, cert: client.certPem, key: client.keyPem });
  let received = '';
  socket.setEncoding('utf8').on('data', (chunk: string) => (received += chunk));
  await once(socket, 'end');
  assert.equal(received, 'alice|["dev","ops/x"]');

  const stranger = await (await createCertificateAuthority('other-ca')).issue({ commonName: 'mallory', usage: 'client' });
  const rejected = connect({ host: '127.0.0.1', port, ca: ca.certPem, cert: stranger.certPem, key: stranger.keyPem });
  const [err] = await Promise.race([once(rejected, 'error'), once(rejected, 'end').then(() => [new Error('closed')])]);
  assert.ok(err instanceof Error, 'a certificate from another CA is refused');
});
