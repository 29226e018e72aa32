// `kcp-edge dev --ratelimit FILE`: the local stack enforces that policy, and every answer says which
// flow schema and priority level judged it.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { startDevStack } from '../../src/dev/start.ts';
import { stableUid } from '../../src/ratelimit/policy.ts';
import { makeTempDir } from '../helpers/wait.ts';

const run = promisify(execFile);
const kubectlPath = '/usr/bin/kubectl';
const skip = existsSync(kubectlPath) ? false : `${kubectlPath} is not installed`;

test('dev stack under --ratelimit FILE: the gateway config names it and responses carry the flow headers', { skip }, async (t) => {
  await using temp = await makeTempDir();
  const policyFile = join(temp.dir, 'policy.yaml');
  await writeFile(
    policyFile,
    [
      'priorityLevels:',
      '  - { name: dev-tenants, limits: { rate: 100, burst: 200 } }',
      'flowSchemas:',
      '  - { name: dev-orgs, precedence: 10, priorityLevel: dev-tenants, distinguisher: byOrg, rules: [{ orgs: ["*"] }] }',
      '',
    ].join('\n'),
  );
  const stack = await startDevStack({ dir: join(temp.dir, 'dev'), port: 0, ratelimit: policyFile });
  t.after(() => stack.stop());
  const written = parse(await readFile(stack.files.gatewayConfig, 'utf8')) as { rateLimit?: { policyFile?: string } };
  assert.equal(written.rateLimit?.policyFile, policyFile);
  const { stderr } = await run(kubectlPath, [
    '--kubeconfig',
    stack.files.kubeconfig,
    '--cache-dir',
    join(temp.dir, 'cache'),
    '--context',
    'org-acme:proj-frontend',
    'get',
    'namespaces',
    '-v=8',
  ]);
  assert.match(stderr, new RegExp(`X-Kubernetes-Pf-Flowschema-Uid: ${stableUid('flowschema', 'dev-orgs')}`));
  assert.match(stderr, new RegExp(`X-Kubernetes-Pf-Prioritylevel-Uid: ${stableUid('prioritylevel', 'dev-tenants')}`));
});
