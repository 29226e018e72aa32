// Clients that hold a connection without using it: an HTTP/2 connection with no open stream, an
// HTTP/1.1 request head that never completes, a TCP connection that never starts TLS. Each is closed
// within its configured bound, while a watch (a stream open for as long as it likes) is never idle.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import { connect as connectHttp2 } from 'node:http2';
import { connect as connectTcp } from 'node:net';
import { test } from 'node:test';
import { connect as connectTls } from 'node:tls';
import { waitFor } from '../helpers/wait.ts';
import { startTestGateway, startTestShard, StaticRoutingTable, testPki } from '../gateway/fixtures.ts';

const watchPath = '/clusters/org-acme:proj/api/v1/namespaces/default/configmaps?watch=true';

test('an HTTP/2 connection with no open stream is closed after the idle timeout; one holding a watch is kept', async (t) => {
  const pki = await testPki();
  const watches: ServerResponse[] = [];
  const shard = await startTestShard(t, pki, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.flushHeaders();
    watches.push(res);
  });
  const routing = new StaticRoutingTable().addShard('a', shard.url).addRoute('root:org-acme:proj', 'a', 'c-proj');
  const idleTimeoutMs = 300;
  const gw = await startTestGateway(t, pki, routing, { connections: { idleTimeoutMs } });

  const watching = connectHttp2(gw.url, { ca: pki.ca.certPem });
  t.after(() => watching.destroy());
  const watch = watching.request({ ':path': watchPath, authorization: 'Bearer alice-token' });
  await once(watch, 'response');
  let events = '';
  watch.on('data', (c: Buffer) => (events += c.toString('utf8')));

  const idle = connectHttp2(gw.url, { ca: pki.ca.certPem });
  t.after(() => idle.destroy());
  let goaway = false;
  idle.on('goaway', () => (goaway = true));
  const livez = idle.request({ ':path': '/livez' });
  livez.resume();
  await once(livez, 'close');
  const lastStreamClosedAt = performance.now();
  await waitFor(() => idle.closed || idle.destroyed, { what: 'the idle connection to be closed', timeoutMs: 5_000 });
  const closedAfter = performance.now() - lastStreamClosedAt;
  assert.ok(goaway, 'closed with a GOAWAY');
  assert.ok(closedAfter >= idleTimeoutMs - 50 && closedAfter < idleTimeoutMs + 1_000, `closed after ${closedAfter.toFixed(0)} ms`);

  // Longer than the idle timeout has passed for the watch too: its connection still serves it.
  assert.equal(watching.closed || watching.destroyed, false);
  watches[0]!.write('{"type":"ADDED","object":{}}\n');
  await waitFor(() => events.includes('ADDED'), { what: 'an event on the watch' });
});

test('an HTTP/1.1 request head that never completes gets a 408 Status within the header timeout', async (t) => {
  const pki = await testPki();
  const routing = new StaticRoutingTable();
  const readHeaderTimeoutMs = 300;
  const gw = await startTestGateway(t, pki, routing, { connections: { readHeaderTimeoutMs } });
  const socket = connectTls({ host: '127.0.0.1', port: gw.port, ca: pki.ca.certPem, servername: 'localhost', ALPNProtocols: ['http/1.1'] });
  t.after(() => socket.destroy());
  await once(socket, 'secureConnect');
  const started = performance.now();
  socket.write('GET /livez HTTP/1.1\r\nhost: gateway\r\nx-slow: '); // and nothing more
  let answer = '';
  socket.on('data', (c: Buffer) => (answer += c.toString('utf8')));
  socket.on('error', () => undefined);
  await waitFor(() => socket.readableEnded || socket.destroyed, { what: 'the gateway to answer and close', timeoutMs: 5_000 });
  const after = performance.now() - started;
  assert.match(answer, /^HTTP\/1\.1 408 /);
  const status = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as { kind: string; code: number };
  assert.equal(status.kind, 'Status');
  assert.equal(status.code, 408);
  assert.ok(after < readHeaderTimeoutMs + 1_000, `answered after ${after.toFixed(0)} ms`);
});

test('a TCP connection that never starts TLS is closed within the header timeout', async (t) => {
  const pki = await testPki();
  const readHeaderTimeoutMs = 300;
  const gw = await startTestGateway(t, pki, new StaticRoutingTable(), { connections: { readHeaderTimeoutMs } });
  const socket = connectTcp({ host: '127.0.0.1', port: gw.port });
  socket.on('error', () => undefined);
  socket.resume();
  await once(socket, 'connect');
  const started = performance.now();
  // Gone before the gateway closes, whatever the outcome: close() would wait for it.
  await waitFor(() => socket.readableEnded || socket.destroyed, { what: 'the gateway to close the connection', timeoutMs: 5_000 }).finally(() => socket.destroy());
  const after = performance.now() - started;
  assert.ok(after < readHeaderTimeoutMs + 1_000, `closed after ${after.toFixed(0)} ms`);
});
