import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { makeTempDir } from '../helpers/wait.ts';

const run = promisify(execFile);
const kubectl = '/usr/bin/kubectl';

test('kcp-edge kubeconfig writes an exec (oidc-login) kubeconfig for one workspace that kubectl reads', async () => {
  await using tmp = await makeTempDir();
  const out = join(tmp.dir, 'kubeconfig');
  const caFile = join(tmp.dir, 'ca.crt');
  await writeFile(caFile, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
  await run(process.execPath, [
    'src/cli.ts',
    'kubeconfig',
    '--workspace',
    'org-acme:proj-frontend',
    '--server',
    'https://edge.example.com/',
    '--issuer',
    'https://keycloak.example.com/realms/{org}',
    '--ca-file',
    caFile,
    '--output',
    out,
  ]);
  assert.equal((await stat(out)).mode & 0o777, 0o600);
  const doc = parse(await readFile(out, 'utf8')) as {
    clusters: { name: string; cluster: Record<string, string> }[];
    users: { name: string; user: { exec: { command: string; args: string[]; apiVersion: string } } }[];
    contexts: { name: string; context: { cluster: string; user: string } }[];
    'current-context': string;
  };
  assert.equal(doc['current-context'], 'org-acme:proj-frontend');
  assert.equal(doc.clusters[0]?.cluster.server, 'https://edge.example.com/clusters/root:org-acme:proj-frontend');
  assert.equal(Buffer.from(doc.clusters[0]!.cluster['certificate-authority-data']!, 'base64').toString(), await readFile(caFile, 'utf8'));
  assert.deepEqual(doc.users[0]?.user.exec.args, [
    'oidc-login',
    'get-token',
    '--oidc-issuer-url=https://keycloak.example.com/realms/org-acme',
    '--oidc-client-id=kcp-edge',
    '--oidc-extra-scope=email',
    '--oidc-extra-scope=groups',
  ]);
  assert.deepEqual(doc.contexts[0]?.context, { cluster: 'org-acme:proj-frontend', user: 'oidc:org-acme' });

  if (existsSync(kubectl)) {
    const { stdout } = await run(kubectl, ['config', 'view', '--kubeconfig', out, '-o', 'jsonpath={.users[0].user.exec.command} {.clusters[0].cluster.server}']);
    assert.equal(stdout, 'kubectl https://edge.example.com/clusters/root:org-acme:proj-frontend');
  }
});

test('kcp-edge kubeconfig refuses bad input with usage errors', async () => {
  for (const args of [
    ['--workspace', 'org-acme:proj', '--server', 'https://e.example'],
    ['--workspace', 'Org_Acme', '--server', 'https://e.example', '--issuer', 'https://k.example/realms/{org}'],
    ['--workspace', 'org-acme:proj', '--server', 'http://e.example', '--issuer', 'https://k.example/realms/{org}'],
  ]) {
    await assert.rejects(run(process.execPath, ['src/cli.ts', 'kubeconfig', ...args]), (err: { code: number; stderr: string }) => {
      assert.equal(err.code, 2);
      assert.match(err.stderr, /^kcp-edge kubeconfig: /);
      return true;
    });
  }
});
