import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { Agent, request } from 'undici';
import { startTestShard, testPki } from '../gateway/fixtures.ts';
import { waitFor } from '../helpers/wait.ts';
import { logged, readLines, serveDir } from './serve-fixtures.ts';

const run = promisify(execFile);

test('serve with an invalid config exits 1 and lists every problem, before listening', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'kcp-edge-serve-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'gateway.yaml');
  await writeFile(
    file,
    [
      'listen: { port: 70000 }',
      'tls: { certFile: missing.crt, keyFile: missing.key }',
      'routing: { embedded: {} }',
      'upstream: { clientCertFile: c.crt }',
      'log: { level: chatty }',
    ].join('\n'),
  );
  await assert.rejects(run(process.execPath, ['src/cli.ts', 'serve', '--config', file]), (err: { code: number; stdout: string; stderr: string }) => {
    assert.equal(err.code, 1);
    assert.equal(err.stdout, '');
    const lines = err.stderr.trim().split('\n');
    assert.deepEqual(lines, [
      `kcp-edge serve: invalid gateway config ${file} (4 errors):`,
      `  ${file}:1:17: listen.port: must be <= 65535`,
      `  ${file}:3:22: routing.embedded.file: is required`,
      `  ${file}:4:11: upstream.clientKeyFile: is required`,
      `  ${file}:5:15: log.level: must be one of: "fatal", "error", "warn", "info", "debug", "trace", "silent"`,
    ]);
    return true;
  });
});

test('serve runs the gateway from config, follows token and routing edits, and drains on SIGTERM', async (t) => {
  const pki = await testPki();
  const shard = await startTestShard(t, pki);
  const dir = await serveDir(t, pki, shard.url);

  const child = spawn(process.execPath, ['src/cli.ts', 'serve', '--config', join(dir, 'gateway.yaml')], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => child.kill('SIGKILL'));
  const lines: string[] = [];
  readLines(child, lines);
  const started = await waitFor(() => logged(lines, 'kcp-edge gateway serving'), { what: 'the gateway to serve', timeoutMs: 30_000 });
  const url = String(started['url']);

  const dispatcher = new Agent({ connect: { ca: pki.ca.certPem } });
  t.after(() => dispatcher.close());
  const get = async (path: string, token: string) => {
    const res = await request(`${url}${path}`, { dispatcher, headers: { authorization: `Bearer ${token}` } });
    return { status: res.statusCode, body: await res.body.text() };
  };
  const echoed = await get('/clusters/org-acme:proj-x/api/v1/namespaces', 'alice-token');
  assert.equal(echoed.status, 200);
  assert.deepEqual(JSON.parse(echoed.body), { kind: 'Echo', url: '/clusters/projx/api/v1/namespaces', user: 'alice' });
  assert.equal((await get('/clusters/org-acme:proj-x/api/v1/namespaces', 'bob-token')).status, 401);

  // A token added to the file works without a restart; a broken edit keeps the tokens that worked.
  await writeFile(join(dir, 'tokens.csv'), 'alice-token,alice,1001,"dev"\nbob-token,bob,1002,\n');
  await waitFor(async () => (await get('/clusters/org-acme:proj-x/api/v1/namespaces', 'bob-token')).status === 200, { what: 'bob to be accepted' });
  await writeFile(join(dir, 'tokens.csv'), 'bob-token\n');
  await waitFor(() => logged(lines, 'token file change rejected; keeping the previous tokens'), { what: 'the broken edit to be refused' });
  assert.equal((await get('/clusters/org-acme:proj-x/api/v1/namespaces', 'bob-token')).status, 200);

  // A route added to the routing file serves without a restart.
  await writeFile(
    join(dir, 'routing.yaml'),
    `shards: [{ name: a, url: "${shard.url}" }]\nroutes:\n  - { path: root:org-acme:proj-x, shard: a, cluster: projx }\n  - { path: root:org-acme:proj-y, shard: a, cluster: projy }\n`,
  );
  await waitFor(async () => (await get('/clusters/org-acme:proj-y/api/v1/namespaces', 'alice-token')).status === 200, { what: 'the new route' });

  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const [code] = (await exited) as [number | null];
  assert.equal(code, 0);
  assert.ok(logged(lines, 'drained; bye'));
});

test('serve --check validates without starting anything', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'kcp-edge-serve-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const pki = await testPki();
  await writeFile(join(dir, 'c.pem'), pki.gatewayServing.certPem);
  await writeFile(join(dir, 'k.pem'), pki.gatewayServing.keyPem);
  const file = join(dir, 'gateway.yaml');
  await writeFile(file, 'tls: { certFile: c.pem, keyFile: k.pem }\nrouting: { embedded: { file: r.yaml } }\nupstream: { clientCertFile: c.pem, clientKeyFile: k.pem }\n');
  await writeFile(join(dir, 'r.yaml'), 'routes: [{ path: root:x, shard: nowhere, cluster: x }]\n');
  await assert.rejects(run(process.execPath, ['src/cli.ts', 'serve', '--config', file, '--check']), (err: { code: number; stderr: string }) => {
    assert.equal(err.code, 1);
    assert.match(err.stderr, /r\.yaml:1:\d+: routes\[0\]\.shard: names shard "nowhere", which is not in shards/);
    return true;
  });
  await writeFile(join(dir, 'r.yaml'), 'routes: []\n');
  const { stdout } = await run(process.execPath, ['src/cli.ts', 'serve', '--config', file, '--check']);
  assert.equal(stdout, `${file}: valid\n`);
});
