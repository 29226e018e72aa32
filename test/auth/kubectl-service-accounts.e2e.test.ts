// As a new user would on `npm start`: a token from `kubectl create token default` works through the
// gateway in its own workspace only, and stops working once its ServiceAccount is deleted.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { devLookupCacheSeconds } from '../../src/dev/steps/service-accounts.ts';
import { providerPath } from '../../src/dev/steps/sync.ts';
import { computeExportName } from '../../src/sim/compute-export.ts';
import { startDevStack } from '../../src/dev/start.ts';
import { waitFor } from '../helpers/wait.ts';

const run = promisify(execFile);
const kubectlPath = '/usr/bin/kubectl';
const skip = existsSync(kubectlPath) ? false : `${kubectlPath} is not installed: the kubectl end-to-end tests need it`;

interface Whoami {
  status: { userInfo: { username: string; groups: string[]; extra?: Record<string, string[]> } };
}

test('kcp service-account tokens through the gateway: own workspace only, until the ServiceAccount is deleted', { skip }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'kcp-edge-sa-e2e-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const stack = await startDevStack({ dir, port: 0 });
  t.after(() => stack.stop());
  const kubectl = async (context: string, ...args: string[]) =>
    (await run(kubectlPath, ['--kubeconfig', stack.files.kubeconfig, '--cache-dir', join(dir, 'kube-cache'), '--context', context, '--request-timeout=10s', ...args])).stdout;
  const frontend = stack.workspaces.find((w) => w.path === 'root:org-acme:proj-frontend')!;

  const token = (await kubectl('org-acme:proj-frontend', 'create', 'token', 'default')).trim();
  const whoami = JSON.parse(await kubectl('org-acme:proj-frontend', '--token', token, 'auth', 'whoami', '-o', 'json')) as Whoami;
  assert.equal(whoami.status.userInfo.username, 'system:serviceaccount:default:default');
  assert.ok(whoami.status.userInfo.groups.includes('system:serviceaccounts:default'));
  assert.deepEqual(whoami.status.userInfo.extra?.['authentication.kcp.io/cluster-name'], [frontend.cluster]);
  // The shards enforce RBAC as kcp does: the service account may enter its workspace, and reads what it is bound to.
  await kubectl('org-acme:proj-frontend', 'create', 'rolebinding', 'default-view', '--clusterrole=view', '--serviceaccount=default:default');
  assert.match(await kubectl('org-acme:proj-frontend', '--token', token, 'get', 'serviceaccounts', '-o', 'name'), /serviceaccount\/default/);

  // An in-cluster client names no cluster: the token's own is used, as kcp does.
  const inCluster = JSON.parse(await kubectl('org-acme:proj-frontend', '--server', stack.url, '--token', token, 'auth', 'whoami', '-o', 'json')) as Whoami;
  assert.equal(inCluster.status.userInfo.username, 'system:serviceaccount:default:default');

  for (const other of ['org-acme:proj-backend', 'org-globex:proj-apps']) {
    await assert.rejects(kubectl(other, '--token', token, 'get', 'configmaps'), (err: { stderr: string }) => {
      assert.match(err.stderr, /You must be logged in to the server/, other);
      return true;
    });
  }

  // A provider's sync agent: a service account of the export's workspace lists every consumer's
  // objects through the export's virtual workspace, as on kcp.
  const providerShard = await stack.shards.get('shard-a')!.client();
  t.after(() => providerShard.close());
  const providerWs = await providerShard.request<{ spec: { cluster: string } }>('GET', `/clusters/root/apis/tenancy.kcp.io/v1alpha1/workspaces/${providerPath.split(':').at(-1)}`);
  const agentToken = await providerShard.request<{ status: { token: string } }>(
    'POST',
    `/clusters/${providerWs.body.spec.cluster}/api/v1/namespaces/default/serviceaccounts/default/token`,
    {
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: {} },
    },
  );
  assert.equal(agentToken.status, 201, JSON.stringify(agentToken.body));
  const viewUrl = `${stack.url}/services/apiexport/${providerPath}/${computeExportName}/clusters/*`;
  const listed = await kubectl('org-acme:proj-frontend', '--server', viewUrl, '--token', agentToken.body.status.token, 'get', 'virtualmachines', '-A', '-o', 'name');
  assert.equal(listed, '', 'no VirtualMachines yet, but the view answered');
  await assert.rejects(kubectl('org-acme:proj-frontend', '--server', viewUrl, '--token', token, 'get', 'virtualmachines', '-A'), (err: { stderr: string }) => {
    assert.match(err.stderr, /You must be logged in to the server/, 'a consumer workspace token is not the provider');
    return true;
  });

  // A legacy token Secret works the same way, while it holds the token.
  await run(kubectlPath, ['--kubeconfig', stack.files.kubeconfig, '--context', 'org-acme:proj-frontend', 'create', 'serviceaccount', 'robot']);
  await kubectlApply(stack.files.kubeconfig, {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'kubernetes.io/service-account-token',
    metadata: { name: 'robot-token', namespace: 'default', annotations: { 'kubernetes.io/service-account.name': 'robot' } },
  });
  const legacy = await waitFor(
    async () => {
      const b64 = await kubectl('org-acme:proj-frontend', 'get', 'secret', 'robot-token', '-o', 'jsonpath={.data.token}');
      return b64 === '' ? undefined : Buffer.from(b64, 'base64').toString();
    },
    { what: 'the legacy token to be filled in' },
  );
  const robot = JSON.parse(await kubectl('org-acme:proj-frontend', '--token', legacy, 'auth', 'whoami', '-o', 'json')) as Whoami;
  assert.equal(robot.status.userInfo.username, 'system:serviceaccount:default:robot');

  await kubectl('org-acme:proj-frontend', 'delete', 'serviceaccount', 'default');
  const deletedAt = Date.now();
  const boundMs = devLookupCacheSeconds * 1000;
  await waitFor(
    () =>
      kubectl('org-acme:proj-frontend', '--token', token, 'auth', 'whoami').then(
        () => false,
        (err: { stderr: string }) => /You must be logged in to the server/.test(err.stderr),
      ),
    { what: 'the token of the deleted ServiceAccount to be refused', timeoutMs: boundMs + 5_000, intervalMs: 100 },
  );
  const refusedAfterMs = Date.now() - deletedAt;
  t.diagnostic(`token refused ${refusedAfterMs} ms after its ServiceAccount was deleted (bound ${boundMs} ms)`);
  // kubectl itself takes a moment per call; the bound plus one call's time is what a client can see.
  assert.ok(refusedAfterMs <= boundMs + 2_000, `refused only after ${refusedAfterMs} ms`);
});

async function kubectlApply(kubeconfig: string, object: unknown): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const child = execFile(kubectlPath, ['--kubeconfig', kubeconfig, '--context', 'org-acme:proj-frontend', 'apply', '-f', '-'], (err) => (err ? reject(err) : resolve()));
    child.stdin?.end(JSON.stringify(object));
  });
}
