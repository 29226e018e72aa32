// Sync worker benchmark (not a test): N VirtualMachines across W consumer workspaces on two stand-in
// shards, mirrored by a sync worker running as its own process (as the sidecar does) into a stand-in
// service cluster. Reports the time to mirror everything and the lag from each consumer create being
// acknowledged to its copy appearing in a watch on the service cluster.
//
//   node loadtest/sync-mirror.ts                       # 10 000 objects, 100 workspaces
//   node loadtest/sync-mirror.ts --objects 1000 --workspaces 10
//   node loadtest/sync-mirror.ts --rate 0                  # create as fast as 32 clients can: throughput
//
// Objects are created at --rate per second (default 200, above the worker's old throughput), so the lag
// is that of a sync keeping up. With --rate 0 the creating clients saturate the process that also runs
// the stand-ins, and the lag then mostly measures that process's backlog.
//
// Bounded: gives up after --deadline seconds (default 110) and reports what it has.
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadKubeconfig } from '../src/kube/kubeconfig.ts';
import { RestClient } from '../src/kube/rest-client.ts';
import { makeTempDir, waitFor } from '../test/helpers/wait.ts';
import { exportName, group, startSyncStack, version, type Workspace } from '../test/sync/stack.ts';
import { percentile } from './lib/stats.ts';

const { values } = parseArgs({
  options: {
    objects: { type: 'string', default: '10000' },
    workspaces: { type: 'string', default: '100' },
    concurrency: { type: 'string', default: '32' },
    rate: { type: 'string', default: '200' },
    workers: { type: 'string', default: '128' },
    deadline: { type: 'string', default: '110' },
  },
});
const objects = Number(values.objects);
const workspaceCount = Number(values.workspaces);
const concurrency = Number(values.concurrency);
const rate = Number(values.rate);
const deadline = Date.now() + Number(values.deadline) * 1000;

await using tmp = await makeTempDir();
const stack = await startSyncStack(tmp.dir);
const setupStart = performance.now();
const workspaces: Workspace[] = [];
for (let i = 0; i < workspaceCount; i++) workspaces.push(await stack.createWorkspace(`org${i % 10}`, `proj${i}`, i % 2));
process.stderr.write(`${workspaceCount} workspaces in ${Math.round(performance.now() - setupStart)} ms\n`);

const config = join(tmp.dir, 'sync.yaml');
await writeFile(
  config,
  [
    'agentName: bench',
    'kcp:',
    `  kubeconfig: ${stack.kcpKubeconfig}`,
    `  endpointSlice: { cluster: "${stack.exportCluster}", name: ${exportName} }`,
    'serviceCluster:',
    `  kubeconfig: ${stack.serviceKubeconfig}`,
    'resources:',
    `  - { group: ${group}, version: ${version}, resource: virtualmachines, kind: VirtualMachine, namespaceSuffix: vm }`,
    `workers: ${values.workers}`,
    'listen: 127.0.0.1:0',
  ].join('\n'),
);
const worker = spawn('./node_modules/.bin/node', ['src/cli.ts', 'sync', '--config', config], { stdio: ['ignore', 'ignore', 'pipe'] });
let metricsPort = 0;
worker.stderr.setEncoding('utf8');
worker.stderr.on('data', (chunk: string) => {
  const m = /"listen":"127\.0\.0\.1:(\d+)"/.exec(chunk);
  if (m !== null) metricsPort = Number(m[1]);
});
const stopWorker = () => worker.exitCode === null && worker.kill('SIGKILL');
process.on('exit', stopWorker);
await waitFor(async () => metricsPort !== 0 && (await fetch(`http://127.0.0.1:${metricsPort}/readyz`)).ok, { what: 'worker ready', timeoutMs: 30_000, intervalMs: 100 });

// Watch the service cluster: when did each copy first appear?
const service = new RestClient(await loadKubeconfig(stack.serviceKubeconfig));
const seen = new Map<string, number>();
const abort = new AbortController();
const watching = (async () => {
  const list = await service.list(`/apis/${group}/${version}/virtualmachines`);
  for await (const event of service.watch(`/apis/${group}/${version}/virtualmachines`, { resourceVersion: list.metadata.resourceVersion }, abort.signal)) {
    const origin = event.object.metadata.annotations?.['sync.kcp-edge.io/origin'];
    if (event.type === 'ADDED' && origin !== undefined && !seen.has(origin)) seen.set(origin, performance.now());
  }
})().catch(() => undefined);

const kcp = await loadKubeconfig(stack.kcpKubeconfig);
const clients = new Map(stack.shards.map((s) => [s.url, new RestClient({ ...kcp, server: s.url }, { connections: concurrency })]));
// Open every client connection before the clock starts: a burst of TLS handshakes at the first creates
// would be charged to the lag of those objects, and measures connection setup, not the sync.
await Promise.all(
  workspaces
    .slice(0, stack.shards.length)
    .flatMap((ws) =>
      Array.from({ length: concurrency }, () =>
        clients.get(ws.shard.url)!.list(`/clusters/${ws.cluster}/apis/${group}/${version}/namespaces/default/virtualmachines`, { limit: 1 }),
      ),
    ),
);
const created = new Map<string, number>();
const start = performance.now();
let next = 0;
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (next < objects && Date.now() < deadline) {
      const i = next++;
      // Open loop at --rate: object i is due at i/rate whatever happened to the others, so the lag is
      // measured at a known offered load rather than at whatever rate a saturated process manages.
      const due = start + (rate > 0 ? (i * 1000) / rate : 0) - performance.now();
      if (due > 0) await new Promise((resolve) => setTimeout(resolve, due));
      const ws = workspaces[i % workspaceCount]!;
      const name = `vm-${i}`;
      await clients.get(ws.shard.url)!.create(`/clusters/${ws.cluster}/apis/${group}/${version}/namespaces/default/virtualmachines`, {
        apiVersion: `${group}/${version}`,
        kind: 'VirtualMachine',
        metadata: { name },
        spec: { cpu: 1 + (i % 4), image: 'debian-12' },
      });
      created.set(`${ws.cluster}|default/${name}`, performance.now());
    }
  }),
);
const createdAll = performance.now();
await waitFor(() => seen.size >= created.size || Date.now() > deadline, { what: 'all mirrored', timeoutMs: Number(values.deadline) * 1000, intervalMs: 100 });
const mirroredAll = Math.max(...seen.values());

const lags = [...created].flatMap(([key, at]) => (seen.has(key) ? [seen.get(key)! - at] : []));
// CPU used, which other load on the machine does not inflate the way it does the latencies.
const workerStat = (await readFile(`/proc/${worker.pid}/stat`, 'utf8').catch(() => '')).split(') ')[1]?.split(' ') ?? [];
const workerCpuMs = (Number(workerStat[11]) + Number(workerStat[12])) * 10;
const benchCpu = process.cpuUsage();
const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
const errors =
  metrics
    .split('\n')
    .filter((l) => l.startsWith('kcp_edge_sync_errors_total'))
    .join('\n  ') || 'none';
const ms = (v: number) => `${Math.round(v)} ms`;
process.stdout.write(
  [
    `sync mirror: ${created.size} objects across ${workspaceCount} workspaces on ${stack.shards.length} shards (worker: ${values.workers} reconcilers, own process)`,
    `  created in ${ms(createdAll - start)} (${Math.round(created.size / ((createdAll - start) / 1000))}/s, ${rate > 0 ? `offered ${rate}/s` : 'as fast as'} ${concurrency} concurrent clients${rate > 0 ? ' at most' : ''})`,
    `  mirrored ${seen.size}/${created.size}; all mirrored ${ms(mirroredAll - start)} after the first create (${Math.round(seen.size / ((mirroredAll - start) / 1000))}/s)`,
    `  lag create→copy: p50 ${ms(percentile(lags, 50))}, p90 ${ms(percentile(lags, 90))}, p99 ${ms(percentile(lags, 99))}, max ${ms(Math.max(...lags))}`,
    `  CPU: ${ms((benchCpu.user + benchCpu.system) / 1000)} in this process (stand-ins and clients), ${Number.isNaN(workerCpuMs) ? '?' : ms(workerCpuMs)} in the worker; load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} on ${availableParallelism()} CPUs`,
    `  worker errors: ${errors}`,
    '',
  ].join('\n'),
);

abort.abort();
await watching;
stopWorker();
for (const c of clients.values()) await c.close();
await service.close();
await stack.close();
