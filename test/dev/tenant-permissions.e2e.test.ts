// Tenant permissions on the dev stack, through the gateway, with nothing but real kubectl and the
// generated kubeconfig: carol may look at org-acme:proj-frontend and nothing more, alice owns it,
// can-i says so, and --as works only for who may impersonate, never into system:masters.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { startDevStack } from '../../src/dev/start.ts';

const run = promisify(execFile);
const kubectlPath = '/usr/bin/kubectl';
const skip = existsSync(kubectlPath) ? false : `${kubectlPath} is not installed: the kubectl end-to-end tests need it`;

test('dev stack: the view-only user reads and is refused writes with 403; can-i and --as tell the truth', { skip }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'kcp-edge-dev-tenants-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const stack = await startDevStack({ dir, port: 0 });
  t.after(() => stack.stop());

  const kubectl = async (context: string, ...args: string[]): Promise<{ ok: boolean; out: string }> => {
    try {
      const { stdout } = await run(kubectlPath, [
        '--kubeconfig',
        stack.files.kubeconfig,
        '--cache-dir',
        join(dir, 'kube-cache'),
        '--context',
        context,
        '--request-timeout=10s',
        ...args,
      ]);
      return { ok: true, out: stdout };
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string };
      return { ok: false, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
    }
  };
  const owner = 'org-acme:proj-frontend';
  const viewer = 'carol@org-acme:proj-frontend';

  assert.ok((await kubectl(owner, 'create', 'configmap', 'shared', '--from-literal=a=1')).ok);
  const seen = await kubectl(viewer, 'get', 'configmaps', '-o', 'name');
  assert.ok(seen.ok, seen.out);
  assert.match(seen.out, /configmap\/shared/);

  const refused = await kubectl(viewer, 'create', 'configmap', 'mine', '-v=6');
  assert.equal(refused.ok, false);
  assert.match(refused.out, /POST https:\/\/127\.0\.0\.1:\d+\/clusters\/root:org-acme:proj-frontend\/api\/v1\/namespaces\/default\/configmaps.* 403 Forbidden/);
  assert.match(refused.out, /configmaps is forbidden: User "org-acme:carol" cannot create resource "configmaps"/);
  const elsewhere = await kubectl('org-acme:proj-backend', '--user', 'carol@org-acme', 'get', 'configmaps');
  assert.equal(elsewhere.ok, false, 'carol may not enter another workspace of her org');
  assert.match(elsewhere.out, /Forbidden/);

  assert.equal((await kubectl(viewer, 'auth', 'can-i', 'list', 'configmaps')).out.trim(), 'yes');
  assert.equal((await kubectl(viewer, 'auth', 'can-i', 'create', 'configmaps')).out.trim(), 'no');
  assert.equal((await kubectl(owner, 'auth', 'can-i', 'create', 'configmaps')).out.trim(), 'yes');
  const list = await kubectl(viewer, 'auth', 'can-i', '--list');
  assert.match(list.out, /^configmaps\s+\[\]\s+\[\]\s+\[get list watch\]$/m);

  // alice is cluster-admin here, so she may impersonate carol, and then acts with carol's rights only.
  assert.equal((await kubectl(owner, 'auth', 'whoami', '--as=org-acme:carol', '-o', 'jsonpath={.status.userInfo.username}')).out, 'org-acme:carol');
  assert.ok((await kubectl(owner, 'get', 'configmaps', '--as=org-acme:carol')).ok);
  const asCarol = await kubectl(owner, 'create', 'configmap', 'via-carol', '--as=org-acme:carol');
  assert.equal(asCarol.ok, false);
  assert.match(asCarol.out, /User "org-acme:carol" cannot create/);
  const masters = await kubectl(owner, 'get', 'configmaps', '--as=org-acme:alice', '--as-group=system:masters');
  assert.equal(masters.ok, false, 'never into system:masters');
  assert.match(masters.out, /impersonating a privileged group is not allowed/);
  const carolAsAlice = await kubectl(viewer, 'get', 'configmaps', '--as=org-acme:alice');
  assert.equal(carolAsAlice.ok, false, 'carol may not impersonate');
  assert.match(carolAsAlice.out, /cannot impersonate resource "users"/);
});
