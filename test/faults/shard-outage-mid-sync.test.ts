// Shard-b stops for 20 s while the sync worker mirrors 1 000 objects spread over both shards, then comes
// back on the same address with its data (as a restarted kcp shard over etcd). The run must end with
// exactly 1 000 copies on the service cluster, never more than one copy per object at any point, and
// every object Ready (its status back), holding our finalizer and its connection Secret. It reports how
// long convergence took once the shard answered. KCP_EDGE_TEST_OUTAGE_SECONDS changes the outage
// (default 20).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadKubeconfig } from '../../src/kube/kubeconfig.ts';
import { startComposition } from '../../src/sim/composition.ts';
import type { ApiClient, ApiResponse } from '../../src/sim/index.ts';
import { SyncWorker } from '../../src/sync/worker.ts';
import type { PublishedResource } from '../../src/sync/types.ts';
import { recordingLog } from '../helpers/log.ts';
import { makeTempDir, waitFor } from '../helpers/wait.ts';
import { exportName, group, startSyncStack, version, type Workspace } from '../sync/stack.ts';

const objectCount = 1000;
const workspaceCount = 10;
const outageMs = Number(process.env['KCP_EDGE_TEST_OUTAGE_SECONDS'] ?? '20') * 1000;
const finalizer = 'sync.kcp-edge.io/compute';
const resource: PublishedResource = {
  group,
  version,
  resource: 'virtualmachines',
  kind: 'VirtualMachine',
  namespaceSuffix: 'vm',
  related: [{ kind: 'Secret', nameFrom: 'spec.writeConnectionSecretToRef.name' }],
};

interface Item {
  metadata: { name: string; finalizers?: string[]; annotations?: Record<string, string> };
  status?: { conditions?: { type: string; status: string }[] };
}

async function inParallel<T>(items: readonly T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

/** A request through a client whose kept-alive connection may have died with the stopped shard. */
async function retrying<T>(send: () => Promise<ApiResponse<T>>): Promise<ApiResponse<T>> {
  return waitFor(() => send().catch(() => undefined), { what: 'a request to go through', intervalMs: 50, timeoutMs: 60_000 });
}

test(`shard-b down ${outageMs / 1000} s in the middle of mirroring ${objectCount} objects: exactly ${objectCount} copies, every status back`, { timeout: 300_000 }, async (t) => {
  await using tmp = await makeTempDir();
  const stack = await startSyncStack(tmp.dir);
  const composition = startComposition({ client: stack.serviceClient, group, version, resource: 'virtualmachines' });
  const shardB = stack.shards[1]!;
  const workspaces: Workspace[] = [];
  for (let i = 0; i < workspaceCount; i++) workspaces.push(await stack.createWorkspace(`org${i}`, 'app', i % 2));
  const vms = (ws: Workspace) => `/clusters/${ws.cluster}/apis/${group}/${version}/namespaces/default/virtualmachines`;

  // Every object exists before the worker starts, so the outage lands in the middle of its work.
  const objects = Array.from({ length: objectCount }, (_, i) => ({ ws: workspaces[i % workspaceCount]!, name: `vm-${i}` }));
  await inParallel(objects, 16, async ({ ws, name }) => {
    const res = await ws.client.request('POST', vms(ws), {
      body: { apiVersion: `${group}/${version}`, kind: 'VirtualMachine', metadata: { name }, spec: { cpu: 1, writeConnectionSecretToRef: { name: `${name}-conn` } } },
    });
    assert.equal(res.status, 201, res.text);
  });
  const onB = objects.filter((o) => o.ws.shard === shardB).length;

  const log = recordingLog();
  // When each entry came, to tell when shard-b's watch answered again.
  const loggedAt = new Map<object, number>();
  const stamped = { ...log, info: (fields: object, msg: string) => (log.info(fields, msg), loggedAt.set(log.entries.at(-1)!, performance.now())) };
  const worker = new SyncWorker({
    agentName: 'compute',
    resources: [resource],
    kcp: await loadKubeconfig(stack.kcpKubeconfig),
    endpointSlice: { cluster: stack.exportCluster, name: exportName },
    service: await loadKubeconfig(stack.serviceKubeconfig),
    concurrency: 16,
    deletionPollMs: 200,
    cleanupMs: 600_000,
    resyncMs: 600_000,
    log: stamped,
  });
  t.after(async () => {
    await worker.stop();
    await composition.stop();
    await stack.close();
  });

  // Copies are counted all along: a duplicate that appears and is cleaned up later still fails the run.
  const service: ApiClient = stack.serviceClient;
  const copies = async () =>
    (await service.request<{ items: Item[] }>('GET', `/apis/${group}/${version}/virtualmachines?labelSelector=sync.kcp-edge.io/agent%3Dcompute`)).body.items;
  let most = 0;
  let duplicates = 0;
  const clustersOnB = new Set(workspaces.filter((ws) => ws.shard === shardB).map((ws) => ws.cluster));
  let copiesOfB = 0;
  const sample = async () => {
    const items = await copies();
    const origins = items.map((c) => c.metadata.annotations?.['sync.kcp-edge.io/origin'] ?? '');
    most = Math.max(most, items.length);
    duplicates = Math.max(duplicates, items.length - new Set(origins).size);
    copiesOfB = origins.filter((o) => clustersOnB.has(o.split('|')[0]!)).length;
    return items.length;
  };
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      await sample().catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  })();
  t.after(async () => {
    sampling = false;
    await sampler;
  });

  const began = performance.now();
  worker.start();
  const atStop = await waitFor(
    async () => {
      const count = await sample();
      return count >= objectCount / 4 ? count : undefined;
    },
    { what: 'a quarter of the copies', timeoutMs: 120_000, intervalMs: 10 },
  );
  const ofBAtStop = copiesOfB;
  await shardB.stop();
  const stopped = performance.now();
  assert.ok(atStop < objectCount, `stopped mid-sync (${atStop} of ${objectCount} copies)`);
  await new Promise((resolve) => setTimeout(resolve, outageMs)); // the outage itself is what is under test
  const duringOutage = await sample();
  const ofBDuringOutage = copiesOfB;
  await shardB.start();
  const started = performance.now();

  const problems = async (): Promise<string[]> => {
    const found: string[] = [];
    const items = await copies();
    const origins = new Set(items.map((c) => c.metadata.annotations?.['sync.kcp-edge.io/origin']));
    if (items.length !== objectCount) found.push(`${items.length} copies`);
    if (origins.size !== items.length) found.push(`${items.length - origins.size} duplicate copies`);
    for (const ws of workspaces) {
      const list = await retrying(() => ws.client.request<{ items: Item[] }>('GET', vms(ws)));
      const secrets = await retrying(() => ws.client.request<{ items: Item[] }>('GET', `/clusters/${ws.cluster}/api/v1/namespaces/default/secrets`));
      const names = new Set(secrets.body.items.map((s) => s.metadata.name));
      for (const o of list.body.items) {
        if (JSON.stringify(o.metadata.finalizers) !== JSON.stringify([finalizer])) found.push(`${ws.path}/${o.metadata.name}: finalizers ${JSON.stringify(o.metadata.finalizers)}`);
        else if (o.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') !== true) found.push(`${ws.path}/${o.metadata.name}: no status`);
        else if (!names.has(`${o.metadata.name}-conn`)) found.push(`${ws.path}/${o.metadata.name}: no Secret`);
      }
      if (list.body.items.length !== objectCount / workspaceCount) found.push(`${ws.path}: ${list.body.items.length} objects`);
    }
    return found;
  };
  let last: string[] = [];
  try {
    await waitFor(async () => (last = await problems()).length === 0, { what: 'convergence', timeoutMs: 180_000, intervalMs: 250 });
  } catch (err) {
    t.diagnostic(`not converged: ${last.length} problems, e.g. ${last.slice(0, 5).join('; ')}`);
    throw err;
  }
  const converged = performance.now();
  await sample();
  const gaveUp = log.entries.filter((l) => l.fields.gaveUp === true).length;
  const rewatched = log.entries.find((l) => l.msg.startsWith('server answers again') && String(l.fields.server).startsWith(shardB.url) && (loggedAt.get(l) ?? 0) > started);
  t.diagnostic(
    `${objectCount} objects (${onB} on shard-b); shard-b stopped at ${atStop} copies (${ofBAtStop} of its objects), ${Math.round(stopped - began)} ms after the worker started; ` +
      `down ${Math.round(started - stopped)} ms (${duringOutage} copies when it came back, ${ofBDuringOutage} of its objects); its watch answered again ${rewatched === undefined ? '?' : Math.round(loggedAt.get(rewatched)! - started)} ms after it did; converged ${Math.round(converged - started)} ms after it answered, ` +
      `${Math.round(converged - began)} ms in all; at most ${most} copies, ${duplicates} duplicates, ${gaveUp} keys gave up`,
  );
  assert.equal(most, objectCount, 'never more copies than objects');
  assert.equal(duplicates, 0, 'never two copies of one object');
});
