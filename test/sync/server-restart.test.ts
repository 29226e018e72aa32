// A KCP shard or the service cluster restarting in the middle of mirroring: the stand-in stops (every
// connection cut, its objects kept as etcd keeps them), things change on the side still up, the
// stand-in starts again on the same address, and the worker must converge to exactly the expected
// copies, statuses and connection Secrets, with nothing duplicated and no error left behind. When the
// outage outlasts the retry budget (made small here rather than waiting minutes), keys give up; they
// must run again once the server answers, not at the next periodic resync (ten minutes away here).
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { loadKubeconfig } from '../../src/kube/kubeconfig.ts';
import { startComposition } from '../../src/sim/composition.ts';
import type { ApiResponse, SimShard } from '../../src/sim/index.ts';
import { SyncWorker } from '../../src/sync/worker.ts';
import type { PublishedResource } from '../../src/sync/types.ts';
import { recordingLog } from '../helpers/log.ts';
import { makeTempDir, waitFor } from '../helpers/wait.ts';
import { exportName, group, startSyncStack, version, type SyncStack, type Workspace } from './stack.ts';

const resource: PublishedResource = {
  group,
  version,
  resource: 'virtualmachines',
  kind: 'VirtualMachine',
  namespaceSuffix: 'vm',
  related: [{ kind: 'Secret', nameFrom: 'spec.writeConnectionSecretToRef.name' }],
};
const finalizer = 'sync.kcp-edge.io/compute';

interface Item {
  metadata: { name: string; namespace?: string; finalizers?: string[]; annotations?: Record<string, string> };
  status?: { conditions?: { type: string; status: string }[] };
}

/** A request through a client whose kept-alive connection may have died with a restarted server. */
async function retrying<T>(send: () => Promise<ApiResponse<T>>): Promise<ApiResponse<T>> {
  return waitFor(() => send().catch(() => undefined), { what: 'a request to go through', intervalMs: 50 });
}

async function counterTotal(counter: { get(): Promise<{ values: { value: number }[] }> }): Promise<number> {
  return (await counter.get()).values.reduce((sum, v) => sum + v.value, 0);
}

async function restartMidSync(t: TestContext, target: (stack: SyncStack) => SimShard, { outlastRetryBudget = false } = {}): Promise<void> {
  await using tmp = await makeTempDir();
  const stack = await startSyncStack(tmp.dir);
  const composition = startComposition({ client: stack.serviceClient, group, version, resource: 'virtualmachines' });
  const log = recordingLog();
  const logs = log.entries;
  const worker = new SyncWorker({
    agentName: 'compute',
    resources: [resource],
    kcp: await loadKubeconfig(stack.kcpKubeconfig),
    endpointSlice: { cluster: stack.exportCluster, name: exportName },
    service: await loadKubeconfig(stack.serviceKubeconfig),
    concurrency: 8,
    deletionPollMs: 200,
    cleanupMs: 600_000,
    resyncMs: 600_000,
    // Three attempts within a quarter of a second: any outage here outlasts it.
    ...(outlastRetryBudget ? { retry: { maxAttempts: 3, backoff: { baseMs: 20, capMs: 100, jitter: 0.5 } } } : {}),
    log,
  });
  t.after(async () => {
    await worker.stop();
    await composition.stop();
    await stack.close();
  });
  worker.start();
  await waitFor(() => worker.ready, { what: 'worker ready', timeoutMs: 20_000 });

  const server = target(stack);
  const workspaces: Workspace[] = [];
  for (let i = 0; i < 4; i++) workspaces.push(await stack.createWorkspace(`org${i}`, 'app', i % 2));
  const up = (ws: Workspace) => ws.shard !== server;
  const vms = (ws: Workspace) => `/clusters/${ws.cluster}/apis/${group}/${version}/namespaces/default/virtualmachines`;
  const expected = new Map<string, { ws: Workspace; name: string }>();
  const deleted = new Map<string, { ws: Workspace; name: string }>();
  const key = (ws: Workspace, name: string) => `${ws.cluster}|default/${name}`;
  const create = async (ws: Workspace, from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const name = `vm-${i}`;
      const res = await retrying(() =>
        ws.client.request('POST', vms(ws), {
          body: { apiVersion: `${group}/${version}`, kind: 'VirtualMachine', metadata: { name }, spec: { index: i, writeConnectionSecretToRef: { name: `${name}-conn` } } },
        }),
      );
      assert.ok(res.status === 201 || res.status === 409, res.text);
      expected.set(key(ws, name), { ws, name });
    }
  };
  const remove = async (ws: Workspace, ...names: string[]) => {
    for (const name of names) {
      const res = await retrying(() => ws.client.request('DELETE', `${vms(ws)}/${name}`));
      assert.ok([200, 202, 404].includes(res.status), res.text);
      expected.delete(key(ws, name));
      deleted.set(key(ws, name), { ws, name });
    }
  };
  const copies = async () =>
    (await stack.serviceClient.request<{ items: Item[] }>('GET', `/apis/${group}/${version}/virtualmachines?labelSelector=sync.kcp-edge.io/agent%3Dcompute`)).body.items;

  // Before: objects in every workspace; the server goes down while they are still being mirrored.
  await Promise.all(workspaces.map((ws) => create(ws, 0, 20)));
  await waitFor(async () => (await copies()).length >= 8 || undefined, { what: 'some copies', intervalMs: 10 });
  const atStop = (await copies()).length;
  const createdAtStop = expected.size;
  const failuresBefore = logs.filter((l) => l.msg === 'watch failed').length;
  const stopped = performance.now();
  await server.stop();
  assert.ok(atStop < createdAtStop, `stopped mid-sync (${atStop} of ${createdAtStop} copies)`);

  // While it is down: the worker notices, and the side still up changes (new objects, deletions).
  await waitFor(() => logs.filter((l) => l.msg === 'watch failed').length > failuresBefore, { what: 'the worker noticing the outage' });
  for (const ws of workspaces.filter(up)) {
    await create(ws, 20, 30);
    await remove(ws, 'vm-0', 'vm-1');
  }
  const gaveUp = () => logs.filter((l) => l.fields.gaveUp === true).length;
  if (outlastRetryBudget) await waitFor(() => gaveUp() > 0, { what: 'keys giving up while the server is down' });
  const gaveUpWhileDown = gaveUp();
  await server.start();
  const started = performance.now();
  t.diagnostic(`${server.name} down for ${Math.round(started - stopped)} ms, ${atStop}/${createdAtStop} copies when it stopped`);
  // After: the restarted side changes too.
  for (const ws of workspaces.filter((w) => !up(w))) {
    await create(ws, 20, 30);
    await remove(ws, 'vm-0', 'vm-1');
  }

  // Exactly the expected copies, one each; every object synced both ways; the deleted ones gone everywhere.
  const problems = async (): Promise<string[]> => {
    const found: string[] = [];
    const items = await copies();
    const origins = items.map((c) => c.metadata.annotations?.['sync.kcp-edge.io/origin'] ?? '?');
    if (items.length !== expected.size) found.push(`${items.length} copies, want ${expected.size}`);
    if (new Set(origins).size !== origins.length) found.push('duplicate copies');
    for (const o of origins) if (!expected.has(o)) found.push(`unexpected copy of ${o}`);
    for (const ws of workspaces) {
      const list = await ws.client.request<{ items: Item[] }>('GET', vms(ws));
      const secrets = await ws.client.request<{ items: Item[] }>('GET', `/clusters/${ws.cluster}/api/v1/namespaces/default/secrets`);
      if (list.status !== 200 || secrets.status !== 200) {
        found.push(`${ws.path}: ${list.status}/${secrets.status}`);
        continue;
      }
      const names = new Set(secrets.body.items.map((s) => s.metadata.name));
      for (const o of list.body.items) {
        const k = key(ws, o.metadata.name);
        if (!expected.has(k)) found.push(`${k} still there`);
        else if (JSON.stringify(o.metadata.finalizers) !== JSON.stringify([finalizer])) found.push(`${k} finalizers ${JSON.stringify(o.metadata.finalizers)}`);
        else if (o.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') !== true) found.push(`${k} not Ready`);
        else if (!names.has(`${o.metadata.name}-conn`)) found.push(`${k} has no connection Secret`);
      }
      for (const [k, d] of deleted) if (d.ws === ws && names.has(`${d.name}-conn`)) found.push(`${k} left its Secret behind`);
    }
    return found;
  };
  let last: string[] = [];
  try {
    await waitFor(async () => (last = await problems()).length === 0, { what: 'convergence', timeoutMs: 60_000, intervalMs: 200 });
  } catch (err) {
    t.diagnostic(`not converged: ${last.slice(0, 10).join('; ')}`);
    t.diagnostic(`worker log tail: ${JSON.stringify(logs.slice(-10))}`);
    // What the worker said of the keys still wrong, wherever in the log that was.
    const stuck = new Set([...expected.keys(), ...deleted.keys()].filter((k) => last.some((p) => p.includes(k))));
    t.diagnostic(`worker log of those keys: ${JSON.stringify(logs.filter((l) => stuck.has(String(l.fields.key))).slice(-20))}`);
    throw err;
  }
  t.diagnostic(
    `converged ${Math.round(performance.now() - started)} ms after the restart (${expected.size} objects, ${deleted.size} deleted, ${gaveUpWhileDown} gave up while it was down)`,
  );
  if (outlastRetryBudget) {
    assert.ok(gaveUpWhileDown > 0);
    assert.ok(
      logs.some((l) => l.msg.startsWith('server answers again')),
      'retried because the server came back',
    );
    await waitFor(async () => (await counterTotal(worker.metrics.givenUp)) === 0, { what: 'no key left given up' });
  } else {
    assert.deepEqual(
      logs.filter((l) => l.fields.gaveUp === true),
      [],
      'no key gave up',
    );
  }

  // No error left: a full pass over every key now fails nowhere and has nothing to write.
  await worker.idle();
  const errors = await counterTotal(worker.metrics.errors);
  const writes = await counterTotal(worker.metrics.synced);
  for (const r of worker.resources) r.resync();
  await worker.idle();
  assert.equal(await counterTotal(worker.metrics.errors), errors, 'a resync after convergence fails nowhere');
  assert.equal(await counterTotal(worker.metrics.synced), writes, 'and writes nothing');

  // What the workspaces' owners see of a service-cluster outage: nothing while the retries lasted; once
  // keys gave up, a Warning that does not name the service cluster's address. (A shard's own outage
  // leaves nowhere to write one.)
  if (server !== stack.service) return;
  const warnings = async () => {
    const lists = await Promise.all(
      workspaces.map((ws) => ws.client.request<{ items: { reason: string; message: string }[] }>('GET', `/clusters/${ws.cluster}/api/v1/namespaces/default/events`)),
    );
    return lists.flatMap((l) => l.body.items.filter((e) => e.reason === 'SyncFailed'));
  };
  if (!outlastRetryBudget) {
    assert.deepEqual(await warnings(), [], 'an outage within the retry budget is not reported to the workspaces');
    return;
  }
  const reported = await waitFor(async () => ((await warnings()).length > 0 ? warnings() : undefined), { what: 'a SyncFailed Event for a key that gave up' });
  const address = new URL(stack.service.url).host;
  for (const w of reported) assert.ok(!w.message.includes(address), `the Event names the service cluster: ${w.message}`);
}

test('a KCP shard restarting mid-sync: the worker converges to exactly the expected copies', { timeout: 150_000 }, (t) =>
  // Shard a: it also holds the export and its endpoint slice.
  restartMidSync(t, (stack) => stack.shards[0]!),
);

test('the service cluster restarting mid-sync: the worker converges to exactly the expected copies', { timeout: 150_000 }, (t) => restartMidSync(t, (stack) => stack.service));

test('a KCP shard down for longer than the retry budget: keys that gave up run again once it answers', { timeout: 150_000 }, (t) =>
  restartMidSync(t, (stack) => stack.shards[0]!, { outlastRetryBudget: true }),
);

test('the service cluster down for longer than the retry budget: keys that gave up run again once it answers', { timeout: 150_000 }, (t) =>
  restartMidSync(t, (stack) => stack.service, { outlastRetryBudget: true }),
);
