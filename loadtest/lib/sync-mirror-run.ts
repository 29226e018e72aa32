// One run of the sync benchmark: a fresh stand-in stack (two shards, a service cluster), W bound consumer
// workspaces, a sync worker in its own process, N creates at an offered rate, and a watch on the service
// cluster timing when each copy appears. Returns the measurements; sync-mirror.ts reports them.
import { spawn } from 'node:child_process';
import { copyFile, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadKubeconfig } from '../../src/kube/kubeconfig.ts';
import { RestClient } from '../../src/kube/rest-client.ts';
import { makeTempDir, waitFor } from '../../test/helpers/wait.ts';
import { exportName, group, version } from '../../test/sync/stack.ts';
import { startStandIns } from './sync-stand-ins.ts';
import { histogramQuantile, label, samples } from './prom-text.ts';
import { percentile } from './stats.ts';

export interface MirrorRun {
  objects: number;
  workspaces: number;
  /** Creating clients (and connections per shard). */
  concurrency: number;
  /** Offered creates per second; 0 = as fast as the clients can. */
  rate: number;
  /** The worker's reconcilers. */
  workers: number;
  deadlineSeconds: number;
  profile: boolean;
  /** The stand-ins on the creating clients' thread, as the benchmark first ran (default: a thread of their own). */
  inline: boolean;
}

export interface MirrorResult {
  run: MirrorRun;
  shards: number;
  created: number;
  mirrored: number;
  rate: number;
  createSeconds: number;
  createdPerSecond: number;
  mirrorSeconds: number;
  lag: { p50: number; p90: number; p99: number; max: number };
  /** From the worker's own histogram: a change observed → the copy written (ms). */
  workerLag: { p50: number; p99: number };
  /** CPU from the first create until both processes are quiet after the last copy, not setup. */
  cpuMs: { standIns: number; worker: number };
  cpuPerObject: { standIns: number; worker: number };
  /** The worker's writes by operation, per object (`create 1.00, finalizer 1.00`). */
  writesPerObject: string;
  errors: string;
  profiles: { title: string; file: string }[];
}

/** User + system CPU of another process, in ms (from /proc; NaN once it is gone). */
async function processCpuMs(pid: number | undefined): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function ownCpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

export async function measureSyncMirror(run: MirrorRun): Promise<MirrorResult> {
  const { objects, concurrency, rate } = run;
  const deadline = Date.now() + run.deadlineSeconds * 1000;
  await using tmp = await makeTempDir();
  const standIns = await startStandIns(tmp.dir, run.workspaces, { inline: run.inline });
  const stack = standIns.info;
  try {
    const workspaces = stack.workspaces;
    process.stderr.write(`stand-ins${run.inline ? ' (inline)' : ''} and ${run.workspaces} workspaces in ${Math.round(stack.setupMs)} ms\n`);

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
        `workers: ${run.workers}`,
        'listen: 127.0.0.1:0',
      ].join('\n'),
    );
    const profileDir = join(tmp.dir, 'profiles');
    const profileArgs = run.profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
    const worker = spawn('./node_modules/.bin/node', [...profileArgs, 'src/cli.ts', 'sync', '--config', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    const stopWorker = () => worker.exitCode === null && worker.kill('SIGKILL');
    process.on('exit', stopWorker);
    let metricsPort = 0;
    // What failed, by message (the worker logs each failed reconcile): errors are part of the lag.
    const failures = new Map<string, number>();
    worker.stderr.setEncoding('utf8');
    worker.stderr.on('data', (chunk: string) => {
      const m = /"listen":"127\.0\.0\.1:(\d+)"/.exec(chunk);
      if (m !== null) metricsPort = Number(m[1]);
      for (const line of chunk.split('\n')) {
        const error = /"error":"([^"]{0,120})/.exec(line)?.[1];
        if (error !== undefined) failures.set(error, (failures.get(error) ?? 0) + 1);
      }
    });
    const service = new RestClient(await loadKubeconfig(stack.serviceKubeconfig));
    const kcp = await loadKubeconfig(stack.kcpKubeconfig);
    const clients = new Map(stack.shardUrls.map((url) => [url, new RestClient({ ...kcp, server: url }, { connections: concurrency })]));
    const abort = new AbortController();
    let watching: Promise<void> = Promise.resolve();
    try {
      await waitFor(async () => metricsPort !== 0 && (await fetch(`http://127.0.0.1:${metricsPort}/readyz`)).ok, { what: 'worker ready', timeoutMs: 30_000, intervalMs: 100 });

      // Watch the service cluster: when did each copy first appear?
      const seen = new Map<string, number>();
      const list = await service.list(`/apis/${group}/${version}/virtualmachines`);
      watching = (async () => {
        for await (const event of service.watch(`/apis/${group}/${version}/virtualmachines`, { resourceVersion: list.metadata.resourceVersion }, abort.signal)) {
          const origin = event.object.metadata.annotations?.['sync.kcp-edge.io/origin'];
          if (event.type === 'ADDED' && origin !== undefined && !seen.has(origin)) seen.set(origin, performance.now());
        }
      })().catch(() => undefined);

      // Open every client connection before the clock starts: a burst of TLS handshakes at the first creates
      // would be charged to the lag of those objects, and measures connection setup, not the sync.
      await Promise.all(
        workspaces
          .slice(0, stack.shardUrls.length)
          .flatMap((ws) =>
            Array.from({ length: concurrency }, () =>
              clients.get(ws.shardUrl)!.list(`/clusters/${ws.cluster}/apis/${group}/${version}/namespaces/default/virtualmachines`, { limit: 1 }),
            ),
          ),
      );
      if (run.profile) await standIns.startProfile();
      const cpuAtStart = { standIns: ownCpuMs(), worker: await processCpuMs(worker.pid) };
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
            const ws = workspaces[i % run.workspaces]!;
            const name = `vm-${i}`;
            await clients.get(ws.shardUrl)!.create(`/clusters/${ws.cluster}/apis/${group}/${version}/namespaces/default/virtualmachines`, {
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
      await waitFor(() => seen.size >= created.size || Date.now() > deadline, { what: 'all mirrored', timeoutMs: run.deadlineSeconds * 1000, intervalMs: 100 });
      const mirroredAll = Math.max(...seen.values());
      // Work left after the last copy (Events written at a lower priority, say) is still work per object:
      // the CPU is read once both processes have gone quiet, within a bound.
      const cpuNow = async () => ({ standIns: ownCpuMs(), worker: await processCpuMs(worker.pid) });
      let cpuEnd = await cpuNow();
      const quietBy = Date.now() + 20_000;
      for (;;) {
        await new Promise((resolve) => setTimeout(resolve, 500));
        const later = await cpuNow();
        const busy = later.standIns - cpuEnd.standIns + (later.worker - cpuEnd.worker);
        cpuEnd = later;
        if (busy < 25 || Date.now() > quietBy) break;
      }
      const cpuMs = { standIns: cpuEnd.standIns - cpuAtStart.standIns, worker: cpuEnd.worker - cpuAtStart.worker };
      const benchProfile = run.profile ? await standIns.stopProfile() : undefined;

      const lags = [...created].flatMap(([key, at]) => (seen.has(key) ? [seen.get(key)! - at] : []));
      const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      const writes = [...samples(metrics, 'kcp_edge_sync_objects_synced_total')]
        .map(([labels, n]) => `${label(labels, 'operation') ?? '?'} ${(n / Math.max(1, created.size)).toFixed(2)}`)
        .join(', ');
      const errors =
        [
          ...[...samples(metrics, 'kcp_edge_sync_errors_total')].map(([labels, n]) => `${label(labels, 'kind') ?? '?'} ${n}`),
          ...[...failures]
            .sort((a, b) => b[1] - a[1])
            .slice(0, 3)
            .map(([message, n]) => `${n}× "${message}"`),
        ].join('; ') || 'none';

      const profiles: MirrorResult['profiles'] = [];
      if (run.profile) {
        // SIGTERM lets the worker drain and exit normally, which is when node writes its profile.
        const exited = new Promise((resolve) => worker.once('exit', resolve));
        worker.kill('SIGTERM');
        await exited;
        // Kept beside the results (ignored by git) for a closer look in a profiler.
        const stamp = new Date().toISOString().replace(/[:.]/g, '-');
        const kept = (name: string) => new URL(`../results/sync-${name}-${stamp}.cpuprofile`, import.meta.url).pathname;
        await writeFile(kept('stand-ins'), JSON.stringify(benchProfile));
        profiles.push({ title: `the stand-ins${run.inline ? ' and the clients' : ''} (during the run)`, file: kept('stand-ins') });
        const workerProfile = (await readdir(profileDir))[0];
        if (workerProfile !== undefined) {
          await copyFile(join(profileDir, workerProfile), kept('worker'));
          profiles.push({ title: 'the worker (its whole life)', file: kept('worker') });
        }
      }
      return {
        run,
        shards: stack.shardUrls.length,
        created: created.size,
        mirrored: seen.size,
        rate,
        createSeconds: (createdAll - start) / 1000,
        createdPerSecond: created.size / ((createdAll - start) / 1000),
        mirrorSeconds: (mirroredAll - start) / 1000,
        lag: { p50: percentile(lags, 50), p90: percentile(lags, 90), p99: percentile(lags, 99), max: Math.max(...lags) },
        workerLag: {
          p50: histogramQuantile(metrics, 'kcp_edge_sync_spec_lag_seconds', 0.5) * 1000,
          p99: histogramQuantile(metrics, 'kcp_edge_sync_spec_lag_seconds', 0.99) * 1000,
        },
        cpuMs,
        cpuPerObject: { standIns: cpuMs.standIns / Math.max(1, created.size), worker: cpuMs.worker / Math.max(1, created.size) },
        writesPerObject: writes || 'none',
        errors,
        profiles,
      };
    } finally {
      abort.abort();
      await watching;
      stopWorker();
      process.off('exit', stopWorker);
      for (const c of clients.values()) await c.close();
      await service.close();
    }
  } finally {
    await standIns.close();
  }
}
