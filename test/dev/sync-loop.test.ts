// The whole loop as a newcomer meets it: through the gateway with real kubectl, apply a VirtualMachine in a
// project workspace; the sync worker mirrors it to the service cluster, the stand-in composition marks the
// copy Ready and writes its connection Secret, and both come back to the workspace.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { startDevStack } from '../../src/dev/start.ts';
import { waitFor } from '../helpers/wait.ts';

const run = promisify(execFile);
const kubectlPath = '/usr/bin/kubectl';
const skip = existsSync(kubectlPath) ? false : `${kubectlPath} is not installed: the kubectl end-to-end tests need it`;

test('dev stack: kubectl apply a VirtualMachine through the gateway → it shows Ready, its Secret comes back', { skip, timeout: 120_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'kcp-edge-dev-sync-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const stack = await startDevStack({ dir, port: 0 });
  t.after(() => stack.stop());
  const kubectl = async (...args: string[]) =>
    (
      await run(kubectlPath, [
        '--kubeconfig',
        stack.files.kubeconfig,
        '--cache-dir',
        join(dir, 'kube-cache'),
        '--context',
        'org-acme:proj-frontend',
        '--request-timeout=10s',
        ...args,
      ])
    ).stdout;

  const manifest = join(dir, 'vm.yaml');
  await writeFile(
    manifest,
    [
      'apiVersion: compute.cloud.example.com/v1alpha1',
      'kind: VirtualMachine',
      'metadata:',
      '  name: web-1',
      'spec:',
      '  cpu: 2',
      '  image: debian-12',
      '  writeConnectionSecretToRef:',
      '    name: web-1-conn',
    ].join('\n'),
  );
  assert.match(await kubectl('apply', '-f', manifest), /virtualmachine.compute.cloud.example.com\/web-1 created/);
  const ready = await waitFor(
    async () => {
      const out = await kubectl('get', 'virtualmachines', 'web-1', '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}');
      return out === 'True' ? out : undefined;
    },
    { what: 'VirtualMachine Ready', timeoutMs: 30_000, intervalMs: 250 },
  );
  assert.equal(ready, 'True');
  assert.match(await kubectl('get', 'virtualmachines'), /web-1\s+True\s+2/);
  assert.match(await kubectl('get', 'secret', 'web-1-conn', '-o', 'jsonpath={.data.username}'), /^YWRtaW4=$/);

  // The service side can be inspected with the kubeconfig the stack wrote.
  const service = join(dir, 'service-cluster.kubeconfig');
  assert.ok((await readFile(service, 'utf8')).includes('server:'));
  const copies = (await run(kubectlPath, ['--kubeconfig', service, '--cache-dir', join(dir, 'kube-cache'), 'get', 'virtualmachines', '-A', '-o', 'name'])).stdout;
  assert.match(copies, /virtualmachine.compute.cloud.example.com\/web-1/);
});
