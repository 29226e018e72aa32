// Latency at a steady load well below saturation: what a request pays for going through a proxy when
// the proxy is not the bottleneck. Every target gets the same constant rate, half of kcp-edge's
// measured peak over HTTP/2, from h2load's paced clients (`--rps`: each connection sends on its own
// timer, one stream in flight); "added" is the target's percentile minus direct's at that same rate,
// read from the same round. Fewer connections than the comparison's 64: h2load starts every
// connection's timer at once, so 64 connections at a few requests a second each would arrive as
// bursts of 64 rather than as a steady rate.
const pacedConnections = 16;
import type { WrkResult } from '../lib/wrk.ts';
import { runH2load } from '../lib/h2load.ts';
import { median } from '../lib/stats.ts';
import type { BenchEnv, RunningTarget, Target } from '../targets/types.ts';

export interface PacedOptions {
  /** Requests per second the whole load offers (rounded to a whole rate per connection). */
  offeredRate: number;
  warmupSeconds: number;
  seconds: number;
  rounds: number;
  /**
   * The targets measured in every round; the others in the first only. One round's p99 moves by
   * ±1.5 ms on this box, so the gated figures take a median over rounds, and the bound leaves no time
   * to do the same for every peer.
   */
  everyRound: readonly string[];
  threads: number;
  log: (line: string) => void;
}

export interface PacedSummary {
  name: string;
  /** Rounds this target ran in. */
  rounds: number;
  /** What h2load achieved, median over rounds. */
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Over direct at the same rate (NaN without direct, 0 for direct itself). */
  addedP50Ms: number;
  addedP99Ms: number;
  errors: number;
}

export interface PacedLatency {
  /** The rate actually offered: connections × whole requests per second per connection. */
  offeredRate: number;
  ratePerConnection: number;
  connections: number;
  /** Whose peak it is half of, and that peak. */
  basis: { target: string; requestsPerSecond: number };
  summaries: PacedSummary[];
}

/** One rate per connection: h2load's --rps is per client; at least one request a second each. */
export function pacing(offeredRate: number, connections: number): { ratePerConnection: number; offeredRate: number } {
  const ratePerConnection = Math.max(1, Math.round(offeredRate / connections));
  return { ratePerConnection, offeredRate: ratePerConnection * connections };
}

/** Percentiles of each round's own target minus direct, medians over rounds (those both ran in). */
export function addedLatency(target: WrkResult[], direct: WrkResult[] | undefined): { addedP50Ms: number; addedP99Ms: number } {
  if (direct === undefined) return { addedP50Ms: Number.NaN, addedP99Ms: Number.NaN };
  const rounds = Math.min(target.length, direct.length);
  const p50: number[] = [];
  const p99: number[] = [];
  for (let i = 0; i < rounds; i++) {
    p50.push(target[i]!.p50Ms - direct[i]!.p50Ms);
    p99.push(target[i]!.p99Ms - direct[i]!.p99Ms);
  }
  return { addedP50Ms: median(p50), addedP99Ms: median(p99) };
}

/** Every target in the first round, then those of `everyRound`, rotated by the round so no target always runs first. */
export function targetsInRound<T extends { target: { name: string } }>(targets: readonly T[], round: number, everyRound: readonly string[]): T[] {
  const inRound = round === 0 ? targets : targets.filter(({ target }) => everyRound.includes(target.name));
  return inRound.map((_, i) => inRound[(i + round) % inRound.length]!);
}

export async function measurePacedLatency(
  env: BenchEnv,
  targets: { target: Target; running: RunningTarget }[],
  basis: PacedLatency['basis'],
  options: PacedOptions,
): Promise<PacedLatency> {
  const connections = Math.min(pacedConnections, env.connections);
  const { ratePerConnection, offeredRate } = pacing(options.offeredRate, connections);
  const results = new Map<string, WrkResult[]>(targets.map(({ target }) => [target.name, []]));
  for (let round = 0; round < options.rounds; round++) {
    const inRound = targetsInRound(targets, round, options.everyRound);
    for (const { target, running } of inRound) {
      const load = { port: running.port, path: running.path, headers: running.headers, threads: options.threads, connections, ratePerConnection };
      await runH2load({ ...load, seconds: options.warmupSeconds });
      const result = await runH2load({ ...load, seconds: options.seconds });
      results.get(target.name)!.push(result);
      options.log(
        `paced ${offeredRate} req/s round ${round + 1}/${options.rounds} ${target.name.padEnd(11)} ${result.requestsPerSecond.toFixed(0).padStart(6)} req/s  ` +
          `p50 ${result.p50Ms.toFixed(2)} ms  p99 ${result.p99Ms.toFixed(2)} ms${result.socketErrors + result.non2xx > 0 ? `  errors ${result.socketErrors + result.non2xx}` : ''}`,
      );
    }
  }
  const direct = results.get('direct');
  const summaries = targets.map(({ target }): PacedSummary => {
    const rounds = results.get(target.name)!;
    return {
      name: target.name,
      rounds: rounds.length,
      requestsPerSecond: median(rounds.map((r) => r.requestsPerSecond)),
      p50Ms: median(rounds.map((r) => r.p50Ms)),
      p99Ms: median(rounds.map((r) => r.p99Ms)),
      ...(target.name === 'direct' ? { addedP50Ms: 0, addedP99Ms: 0 } : addedLatency(rounds, direct)),
      errors: rounds.reduce((sum, r) => sum + r.socketErrors + r.non2xx, 0),
    };
  });
  return { offeredRate, ratePerConnection, connections, basis, summaries };
}
