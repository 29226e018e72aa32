// End to end: real kubectl through the gateway to two stand-in shards, one workspace on each.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { waitFor } from '../helpers/wait.ts';
import { fetchStatus, kubectlIn, kubectlPath, kubectlMissing, startKubectlStack, stackWorkspaces } from './kubectl-stack.ts';

test('kubectl through the gateway: two stackWorkspaces on two shards, isolated, exec over WebSocket, with the identity that crossed', { skip: kubectlMissing }, async (t) => {
  const stack = await startKubectlStack(t);
  const front = kubectlIn(stack, stackWorkspaces[0]!.context);
  const back = kubectlIn(stack, stackWorkspaces[1]!.context);

  // list, create, apply, patch, get in each workspace
  for (const [kubectl, color] of [
    [front, 'blue'],
    [back, 'green'],
  ] as const) {
    assert.match(await kubectl('get', 'configmaps'), /No resources found|^$/);
    assert.match(await kubectl('create', 'configmap', 'settings', `--from-literal=color=${color}`), /configmap\/settings created/);
    const manifest = join(stack.dir, `app-${color}.yaml`);
    await writeFile(manifest, `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n  namespace: default\ndata:\n  owner: ${color}\n`);
    assert.match(await kubectl('apply', '-f', manifest), /configmap\/app created/);
    assert.match(await kubectl('patch', 'configmap', 'app', '-p', '{"data":{"size":"xl"}}'), /patched/);
    assert.equal(await kubectl('get', 'configmap', 'app', '-o', 'jsonpath={.data.owner}/{.data.size}'), `${color}/xl`);
  }
  // Isolation: each workspace sees only its own objects.
  assert.equal(await front('get', 'configmap', 'settings', '-o', 'jsonpath={.data.color}'), 'blue');
  assert.equal(await back('get', 'configmap', 'settings', '-o', 'jsonpath={.data.color}'), 'green');
  assert.match(await front('create', 'configmap', 'only-front'), /created/);
  await assert.rejects(back('get', 'configmap', 'only-front'), /NotFound|not found/);

  // The identity the shard saw is the one the gateway vouched for, privileged group dropped.
  const whoami = await front('auth', 'whoami', '-o', 'json');
  const review = JSON.parse(whoami) as { status: { userInfo: { username: string; groups?: string[] } } };
  assert.equal(review.status.userInfo.username, 'alice');
  assert.ok(review.status.userInfo.groups?.includes('team-web'));
  assert.ok(!review.status.userInfo.groups?.includes('system:masters'));

  // exec: kubectl's WebSocket (v5.channel.k8s.io, bearer token in the subprotocol) piped through the gateway.
  const podFile = join(stack.dir, 'pod.yaml');
  await writeFile(podFile, 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: box\nspec:\n  containers:\n  - name: main\n    image: busybox\n');
  assert.match(await front('apply', '-f', podFile), /pod\/box created/);
  assert.equal(await front('exec', 'box', '--', 'echo', 'hello', 'through', 'the', 'gateway'), 'hello through the gateway\n');
  const catted = await new Promise<string>((resolve, reject) => {
    const child = execFile(kubectlPath, ['--kubeconfig', stack.kubeconfig, '--context', stackWorkspaces[0]!.context, 'exec', '-i', 'box', '--', 'cat'], (err, stdout, stderr) =>
      err ? reject(new Error(stderr, { cause: err })) : resolve(stdout),
    );
    child.stdin!.end('stdin crosses too\n');
  });
  assert.equal(catted, 'stdin crosses too\n');
  await assert.rejects(back('exec', 'box', '--', 'echo'), /NotFound|not found/);

  // delete
  assert.match(await front('delete', 'configmap', 'only-front'), /deleted/);
  await assert.rejects(front('get', 'configmap', 'only-front'), /NotFound|not found/);
});

test('kubectl get -w through the gateway sees changes; a stopped shard fails only its stackWorkspaces', { skip: kubectlMissing }, async (t) => {
  const stack = await startKubectlStack(t);
  const front = kubectlIn(stack, stackWorkspaces[0]!.context);
  const back = kubectlIn(stack, stackWorkspaces[1]!.context);
  assert.match(await front('create', 'configmap', 'watched', '--from-literal=v=1'), /created/);

  const watcher = spawn(kubectlPath, ['--kubeconfig', stack.kubeconfig, '--context', stackWorkspaces[0]!.context, 'get', 'configmaps', '-w', '--output-watch-events']);
  t.after(() => watcher.kill());
  let out = '';
  watcher.stdout.on('data', (c: Buffer) => (out += c.toString()));
  watcher.stderr.on('data', (c: Buffer) => (out += c.toString()));
  await waitFor(() => /ADDED\s+watched/.test(out), { what: 'the initial list in kubectl get -w', timeoutMs: 20_000 });
  assert.match(await front('patch', 'configmap', 'watched', '-p', '{"data":{"v":"2"}}'), /patched/);
  await waitFor(() => /MODIFIED\s+watched/.test(out), { what: 'the MODIFIED event in kubectl get -w', timeoutMs: 10_000 }).catch((err: unknown) => {
    throw new Error(`kubectl get -w printed: ${out}`, { cause: err });
  });

  // Stop shard B: its workspace fails with a Status error, shard A keeps serving.
  await stack.shards[1]!.close();
  // kubectl's discovery reads the body raw, so it prints client-go's generic 5xx text; the body is a Status.
  await assert.rejects(back('get', 'configmaps'), /Error from server \(InternalError\)/);
  const direct = await fetchStatus(stack, `/clusters/${stackWorkspaces[1]!.context}/api/v1/namespaces/default/configmaps`);
  assert.equal(direct.code, 502);
  assert.equal(direct.message, 'the shard serving this workspace could not be reached');
  assert.match(await front('get', 'configmap', 'watched', '-o', 'name'), /configmap\/watched/);
});
