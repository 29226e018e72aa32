// `kcp-edge sync` as a process: the --listen flag, exit statuses, and the shared drain on SIGTERM.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { renderKubeconfig } from '../../src/kube/kubeconfig.ts';
import { makeTempDir, waitFor } from '../helpers/wait.ts';

const run = promisify(execFile);

/** A config whose endpoints nobody answers: the worker runs (and retries) without any cluster. */
async function writeConfig(dir: string, extra = ''): Promise<string> {
  await writeFile(join(dir, 'kcp.kubeconfig'), renderKubeconfig({ server: 'https://127.0.0.1:1', token: 't' }));
  await writeFile(join(dir, 'service.kubeconfig'), renderKubeconfig({ server: 'https://127.0.0.1:1', token: 't' }));
  const file = join(dir, 'sync.yaml');
  await writeFile(
    file,
    [
      'agentName: compute',
      'kcp: { kubeconfig: kcp.kubeconfig, endpoints: ["https://127.0.0.1:1/services/apiexport/root/compute"] }',
      'serviceCluster: { kubeconfig: service.kubeconfig }',
      'resources: [{ group: compute.example.com, version: v1, resource: virtualmachines, kind: VirtualMachine, namespaceSuffix: vm }]',
      extra,
    ].join('\n'),
  );
  return file;
}

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function failure(err: unknown): { code: number; stderr: string } {
  return err as { code: number; stderr: string };
}

test('--listen with a bare port serves on the config host at that port, and SIGTERM drains to exit 0', async () => {
  await using tmp = await makeTempDir();
  const config = await writeConfig(tmp.dir, 'log: { level: debug }');
  const port = await freePort();
  const child = spawn(process.execPath, ['src/cli.ts', 'sync', '--config', config, '--listen', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  try {
    await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/livez`)).ok, { what: `the sync worker on 127.0.0.1:${port}`, timeoutMs: 15_000 });
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`sync did not serve: ${stderr}`, { cause: err });
  }
  child.kill('SIGTERM');
  assert.equal(await exited, 0, stderr);
  const lines = stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { msg: string; name: string; listen?: string });
  const started = lines.find((l) => l.msg === 'sync worker started');
  assert.equal(started?.listen, `127.0.0.1:${port}`);
  assert.equal(started?.name, 'kcp-edge-sync', 'logged through pino');
  assert.ok(
    lines.some((l) => l.msg === 'drained; bye'),
    stderr,
  );
});

test('a --listen that is not an address or port is a usage error (2), said before the config is read', async () => {
  for (const listen of ['http', '127.0.0.1:http', '127.0.0.1:99999']) {
    await assert.rejects(run(process.execPath, ['src/cli.ts', 'sync', '--config', 'no-such-file.yaml', '--listen', listen]), (err) => {
      assert.equal(failure(err).code, 2);
      assert.match(failure(err).stderr, /^kcp-edge sync: --listen: .* is not a (port|listen address)/);
      return true;
    });
  }
});

test('an invalid sync config exits 1, like every command', async () => {
  await using tmp = await makeTempDir();
  const cases: [string, RegExp][] = [
    ['log: { level: loud }', /log\.level: must be one of/],
    ['listen: 127.0.0.1:99999', /listen: "127\.0\.0\.1:99999": "99999" is not a port/],
  ];
  for (const [extra, message] of cases) {
    const config = await writeConfig(tmp.dir, extra);
    await assert.rejects(run(process.execPath, ['src/cli.ts', 'sync', '--config', config]), (err) => {
      assert.equal(failure(err).code, 1, extra);
      assert.match(failure(err).stderr, message);
      return true;
    });
  }
});
