// End to end: real kubectl through the gateway to two stand-in shards, one workspace on each.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { StaticTokenAuthenticator } from '../../src/auth/static-token.ts';
import { startGateway, type Gateway } from '../../src/gateway/server.ts';
import { createCertificateAuthority, issueLoopbackServer, startShard, type SimShard } from '../../src/sim/index.ts';
import { makeTempDir, waitFor } from '../helpers/wait.ts';
import { StaticRoutingTable } from './fixtures.ts';

const run = promisify(execFile);
const kubectlPath = '/usr/bin/kubectl';
const skip = existsSync(kubectlPath) ? false : `${kubectlPath} is not installed: the kubectl end-to-end tests need it`;

interface Stack {
  gateway: Gateway;
  shards: SimShard[];
  kubeconfig: string;
  dir: string;
}

const workspaces = [
  { path: 'root:org-acme:proj-frontend', context: 'org-acme:proj-frontend', cluster: 'fr0nt1', shard: 0 },
  { path: 'root:org-acme:proj-backend', context: 'org-acme:proj-backend', cluster: 'b4ck3nd', shard: 1 },
];

async function startStack(t: TestContext): Promise<Stack> {
  const temp = await makeTempDir();
  t.after(() => temp[Symbol.asyncDispose]());
  const ca = await createCertificateAuthority('e2e-ca');
  const frontProxyCA = await createCertificateAuthority('e2e-front-proxy-ca');
  const [gatewayServing, gatewayClient] = await Promise.all([
    issueLoopbackServer(ca, 'kcp-edge'),
    frontProxyCA.issue({ commonName: 'kcp-edge-gateway', usage: 'client' }),
  ]);
  const shards = await Promise.all(
    ['shard-a', 'shard-b'].map((name) =>
      startShard({ name, ca, requestHeaderCA: frontProxyCA.certPem, requestHeaderAllowedNames: ['kcp-edge-gateway'] }),
    ),
  );
  t.after(() => Promise.all(shards.map((s) => s.close())));

  const routing = new StaticRoutingTable();
  shards.forEach((s) => routing.addShard(s.name, s.url));
  for (const ws of workspaces) {
    const shard = shards[ws.shard]!;
    routing.addRoute(ws.path, shard.name, ws.cluster);
    // The logical cluster as KCP would have it after scheduling the workspace onto this shard.
    const admin = await shard.client();
    const created = await admin.request('POST', `/clusters/${ws.cluster}/apis/core.kcp.io/v1alpha1/logicalclusters`, {
      body: { apiVersion: 'core.kcp.io/v1alpha1', kind: 'LogicalCluster', metadata: { name: 'cluster', annotations: { 'kcp.io/path': ws.path } }, spec: {} },
    });
    assert.ok(created.status < 300, `logical cluster ${ws.cluster}: ${created.status} ${created.text}`);
    const ns = await admin.request('POST', `/clusters/${ws.cluster}/api/v1/namespaces`, { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } } });
    assert.ok(ns.status < 300 || ns.status === 409, `namespace default in ${ws.cluster}: ${ns.text}`);
  }

  const gateway = await startGateway({
    listen: { host: '127.0.0.1', port: 0 },
    tls: { certPem: gatewayServing.certPem, keyPem: gatewayServing.keyPem },
    routing,
    authenticators: [StaticTokenAuthenticator.fromCsv('alice-token,alice,1001,"team-web,system:masters"\n')],
    upstream: { clientCertPem: gatewayClient.certPem, clientKeyPem: gatewayClient.keyPem, caPem: ca.certPem },
    logger: pino({ level: 'silent' }),
    drainTimeoutMs: 2000,
  });
  t.after(() => gateway.close());

  const kubeconfig = join(temp.dir, 'kubeconfig');
  const caFile = join(temp.dir, 'ca.crt');
  await writeFile(caFile, ca.certPem);
  const yaml = [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    ...workspaces.flatMap((ws) => [`- name: ${ws.context}`, '  cluster:', `    server: ${gateway.url}/clusters/${ws.context}`, `    certificate-authority: ${caFile}`]),
    'users:',
    '- name: alice',
    '  user:',
    '    token: alice-token',
    'contexts:',
    ...workspaces.flatMap((ws) => [`- name: ${ws.context}`, '  context:', `    cluster: ${ws.context}`, '    user: alice']),
    `current-context: ${workspaces[0]!.context}`,
    '',
  ].join('\n');
  await writeFile(kubeconfig, yaml);
  return { gateway, shards, kubeconfig, dir: temp.dir };
}

async function fetchStatus(stack: Stack, path: string): Promise<{ code: number; message: string }> {
  const ca = await readFile(join(stack.dir, 'ca.crt'), 'utf8');
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: stack.gateway.port, path, ca, agent: false, headers: { authorization: 'Bearer alice-token' } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(JSON.parse(body) as { code: number; message: string }));
    });
    req.on('error', reject);
    req.end();
  });
}

function kubectlIn(stack: Stack, context: string) {
  return async (...args: string[]): Promise<string> => {
    try {
      return (await run(kubectlPath, ['--kubeconfig', stack.kubeconfig, '--context', context, ...args])).stdout;
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new Error(`kubectl ${args.join(' ')} (${context}) failed: ${e.stderr ?? e.message}`, { cause: err });
    }
  };
}

test('kubectl through the gateway: two workspaces on two shards, isolated, exec over WebSocket, with the identity that crossed', { skip }, async (t) => {
  const stack = await startStack(t);
  const front = kubectlIn(stack, workspaces[0]!.context);
  const back = kubectlIn(stack, workspaces[1]!.context);

  // list, create, apply, patch, get in each workspace
  for (const [kubectl, color] of [[front, 'blue'], [back, 'green']] as const) {
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
    const child = execFile(kubectlPath, ['--kubeconfig', stack.kubeconfig, '--context', workspaces[0]!.context, 'exec', '-i', 'box', '--', 'cat'], (err, stdout, stderr) =>
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

test('kubectl get -w through the gateway sees changes; a stopped shard fails only its workspaces', { skip }, async (t) => {
  const stack = await startStack(t);
  const front = kubectlIn(stack, workspaces[0]!.context);
  const back = kubectlIn(stack, workspaces[1]!.context);
  assert.match(await front('create', 'configmap', 'watched', '--from-literal=v=1'), /created/);

  const watcher = spawn(kubectlPath, ['--kubeconfig', stack.kubeconfig, '--context', workspaces[0]!.context, 'get', 'configmaps', '-w', '--output-watch-events']);
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
  const direct = await fetchStatus(stack, `/clusters/${workspaces[1]!.context}/api/v1/namespaces/default/configmaps`);
  assert.equal(direct.code, 502);
  assert.equal(direct.message, 'the shard serving this workspace could not be reached');
  assert.match(await front('get', 'configmap', 'watched', '-o', 'name'), /configmap\/watched/);
});
