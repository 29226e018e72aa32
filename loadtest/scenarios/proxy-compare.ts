// The side-by-side GET/LIST comparison: the same upstream, reached directly and through each proxy,
// measured in interleaved rounds so that drift on a shared machine hits every target alike.
import { readFile } from 'node:fs/promises';
import { cpuSeconds } from '../lib/cpu.ts';
import { httpsGet } from '../lib/net.ts';
import { median } from '../lib/stats.ts';
import { runWrk, type WrkResult } from '../lib/wrk.ts';
import { LIST_BODY } from '../upstream/body.ts';
import type { Upstream } from '../upstream/start.ts';
import type { BenchEnv, RunningTarget, Target } from '../targets/types.ts';

export interface CompareOptions {
  rounds: number;
  warmupSeconds: number;
  seconds: number;
  threads: number;
  log: (line: string) => void;
}

export interface RoundResult extends WrkResult {
  /** TLS connections the upstream accepted during the measured run. */
  newUpstreamConnections: number;
  /** CPU the target's processes spent per request, in microseconds (NaN for direct). */
  cpuMicrosPerRequest: number;
}

export interface TargetSummary {
  name: string;
  description: string;
  rounds: RoundResult[];
  requestsPerSecond: number;
  ratioToDirect: number;
  p50Ms: number;
  p99Ms: number;
  cpuMicrosPerRequest: number;
  newUpstreamConnections: number;
  errors: number;
}

/** Checks the body byte for byte and that a target trusting another CA refuses the upstream (502). */
export async function verifyTarget(env: BenchEnv, target: Target, running: RunningTarget): Promise<void> {
  const ok = await httpsGet(running.port, running.path, { ca: await readCa(env), headers: running.headers });
  if (ok.status !== 200) throw new Error(`${target.name}: GET ${running.path} answered ${ok.status}: ${ok.body.toString().slice(0, 300)}`);
  if (!ok.body.equals(LIST_BODY)) {
    throw new Error(`${target.name}: body differs from the upstream's (${ok.body.length} vs ${LIST_BODY.length} bytes)`);
  }
  if (target.name === 'direct') return;
  const wrong = await target.start(env, env.wrongCaFile);
  try {
    const refused = await httpsGet(wrong.port, wrong.path, { ca: await readCa(env), headers: wrong.headers });
    if (refused.status !== 502) {
      throw new Error(`${target.name}: trusting the wrong CA still answered ${refused.status}; it does not verify the upstream certificate`);
    }
  } finally {
    await wrong.stop();
  }
}

let caPem: string | undefined;
async function readCa(env: BenchEnv): Promise<string> {
  caPem ??= await readFile(env.caFile, 'utf8');
  return caPem;
}

/**
 * Opens `connections` concurrent requests that the upstream holds for a moment, each on its own client
 * connection, so the target must open that many upstream connections; they then sit in its pool.
 */
export async function prefillPool(env: BenchEnv, running: RunningTarget): Promise<void> {
  const separator = running.path.includes('?') ? '&' : '?';
  const ca = await readCa(env);
  const results = await Promise.all(
    Array.from({ length: env.connections }, () => httpsGet(running.port, `${running.path}${separator}slow=300`, { ca, headers: running.headers })),
  );
  const failed = results.filter((r) => r.status !== 200);
  if (failed.length > 0) throw new Error(`pool pre-fill: ${failed.length} of ${results.length} requests failed (status ${failed[0]!.status})`);
}

async function measureOnce(env: BenchEnv, upstream: Upstream, running: RunningTarget, options: CompareOptions): Promise<RoundResult> {
  await prefillPool(env, running);
  const load = { port: running.port, path: running.path, headers: running.headers, threads: options.threads, connections: env.connections };
  await runWrk({ ...load, seconds: options.warmupSeconds });
  const before = await upstream.stats();
  const cpuBefore = await cpuSeconds(running.pgids);
  const result = await runWrk({ ...load, seconds: options.seconds });
  const cpuAfter = await cpuSeconds(running.pgids);
  const after = await upstream.stats();
  return {
    ...result,
    newUpstreamConnections: after.connections - before.connections,
    cpuMicrosPerRequest: running.pgids.length === 0 ? Number.NaN : ((cpuAfter - cpuBefore) * 1e6) / result.requests,
  };
}

export async function compareTargets(env: BenchEnv, upstream: Upstream, targets: Target[], options: CompareOptions): Promise<TargetSummary[]> {
  const running = new Map<string, RunningTarget>();
  const descriptions = new Map<string, string>();
  for (const target of targets) {
    descriptions.set(target.name, await target.describe());
    const started = await target.start(env, env.caFile);
    running.set(target.name, started);
    await verifyTarget(env, target, started);
    options.log(`${target.name}: body identical, upstream certificate verified`);
  }
  const rounds = new Map<string, RoundResult[]>(targets.map((t) => [t.name, []]));
  try {
    for (let round = 0; round < options.rounds; round++) {
      // Rotate the order each round so no target always runs first (or right after the heaviest).
      const order = targets.map((_, i) => targets[(i + round) % targets.length]!);
      for (const target of order) {
        const result = await measureOnce(env, upstream, running.get(target.name)!, options);
        rounds.get(target.name)!.push(result);
        options.log(
          `round ${round + 1}/${options.rounds} ${target.name.padEnd(8)} ${result.requestsPerSecond.toFixed(0).padStart(6)} req/s  p50 ${result.p50Ms.toFixed(2)} ms  p99 ${result.p99Ms.toFixed(2)} ms  ` +
            `new upstream conns ${result.newUpstreamConnections}${Number.isNaN(result.cpuMicrosPerRequest) ? '' : `  ${result.cpuMicrosPerRequest.toFixed(0)} µs CPU/req`}`,
        );
      }
    }
  } finally {
    for (const r of running.values()) await r.stop();
  }
  const directRps = median((rounds.get('direct') ?? []).map((r) => r.requestsPerSecond));
  return targets.map((target) => {
    const results = rounds.get(target.name)!;
    const rps = median(results.map((r) => r.requestsPerSecond));
    return {
      name: target.name,
      description: descriptions.get(target.name)!,
      rounds: results,
      requestsPerSecond: rps,
      ratioToDirect: rps / directRps,
      p50Ms: median(results.map((r) => r.p50Ms)),
      p99Ms: median(results.map((r) => r.p99Ms)),
      cpuMicrosPerRequest: median(results.map((r) => r.cpuMicrosPerRequest)),
      newUpstreamConnections: median(results.map((r) => r.newUpstreamConnections)),
      errors: results.reduce((sum, r) => sum + r.socketErrors + r.non2xx, 0),
    };
  });
}
