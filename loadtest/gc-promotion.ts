// What V8's young-generation collector keeps of each request, in kcp-edge and in node-floor under the same
// load: wrk over HTTP/1.1 at full speed, then paced h2load over HTTP/2. Each gateway runs with
// --trace-gc-nvp; per target and protocol the script prints the scavenges of the measured seconds, their
// mean and longest pause, the bytes allocated and promoted per request, and the full collections. A
// request's objects should die young: what is alive at a scavenge is copied (the pause grows with it) and
// what survives two is promoted, to be freed only by a full collection. Not part of `npm run bench`; see
// loadtest/README.md.
//
//   node loadtest/gc-promotion.ts [--seconds 6] [--targets kcp-edge,node-floor] [--paced-rate 6400]
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { makeBenchPki } from './lib/bench-pki.ts';
import { runH2load } from './lib/h2load.ts';
import { Processes } from './lib/processes.ts';
import { runWrk, type WrkResult } from './lib/wrk.ts';
import { prefillPool } from './scenarios/proxy-compare.ts';
import { pacing } from './scenarios/paced-latency.ts';
import { kcpEdge, kcpEdgeNodeArgs } from './targets/kcp-edge.ts';
import { nodeFloor, nodeFloorNodeArgs } from './targets/node-floor.ts';
import type { BenchEnv, RunningTarget, Target } from './targets/types.ts';
import { startUpstream } from './upstream/start.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '6' },
    targets: { type: 'string', default: 'kcp-edge,node-floor' },
    'paced-rate': { type: 'string', default: '6400' },
  },
});
const seconds = Number(values.seconds);
const known: Record<string, { target: Target; nodeArgs: string[] }> = {
  'kcp-edge': { target: kcpEdge, nodeArgs: kcpEdgeNodeArgs },
  'node-floor': { target: nodeFloor, nodeArgs: nodeFloorNodeArgs },
};
const chosen = values.targets.split(',').map((name) => {
  const entry = known[name];
  if (entry === undefined) throw new Error(`unknown target ${name} (known: ${Object.keys(known).join(', ')})`);
  return entry;
});
const connections = 16;
const { ratePerConnection, offeredRate } = pacing(Number(values['paced-rate']), connections);

interface GcSummary {
  scavenges: number;
  meanPauseMs: number;
  maxPauseMs: number;
  allocated: number;
  promoted: number;
  fullCollections: number;
}

/** Sums --trace-gc-nvp lines (`key=value …`, one per collection). */
function summarizeNvp(lines: readonly string[]): GcSummary {
  const s: GcSummary = { scavenges: 0, meanPauseMs: 0, maxPauseMs: 0, allocated: 0, promoted: 0, fullCollections: 0 };
  let pauses = 0;
  for (const line of lines) {
    const kind = /\bgc=(\w+)/.exec(line)?.[1];
    if (kind === undefined) continue;
    const field = (name: string) => Number(new RegExp(`\\b${name}=([\\d.]+)`).exec(line)?.[1] ?? 0);
    if (kind === 's') {
      s.scavenges++;
      const pause = field('pause');
      pauses += pause;
      s.maxPauseMs = Math.max(s.maxPauseMs, pause);
      s.allocated += field('allocated');
      s.promoted += field('promoted');
    } else if (kind === 'mc') {
      s.fullCollections++;
    }
  }
  s.meanPauseMs = s.scavenges === 0 ? 0 : pauses / s.scavenges;
  return s;
}

/** The gateway's own output: the bench's process runner names its log after the target and its port. */
async function logLines(dir: string, running: RunningTarget, name: string): Promise<string[]> {
  return (await readFile(join(dir, `${name}-${running.port}.log`), 'utf8')).split('\n');
}

function row(name: string, hop: string, load: WrkResult, gc: GcSummary): string {
  const perRequest = (bytes: number) => (load.requests === 0 ? '–' : (bytes / load.requests).toFixed(0));
  return (
    `| ${name} | ${hop} | ${load.requestsPerSecond.toFixed(0)} | ${load.p99Ms.toFixed(2)} | ${gc.scavenges} | ${gc.meanPauseMs.toFixed(1)} | ${gc.maxPauseMs.toFixed(1)} | ` +
    `${perRequest(gc.allocated)} | ${perRequest(gc.promoted)} | ${gc.fullCollections} |`
  );
}

const dir = await mkdtemp(join(tmpdir(), 'kcp-edge-gc-'));
const processes = new Processes(dir);
const rows: string[] = [];
try {
  const pki = await makeBenchPki(dir);
  const upstream = await startUpstream(processes, { certFile: pki.upstreamCertFile, keyFile: pki.upstreamKeyFile, clientCaFile: pki.caFile });
  const env: BenchEnv = { dir, processes, upstreamPort: upstream.port, connections: 64, ...pki };
  for (const { target, nodeArgs } of chosen) {
    nodeArgs.push('--trace-gc-nvp');
    const loads = [
      ['HTTP/1.1, wrk -c64', (t: RunningTarget, s: number) => runWrk({ port: t.port, path: t.path, headers: t.headers, threads: 2, connections: 64, seconds: s })],
      [
        `HTTP/2, ${offeredRate} req/s paced`,
        (t: RunningTarget, s: number) => runH2load({ port: t.port, path: t.path, headers: t.headers, threads: 2, connections, ratePerConnection, seconds: s }),
      ],
    ] as const;
    // A fresh process per load: after a burst V8 shrinks its heap with a run of full collections, which
    // would be charged to the next load.
    for (const [hop, load] of loads) {
      const running: RunningTarget = await target.start(env, pki.caFile);
      try {
        await prefillPool(env, running);
        await load(running, 3);
        const before = (await logLines(dir, running, target.name)).length;
        const result = await load(running, seconds);
        const gc = summarizeNvp((await logLines(dir, running, target.name)).slice(before));
        rows.push(row(target.name, hop, result, gc));
        process.stdout.write(`${rows.at(-1)}\n`);
      } finally {
        await running.stop();
      }
    }
  }
  process.stdout.write(
    `\n| target | load | req/s | p99 ms | scavenges | mean pause ms | longest ms | allocated B/req | promoted B/req | full GCs |\n` +
      `|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n${rows.join('\n')}\n`,
  );
} finally {
  await processes.stopAll().catch(() => processes.killAllNow());
  // The stand-in Keycloak kcp-edge's tokens come from runs in this process.
  await kcpEdge.shutdown().catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
}
