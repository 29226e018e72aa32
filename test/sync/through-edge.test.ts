// The sync worker outside the cluster, as `kcp-edge dev` runs it: it knows only the gateway's address and
// the provider service account's token. The endpoint slice read through the gateway names one gateway URL
// per shard and no shard address; consumers on both shards are mirrored through those URLs and get their
// status back; the shard-qualified URLs take no credential a /clusters/ URL would refuse; and shard-b
// stopping and coming back mid-sync, behind the gateway, ends with exactly one copy per object.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startDevStack } from '../../src/dev/start.ts';
import { computeExportName, computeGroup, computeVersion } from '../../src/sim/compute-export.ts';
import { KubeApiError, RestClient, type KubeObject } from '../../src/kube/rest-client.ts';
import { makeTempDir, waitFor } from '../helpers/wait.ts';

const vms = (cluster: string) => `/clusters/${cluster}/apis/${computeGroup}/${computeVersion}/namespaces/default/virtualmachines`;

async function status(send: () => Promise<unknown>): Promise<number> {
  try {
    await send();
    return 200;
  } catch (err) {
    if (err instanceof KubeApiError) return err.status;
    throw err;
  }
}

test('the sync worker reaches both shards through the gateway alone, by the URLs the endpoint slice names, through a shard-b restart', { timeout: 120_000 }, async (t) => {
  await using tmp = await makeTempDir();
  const stack = await startDevStack({ dir: tmp.dir, port: 0 });
  t.after(() => stack.stop());
  const ca = stack.need(stack.ca, 'the CA').certPem;
  const agent = stack.need(stack.syncAgent, 'the sync agent');
  const worker = stack.need(stack.syncWorker, 'the sync worker');
  const asAgent = new RestClient({ server: stack.url, caPem: ca, token: agent.token });
  t.after(() => asAgent.close());
  const shardAddresses = [...stack.shards.values()].map((s) => new URL(s.url).host);

  // The slice through the gateway: one gateway URL per shard, in a get, a list and a watch.
  const slicePath = `/clusters/${agent.providerCluster}/apis/apis.kcp.io/v1alpha1/apiexportendpointslices`;
  const edgeUrls = [...stack.shards.keys()].sort().map((shard) => `${stack.url}/shards/${shard}/services/apiexport/${agent.providerCluster}/${computeExportName}`);
  const got = await waitFor(
    async () => {
      const slice = await asAgent.get(`${slicePath}/${computeExportName}`);
      return (slice.status as { endpoints?: unknown[] } | undefined)?.endpoints?.length === edgeUrls.length ? slice : undefined;
    },
    { what: 'both shards in the slice' },
  );
  const urls = (o: KubeObject) => ((o.status as { endpoints: { url: string }[] }).endpoints ?? []).map((e) => e.url).sort();
  assert.deepEqual(urls(got), edgeUrls);
  const listed = await asAgent.list(slicePath);
  assert.deepEqual(urls(listed.items[0]!), edgeUrls);
  const watched = new AbortController();
  let event: KubeObject | undefined;
  for await (const e of asAgent.watch(slicePath, { resourceVersion: '0' }, watched.signal)) {
    event = e.object;
    break;
  }
  watched.abort();
  assert.deepEqual(urls(event!), edgeUrls);
  for (const doc of [got, listed]) for (const host of shardAddresses) assert.doesNotMatch(JSON.stringify(doc), new RegExp(host.replace(/\./g, '\\.')), 'no shard address');

  // The worker discovered exactly those, and serves both shards' consumers through them.
  await waitFor(() => worker.ready, { what: 'worker ready', timeoutMs: 20_000 });
  assert.deepEqual(worker.endpoints.sort(), edgeUrls);
  const frontend = stack.workspaces.find((w) => w.path === 'root:org-acme:proj-frontend')!;
  const backend = stack.workspaces.find((w) => w.path === 'root:org-acme:proj-backend')!;
  assert.notEqual(frontend.shard, backend.shard, 'consumers on both shards');
  const alice = stack.users.find((u) => u.name === 'alice')!;
  const asAlice = new RestClient({ server: stack.url, caPem: ca, token: alice.token });
  t.after(() => asAlice.close());
  for (const ws of [frontend, backend]) {
    await asAlice.request('POST', vms(ws.cluster), {
      body: { apiVersion: `${computeGroup}/${computeVersion}`, kind: 'VirtualMachine', metadata: { name: `vm-${ws.shard}` }, spec: { cpu: 1 } },
    });
  }
  for (const ws of [frontend, backend]) {
    await waitFor(
      async () => {
        const vm = await asAlice.get(`${vms(ws.cluster)}/vm-${ws.shard}`);
        return (vm.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
      },
      { what: `vm-${ws.shard} Ready in ${ws.path}`, timeoutMs: 30_000, intervalMs: 100 },
    );
  }

  // As strict as any workspace URL: no token is 401, a token of another realm 401, an unknown shard 403.
  const vwList = (base: string) => `${base}/clusters/*/apis/${computeGroup}/${computeVersion}/virtualmachines`;
  const anonymous = new RestClient({ server: edgeUrls[1]!, caPem: ca });
  t.after(() => anonymous.close());
  assert.equal(await status(() => anonymous.list(vwList(''))), 401);
  const aliceAtVw = new RestClient({ server: edgeUrls[1]!, caPem: ca, token: alice.token });
  t.after(() => aliceAtVw.close());
  assert.equal(await status(() => aliceAtVw.list(vwList(''))), 401);
  assert.equal(await status(() => asAgent.list(vwList(`/shards/shard-z/services/apiexport/${agent.providerCluster}/${computeExportName}`))), 403);
  assert.equal((await asAgent.list(vwList(new URL(edgeUrls[1]!).pathname))).items.length, 1, "shard-b's consumer, through shard-b's URL");

  // Shard-b stops behind the gateway while objects on both shards are being mirrored, and comes back.
  const shardB = stack.need(stack.shards.get(backend.shard), backend.shard);
  const create = (ws: typeof frontend, from: number, to: number) =>
    Promise.all(
      Array.from({ length: to - from }, (_, i) =>
        asAlice.request('POST', vms(ws.cluster), {
          body: {
            apiVersion: `${computeGroup}/${computeVersion}`,
            kind: 'VirtualMachine',
            metadata: { name: `web-${from + i}` },
            spec: { cpu: 1, writeConnectionSecretToRef: { name: `web-${from + i}-conn` } },
          },
        }),
      ),
    );
  await Promise.all([create(frontend, 0, 20), create(backend, 0, 20)]);
  const watchFailures = async () => (await worker.metrics.errors.get()).values.filter((v) => String(v.labels.kind).startsWith('watch_')).reduce((n, v) => n + v.value, 0);
  const failuresBefore = await watchFailures();
  await shardB.stop();
  const stopped = performance.now();
  await waitFor(async () => (await watchFailures()) > failuresBefore, { what: 'the worker noticing shard-b is gone', timeoutMs: 20_000 });
  await create(frontend, 20, 30);
  await shardB.start();
  const started = performance.now();
  const service = new RestClient(agent.service);
  t.after(() => service.close());
  const problems = async (): Promise<string[]> => {
    const found: string[] = [];
    const copies = await service.list(`/apis/${computeGroup}/${computeVersion}/virtualmachines`, { labelSelector: 'sync.kcp-edge.io/agent=compute' });
    const origins = copies.items.map((c) => c.metadata.annotations?.['sync.kcp-edge.io/origin']);
    if (copies.items.length !== 52) found.push(`${copies.items.length} copies, want 52`);
    if (new Set(origins).size !== origins.length) found.push('duplicate copies');
    for (const [ws, count] of [
      [frontend, 30],
      [backend, 20],
    ] as const) {
      const list = await asAlice.list(vms(ws.cluster));
      const ready = list.items.filter((o) =>
        (o.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
      );
      if (ready.length !== count + 1) found.push(`${ws.path}: ${ready.length} of ${count + 1} Ready`);
    }
    return found;
  };
  let last: string[] = [];
  try {
    await waitFor(async () => (last = await problems()).length === 0, { what: 'convergence after shard-b is back', timeoutMs: 60_000, intervalMs: 200 });
  } catch (err) {
    t.diagnostic(`not converged: ${last.join('; ')}`);
    throw err;
  }
  t.diagnostic(`shard-b down ${Math.round(started - stopped)} ms behind the gateway; converged ${Math.round(performance.now() - started)} ms after it was back`);
});
