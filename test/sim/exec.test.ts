import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import WebSocket from 'ws';
import type { SimShard } from '../../src/sim/index.ts';
import { shardForTest } from './fixture.ts';

const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'box' }, spec: { containers: [{ name: 'main', image: 'busybox', env: [{ name: 'GREETING', value: 'hi' }] }] } };

async function open(shard: SimShard, query: string, protocol: string): Promise<{ ws: WebSocket; frames: Buffer[]; closed: Promise<unknown> }> {
  const creds = await shard.issueClientCertificate('kcp-admin', ['system:masters']);
  const url = `${shard.url.replace('https', 'wss')}/clusters/root/api/v1/namespaces/default/pods/box/exec?${query}`;
  const ws = new WebSocket(url, [protocol], { ca: shard.caPem, cert: creds.certPem, key: creds.keyPem });
  const frames: Buffer[] = [];
  ws.on('message', (data: Buffer) => frames.push(data));
  const closed = once(ws, 'close');
  await once(ws, 'open');
  return { ws, frames, closed };
}

const text = (frames: Buffer[], channel: number) =>
  frames
    .filter((f) => f[0] === channel)
    .map((f) => f.subarray(1).toString())
    .join('');

test('exec over v5.channel.k8s.io: stdout, stdin with the close signal, exit status on channel 3', async (t) => {
  const { shard, admin } = await shardForTest(t);
  await admin.request('POST', '/clusters/root/api/v1/namespaces/default/pods', { body: pod });

  const echo = await open(shard, 'command=echo&command=hello&command=world&stdout=true&stderr=true', 'v5.channel.k8s.io');
  assert.equal(echo.ws.protocol, 'v5.channel.k8s.io');
  await echo.closed;
  assert.equal(text(echo.frames, 1), 'hello world\n');
  assert.deepEqual(JSON.parse(text(echo.frames, 3)), { metadata: {}, status: 'Success' });

  const cat = await open(shard, 'command=cat&stdin=true&stdout=true&stderr=true', 'v5.channel.k8s.io');
  cat.ws.send(Buffer.concat([Buffer.from([0]), Buffer.from('line one\n')]));
  cat.ws.send(Buffer.from([255, 0]));
  await cat.closed;
  assert.equal(text(cat.frames, 1), 'line one\n');

  const log = await admin.request('GET', '/clusters/root/api/v1/namespaces/default/pods/box/log');
  assert.deepEqual([log.status, log.text], [200, 'container main started from image busybox\n'], 'pods/log answers with what the container wrote');

  const env = await open(shard, 'command=env&stdout=true&container=main', 'v5.channel.k8s.io');
  await env.closed;
  assert.match(text(env.frames, 1), /^GREETING=hi$/m);
  assert.match(text(env.frames, 1), /^HOSTNAME=box$/m);
});

test('exec over v4: a failing command reports its exit code as a Status', async (t) => {
  const { shard, admin } = await shardForTest(t);
  await admin.request('POST', '/clusters/root/api/v1/namespaces/default/pods', { body: pod });
  const failing = await open(shard, 'command=cat&command=/etc/missing&stdout=true&stderr=true', 'v4.channel.k8s.io');
  await failing.closed;
  assert.match(text(failing.frames, 2), /No such file or directory/);
  const status = JSON.parse(text(failing.frames, 3)) as { status: string; reason: string; details: { causes: Array<{ reason: string; message: string }> } };
  assert.deepEqual([status.status, status.reason, status.details.causes[0]], ['Failure', 'NonZeroExitCode', { reason: 'ExitCode', message: '1' }]);
});

test('exec refuses missing pods and containers with a Status, and close() ends open sessions', async (t) => {
  const { shard, admin } = await shardForTest(t);
  const creds = await shard.issueClientCertificate('kcp-admin', ['system:masters']);
  const refused = new WebSocket(`${shard.url.replace('https', 'wss')}/clusters/root/api/v1/namespaces/default/pods/ghost/exec?command=echo`, ['v5.channel.k8s.io'], {
    ca: shard.caPem,
    cert: creds.certPem,
    key: creds.keyPem,
  });
  const [, response] = (await once(refused, 'unexpected-response')) as [unknown, { statusCode: number }];
  assert.equal(response.statusCode, 404);

  await admin.request('POST', '/clusters/root/api/v1/namespaces/default/pods', { body: pod });
  const badContainer = new WebSocket(
    `${shard.url.replace('https', 'wss')}/clusters/root/api/v1/namespaces/default/pods/box/exec?command=echo&container=nope`,
    ['v5.channel.k8s.io'],
    { ca: shard.caPem, cert: creds.certPem, key: creds.keyPem },
  );
  const [, bad] = (await once(badContainer, 'unexpected-response')) as [unknown, { statusCode: number }];
  assert.equal(bad.statusCode, 400);

  const vanished = await open(shard, 'command=cat&stdin=true&stdout=true', 'v5.channel.k8s.io');
  vanished.ws.terminate();
  await vanished.closed;
  assert.equal((await admin.request('GET', '/clusters/root/api/v1/namespaces/default/pods/box')).status, 200, 'the shard survives a client vanishing mid-session');

  const held = await open(shard, 'command=cat&stdin=true&stdout=true', 'v5.channel.k8s.io');
  await shard.close();
  await held.closed;
});
