// One pass of the reconciler against stand-in servers, driven by hand so that the cache it reads can be
// made to lag behind the shard: what a pass reports as the echo of its own write decides whether the
// next watch event of that object wakes it, so a wrong echo leaves a change unhandled until the resync.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { loadKubeconfig } from '../../src/kube/kubeconfig.ts';
import { RestClient, type KubeObject } from '../../src/kube/rest-client.ts';
import { createSyncMetrics } from '../../src/sync/metrics.ts';
import { Namespaces } from '../../src/sync/namespaces.ts';
import { copyName, objectKey } from '../../src/sync/naming.ts';
import { Reconciler } from '../../src/sync/reconciler.ts';
import type { PublishedResource } from '../../src/sync/types.ts';
import { makeTempDir } from '../helpers/wait.ts';
import { group, startSyncStack, version, type SyncStack, type Workspace } from './stack.ts';

const resource: PublishedResource = { group, version, resource: 'virtualmachines', kind: 'VirtualMachine', namespaceSuffix: 'vm', related: [] };

let tmp: Awaited<ReturnType<typeof makeTempDir>>;
let stack: SyncStack;
let ws: Workspace;
let consumer: RestClient;
let service: RestClient;

before(async () => {
  tmp = await makeTempDir();
  stack = await startSyncStack(tmp.dir);
  ws = await stack.createWorkspace('org-a', 'app', 0);
  const kcp = await loadKubeconfig(stack.kcpKubeconfig);
  consumer = new RestClient({ ...kcp, server: stack.shards[0]!.url });
  service = new RestClient(await loadKubeconfig(stack.serviceKubeconfig));
});

after(async () => {
  await Promise.all([consumer.close(), service.close()]);
  await stack.close();
  await tmp[Symbol.asyncDispose]();
});

test('a status write is the echo of its pass only when nothing the pass acts on changed before it landed', async () => {
  const collection = `/clusters/${ws.cluster}/apis/${group}/${version}/namespaces/default/virtualmachines`;
  const name = 'vm-echo';
  const path = `${collection}/${name}`;
  const key = objectKey(ws.cluster, 'default', name);
  await consumer.create(collection, { apiVersion: `${group}/${version}`, kind: 'VirtualMachine', metadata: { name }, spec: { size: 'small' } });

  // What the pass reads as "the latest consumer object": set by hand, so it can be stale on purpose.
  let cached: KubeObject = await consumer.get(path);
  const echoes: KubeObject[] = [];
  const namespaces = new Namespaces(service, 'compute', 'vm');
  const reconciler = new Reconciler({
    agent: 'compute',
    resource,
    service,
    namespaces,
    metrics: createSyncMetrics(),
    consumer: () => ({ object: cached, client: consumer }),
    cachedCopy: () => 'unknown',
    rememberCopy: () => undefined,
    wroteConsumer: (_key, object) => void echoes.push(object),
    takeObservedAt: () => undefined,
    deletionPollMs: 50,
  });
  const copyPath = async (consumerName: string) => {
    const namespace = await namespaces.existing(ws.cluster);
    assert.ok(namespace !== undefined, 'the pass made the namespace');
    return `/apis/${group}/${version}/namespaces/${namespace}/virtualmachines/${copyName('default', consumerName)}`;
  };
  // The provider moves the copy's status on: the next pass has a status to bring back.
  const copyStatus = async (consumerName: string, phase: string) => void (await service.patch(`${await copyPath(consumerName)}/status`, { status: { phase } }));

  // The finalizer is a compare-and-swap on the version the pass read: its result is an echo.
  await reconciler.reconcile(key);
  assert.equal(echoes.length, 1);
  assert.deepEqual(echoes[0]!.metadata.finalizers, ['sync.kcp-edge.io/compute']);

  // A status write on an object nobody else touched: an echo too.
  await copyStatus(name, 'Running');
  cached = await consumer.get(path);
  await reconciler.reconcile(key);
  assert.equal(echoes.length, 2);
  assert.equal(echoes[1]!.metadata.resourceVersion, (await consumer.get(path)).metadata.resourceVersion);

  // The consumer deletes the object after the pass read it: the status write lands on the deleting
  // object, and must not pass for an echo, or the deletion's own event would be skipped.
  await copyStatus(name, 'Stopping');
  const stale = await consumer.get(path);
  await consumer.delete(path);
  cached = stale;
  await reconciler.reconcile(key);
  const live = await consumer.get(path);
  assert.ok(live.metadata.deletionTimestamp !== undefined);
  assert.equal(phaseOf(live), 'Stopping', 'the stale pass did write the status');
  assert.equal(echoes.length, 2, 'no echo for a write that landed on a deleted object');

  // A spec change after the read: not an echo either.
  const name2 = 'vm-spec';
  const path2 = `${collection}/${name2}`;
  const key2 = objectKey(ws.cluster, 'default', name2);
  await consumer.create(collection, { apiVersion: `${group}/${version}`, kind: 'VirtualMachine', metadata: { name: name2 }, spec: { size: 'small' } });
  cached = await consumer.get(path2);
  await reconciler.reconcile(key2);
  const echoed = echoes.length;
  await copyStatus(name2, 'Running');
  cached = await consumer.get(path2);
  await consumer.patch(path2, { spec: { size: 'large' } });
  await reconciler.reconcile(key2);
  assert.equal(phaseOf(await consumer.get(path2)), 'Running', 'the stale pass did write the status');
  assert.equal(echoes.length, echoed, 'no echo for a write that landed on a changed spec');

  // The deletion, read fresh, proceeds: the copy goes, then our finalizer, and the object with it.
  cached = await consumer.get(path);
  assert.deepEqual(await reconciler.reconcile(key), { requeueAfterMs: 50 });
  assert.equal(await service.getOrNull(await copyPath(name)), null);
  cached = await consumer.get(path);
  await reconciler.reconcile(key);
  assert.equal(await consumer.getOrNull(path), null);
});

function phaseOf(object: KubeObject): unknown {
  return (object.status as { phase?: unknown } | undefined)?.phase;
}
