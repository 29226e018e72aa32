// RBAC in a logical cluster, driven by real kubectl against a shard run with RBAC authorization: the
// workspace access rule, a view-only user, aggregation by label, can-i answered truthfully, --as gated.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { shardForTest } from './fixture.ts';

const run = promisify(execFile);
const kubectlPath = '/usr/bin/kubectl';
const skip = existsSync(kubectlPath) ? false : `${kubectlPath} is not installed: the RBAC end-to-end tests need it`;

type Kubectl = (...args: string[]) => Promise<{ ok: boolean; out: string }>;

async function kubectlAs(t: import('node:test').TestContext, kubeconfig: string): Promise<Kubectl> {
  const dir = await mkdtemp(join(tmpdir(), 'kcp-edge-rbac-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'kubeconfig');
  await writeFile(file, kubeconfig);
  return async (...args) => {
    try {
      const { stdout } = await run(kubectlPath, ['--kubeconfig', file, ...args], { env: { ...process.env, KUBECACHEDIR: join(dir, 'cache') } });
      return { ok: true, out: stdout };
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string };
      return { ok: false, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
    }
  };
}

const workspaceAccess = `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: workspace-access}
rules: [{nonResourceURLs: ["/"], verbs: [access]}]
`;

test('a view-only user reads and is refused writes; can-i and --list tell the truth; --as needs impersonate', { skip }, async (t) => {
  const { shard } = await shardForTest(t, { authorization: 'RBAC' });
  const admin = await kubectlAs(t, await shard.kubeconfig());
  const viewer = await kubectlAs(t, await shard.kubeconfig({ user: 'viewer' }));

  // Not allowed into the workspace yet: the same 403 as for a workspace that does not exist.
  const outside = await viewer('get', 'configmaps', '-n', 'default');
  assert.equal(outside.ok, false);
  assert.match(outside.out, /Forbidden/);

  const manifest = join(tmpdir(), `workspace-access-${process.pid}.yaml`);
  await writeFile(manifest, workspaceAccess);
  t.after(() => rm(manifest, { force: true }));
  for (const args of [
    ['apply', '-f', manifest],
    ['create', 'clusterrolebinding', 'viewer-access', '--clusterrole=workspace-access', '--user=viewer'],
    ['create', 'rolebinding', 'viewer-view', '--clusterrole=view', '--user=viewer', '-n', 'default'],
    ['create', 'configmap', 'settings', '-n', 'default', '--from-literal=a=1'],
  ]) {
    const r = await admin(...args);
    assert.ok(r.ok, `kubectl ${args.join(' ')}: ${r.out}`);
  }

  const got = await viewer('get', 'configmap', 'settings', '-n', 'default', '-o', 'name');
  assert.equal(got.out.trim(), 'configmap/settings', got.out);
  const refused = await viewer('create', 'configmap', 'mine', '-n', 'default');
  assert.equal(refused.ok, false);
  assert.match(refused.out, /configmaps is forbidden: User "viewer" cannot create resource "configmaps" in API group "" in the namespace "default"/);
  assert.equal((await viewer('get', 'configmaps', '-n', 'kube-public')).ok, false, 'the binding holds in its namespace only');

  assert.equal((await viewer('auth', 'can-i', 'get', 'configmaps', '-n', 'default')).out.trim(), 'yes');
  assert.equal((await viewer('auth', 'can-i', 'create', 'configmaps', '-n', 'default')).out.trim(), 'no');
  assert.equal((await viewer('auth', 'can-i', 'get', 'secrets', '-n', 'default')).out.trim(), 'no', 'view does not read secrets');
  const list = await viewer('auth', 'can-i', '--list', '-n', 'default');
  assert.ok(list.ok, list.out);
  assert.match(list.out, /^configmaps\s+\[\]\s+\[\]\s+\[get list watch\]$/m);
  assert.match(list.out, /selfsubjectaccessreviews\.authorization\.k8s\.io\s+\[\]\s+\[\]\s+\[create\]/);

  // A ClusterRole labelled for aggregation widens view, as kube's aggregation controller makes it.
  assert.ok((await admin('create', 'clusterrole', 'secret-reader', '--verb=get', '--resource=secrets')).ok);
  assert.ok((await admin('label', 'clusterrole', 'secret-reader', 'rbac.authorization.k8s.io/aggregate-to-view=true')).ok);
  assert.equal((await viewer('auth', 'can-i', 'get', 'secrets', '-n', 'default')).out.trim(), 'yes');

  // --as: refused without the impersonate verb, then allowed for users but never into system:masters.
  const notYet = await viewer('get', 'configmaps', '-n', 'default', '--as=someone');
  assert.equal(notYet.ok, false);
  assert.match(notYet.out, /cannot impersonate resource "users"/);
  assert.ok((await admin('create', 'clusterrole', 'impersonator', '--verb=impersonate', '--resource=users,groups')).ok);
  assert.ok((await admin('create', 'clusterrolebinding', 'viewer-impersonates', '--clusterrole=impersonator', '--user=viewer')).ok);
  assert.ok((await admin('create', 'clusterrolebinding', 'someone-access', '--clusterrole=workspace-access', '--user=someone')).ok);
  const asOther = await viewer('auth', 'whoami', '--as=someone', '-o', 'jsonpath={.status.userInfo.username}');
  assert.equal(asOther.out, 'someone', asOther.out);
  const asSomeoneGet = await viewer('get', 'configmaps', '-n', 'default', '--as=someone');
  assert.equal(asSomeoneGet.ok, false, 'someone may enter but not read');
  assert.match(asSomeoneGet.out, /User "someone" cannot list resource "configmaps"/);
  const masters = await viewer('get', 'configmaps', '-n', 'default', '--as=someone', '--as-group=system:masters');
  assert.equal(masters.ok, false);
  assert.match(masters.out, /impersonating a privileged group is not allowed/);
});

test('a shard run with AlwaysAllow lets every authenticated caller in and says so to can-i', { skip }, async (t) => {
  const { shard } = await shardForTest(t);
  const anyone = await kubectlAs(t, await shard.kubeconfig({ user: 'anyone' }));
  assert.ok((await anyone('create', 'configmap', 'free', '-n', 'default')).ok);
  assert.equal((await anyone('auth', 'can-i', 'create', 'configmaps')).out.trim(), 'yes');
});

test('under RBAC, requests across every logical cluster are for system:masters only', async (t) => {
  const { shard, admin } = await shardForTest(t, { authorization: 'RBAC' });
  assert.equal((await admin.request('GET', '/clusters/*/api/v1/configmaps')).status, 200);
  const tenant = await shard.client({ user: 'tenant' });
  const res = await tenant.request<{ reason: string }>('GET', '/clusters/*/api/v1/configmaps');
  assert.equal(res.status, 403);
  assert.equal(res.body.reason, 'Forbidden');
});
