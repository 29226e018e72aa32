// Watch fan-out: thousands of concurrent watches, every one receiving every event the stand-in shard
// sends; latency from the shard's write to the client's read, direct and through kcp-edge, and what
// each open watch costs the gateway in memory.
import { readFile } from 'node:fs/promises';
import { groupCpuSeconds } from '../lib/cpu.ts';
import { monotonicMs } from '../lib/clock.ts';
import type { Managed } from '../lib/processes.ts';
import { percentile } from '../lib/stats.ts';
import { direct } from '../targets/direct.ts';
import { kcpEdge } from '../targets/kcp-edge.ts';
import type { RunningTarget, Target } from '../targets/types.ts';
import type { Scenario, ScenarioContext } from './index.ts';
import type { WatchClientMessage } from './watch-client.ts';

interface WatchResult {
  target: string;
  watches: number;
  delivered: number;
  expected: number;
  p50: number;
  p99: number;
  max: number;
  rssPerWatchKiB: number;
  rssBeforeMiB: number;
  rssAfterMiB: number;
  /** TLS connections (HTTP/2: sessions) the shard accepted while the watches opened. */
  upstreamConnections: number;
  openSeconds: number;
  /** CPU ms each side spent from the first event until the last arrived (or the wait gave up). */
  fanoutCpuMs: { gateway: number; upstream: number; clients: number };
  /** Wall ms from the first event to the last one read. */
  fanoutMs: number;
  /** /proc/loadavg's 1-minute figure when the fan-out started and ended. */
  load: [number, number];
}

export interface WatchClientShape {
  /** HTTP/2 watches, this many per client connection; HTTP/1.1, one connection each, when absent. */
  streamsPerConnection?: number;
  /**
   * Client processes the watches are split between (default 1). One process reading 50 000 watches
   * can cost more CPU per event than the gateway relaying them: its queue would then be what the
   * latency measures.
   */
  clientProcesses?: number;
}

async function loadAverage(): Promise<number> {
  return Number((await readFile('/proc/loadavg', 'utf8')).split(' ')[0]);
}

async function rssKiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Two events a second to every watch: 4 000 deliveries a second at 2 000 watches. */
const EVENT_INTERVAL_MS = 500;

export async function measure(
  context: Pick<ScenarioContext, 'env' | 'upstream' | 'log'>,
  target: Target,
  running: RunningTarget,
  count: number,
  events: number,
  shape: WatchClientShape = {},
): Promise<WatchResult> {
  const { env, upstream, log } = context;
  const ca = await readFile(env.caFile, 'utf8');
  const statsBefore = await upstream.stats();
  const watchersBefore = statsBefore.watchers;
  const openStarted = Date.now();
  const pid = running.pgids[0];
  const rssBefore = pid === undefined ? Number.NaN : await rssKiB(pid);
  const { clientProcesses = 1, ...clientShape } = shape;
  const clients: Managed[] = [];
  for (let i = 0; i < clientProcesses; i++) {
    // Whole client connections per process: the first processes take the remainder.
    const per = Math.ceil(count / clientProcesses);
    const share = Math.max(0, Math.min(per, count - i * per));
    if (share === 0) break;
    clients.push(
      env.processes.spawn(
        `watch-client-${target.name}-${i}`,
        process.execPath,
        [
          new URL('./watch-client.ts', import.meta.url).pathname,
          JSON.stringify({ port: running.port, path: `${running.path}?watch=1&allowWatchBookmarks=true`, headers: running.headers, ca, count: share, ...clientShape }),
        ],
        { ipc: true },
      ),
    );
  }
  const askOne = <T extends WatchClientMessage['type']>(client: Managed, type: T, send?: string) =>
    new Promise<Extract<WatchClientMessage, { type: T }>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`watch client: no "${type}" in time\n${client.tail()}`)), 600_000);
      const onMessage = (m: WatchClientMessage) => {
        if (m.type !== type) return;
        clearTimeout(timer);
        client.child.off('message', onMessage);
        resolve(m as Extract<WatchClientMessage, { type: T }>);
      };
      client.child.on('message', onMessage);
      if (send !== undefined) client.child.send({ type: send });
    });
  const ask = async <T extends WatchClientMessage['type']>(type: T, send?: string) => Promise.all(clients.map((c) => askOne(c, type, send)));
  const clientCpu = async () => (await Promise.all(clients.map((c) => groupCpuSeconds(c.pgid)))).reduce((a, b) => a + b, 0);
  try {
    const readies = await ask('ready');
    const failed = readies.reduce((n, r) => n + r.failed, 0);
    if (failed > 0) throw new Error(`${target.name}: ${failed} of ${count} watches failed: ${readies.find((r) => r.firstError !== undefined)?.firstError ?? ''}`);
    // Every watch must have reached the shard before the first event.
    const deadline = Date.now() + 120_000;
    while ((await upstream.stats()).watchers < watchersBefore + count) {
      if (Date.now() > deadline) throw new Error(`${target.name}: only ${(await upstream.stats()).watchers - watchersBefore} of ${count} watches reached the shard`);
      await sleep(50);
    }
    const openSeconds = (Date.now() - openStarted) / 1000;
    const rssAfter = pid === undefined ? Number.NaN : await rssKiB(pid);
    const upstreamConnections = (await upstream.stats()).connections - statsBefore.connections;
    log(`watch ${target.name}: ${count} watches open${pid === undefined ? '' : `, gateway RSS ${(rssBefore / 1024).toFixed(0)} → ${(rssAfter / 1024).toFixed(0)} MiB`}`);
    // The fan-out starts once the gateway has settled after opening the watches (under a tenth of a core
    // over half a second, or 30 s at most): what the open burst left to do (its garbage, the last
    // handshakes) would otherwise be charged to the event.
    if (pid !== undefined) {
      const settleDeadline = Date.now() + 30_000;
      let last = await groupCpuSeconds(pid);
      while (Date.now() < settleDeadline) {
        await sleep(500);
        const now = await groupCpuSeconds(pid);
        const busy = (now - last) / 0.5;
        last = now;
        if (busy < 0.1) break;
      }
    }
    const cpu = async () => ({ gateway: pid === undefined ? Number.NaN : await groupCpuSeconds(pid), upstream: await groupCpuSeconds(upstream.pgid), clients: await clientCpu() });
    const loadBefore = await loadAverage();
    const cpuBefore = await cpu();
    const fanoutStarted = monotonicMs();
    for (let seq = 1; seq <= events; seq++) {
      await upstream.emit(seq);
      await sleep(EVENT_INTERVAL_MS);
    }
    // Wait for every event to arrive (or give up after a bound): a backlog shows up as latency, not as loss.
    const received = async () => (await ask('count', 'count')).reduce((n, c) => n + c.received, 0);
    const drainDeadline = Date.now() + 20_000;
    while ((await received()) < count * events && Date.now() < drainDeadline) await sleep(100);
    const cpuAfter = await cpu();
    const loadAfter = await loadAverage();
    const parts = await ask('latencies', 'latencies');
    const latencies = parts.flatMap((p) => p.latencies);
    const fanoutMs = Math.max(0, ...parts.map((p) => p.lastAt - fanoutStarted));
    const ms = (a: number, b: number) => (b - a) * 1000;
    return {
      target: target.name,
      watches: count,
      delivered: latencies.length,
      expected: count * events,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      max: percentile(latencies, 100),
      rssPerWatchKiB: (rssAfter - rssBefore) / count,
      rssBeforeMiB: rssBefore / 1024,
      rssAfterMiB: rssAfter / 1024,
      upstreamConnections,
      openSeconds,
      fanoutCpuMs: { gateway: ms(cpuBefore.gateway, cpuAfter.gateway), upstream: ms(cpuBefore.upstream, cpuAfter.upstream), clients: ms(cpuBefore.clients, cpuAfter.clients) },
      fanoutMs,
      load: [loadBefore, loadAfter],
    };
  } finally {
    for (const client of clients) client.child.send({ type: 'close' });
    await Promise.race([Promise.all(clients.map((c) => c.exited)), sleep(3000)]);
    await Promise.all(clients.map((c) => c.stop()));
  }
}

export const watchFanout: Scenario = {
  name: 'watch',
  async run(context) {
    const count = context.quick ? 300 : 2000;
    const events = context.quick ? 5 : 10;
    const targets: Target[] = [direct, ...((await kcpEdge.available()) ? [kcpEdge] : [])];
    const results: WatchResult[] = [];
    for (const target of targets) {
      const running = await target.start(context.env, context.env.caFile);
      try {
        results.push(await measure(context, target, running, count, events));
      } finally {
        await running.stop();
      }
      // Let the shard see the closed watches go before the next target counts its own.
      await sleep(500);
    }
    const fmt = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : '–');
    return {
      title: `Watch fan-out: ${count} concurrent watches × ${events} events`,
      markdown: [
        `Each watch is its own TLS connection (HTTP/1.1, chunked). The stand-in shard sends an event to every watch each`,
        `${EVENT_INTERVAL_MS} ms, stamped with the time it writes it; the client process reads the stamp on arrival (it waits up to 20 s`,
        "for stragglers, so a backlog shows as latency). Memory per watch = growth of the gateway's RSS",
        'from before the watches opened to when all of them had reached the shard, divided by their number.',
        '',
        '| path | watches | events delivered | p50 ms | p99 ms | max ms | gateway RSS per watch |',
        '|---|---:|---:|---:|---:|---:|---:|',
        ...results.map(
          (r) =>
            `| ${r.target} | ${r.watches} | ${r.delivered} / ${r.expected} | ${fmt(r.p50)} | ${fmt(r.p99)} | ${fmt(r.max)} | ${Number.isFinite(r.rssPerWatchKiB) ? `${r.rssPerWatchKiB.toFixed(1)} KiB` : '–'} |`,
        ),
      ].join('\n'),
    };
  },
};
