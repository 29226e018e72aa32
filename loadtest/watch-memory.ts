// Open-watch memory through one gateway process: N HTTP/2 watches at 50 per client connection (as the
// informers of one client-go process share a connection), kcp-edge with HTTP/1.1 or HTTP/2 to the
// shard. Per size: the gateway's RSS growth per open watch, the shard connections the watches took,
// and one event fanned out to every watch (write at the shard to read at the client, p50/p99/max).
// Not part of `npm run bench` (a 50 000-watch run alone takes minutes); see loadtest/README.md.
//
//   node loadtest/watch-memory.ts --watches 2000,10000 --upstream h1,h2
//   node loadtest/watch-memory.ts --watches 50000 --upstream direct,h2 --clients 2   (direct: the harness alone)
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { makeBenchPki } from './lib/bench-pki.ts';
import { Processes } from './lib/processes.ts';
import { measure } from './scenarios/watch-fanout.ts';
import { direct } from './targets/direct.ts';
import { kcpEdgeNodeArgs, kcpEdgeTarget } from './targets/kcp-edge.ts';
import type { BenchEnv } from './targets/types.ts';
import { startUpstream } from './upstream/start.ts';

const { values } = parseArgs({
  options: {
    watches: { type: 'string', default: '2000' },
    upstream: { type: 'string', default: 'h1,h2' },
    'per-connection': { type: 'string', default: '50' },
    events: { type: 'string', default: '3' },
    // Client processes the watches are split between (whole client connections each).
    clients: { type: 'string', default: '1' },
    // Extra node flags for the gateway, e.g. --gateway-node-args='--cpu-prof --cpu-prof-dir=DIR'.
    'gateway-node-args': { type: 'string', default: '' },
  },
});
const sizes = values.watches.split(',').map(Number);
// 'direct': the client processes watch the stand-in shard itself, the harness's own share of the latency.
const protocols = values.upstream.split(',') as ('h1' | 'h2' | 'direct')[];
const perConnection = Number(values['per-connection']);
const events = Number(values.events);
const clientProcesses = Number(values.clients);
kcpEdgeNodeArgs.push(...values['gateway-node-args'].split(' ').filter((a) => a !== ''));
const started = Date.now();
const log = (line: string) => process.stdout.write(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)}s] ${line}\n`);

const dir = await mkdtemp(join(tmpdir(), 'kcp-edge-watch-memory-'));
const processes = new Processes(dir);
const rows: string[] = [];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
try {
  const pki = await makeBenchPki(dir);
  const upstream = await startUpstream(processes, { certFile: pki.upstreamCertFile, keyFile: pki.upstreamKeyFile, clientCaFile: pki.caFile });
  const env: BenchEnv = { dir, processes, upstreamPort: upstream.port, connections: 64, ...pki };
  for (const count of sizes) {
    for (const protocol of protocols) {
      const edge = protocol === 'direct' ? undefined : kcpEdgeTarget(`kcp-edge-${protocol}up`, 1, { upstreamProtocol: protocol, maxOpenWatches: count + 1000 });
      const target = edge ?? direct;
      const running = await target.start(env, env.caFile);
      try {
        const r = await measure({ env, upstream, log }, target, running, count, events, { streamsPerConnection: perConnection, clientProcesses });
        const perEvent = (ms: number) => (Number.isFinite(ms) ? ((ms * 1000) / r.delivered).toFixed(1) : '–');
        const rss = Number.isFinite(r.rssBeforeMiB) ? `${r.rssBeforeMiB.toFixed(0)} → ${r.rssAfterMiB.toFixed(0)} MiB | ${r.rssPerWatchKiB.toFixed(1)} KiB` : '– | –';
        const c = r.fanoutCpuMs;
        const row = `| ${protocol} | ${r.watches} | ${Math.ceil(r.watches / perConnection)} | ${clientProcesses} | ${r.upstreamConnections} | ${rss} | ${r.delivered} / ${r.expected} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.max.toFixed(1)} | ${perEvent(c.gateway)} / ${perEvent(c.upstream)} / ${perEvent(c.clients)} | ${r.load[0].toFixed(1)} → ${r.load[1].toFixed(1)} | ${r.openSeconds.toFixed(0)} s |`;
        rows.push(row);
        log(row);
      } catch (err) {
        const row = `| ${protocol} | ${count} | – | ${clientProcesses} | – | – | – | failed: ${(err as Error).message.split('\n')[0]} | | | | | | |`;
        rows.push(row);
        log(row);
      } finally {
        await running.stop();
        await edge?.shutdown();
      }
      // Let the shard see the closed watches go before the next run counts its own.
      const deadline = Date.now() + 30_000;
      while ((await upstream.stats()).watchers > 0 && Date.now() < deadline) await sleep(100);
    }
  }
} finally {
  await processes.stopAll().catch(() => processes.killAllNow());
  await rm(dir, { recursive: true, force: true }).catch(() => {});
}
process.stdout.write(
  [
    '',
    `| to the shard | watches | client connections | client processes | shard connections | gateway RSS | RSS per watch | events delivered | p50 ms | p99 ms | max ms | fan-out CPU µs per event: gateway / shard / clients | load avg (1 min) | time to open |`,
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows,
    '',
  ].join('\n'),
);
