// End to end as a new user would do it: `kcp-edge sim --dir D`, then nothing but real kubectl and D/kubeconfig.
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { waitFor } from '../helpers/wait.ts';

const run = promisify(execFile);
const kubectlPath = '/usr/bin/kubectl';
const skip = existsSync(kubectlPath) ? false : `${kubectlPath} is not installed: the kubectl end-to-end tests need it`;

// One `kcp-edge sim` process serves every test in this file: each test works in its own names.
let sim: { dir: string; kubectl: (...args: string[]) => Promise<string> };
let child: ChildProcess | undefined;

before(async () => {
  if (skip !== false) return;
  const dir = await mkdtemp(join(tmpdir(), 'kcp-edge-sim-e2e-'));
  child = spawn(process.execPath, ['src/cli.ts', 'sim', '--dir', dir, '--name', 'shard-e2e'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  await waitFor(() => output.includes('serving at') && existsSync(join(dir, 'kubeconfig')), { what: 'kcp-edge sim to serve', timeoutMs: 30_000 });
  const kubectl = async (...args: string[]) => (await run(kubectlPath, ['--kubeconfig', join(dir, 'kubeconfig'), ...args])).stdout;
  sim = { dir, kubectl };
});

after(async () => {
  if (child !== undefined && child.exitCode === null) {
    const exited = new Promise((resolve) => child?.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
  if (sim !== undefined) await rm(sim.dir, { recursive: true, force: true });
});

test('kubectl against `kcp-edge sim`: namespaces, apply, patch, delete, whoami', { skip }, async () => {
  const { dir, kubectl } = sim;
  assert.match(await readFile(join(dir, 'ca.crt'), 'utf8'), /BEGIN CERTIFICATE/);
  assert.match(await kubectl('get', 'namespaces'), /^default\s+Active\s+\d+s$/m);
  assert.match(await kubectl('create', 'namespace', 'shop'), /namespace\/shop created/);
  assert.match(await kubectl('get', 'ns', 'shop', '-o', 'jsonpath={.status.phase}'), /^Active$/);

  const manifest = join(dir, 'cm.yaml');
  const write = (value: string) => writeFile(manifest, `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: shop\ndata:\n  color: ${value}\n`);
  await write('blue');
  assert.match(await kubectl('apply', '-f', manifest), /configmap\/settings created/);
  await write('green');
  assert.match(await kubectl('apply', '-f', manifest), /configmap\/settings configured/);
  assert.equal(await kubectl('get', 'cm', 'settings', '-n', 'shop', '-o', 'jsonpath={.data.color}'), 'green');
  await write('red');
  assert.match(await kubectl('apply', '--server-side', '-f', manifest), /configmap\/settings serverside-applied/);
  assert.equal(await kubectl('get', 'cm', 'settings', '-n', 'shop', '-o', 'jsonpath={.data.color}'), 'red');
  const managers = await kubectl('get', 'cm', 'settings', '-n', 'shop', '--show-managed-fields', '-o', 'jsonpath={.metadata.managedFields[*].manager}');
  assert.match(managers, /kubectl/);

  assert.match(await kubectl('patch', 'cm', 'settings', '-n', 'shop', '-p', '{"data":{"size":"xl"}}'), /patched/);
  assert.match(await kubectl('patch', 'cm', 'settings', '-n', 'shop', '--type=json', '-p', '[{"op":"remove","path":"/data/color"}]'), /patched/);
  assert.equal(await kubectl('get', 'cm', 'settings', '-n', 'shop', '-o', 'jsonpath={.data}'), '{"size":"xl"}');
  assert.match(await kubectl('get', 'cm', '-n', 'shop'), /^NAME\s+DATA\s+AGE\nsettings\s+1\s+/);

  const whoami = await kubectl('auth', 'whoami');
  assert.match(whoami, /Username\s+kcp-admin/);
  assert.match(whoami, /Groups\s+\[system:masters system:authenticated\]/);

  await writeFile(
    join(dir, 'pod.yaml'),
    'apiVersion: v1\nkind: Pod\nmetadata:\n  name: box\n  namespace: shop\nspec:\n  containers:\n  - name: main\n    image: busybox\n    env: [{name: GREETING, value: hello}]\n',
  );
  await kubectl('apply', '-f', join(dir, 'pod.yaml'));
  assert.match(await kubectl('get', 'pods', '-n', 'shop'), /^box\s+1\/1\s+Running\s+0\s+/m);
  assert.equal(await kubectl('exec', '-n', 'shop', 'box', '--', 'echo', 'hello', 'exec'), 'hello exec\n');
  assert.match(await kubectl('exec', '-n', 'shop', 'box', '--', 'env'), /^GREETING=hello$/m);
  const piped = await new Promise<string>((resolve, reject) => {
    const cat = execFile(kubectlPath, ['--kubeconfig', join(dir, 'kubeconfig'), 'exec', '-i', '-n', 'shop', 'box', '--', 'cat'], (err, stdout) =>
      err ? reject(err) : resolve(stdout),
    );
    cat.stdin?.end('through stdin\n');
  });
  assert.equal(piped, 'through stdin\n');
  await assert.rejects(kubectl('exec', '-n', 'shop', 'box', '--', 'false'), /command terminated with exit code 1/);

  assert.match(await kubectl('delete', 'cm', 'settings', '-n', 'shop'), /configmap "settings" deleted/);
  assert.match(await kubectl('delete', 'namespace', 'shop'), /namespace "shop" deleted/);
  await assert.rejects(kubectl('get', 'ns', 'shop'), /NotFound|not found/);
});

test('kubectl get -w sees a change made from another shell within a second', { skip }, async (t) => {
  const { dir, kubectl } = sim;
  await kubectl('create', 'configmap', 'watched', '--from-literal=a=1');
  const watcher = spawn(kubectlPath, ['--kubeconfig', join(dir, 'kubeconfig'), 'get', 'cm', 'watched', '-w', '-o', 'jsonpath={.data.a}{"\\n"}'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => watcher.kill());
  let seen = '';
  watcher.stdout?.on('data', (c: Buffer) => (seen += c.toString()));
  await waitFor(() => seen.includes('1\n'), { what: 'initial watch output', timeoutMs: 30_000 });
  await kubectl('patch', 'cm', 'watched', '-p', '{"data":{"a":"2"}}');
  // The clock starts when the change is made (the patch command returned), not when kubectl started.
  const changedAt = Date.now();
  await waitFor(() => seen.includes('2\n'), { what: 'the change to reach kubectl get -w', timeoutMs: 5000, intervalMs: 5 });
  assert.ok(Date.now() - changedAt < 1000, `seen after ${Date.now() - changedAt} ms`);
});

test('kubectl inside a workspace, including a kind that appears only after an APIBinding', { skip }, async () => {
  const { dir, kubectl } = sim;
  const file = async (name: string, text: string) => {
    await writeFile(join(dir, name), text);
    return join(dir, name);
  };
  await kubectl('apply', '-f', await file('ws.yaml', 'apiVersion: tenancy.kcp.io/v1alpha1\nkind: Workspace\nmetadata:\n  name: shop\n'));
  await waitFor(async () => (await kubectl('get', 'workspace', 'shop', '-o', 'jsonpath={.status.phase}')) === 'Ready', { what: 'workspace Ready', timeoutMs: 20_000 });
  assert.match(await kubectl('get', 'workspaces'), /^NAME\s+TYPE\s+REGION\s+PHASE\s+URL\s+AGE\nshop\s+universal\s+Ready\s+https:\/\//);
  const url = await kubectl('get', 'workspace', 'shop', '-o', 'jsonpath={.spec.URL}');
  const inShop = (...args: string[]) => kubectl('--server', url, ...args);
  assert.match(await inShop('get', 'namespaces'), /^default\s+Active/m);
  await assert.rejects(inShop('get', 'widgets'), /doesn't have a resource type "widgets"/);

  await inShop(
    'apply',
    '-f',
    await file(
      'export.yaml',
      [
        'apiVersion: apis.kcp.io/v1alpha1',
        'kind: APIResourceSchema',
        'metadata:',
        '  name: v1.widgets.example.com',
        'spec:',
        '  group: example.com',
        '  names: {plural: widgets, singular: widget, kind: Widget, listKind: WidgetList}',
        '  scope: Namespaced',
        '  versions:',
        '  - name: v1alpha1',
        '    served: true',
        '    storage: true',
        '    schema: {type: object, x-kubernetes-preserve-unknown-fields: true}',
        '    subresources: {status: {}}',
        '    additionalPrinterColumns:',
        '    - {name: Size, type: integer, jsonPath: .spec.size}',
        '---',
        'apiVersion: apis.kcp.io/v1alpha1',
        'kind: APIExport',
        'metadata:',
        '  name: widgets',
        'spec:',
        '  latestResourceSchemas: [v1.widgets.example.com]',
        '---',
        'apiVersion: apis.kcp.io/v1alpha1',
        'kind: APIBinding',
        'metadata:',
        '  name: widgets',
        'spec:',
        '  reference:',
        '    export: {path: "root:shop", name: widgets}',
        '',
      ].join('\n'),
    ),
  );
  await waitFor(async () => (await inShop('get', 'apibinding', 'widgets', '-o', 'jsonpath={.status.phase}')) === 'Bound', { what: 'binding Bound' });
  const manifest = await file('widget.yaml', 'apiVersion: example.com/v1alpha1\nkind: Widget\nmetadata:\n  name: w1\nspec:\n  size: 3\n');
  assert.match(await inShop('apply', '-f', manifest), /widget.example.com\/w1 created/);
  assert.match(await inShop('apply', '--server-side', '-f', manifest), /serverside-applied/);
  assert.match(await inShop('get', 'widgets'), /^NAME\s+SIZE\s+AGE\nw1\s+3\s+/);
  assert.match(await inShop('patch', 'widget', 'w1', '--type=merge', '-p', '{"spec":{"size":4}}'), /patched/);
  assert.equal(await inShop('get', 'widget', 'w1', '-o', 'jsonpath={.spec.size}'), '4');
  assert.match(await inShop('delete', 'widget', 'w1'), /deleted/);
});
