// Real clients other than kubectl, through the gateway on the dev stack: Debian's Python client
// (`python3-kubernetes`) with a watch.Watch(), and @kubernetes/client-node informers. Each sees every
// object created while it runs; each skips, saying why, only when its client cannot be found.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CoreV1Api, KubeConfig, makeInformer, type V1ConfigMap } from '@kubernetes/client-node';
import type { DevStack } from '../../src/dev/stack.ts';
import { startDevStack } from '../../src/dev/start.ts';
import { waitFor } from '../helpers/wait.ts';

/** Debian installs the client for its own interpreter; a python3 earlier on PATH may lack it. */
function pythonWithKubernetes(): string | undefined {
  for (const python of ['/usr/bin/python3', 'python3']) {
    try {
      execFileSync(python, ['-c', 'import kubernetes'], { stdio: 'ignore' });
      return python;
    } catch {
      // not this one
    }
  }
  return undefined;
}

const python = pythonWithKubernetes();
let dir: string;
let stack: DevStack;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kcp-edge-clients-'));
  stack = await startDevStack({ dir, port: 0 });
});

after(async () => {
  await stack?.stop();
  await rm(dir, { recursive: true, force: true });
});

function owner(): CoreV1Api {
  const kc = new KubeConfig();
  kc.loadFromFile(stack.files.kubeconfig);
  kc.setCurrentContext('org-acme:proj-frontend');
  return kc.makeApiClient(CoreV1Api);
}

const configMap = (name: string): V1ConfigMap => ({ metadata: { name }, data: { made: name } });

// Lists, then watches from the list's resourceVersion, so nothing created after READY can be missed,
// whenever the watch request itself goes out.
const pythonWatch = `
import sys
from kubernetes import client, config, watch
config.load_kube_config(config_file=sys.argv[1], context=sys.argv[2])
v1 = client.CoreV1Api()
expected = set(sys.argv[3:])
rv = v1.list_namespaced_config_map("default").metadata.resource_version
print("READY", flush=True)
w = watch.Watch()
for event in w.stream(v1.list_namespaced_config_map, "default", resource_version=rv, timeout_seconds=20):
    name = event["object"].metadata.name
    if event["type"] == "ADDED" and name in expected:
        print("SEEN", name, flush=True)
        expected.discard(name)
        if not expected:
            w.stop()
sys.exit(1 if expected else 0)
`;

test(
  'Python client: a watch.Watch() through the gateway, as the view-only user, sees every object created while it runs',
  { skip: python === undefined ? 'python3-kubernetes is not installed (.ci/run installs it)' : false },
  async () => {
    const script = join(dir, 'watch.py');
    await writeFile(script, pythonWatch);
    const names = ['py-1', 'py-2', 'py-3', 'py-4', 'py-5'];
    // view grants list and watch: carol watches what alice creates.
    const child = spawn(python!, [script, stack.files.kubeconfig, 'carol@org-acme:proj-frontend', ...names], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      await waitFor(() => out.includes('READY') || child.exitCode !== null, { what: 'the Python client to list', timeoutMs: 15_000 });
      assert.match(out, /READY/);
      const api = owner();
      for (const name of names) await api.createNamespacedConfigMap({ namespace: 'default', body: configMap(name) });
      assert.equal(await exited, 0, out);
      assert.deepEqual([...out.matchAll(/^SEEN (\S+)$/gm)].map((m) => m[1]).sort(), names);
    } finally {
      if (child.exitCode === null) child.kill();
    }
  },
);

test('client-node: an informer through the gateway, as the view-only user, sees what the owner creates', async () => {
  const kc = new KubeConfig();
  kc.loadFromFile(stack.files.kubeconfig);
  kc.setCurrentContext('carol@org-acme:proj-frontend');
  const viewer = kc.makeApiClient(CoreV1Api);
  const informer = makeInformer(kc, '/api/v1/namespaces/default/configmaps', () => viewer.listNamespacedConfigMap({ namespace: 'default' }));
  const seen = new Set<string>();
  const errors: unknown[] = [];
  informer.on('add', (cm) => seen.add(cm.metadata?.name ?? ''));
  informer.on('error', (err) => errors.push(err));
  await informer.start();
  try {
    const names = ['node-1', 'node-2', 'node-3', 'node-4', 'node-5'];
    const api = owner();
    for (const name of names) await api.createNamespacedConfigMap({ namespace: 'default', body: configMap(name) });
    await waitFor(() => names.every((n) => seen.has(n)) || errors.length > 0, { what: 'the informer to see every ConfigMap', timeoutMs: 15_000 });
    assert.deepEqual(errors, []);
    assert.ok(
      informer.list('default').some((cm) => cm.metadata?.name === 'node-5'),
      'the informer cache holds them',
    );
  } finally {
    await informer.stop();
  }
});
