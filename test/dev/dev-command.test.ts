// Tried as a new user would: `kcp-edge dev` in a shell, then nothing but real kubectl and D/kubeconfig.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { waitFor } from '../helpers/wait.ts';

const run = promisify(execFile);
const kubectlPath = '/usr/bin/kubectl';
const skip = existsSync(kubectlPath) ? false : `${kubectlPath} is not installed: the kubectl end-to-end tests need it`;
const projects = ['org-acme:proj-frontend', 'org-acme:proj-backend', 'org-globex:proj-apps'];

test('kcp-edge dev: every project workspace works with kubectl, isolated from the others', { skip }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'kcp-edge-dev-e2e-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const child = spawn(process.execPath, ['src/cli.ts', 'dev', '--dir', dir, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const kubeconfig = join(dir, 'kubeconfig');
  // The summary is printed just after the kubeconfig is written: wait for both, or the check below races it.
  await waitFor(() => (existsSync(kubeconfig) && output.includes('Ctrl-C stops everything')) || child.exitCode !== null, {
    what: 'the kubeconfig and the summary',
    timeoutMs: 90_000,
  });
  assert.equal(child.exitCode, null, output);
  assert.match(output, /gateway serving at https:\/\/127\.0\.0\.1:\d+/);
  assert.match(output, /export KUBECONFIG=/);

  const kubectl = async (context: string, args: string[], input?: string) => {
    const pending = run(kubectlPath, ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'kube-cache'), '--context', context, ...args]);
    if (input !== undefined) pending.child.stdin?.end(input);
    return (await pending).stdout;
  };
  assert.deepEqual(
    (await run(kubectlPath, ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'kube-cache'), 'config', 'get-contexts', '-o', 'name'])).stdout.trim().split('\n').sort(),
    [...projects, 'carol@org-acme:proj-frontend'].sort(),
    "one context per project, and the view-only user's",
  );

  for (const ws of projects) {
    const tag = ws.replace(/[^a-z0-9]+/g, '-');
    assert.match(await kubectl(ws, ['get', 'configmaps', '-o', 'name']), /^(configmap\/[a-z0-9.-]+\n)*$/);
    assert.match(await kubectl(ws, ['create', 'configmap', `made-${tag}`, '--from-literal=owner=' + tag]), /created/);
    const manifest = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: applied-${tag}\ndata:\n  colour: blue\n`;
    assert.match(await kubectl(ws, ['apply', '-f', '-'], manifest), /configmap\/applied-\S+ created/);
    assert.match(await kubectl(ws, ['patch', 'configmap', `applied-${tag}`, '--type=merge', '-p', '{"data":{"colour":"green"}}']), /patched/);
    assert.equal(await kubectl(ws, ['get', 'configmap', `applied-${tag}`, '-o', 'jsonpath={.data.colour}']), 'green');
  }

  // Each workspace sees its own objects and none of the others'.
  for (const ws of projects) {
    const names = (await kubectl(ws, ['get', 'configmaps', '-o', 'name'])).split('\n').filter((n) => n.startsWith('configmap/made-') || n.startsWith('configmap/applied-'));
    const tag = ws.replace(/[^a-z0-9]+/g, '-');
    assert.deepEqual(names.sort(), [`configmap/applied-${tag}`, `configmap/made-${tag}`], ws);
  }

  // get -w through the gateway: a change made from another shell arrives.
  for (const ws of projects) {
    const watcher = spawn(kubectlPath, ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'kube-cache'), '--context', ws, 'get', 'configmaps', '-w', '-o', 'name'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let seen = '';
    watcher.stdout.on('data', (c: Buffer) => (seen += c.toString()));
    try {
      const tag = ws.replace(/[^a-z0-9]+/g, '-');
      await waitFor(() => seen.includes(`configmap/made-${tag}`), { what: `the initial list of ${ws}`, timeoutMs: 30_000 });
      await kubectl(ws, ['create', 'configmap', `watched-${tag}`]);
      await waitFor(() => seen.includes(`configmap/watched-${tag}`), { what: `the watch event in ${ws}`, timeoutMs: 10_000 });
    } finally {
      watcher.kill();
    }
  }

  for (const ws of projects) {
    const tag = ws.replace(/[^a-z0-9]+/g, '-');
    assert.match(await kubectl(ws, ['delete', 'configmap', `made-${tag}`]), /deleted/);
    await assert.rejects(kubectl(ws, ['get', 'configmap', `made-${tag}`]), /NotFound/);
  }

  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  child.kill('SIGINT');
  assert.equal(await exited, 0, output);
  assert.match(output, /kcp-edge dev: stopped/);
});
