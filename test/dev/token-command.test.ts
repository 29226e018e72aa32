// The dev stack with org realms: its kubeconfig carries OIDC tokens of one user per org, and
// `kcp-edge dev token` mints fresh ones from the running stack's issuer.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { decodeJwt } from 'jose';
import { parse } from 'yaml';
import { startDevStack } from '../../src/dev/start.ts';
import { makeTempDir } from '../helpers/wait.ts';

const run = promisify(execFile);

function getStatus(url: string, ca: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, agent: false, headers: { authorization: `Bearer ${token}` } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

test('dev stack: kubeconfig tokens come from the org realms, and `dev token` prints a fresh one as its last line', async (t) => {
  await using tmp = await makeTempDir();
  const stack = await startDevStack({ dir: tmp.dir, port: 0 });
  t.after(() => stack.stop());
  const ca = await readFile(join(stack.files.certs, 'ca.crt'), 'utf8');
  const acme = `${stack.url}/clusters/root:org-acme:proj-frontend/api/v1/namespaces/default/configmaps`;
  const globex = `${stack.url}/clusters/root:org-globex:proj-apps/api/v1/namespaces/default/configmaps`;

  const kubeconfig = parse(await readFile(stack.files.kubeconfig, 'utf8')) as { users: { name: string; user: { token: string } }[] };
  for (const { name, user } of kubeconfig.users) {
    const claims = decodeJwt(user.token);
    assert.match(String(claims.iss), /\/realms\/org-/, `${name}: a token of an org realm`);
  }

  const { stdout, stderr } = await run(process.execPath, ['src/cli.ts', 'dev', 'token', '--dir', tmp.dir, '--org', 'org-globex', '--user', 'bob']);
  const token = stdout.trim().split('\n').at(-1)!;
  assert.match(stderr, /org-globex:bob/);
  assert.equal(decodeJwt(token).preferred_username, 'bob');
  assert.equal(await getStatus(globex, ca, token), 200);
  assert.equal(await getStatus(acme, ca, token), 401, 'a globex token on an acme workspace');

  await assert.rejects(run(process.execPath, ['src/cli.ts', 'dev', 'token', '--dir', join(tmp.dir, 'nowhere')]), (err: { code: number; stderr: string }) => {
    assert.equal(err.code, 1);
    assert.match(err.stderr, /is `kcp-edge dev --dir .*` running\?/);
    return true;
  });
});
