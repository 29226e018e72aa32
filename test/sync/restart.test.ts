// kill -9 in the middle of mirroring, then start again: the same state, nothing twice. The worker runs as
// a child process exactly as operators run it.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { makeTempDir, waitFor } from '../helpers/wait.ts';
import { exportName, group, startSyncStack, version, type Workspace } from './stack.ts';

interface List {
  items: { metadata: { name: string; namespace?: string; finalizers?: string[]; annotations?: Record<string, string> } }[];
}

function startWorker(config: string): ChildProcess {
  const child = spawn('./node_modules/.bin/node', ['src/cli.ts', 'sync', '--config', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr?.resume();
  return child;
}

test('kill -9 mid-sync, then restart: converges with no duplicates', { timeout: 120_000 }, async (t) => {
  await using tmp = await makeTempDir();
  const stack = await startSyncStack(tmp.dir);
  const children: ChildProcess[] = [];
  t.after(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await stack.close();
  });
  const config = join(tmp.dir, 'sync.yaml');
  await writeFile(
    config,
    [
      'agentName: compute',
      'kcp:',
      `  kubeconfig: ${stack.kcpKubeconfig}`,
      `  endpointSlice: { cluster: "${stack.exportCluster}", name: ${exportName} }`,
      'serviceCluster:',
      `  kubeconfig: ${stack.serviceKubeconfig}`,
      'resources:',
      `  - { group: ${group}, version: ${version}, resource: virtualmachines, kind: VirtualMachine, namespaceSuffix: vm }`,
      'workers: 4',
      'listen: 127.0.0.1:0',
    ].join('\n'),
  );

  const workspaces: Workspace[] = [];
  for (let i = 0; i < 4; i++) workspaces.push(await stack.createWorkspace(`org${i}`, 'app', i % 2));
  const perWorkspace = 60;
  const total = workspaces.length * perWorkspace;
  const copies = async () => (await stack.serviceClient.request<List>('GET', `/apis/${group}/${version}/virtualmachines`)).body.items;

  const first = startWorker(config);
  children.push(first);
  const started = performance.now();
  const creating = Promise.all(
    workspaces.map(async (ws) => {
      for (let i = 0; i < perWorkspace; i++) {
        const res = await ws.client.request('POST', `/clusters/${ws.cluster}/apis/${group}/${version}/namespaces/default/virtualmachines`, {
          body: { apiVersion: `${group}/${version}`, kind: 'VirtualMachine', metadata: { name: `vm-${i}` }, spec: { index: i } },
        });
        assert.equal(res.status, 201, res.text);
      }
    }),
  );
  // Some copies exist, not all (objects are still being created): kill it mid-flight.
  await waitFor(async () => (await copies()).length >= total / 6 || undefined, { what: 'some copies', timeoutMs: 30_000, intervalMs: 100 });
  first.kill('SIGKILL');
  await new Promise((r) => first.once('exit', r));
  const atKill = (await copies()).length;
  await creating;
  assert.ok(atKill < total, `killed mid-sync (${atKill} of ${total} copies)`);
  t.diagnostic(`killed with ${atKill}/${total} copies after ${Math.round(performance.now() - started)} ms`);

  const second = startWorker(config);
  children.push(second);
  await waitFor(async () => (await copies()).length === total || undefined, { what: `all ${total} copies (had ${atKill} at kill)`, timeoutMs: 60_000, intervalMs: 200 });
  t.diagnostic(`converged ${Math.round(performance.now() - started)} ms after the start`);
  const items = await copies();
  const origins = new Set(items.map((c) => c.metadata.annotations?.['sync.kcp-edge.io/origin']));
  assert.equal(origins.size, total, 'one copy per consumer object');
  const namespaces = new Set(items.map((c) => c.metadata.namespace));
  assert.equal(namespaces.size, workspaces.length, 'one namespace per workspace');
  for (const ws of workspaces) {
    const list = (await ws.client.request<List>('GET', `/clusters/${ws.cluster}/apis/${group}/${version}/virtualmachines`)).body.items;
    for (const o of list) assert.deepEqual(o.metadata.finalizers, ['sync.kcp-edge.io/compute'], `${o.metadata.name}: our finalizer exactly once`);
  }
  second.kill('SIGTERM');
  await new Promise((r) => second.once('exit', r));
});
