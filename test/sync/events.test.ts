// What a consumer sees of the sync: Events on its objects (aggregated, not one per attempt) and a
// condition when the copy cannot be made.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { loadKubeconfig } from '../../src/kube/kubeconfig.ts';
import { startComposition, type Composition } from '../../src/sim/composition.ts';
import { namespaceName } from '../../src/sync/naming.ts';
import type { PublishedResource } from '../../src/sync/types.ts';
import { SyncWorker } from '../../src/sync/worker.ts';
import { makeTempDir, waitFor } from '../helpers/wait.ts';
import { exportName, group, startSyncStack, version, type SyncStack, type Workspace } from './stack.ts';

interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}
interface Vm {
  metadata: { name: string; uid: string };
  status?: { conditions?: Condition[] };
}
interface KubeEvent {
  metadata: { name: string };
  involvedObject: { name: string; uid: string; kind: string };
  type: string;
  reason: string;
  message: string;
  count: number;
}

const resource: PublishedResource = { group, version, resource: 'virtualmachines', kind: 'VirtualMachine', namespaceSuffix: 'vm', related: [] };
const copied = 'sync.kcp-edge.io/Copied';

let tmp: Awaited<ReturnType<typeof makeTempDir>>;
let stack: SyncStack;
let composition: Composition;
let worker: SyncWorker;

before(async () => {
  tmp = await makeTempDir();
  stack = await startSyncStack(tmp.dir);
  // Holds each copy a while after its deletion, as Crossplane does while it deletes the real thing.
  composition = startComposition({ client: stack.serviceClient, group, version, resource: 'virtualmachines', releaseDelayMs: 1_500 });
  worker = new SyncWorker({
    agentName: 'compute',
    resources: [resource],
    kcp: await loadKubeconfig(stack.kcpKubeconfig),
    endpointSlice: { cluster: stack.exportCluster, name: exportName },
    service: await loadKubeconfig(stack.serviceKubeconfig),
    deletionPollMs: 100,
    eventIntervalMs: 300,
    retry: { maxAttempts: 1_000, backoff: { baseMs: 50, capMs: 100, jitter: 0 } },
    cleanupMs: 60_000,
  });
  worker.start();
  await waitFor(() => worker.ready, { what: 'worker ready', timeoutMs: 20_000 });
});

after(async () => {
  await worker.stop();
  await composition.stop();
  await stack.close();
  await tmp[Symbol.asyncDispose]();
});

const vmPath = (ws: Workspace, name = '') => `/clusters/${ws.cluster}/apis/${group}/${version}/namespaces/default/virtualmachines${name === '' ? '' : `/${name}`}`;

async function createVm(ws: Workspace, name: string): Promise<Vm> {
  const res = await ws.client.request<Vm>('POST', vmPath(ws), { body: { apiVersion: `${group}/${version}`, kind: 'VirtualMachine', metadata: { name }, spec: { cpu: 1 } } });
  assert.equal(res.status, 201, res.text);
  return res.body;
}

async function eventsOf(ws: Workspace, uid: string, reason: string): Promise<KubeEvent[]> {
  const res = await ws.client.request<{ items: KubeEvent[] }>('GET', `/clusters/${ws.cluster}/api/v1/namespaces/default/events`);
  assert.equal(res.status, 200, res.text);
  return res.body.items.filter((e) => e.involvedObject.uid === uid && e.reason === reason);
}

async function condition(ws: Workspace, name: string): Promise<Condition | undefined> {
  const res = await ws.client.request<Vm>('GET', vmPath(ws, name));
  return res.body.status?.conditions?.find((c) => c.type === copied);
}

test('a copy that cannot be created: a False condition and one Warning Event counting the attempts; once made, True and Synced', async () => {
  const ws = await stack.createWorkspace('events', 'clash', 0);
  // Somebody else's namespace where this workspace's copies would go.
  const ns = namespaceName('clash', ws.cluster, 'vm');
  const made = await stack.serviceClient.request('POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } } });
  assert.equal(made.status, 201, made.text);
  const vm = await createVm(ws, 'db');

  const failed = await waitFor(
    async () => {
      const c = await condition(ws, 'db');
      return c?.status === 'False' ? c : undefined;
    },
    { what: 'the False condition' },
  );
  assert.equal(failed.reason, 'NamespaceOwnedElsewhere');
  assert.match(failed.message ?? '', new RegExp(`namespace ${ns} on the service cluster belongs to nobody we know`));

  // Retried every 100 ms, written at most every 300 ms: one Event whose count climbs.
  const warnings = await waitFor(
    async () => {
      const found = await eventsOf(ws, vm.metadata.uid, 'SyncFailed');
      return found.length > 0 && found[0]!.count >= 3 ? found : undefined;
    },
    { what: 'the SyncFailed Event counting up' },
  );
  assert.equal(warnings.length, 1, 'repeated failures are one Event, not one per attempt');
  assert.equal(warnings[0]!.type, 'Warning');
  assert.equal(warnings[0]!.involvedObject.kind, 'VirtualMachine');
  assert.match(warnings[0]!.message, /belongs to nobody we know/);

  // The namespace is handed over to the workspace: the copy is made and the consumer is told.
  const handed = await stack.serviceClient.request('PATCH', `/api/v1/namespaces/${ns}`, {
    body: { metadata: { labels: { 'sync.kcp-edge.io/agent': 'compute', 'sync.kcp-edge.io/suffix': 'vm', 'sync.kcp-edge.io/cluster': ws.cluster } } },
    contentType: 'application/merge-patch+json',
  });
  assert.equal(handed.status, 200, handed.text);
  const ok = await waitFor(
    async () => {
      const c = await condition(ws, 'db');
      return c?.status === 'True' ? c : undefined;
    },
    { what: 'the condition turned True' },
  );
  assert.equal(ok.reason, 'Copied');
  const synced = await waitFor(
    async () => {
      const found = await eventsOf(ws, vm.metadata.uid, 'Synced');
      return found.length > 0 ? found : undefined;
    },
    { what: 'the Synced Event' },
  );
  assert.equal(synced.length, 1);
  assert.equal(synced[0]!.type, 'Normal');
  assert.match(synced[0]!.message, new RegExp(`${ns}/`));

  // The provider's conditions come back next to ours, and ours stays.
  await waitFor(
    async () => {
      const res = await ws.client.request<Vm>('GET', vmPath(ws, 'db'));
      const types = (res.body.status?.conditions ?? []).map((c) => `${c.type}=${c.status}`);
      return types.includes('Ready=True') && types.includes(`${copied}=True`) ? true : undefined;
    },
    { what: 'Ready from the copy next to our condition' },
  );
});

test('an object copied without trouble gets no condition, one Synced Event, and while its copy is held a WaitingForDeletion Event that counts', async () => {
  const ws = await stack.createWorkspace('events', 'plain', 1);
  const vm = await createVm(ws, 'web');
  await waitFor(async () => ((await eventsOf(ws, vm.metadata.uid, 'Synced')).length === 1 ? true : undefined), { what: 'the Synced Event' });
  await waitFor(
    async () => {
      const res = await ws.client.request<Vm>('GET', vmPath(ws, 'web'));
      return res.body.status?.conditions?.some((c) => c.type === 'Ready') ? true : undefined;
    },
    { what: 'status back' },
  );
  assert.equal(await condition(ws, 'web'), undefined, 'no condition of ours on the usual path');

  assert.equal((await ws.client.request('DELETE', vmPath(ws, 'web'))).status, 202, 'held by our finalizer');
  const waiting = await waitFor(
    async () => {
      const found = await eventsOf(ws, vm.metadata.uid, 'WaitingForDeletion');
      return found.length > 0 && found[0]!.count >= 2 ? found : undefined;
    },
    { what: 'WaitingForDeletion counting up' },
  );
  assert.equal(waiting.length, 1, 'one Event for the wait, however often the worker looked');
  await waitFor(async () => ((await ws.client.request('GET', vmPath(ws, 'web'))).status === 404 ? true : undefined), { what: 'the object gone' });
});
