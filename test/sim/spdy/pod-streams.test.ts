import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { test } from 'node:test';
import WebSocket from 'ws';
import { createTar } from '../../../src/sim/pods/tar.ts';
import { spdyHeaderDictionary } from '../../../src/sim/spdy/dictionary.ts';
import { waitFor } from '../../helpers/wait.ts';
import { shardForTest } from '../fixture.ts';
import { rawWebSocketHandshake, spdyClient } from './client.ts';

const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'box' }, spec: { containers: [{ name: 'main', image: 'busybox', ports: [{ containerPort: 80 }] }] } };
const podPath = '/clusters/root/api/v1/namespaces/default/pods/box';

test('the SPDY/3 header dictionary is the one in the spec, byte for byte', () => {
  assert.equal(spdyHeaderDictionary.length, 1423);
  assert.equal(createHash('sha256').update(spdyHeaderDictionary).digest('hex'), '51d27341373f923f3cd88e1eb7162aeaa3723d7585ff2399201dc06498407f02');
});

test('exec over SPDY/3.1: streams by streamtype, stdin to stdout, the exit Status on the error stream, pings echoed', async (t) => {
  const { shard, admin } = await shardForTest(t);
  await admin.request('POST', '/clusters/root/api/v1/namespaces/default/pods', { body: pod });
  const client = await spdyClient(shard, `${podPath}/exec?command=cat&stdin=true&stdout=true&stderr=true`, ['v4.channel.k8s.io', 'v3.channel.k8s.io']);
  t.after(() => client.socket.destroy());
  assert.match(client.response, /^HTTP\/1\.1 101 /);
  assert.match(client.response, /\r\nX-Stream-Protocol-Version: v4\.channel\.k8s\.io(\r\n|$)/i);
  assert.match(client.response, /\r\nUpgrade: SPDY\/3\.1(\r\n|$)/i);

  // Header compression is one zlib stream per direction: four SYN_STREAMs in a row must all decode.
  for (const [id, type] of [
    [1, 'error'],
    [3, 'stdin'],
    [5, 'stdout'],
    [7, 'stderr'],
  ] as const)
    await client.open(id, { streamtype: type });
  client.ping(1);
  await waitFor(() => client.received.replied.length === 4 && client.received.pings.length === 1, { what: 'four SYN_REPLYs and the PING echo' });
  assert.deepEqual(client.received.replied, [1, 3, 5, 7]);
  assert.deepEqual(client.received.pings, [1]);

  client.send(3, 'through spdy\n');
  client.send(3, '', true);
  await waitFor(() => client.received.data.get(1)?.fin, { what: 'the error stream to finish' });
  assert.deepEqual(client.received.data.get(5), { bytes: Buffer.from('through spdy\n'), fin: true });
  assert.deepEqual(JSON.parse(client.received.data.get(1)!.bytes.toString()), { metadata: {}, status: 'Success' });
});

test('SPDY upgrades: a protocol the server does not speak is refused with a Status', async (t) => {
  const { shard, admin } = await shardForTest(t);
  await admin.request('POST', '/clusters/root/api/v1/namespaces/default/pods', { body: pod });
  const client = await spdyClient(shard, `${podPath}/exec?command=echo&stdout=true`, ['v9.channel.k8s.io']);
  t.after(() => client.socket.destroy());
  assert.match(client.response, /^HTTP\/1\.1 403 /);
});

test('port-forward over SPDY/3.1: a declared port answers over HTTP, an undeclared one is refused on the error stream', async (t) => {
  const { shard, admin } = await shardForTest(t);
  await admin.request('POST', '/clusters/root/api/v1/namespaces/default/pods', { body: pod });
  const client = await spdyClient(shard, `${podPath}/portforward`, ['portforward.k8s.io']);
  t.after(() => client.socket.destroy());
  assert.match(client.response, /\r\nX-Stream-Protocol-Version: portforward\.k8s\.io(\r\n|$)/i);

  await client.open(1, { streamtype: 'error', port: '80', requestid: '0' });
  client.send(1, '', true);
  await client.open(3, { streamtype: 'data', port: '80', requestid: '0' });
  client.send(3, 'GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n');
  await waitFor(() => client.received.data.get(3)?.bytes.includes('\r\n\r\nhello'), { what: 'the HTTP answer on the data stream' });
  assert.match(client.received.data.get(3)!.bytes.toString(), /^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nhello from pod box port 80: GET \/hello\n$/);

  await client.open(5, { streamtype: 'error', port: '81', requestid: '1' });
  await client.open(7, { streamtype: 'data', port: '81', requestid: '1' });
  await waitFor(() => client.received.data.get(5)?.fin, { what: 'the refusal on the error stream' });
  assert.match(client.received.data.get(5)!.bytes.toString(), /error forwarding port 81 to pod box: .*connection refused/);
  assert.equal(client.received.data.get(7)?.fin, true);

  const log = await admin.request('GET', `${podPath}/log`);
  assert.match(log.text, /"GET \/hello HTTP\/1\.1" 200 port 80/);
});

test('port-forward over WebSocket is SPDY tunnelled in it: without that subprotocol it is refused with a Status', async (t) => {
  const { shard, admin } = await shardForTest(t);
  await admin.request('POST', '/clusters/root/api/v1/namespaces/default/pods', { body: pod });
  const creds = await shard.issueClientCertificate('kcp-admin', ['system:masters']);
  const url = `${shard.url.replace('https', 'wss')}${podPath}/portforward?ports=80`;
  const refused = new WebSocket(url, ['v4.channel.k8s.io'], { ca: shard.caPem, cert: creds.certPem, key: creds.keyPem });
  const [, response] = (await once(refused, 'unexpected-response')) as [unknown, { statusCode: number }];
  assert.equal(response.statusCode, 400);

  // The subprotocol has a '/', which the ws client will not send: a raw handshake, as Go's client makes it.
  const tunnel = await rawWebSocketHandshake(shard, `${podPath}/portforward`, 'SPDY/3.1+portforward.k8s.io');
  assert.match(tunnel, /^HTTP\/1\.1 101 /);
  assert.match(tunnel, /\r\nSec-WebSocket-Protocol: SPDY\/3\.1\+portforward\.k8s\.io(\r\n|$)/i);
});

test('exec over SPDY/3.1 carries output larger than one frame can hold (24-bit length)', async (t) => {
  const { shard, admin } = await shardForTest(t);
  await admin.request('POST', '/clusters/root/api/v1/namespaces/default/pods', { body: pod });
  const big = Buffer.alloc(17 << 20, 'z');
  const upload = await spdyClient(shard, `${podPath}/exec?command=tar&command=xf&command=-&command=-C&command=/tmp&stdin=true&stdout=true`, ['v4.channel.k8s.io']);
  t.after(() => upload.socket.destroy());
  for (const [id, type] of [
    [1, 'error'],
    [3, 'stdin'],
    [5, 'stdout'],
  ] as const)
    await upload.open(id, { streamtype: type });
  upload.send(3, createTar([{ name: 'big', type: 'file', mode: 0o644, mtime: new Date(), data: big }]), true);
  await waitFor(() => upload.received.data.get(1)?.fin, { what: 'tar x to finish' });
  assert.equal(JSON.parse(upload.received.data.get(1)!.bytes.toString()).status, 'Success');

  const download = await spdyClient(shard, `${podPath}/exec?command=cat&command=/tmp/big&stdout=true`, ['v4.channel.k8s.io']);
  t.after(() => download.socket.destroy());
  for (const [id, type] of [
    [1, 'error'],
    [3, 'stdout'],
  ] as const)
    await download.open(id, { streamtype: type });
  await waitFor(() => download.received.data.get(3)?.fin, { what: 'cat to finish', timeoutMs: 20_000 });
  assert.equal(download.received.data.get(3)!.bytes.length, big.length);
  assert.ok(download.received.data.get(3)!.bytes.equals(big));
});
