import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { stableUid } from '../../src/ratelimit/policy.ts';
import { makeTempDir } from '../helpers/wait.ts';

const run = promisify(execFile);

test('ratelimit explain prints the schema, flow, level, limits and cost a request would get', async () => {
  const { stdout } = await run(process.execPath, [
    'src/cli.ts',
    'ratelimit',
    'explain',
    '--policy',
    'config/ratelimit.yaml',
    '--user',
    'alice',
    '--groups',
    'dev',
    '--workspace',
    'org-acme:proj-frontend',
    '--verb',
    'list',
    '--resource',
    'configmaps',
  ]);
  assert.match(stdout, new RegExp(`flow schema: +tenant-users +uid ${stableUid('flowschema', 'tenant-users')} +precedence 1000`));
  assert.match(stdout, /flow: +byUser = "alice"/);
  assert.match(stdout, new RegExp(`priority level: tenants +uid ${stableUid('prioritylevel', 'tenants')}`));
  assert.match(stdout, /limits: +20\/s, burst 40; open watches 50; watch starts 5\/s, burst 20; in flight 20 \(per flow\)/);
  assert.match(stdout, /cost: +5 \(costs\.listWithoutLimit/);
});

test('ratelimit explain without a policy uses the built-in one; probes are exempt', async () => {
  const { stdout } = await run(process.execPath, ['src/cli.ts', 'ratelimit', 'explain', '--user', 'kubelet', '--path', '/livez']);
  assert.match(stdout, /flow schema: +probes/);
  assert.match(stdout, /limits: +exempt: never limited\n/);
  assert.match(stdout, /policy: +built-in default rate policy/);
});

test('ratelimit explain reports an invalid policy with file, line and field, exit 1', async () => {
  await using tmp = await makeTempDir();
  const file = join(tmp.dir, 'bad.yaml');
  await writeFile(file, 'flowSchemas:\n  - name: x\n    priorityLevel: nowhere\n    rules: [{}]\n');
  await assert.rejects(run(process.execPath, ['src/cli.ts', 'ratelimit', 'explain', '--policy', file, '--path', '/x']), (err: { code: number; stderr: string }) => {
    assert.equal(err.code, 1);
    assert.match(err.stderr, /bad\.yaml:3:\d+: flowSchemas\[0\]\.priorityLevel: names priority level "nowhere", which is not defined/);
    return true;
  });
});

test('ratelimit without the explain subcommand prints usage, exit 2', async () => {
  await assert.rejects(run(process.execPath, ['src/cli.ts', 'ratelimit']), (err: { code: number; stderr: string }) => {
    assert.equal(err.code, 2);
    assert.match(err.stderr, /usage: kcp-edge ratelimit explain/);
    return true;
  });
});
