// The dev stack in-process: what stopping one shard does to the workspaces on it and on the other.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { startDevStack } from '../../src/dev/start.ts';

const run = promisify(execFile);
const kubectlPath = '/usr/bin/kubectl';
const skip = existsSync(kubectlPath) ? false : `${kubectlPath} is not installed: the kubectl end-to-end tests need it`;

test('dev stack: stopping one shard fails only its workspaces, with a Status error', { skip }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'kcp-edge-dev-stack-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const stack = await startDevStack({ dir, port: 0 });
  t.after(() => stack.stop());

  // What the stack created and wrote down matches: workspaces on both shards, the routing file lists them.
  const where = Object.fromEntries(stack.workspaces.map((w) => [w.path, w.shard]));
  assert.equal(where['root:org-acme:proj-frontend'], 'shard-a');
  assert.equal(where['root:org-acme:proj-backend'], 'shard-b');
  const routing = parse(await readFile(stack.files.routing, 'utf8')) as { routes: { path: string; cluster: string }[] };
  for (const w of stack.workspaces)
    assert.ok(
      routing.routes.some((r) => r.path === w.path && r.cluster === w.cluster),
      w.path,
    );

  const kubectl = async (context: string, ...args: string[]) =>
    (await run(kubectlPath, ['--kubeconfig', stack.files.kubeconfig, '--cache-dir', join(dir, 'kube-cache'), '--context', context, '--request-timeout=10s', ...args])).stdout;
  for (const ws of ['org-acme:proj-frontend', 'org-acme:proj-backend', 'org-globex:proj-apps']) {
    assert.match(await kubectl(ws, 'get', 'namespaces', '-o', 'name'), /namespace\/default/);
  }

  // Workspaces report the gateway's address (kcp reports its front door's), and it works as a server.
  const url = await kubectl('org-acme:proj-frontend', '--server', `${stack.url}/clusters/root:org-acme`, 'get', 'workspace', 'proj-backend', '-o', 'jsonpath={.spec.URL}');
  assert.equal(url, `${stack.url}/clusters/root:org-acme:proj-backend`);
  assert.match(await kubectl('org-acme:proj-frontend', '--server', url, 'get', 'namespaces', '-o', 'name'), /namespace\/default/);

  await stack.stopShard('shard-b');
  for (const ws of ['org-acme:proj-backend', 'org-globex:proj-apps']) {
    await assert.rejects(kubectl(ws, 'get', 'configmaps'), (err: { stderr: string }) => {
      assert.match(err.stderr, /Error from server \((InternalError|ServiceUnavailable|Timeout)\)/, ws);
      return true;
    });
  }
  assert.match(await kubectl('org-acme:proj-frontend', 'get', 'namespaces', '-o', 'name'), /namespace\/default/);
  assert.match(await kubectl('org-acme:proj-frontend', 'create', 'configmap', 'still-here'), /created/);

  // The stack audits with the shipped policy: that create is an Event naming the workspace and the user.
  const events = (await readFile(stack.files.auditLog, 'utf8'))
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  const create = events.find((e) => e['verb'] === 'create' && (e['objectRef'] as { resource?: string } | undefined)?.resource === 'configmaps');
  assert.ok(create, 'the create is in the audit log');
  assert.equal(create['apiVersion'], 'audit.k8s.io/v1');
  assert.equal(create['stage'], 'ResponseComplete');
  assert.equal((create['annotations'] as Record<string, string>)['kcp-edge.io/workspace'], 'root:org-acme:proj-frontend');
  assert.match((create['user'] as { username: string }).username, /alice/);
  // Shard-b's workspaces answered 503 while it was down: audited too, with the shard that failed them.
  assert.ok(events.some((e) => (e['responseStatus'] as { code: number }).code === 503));
});
