// The bench's upstream and process handling, against real TLS: what every measured number rests on.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { http2Get, httpsGet } from '../../loadtest/lib/net.ts';
import { Processes } from '../../loadtest/lib/processes.ts';
import { LIST_BODY, LIST_PATH } from '../../loadtest/upstream/body.ts';
import { benchUpstreamForTest } from './fixture.ts';
import { makeTempDir, waitFor } from '../helpers/wait.ts';
import { readFile } from 'node:fs/promises';
import { request } from 'node:https';
import { connect as connectHttp2 } from 'node:http2';
import { connect as connectTls } from 'node:tls';

test('the upstream serves the fixed list, counts connections and enforces requestheader authentication', async (t) => {
  const { pki, upstream } = await benchUpstreamForTest(t);
  const ca = await readFile(pki.caFile, 'utf8');

  const ok = await httpsGet(upstream.port, LIST_PATH, { ca });
  assert.equal(ok.status, 200);
  assert.ok(ok.body.equals(LIST_BODY));
  assert.ok(LIST_BODY.length > 1400 && LIST_BODY.length < 1700, `about 1.5 KB, got ${LIST_BODY.length}`);
  assert.equal((await httpsGet(upstream.port, '/clusters/other/api/v1/namespaces/default/configmaps', { ca })).status, 404);

  // X-Remote-User is only believed from a verified front-proxy client certificate.
  const spoofed = await httpsGet(upstream.port, LIST_PATH, { ca, headers: { 'x-remote-user': 'admin' } });
  assert.equal(spoofed.status, 403);
  const [cert, key] = await Promise.all([readFile(pki.clientCertFile), readFile(pki.clientKeyFile)]);
  const withCert = await new Promise<number>((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: upstream.port, path: LIST_PATH, ca, cert, key, servername: 'localhost', headers: { 'x-remote-user': 'admin' }, agent: false },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end();
  });
  assert.equal(withCert, 200);

  const stats = await upstream.stats();
  assert.equal(stats.connections, 4);
  assert.equal(stats.requests, 4);

  // A slow request is held for about as long as asked.
  const startedAt = Date.now();
  assert.equal((await httpsGet(upstream.port, `${LIST_PATH}?slow=200`, { ca })).status, 200);
  assert.ok(Date.now() - startedAt >= 190);

  // Another CA with the same name is not trusted.
  const wrongCa = await readFile(pki.wrongCaFile, 'utf8');
  await assert.rejects(httpsGet(upstream.port, LIST_PATH, { ca: wrongCa }), /certificate|signature/i);
});

test('the upstream speaks HTTP/2 to clients that prefer it, counts a session as one connection, and HTTP/1.1 to the rest', async (t) => {
  const { pki, upstream } = await benchUpstreamForTest(t);
  const ca = await readFile(pki.caFile, 'utf8');
  const [cert, key] = await Promise.all([readFile(pki.clientCertFile), readFile(pki.clientKeyFile)]);

  const one = await http2Get(upstream.port, LIST_PATH, { ca });
  assert.equal(one.alpnProtocol, 'h2');
  assert.equal(one.status, 200);
  assert.ok(one.body.equals(LIST_BODY));

  // Five streams on one session are one connection (req.socket is a new proxy object for each stream).
  const session = connectHttp2(`https://127.0.0.1:${upstream.port}`, { ca, cert, key, servername: 'localhost' });
  t.after(() => session.destroy());
  const get = (headers: Record<string, string>) =>
    new Promise<number>((resolve, reject) => {
      const req = session.request({ ':path': LIST_PATH, ...headers });
      req.on('response', (h) => {
        req.resume();
        req.on('end', () => resolve(Number(h[':status'])));
      });
      req.on('error', reject);
    });
  assert.deepEqual(await Promise.all([get({}), get({}), get({}), get({}), get({ 'x-remote-user': 'admin' })]), [200, 200, 200, 200, 200]);
  session.close();
  // Without a client certificate, X-Remote-User is refused over HTTP/2 too.
  assert.equal((await http2Get(upstream.port, LIST_PATH, { ca, headers: { 'x-remote-user': 'admin' } })).status, 403);

  let stats = await upstream.stats();
  assert.equal(stats.connections, 3);
  assert.equal(stats.requests, 7);
  assert.equal(stats.h2Requests, 7);

  // undici offers http/1.1 before h2, wrk and nginx offer nothing: all of them get HTTP/1.1.
  const alpn = (protocols: string[] | undefined) =>
    new Promise<string | false>((resolve, reject) => {
      const socket = connectTls({ host: '127.0.0.1', port: upstream.port, ca, servername: 'localhost', ...(protocols === undefined ? {} : { ALPNProtocols: protocols }) }, () => {
        resolve(socket.alpnProtocol ?? false);
        socket.end();
      });
      socket.on('error', reject);
    });
  assert.equal(await alpn(['http/1.1', 'h2']), 'http/1.1');
  assert.equal(await alpn(['h2', 'http/1.1']), 'h2');
  assert.equal(await alpn(undefined), false);
  const h1 = await httpsGet(upstream.port, LIST_PATH, { ca });
  assert.equal(h1.status, 200);
  assert.ok(h1.body.equals(LIST_BODY));
  stats = await upstream.stats();
  assert.equal(stats.requests, 8);
  assert.equal(stats.h2Requests, 7);
});

test('stopping the processes kills the whole process group', async (t) => {
  const temp = await makeTempDir();
  t.after(() => temp[Symbol.asyncDispose]());
  const processes = new Processes(temp.dir);
  t.after(() => processes.stopAll());
  // A parent that leaves a grandchild behind, like a proxy master and its workers.
  const managed = processes.spawn('tree', 'sh', ['-c', 'sleep 300 & echo $! ; wait']);
  const grandchild = await waitFor(
    async () => {
      const pid = Number((await readFile(managed.logFile, 'utf8')).trim());
      return pid > 0 ? pid : undefined;
    },
    { what: 'grandchild pid' },
  );
  await processes.stopAll();
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  await waitFor(() => !alive(grandchild), { what: 'grandchild to exit' });
  assert.equal(alive(managed.pgid), false);
});
