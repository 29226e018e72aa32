// The side-by-side GET/LIST comparison: the same upstream, reached directly and through each proxy,
// over HTTP/1.1 and HTTP/2 on the client hop (the upstream hop is HTTP/1.1 for every proxy), measured in
// interleaved rounds so that drift on a shared machine hits every target and both protocols alike.
import { readFile } from 'node:fs/promises';
import { cpuSeconds } from '../lib/cpu.ts';
import type { LoadClient } from '../lib/load-clients.ts';
import { http2Get, httpsGet } from '../lib/net.ts';
import { median } from '../lib/stats.ts';
import type { WrkResult } from '../lib/wrk.ts';
import { LIST_BODY } from '../upstream/body.ts';
import type { Upstream } from '../upstream/start.ts';
import type { BenchEnv, RunningTarget, Target } from '../targets/types.ts';
import { measurePacedLatency, type PacedLatency } from './paced-latency.ts';
import { measureSideBySideCpu, type SideBySideResult } from './side-by-side-cpu.ts';

export interface CompareOptions {
  rounds: number;
  /** Warm-up of a target's first round. */
  warmupSeconds: number;
  /**
   * Warm-up once a target is warm (code compiled, pools full): its later rounds and the paced runs,
   * long enough to open the load's connections.
   */
  rewarmSeconds: number;
  seconds: number;
  threads: number;
  /** One table each: wrk (HTTP/1.1) and/or h2load (HTTP/2) on the client hop. */
  clients: LoadClient[];
  /** Rounds of the constant-rate latency run after the comparison (0: none). */
  pacedRounds: number;
  /** Rounds of kcp-edge and node-floor loaded at once, per client protocol (0: none). */
  sideBySideRounds: number;
  /** Measured seconds per side-by-side round. */
  sideBySideSeconds: number;
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

/** One table: every target measured with one load client. */
export interface ClientComparison {
  client: LoadClient;
  summaries: TargetSummary[];
}

/**
 * Checks the body byte for byte over HTTP/1.1 (no ALPN, like wrk) and, when measured over HTTP/2 too,
 * over a connection that negotiated h2; that a proxy's upstream hop stayed HTTP/1.1 either way; and that
 * a target trusting another CA refuses the upstream (502).
 */
export async function verifyTarget(env: BenchEnv, upstream: Upstream, target: Target, running: RunningTarget, clients: LoadClient[]): Promise<void> {
  const ca = await readCa(env);
  const before = await upstream.stats();
  const ok = await httpsGet(running.port, running.path, { ca, headers: running.headers });
  checkAnswer(target, running, ok);
  if (clients.some((c) => c.hop === 'h2')) {
    const h2 = await http2Get(running.port, running.path, { ca, headers: running.headers });
    if (h2.alpnProtocol !== 'h2') throw new Error(`${target.name}: ALPN settled on ${String(h2.alpnProtocol)}, not h2`);
    checkAnswer(target, running, h2, ' over HTTP/2');
  }
  if (target.name === 'direct') return;
  checkUpstreamHop(target, before, await upstream.stats(), 'while checked');
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

/** A proxy's upstream hop is the protocol it says it speaks (HTTP/1.1 unless it says h2), for every request. */
function checkUpstreamHop(target: Target, before: UpstreamStats, after: UpstreamStats, when: string): void {
  const requests = after.requests - before.requests;
  const h2 = after.h2Requests - before.h2Requests;
  if ((target.upstreamHop ?? 'h1') === 'h1' && h2 > 0) throw new Error(`${target.name}: ${h2} request(s) reached the upstream over HTTP/2 ${when}; its upstream hop is HTTP/1.1`);
  if (target.upstreamHop === 'h2' && h2 < requests)
    throw new Error(`${target.name}: ${requests - h2} request(s) reached the upstream over HTTP/1.1 ${when}; its upstream hop is HTTP/2`);
}

type UpstreamStats = Awaited<ReturnType<Upstream['stats']>>;

function checkAnswer(target: Target, running: RunningTarget, answer: { status: number; body: Buffer }, over = ''): void {
  if (answer.status !== 200) throw new Error(`${target.name}: GET ${running.path}${over} answered ${answer.status}: ${answer.body.toString().slice(0, 300)}`);
  if (!answer.body.equals(LIST_BODY)) {
    throw new Error(`${target.name}: body${over} differs from the upstream's (${answer.body.length} vs ${LIST_BODY.length} bytes)`);
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
  const results = await Promise.all(Array.from({ length: env.connections }, () => httpsGet(running.port, `${running.path}${separator}slow=300`, { ca, headers: running.headers })));
  const failed = results.filter((r) => r.status !== 200);
  if (failed.length > 0) throw new Error(`pool pre-fill: ${failed.length} of ${results.length} requests failed (status ${failed[0]!.status})`);
}

async function measureOnce(env: BenchEnv, upstream: Upstream, target: Target, running: RunningTarget, client: LoadClient, options: CompareOptions): Promise<RoundResult> {
  await prefillPool(env, running);
  const load = { port: running.port, path: running.path, headers: running.headers, threads: options.threads, connections: env.connections };
  await client.run({ ...load, seconds: options.warmupSeconds });
  // The warm-up's end cuts off the requests in flight, and a proxy may drop the upstream connections
  // that carried them: fill the pool again, so that "new upstream conns" counts only what the
  // measured run itself had to open.
  await prefillPool(env, running);
  const before = await upstream.stats();
  const cpuBefore = await cpuSeconds(running.pgids);
  const result = await client.run({ ...load, seconds: options.seconds });
  const cpuAfter = await cpuSeconds(running.pgids);
  const after = await upstream.stats();
  if (target.name !== 'direct') checkUpstreamHop(target, before, after, `while measured with ${client.hop}`);
  return {
    ...result,
    newUpstreamConnections: after.connections - before.connections,
    cpuMicrosPerRequest: running.pgids.length === 0 ? Number.NaN : ((cpuAfter - cpuBefore) * 1e6) / result.requests,
  };
}

/** The comparison, and latency at half of kcp-edge's HTTP/2 peak when both were measured. */
export interface CompareResult {
  comparisons: ClientComparison[];
  paced: PacedLatency | undefined;
  /** kcp-edge and node-floor loaded at the same time, when both ran. */
  sideBySide: SideBySideResult[] | undefined;
}

export async function compareTargets(env: BenchEnv, upstream: Upstream, targets: Target[], options: CompareOptions): Promise<CompareResult> {
  const { clients } = options;
  const running = new Map<string, RunningTarget>();
  const descriptions = new Map<string, string>();
  for (const target of targets) {
    descriptions.set(target.name, await target.describe());
    const started = await target.start(env, env.caFile);
    running.set(target.name, started);
    await verifyTarget(env, upstream, target, started, clients);
    options.log(`${target.name}: body identical${clients.some((c) => c.hop === 'h2') ? ' over HTTP/1.1 and HTTP/2 (ALPN h2)' : ''}, upstream certificate verified`);
  }
  const key = (client: LoadClient, target: Target) => `${client.hop} ${target.name}`;
  const rounds = new Map<string, RoundResult[]>(clients.flatMap((c) => targets.map((t) => [key(c, t), []] as const)));
  try {
    for (let round = 0; round < options.rounds; round++) {
      // Rotate the order each round so no target always runs first (or right after the heaviest), and
      // no protocol always runs first on a target.
      const order = targets.map((_, i) => targets[(i + round) % targets.length]!);
      const clientOrder = clients.map((_, i) => clients[(i + round) % clients.length]!);
      for (const target of order) {
        for (const client of clientOrder) {
          const warmupSeconds = round === 0 ? options.warmupSeconds : options.rewarmSeconds;
          const result = await measureOnce(env, upstream, target, running.get(target.name)!, client, { ...options, warmupSeconds });
          rounds.get(key(client, target))!.push(result);
          options.log(
            `round ${round + 1}/${options.rounds} ${client.hop} ${target.name.padEnd(11)} ${result.requestsPerSecond.toFixed(0).padStart(6)} req/s  p50 ${result.p50Ms.toFixed(2)} ms  p99 ${result.p99Ms.toFixed(2)} ms  ` +
              `new upstream conns ${result.newUpstreamConnections}${Number.isNaN(result.cpuMicrosPerRequest) ? '' : `  ${result.cpuMicrosPerRequest.toFixed(0)} µs CPU/req`}` +
              `${result.socketErrors + result.non2xx > 0 ? `  errors ${result.socketErrors} non-2xx ${result.non2xx}` : ''}`,
          );
        }
      }
    }
    const comparisons = clients.map((client) => ({ client, summaries: summarize(targets, descriptions, (target) => rounds.get(key(client, target))!) }));
    // Half of kcp-edge's peak over HTTP/2 (what kubectl speaks), offered to every target alike.
    const edge = comparisons.find((c) => c.client.hop === 'h2')?.summaries.find((s) => s.name === 'kcp-edge');
    const paced =
      edge === undefined || options.pacedRounds === 0 || !Number.isFinite(edge.requestsPerSecond)
        ? undefined
        : await measurePacedLatency(
            env,
            targets.map((target) => ({ target, running: running.get(target.name)! })),
            { target: edge.name, requestsPerSecond: edge.requestsPerSecond },
            {
              offeredRate: edge.requestsPerSecond / 2,
              warmupSeconds: options.rewarmSeconds,
              everyRound: ['direct', 'node-floor', 'kcp-edge'],
              seconds: options.seconds,
              rounds: options.pacedRounds,
              threads: options.threads,
              log: options.log,
            },
          );
    const floorRunning = running.get('node-floor');
    const edgeRunning = running.get('kcp-edge');
    const rates = comparisons.flatMap((c) => {
      const peak = c.summaries.find((x) => x.name === 'kcp-edge')?.requestsPerSecond;
      return peak === undefined || !Number.isFinite(peak) ? [] : [{ hop: c.client.hop, rate: peak / 3 }];
    });
    const sideBySide =
      floorRunning === undefined || edgeRunning === undefined || options.sideBySideRounds === 0 || rates.length === 0
        ? undefined
        : await measureSideBySideCpu(floorRunning, edgeRunning, {
            rates,
            warmupSeconds: options.rewarmSeconds,
            seconds: options.sideBySideSeconds,
            rounds: options.sideBySideRounds,
            log: options.log,
          });
    return { comparisons, paced, sideBySide };
  } finally {
    for (const r of running.values()) await r.stop();
  }
}

/** Medians per target, and each target's req/s relative to direct's (measured with the same client). */
function summarize(targets: Target[], descriptions: Map<string, string>, roundsOf: (target: Target) => RoundResult[]): TargetSummary[] {
  const direct = targets.find((t) => t.name === 'direct');
  const directRps = direct === undefined ? Number.NaN : median(roundsOf(direct).map((r) => r.requestsPerSecond));
  return targets.map((target) => {
    const results = roundsOf(target);
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
