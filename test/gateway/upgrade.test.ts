import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { connect } from 'node:tls';
import { WebSocket, WebSocketServer } from 'ws';
import { waitFor } from '../helpers/wait.ts';
import { startTestGateway, startTestShard, StaticRoutingTable, testPki } from './fixtures.ts';

const bearer = (token: string) => `base64url.bearer.authorization.k8s.io.${Buffer.from(token).toString('base64url')}`;

test('a WebSocket upgrade round-trips through the gateway; the bearer subprotocol stays behind', async (t) => {
  const pki = await testPki();
  const shard = await startTestShard(t, pki);
  const upgrades: { url: string; headers: Record<string, unknown> }[] = [];
  // ws needs only the server's 'upgrade' events, which HTTP/2's server emits for HTTP/1.1 connections too.
  const wss = new WebSocketServer({
    server: shard.server as unknown as import('node:https').Server,
    handleProtocols: (protocols) => (protocols.has('v5.channel.k8s.io') ? 'v5.channel.k8s.io' : false),
  });
  const shardSockets: WebSocket[] = [];
  wss.on('connection', (socket, req) => {
    upgrades.push({ url: req.url ?? '', headers: req.headers });
    shardSockets.push(socket);
    socket.on('message', (data: Buffer) => socket.send(Buffer.concat([Buffer.from('echo:'), data])));
  });
  t.after(() => wss.close());
  const routing = new StaticRoutingTable().addShard('a', shard.url).addRoute('root:org-acme:proj', 'a', 'c-proj');
  const gw = await startTestGateway(t, pki, routing);

  const path = '/clusters/org-acme:proj/api/v1/namespaces/default/pods/web/exec?command=sh&stdin=true&stdout=true&tty=true';
  const client = new WebSocket(`wss://127.0.0.1:${gw.port}${path}`, [bearer('alice-token'), 'v5.channel.k8s.io'], { ca: pki.ca.certPem });
  await once(client, 'open');
  assert.equal(client.protocol, 'v5.channel.k8s.io');
  client.send(Buffer.from([0, 104, 105]));
  const [reply] = (await once(client, 'message')) as [Buffer];
  assert.equal(reply.toString('latin1'), 'echo:\u0000hi');

  assert.equal(upgrades.length, 1);
  assert.equal(upgrades[0]!.url, '/clusters/c-proj/api/v1/namespaces/default/pods/web/exec?command=sh&stdin=true&stdout=true&tty=true');
  assert.equal(upgrades[0]!.headers['sec-websocket-protocol'], 'v5.channel.k8s.io');
  assert.equal(upgrades[0]!.headers['x-remote-user'], 'alice');
  assert.equal(upgrades[0]!.headers.authorization, undefined);
  const openUpgrades = async () => /kcp_edge_open_upgrades\{shard="a"\} (\d+)/.exec(await gw.metrics.metrics())?.[1];
  assert.equal(await openUpgrades(), '1');

  // One side failing takes the other down: kill the client's socket, the shard's socket closes.
  const shardSide = shardSockets[0]!;
  const shardClosed = once(shardSide, 'close');
  client.terminate();
  await shardClosed;
  await waitFor(async () => (await openUpgrades()) === '0', { what: 'open upgrades back to 0' });
});

test('an upgrade without credentials gets a 401 Status on the raw socket; a down shard a 502', async (t) => {
  const pki = await testPki();
  const down = await startTestShard(t, pki);
  down.server.close();
  down.cutConnections();
  const routing = new StaticRoutingTable().addShard('b', down.url).addRoute('root:org-acme:proj', 'b', 'c-proj');
  const gw = await startTestGateway(t, pki, routing);
  const url = `wss://127.0.0.1:${gw.port}/clusters/org-acme:proj/api/v1/namespaces/default/pods/web/exec?command=sh`;

  const statusOf = async (protocols: string[]) => {
    const client = new WebSocket(url, protocols, { ca: pki.ca.certPem });
    client.on('error', () => undefined); // terminate() before open reports an error; the response is what we test
    const [, res] = (await once(client, 'unexpected-response')) as [unknown, import('node:http').IncomingMessage];
    let body = '';
    for await (const chunk of res) body += String(chunk);
    client.terminate();
    return { status: res.statusCode, body: JSON.parse(body) as { kind: string; code: number } };
  };
  const anonymous = await statusOf(['v5.channel.k8s.io']);
  assert.equal(anonymous.status, 401);
  assert.equal(anonymous.body.kind, 'Status');
  const broken = await statusOf([bearer('alice-token'), 'v5.channel.k8s.io']);
  assert.equal(broken.status, 502);
  assert.equal(broken.body.code, 502);
});

test('a SPDY/3.1 upgrade is piped raw both ways', async (t) => {
  const pki = await testPki();
  const shard = await startTestShard(t, pki);
  const seenUpgrades: import('node:http').IncomingHttpHeaders[] = [];
  shard.server.on('upgrade', (req: import('node:http').IncomingMessage, socket: import('node:stream').Duplex) => {
    seenUpgrades.push(req.headers);
    socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n\r\n');
    socket.on('data', (chunk: Buffer) => socket.write(Buffer.concat([Buffer.from('spdy-echo:'), chunk])));
  });
  const routing = new StaticRoutingTable().addShard('a', shard.url).addRoute('root:org-acme:proj', 'a', 'c-proj');
  const gw = await startTestGateway(t, pki, routing);

  const socket = connect({ host: '127.0.0.1', port: gw.port, ca: pki.ca.certPem, ALPNProtocols: ['http/1.1'] });
  t.after(() => socket.destroy());
  await once(socket, 'secureConnect');
  socket.write(
    'POST /clusters/org-acme:proj/api/v1/namespaces/default/pods/web/portforward HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer alice-token\r\n' +
      'Connection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: portforward.k8s.io\r\nContent-Length: 0\r\n\r\n',
  );
  let received = '';
  socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
  await waitFor(() => received.includes('\r\n\r\n'), { what: 'the 101 answer' });
  assert.match(received, /^HTTP\/1\.1 101 /);
  socket.write(Buffer.from([0x80, 0x03, 0x00, 0x01]));
  await waitFor(() => received.includes('spdy-echo:\u0080\u0003\u0000\u0001'), { what: 'raw frame echoed back' });
  assert.equal(seenUpgrades[0]!.upgrade, 'SPDY/3.1');
  assert.equal(seenUpgrades[0]!['x-stream-protocol-version'], 'portforward.k8s.io');
  assert.equal(seenUpgrades[0]!['x-remote-user'], 'alice');
  assert.equal(seenUpgrades[0]!.authorization, undefined);
});

test('an upgraded pipe passes small writes on at once both ways (no Nagle delay behind a delayed ACK)', async (t) => {
  const pki = await testPki();
  const shard = await startTestShard(t, pki);
  let shardSocket: import('node:net').Socket | undefined;
  let atShard = '';
  shard.server.on('upgrade', (_req: import('node:http').IncomingMessage, socket: import('node:net').Socket) => {
    socket.setNoDelay(true);
    shardSocket = socket;
    socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n\r\n');
    socket.on('data', (chunk: Buffer) => (atShard += chunk.toString('latin1')));
  });
  const routing = new StaticRoutingTable().addShard('a', shard.url).addRoute('root:org-acme:proj', 'a', 'c-proj');
  const gw = await startTestGateway(t, pki, routing);
  const client = connect({ host: '127.0.0.1', port: gw.port, ca: pki.ca.certPem, ALPNProtocols: ['http/1.1'] });
  t.after(() => client.destroy());
  await once(client, 'secureConnect');
  client.setNoDelay(true);
  client.write(
    'POST /clusters/org-acme:proj/api/v1/namespaces/default/pods/web/exec?command=sh HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer alice-token\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nContent-Length: 0\r\n\r\n',
  );
  let atClient = '';
  client.on('data', (chunk: Buffer) => (atClient += chunk.toString('latin1')));
  await waitFor(() => atClient.includes('\r\n\r\n'), { what: 'the 101 answer' });

  // Each round writes twice in a row without an answer in between: the second write is the one
  // Nagle's algorithm holds until the first is acknowledged, and the receiver delays that ACK (40 ms on
  // Linux) because it has nothing to send.
  const lags: number[] = [];
  for (let round = 0; round < 12; round++) {
    client.write(`a${round};`);
    await waitFor(() => atShard.includes(`a${round};`), { what: `a${round} at the shard`, intervalMs: 1 });
    let started = performance.now();
    client.write(`b${round};`);
    await waitFor(() => atShard.includes(`b${round};`), { what: `b${round} at the shard`, intervalMs: 1 });
    lags.push(performance.now() - started);
    shardSocket!.write(`x${round};`);
    await waitFor(() => atClient.includes(`x${round};`), { what: `x${round} at the client`, intervalMs: 1 });
    started = performance.now();
    shardSocket!.write(`y${round};`);
    await waitFor(() => atClient.includes(`y${round};`), { what: `y${round} at the client`, intervalMs: 1 });
    lags.push(performance.now() - started);
  }
  lags.sort((a, b) => a - b);
  const median = lags[Math.floor(lags.length / 2)]!;
  assert.ok(median < 20, `median delay of a second small write through the pipe: ${median.toFixed(1)} ms (${lags.map((l) => l.toFixed(0)).join(',')})`);
});
