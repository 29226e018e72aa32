import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { Agent, request } from 'undici';
import { createCertificateAuthority } from '../../src/sim/pki.ts';
import { waitFor } from '../helpers/wait.ts';

const run = promisify(execFile);

test('serve with an invalid config exits 1 and lists every problem, before listening', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'kcp-edge-serve-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'gateway.yaml');
  await writeFile(file, [
    'listen: { port: 70000 }',
    'tls: { certFile: missing.crt, keyFile: missing.key }',
    'routing: { embedded: {} }',
    'upstream: { clientCertFile: c.crt }',
    'log: { level: chatty }',
  ].join('\n'));
  await assert.rejects(run(process.execPath, ['src/cli.ts', 'serve', '--config', file]), (err: { code: number; stdout: string; stderr: string }) => {
    assert.equal(err.code, 1);
    assert.equal(err.stdout, '');
    const lines = err.stderr.trim().split('\n');
    assert.deepEqual(lines, [
      `kcp-edge serve: invalid gateway config ${file} (4 errors):`,
      `  ${file}:1:17: listen.port: must be <= 65535`,
      `  ${file}:3:23: routing.embedded.file: is required`,
      `  ${file}:4:11: upstream.clientKeyFile: is required`,
      `  ${file}:5:15: log.level: must be one of: "fatal", "error", "warn", "info", "debug", "trace", "silent"`,
    ]);
    return true;
  });
});
