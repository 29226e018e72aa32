// `npm run bench`: installs what it needs, makes certificates, starts an upstream and every target on
// loopback, checks them, measures them side by side, runs the other scenarios, writes the report, and
// stops everything it started — also on Ctrl-C and when the 10-minute bound is reached.
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureCommands } from './lib/install.ts';
import { makeBenchPki } from './lib/bench-pki.ts';
import { Processes } from './lib/processes.ts';
import { parseClients } from './lib/load-clients.ts';
import { comparisonReport, comparisonTables } from './lib/report.ts';
import { compareTargets, type ClientComparison } from './scenarios/proxy-compare.ts';
import { floorRatioLine, pacedReport } from './lib/report.ts';
import { extraScenarios, type ScenarioReport } from './scenarios/index.ts';
import { caddy } from './targets/caddy.ts';
import { goPeer } from './targets/go-peer.ts';
import { direct } from './targets/direct.ts';
import { kcpEdge, kcpEdgeH1Upstream, kcpEdgeH2Upstream, kcpEdgeNodeArgs, kcpEdgeTwoWorkers } from './targets/kcp-edge.ts';
import { formatProfile, summarizeProfile } from './lib/profile-summary.ts';
import { sideBySideReport } from './scenarios/side-by-side-cpu.ts';
import { nginx } from './targets/nginx.ts';
import { nodeFloor, nodeFloorNodeArgs } from './targets/node-floor.ts';
import type { BenchEnv, Target } from './targets/types.ts';
import { startUpstream } from './upstream/start.ts';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    targets: { type: 'string' },
    clients: { type: 'string' },
    scenarios: { type: 'string' },
    rounds: { type: 'string' },
    'paced-rounds': { type: 'string' },
    'side-by-side-rounds': { type: 'string' },
    'side-by-side-seconds': { type: 'string' },
    seconds: { type: 'string' },
    warmup: { type: 'string' },
    'no-report': { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    name: { type: 'string' },
  },
});

const BOUND_MS = 9.5 * 60 * 1000;
const started = Date.now();
const log = (line: string) => process.stdout.write(`[${((Date.now() - started) / 1000).toFixed(0).padStart(3)}s] ${line}\n`);

const quick = values.quick === true;
const warmupSeconds = Number(values.warmup ?? (quick ? 1 : 2));
const options = {
  rounds: Number(values.rounds ?? (quick ? 1 : 3)),
  // 2 s (1 s after the first round) + 6 s per target, protocol and round: six targets, both protocols and 3 rounds then leave the
  // other scenarios room inside the 10-minute bound.
  warmupSeconds,
  rewarmSeconds: Math.min(1, warmupSeconds),
  seconds: Number(values.seconds ?? (quick ? 3 : 6)),
  threads: 2,
  connections: 64,
  // Latency at half of kcp-edge's HTTP/2 peak, every target at that same rate: direct, node-floor and
  // kcp-edge in every round (the median is the figure), the other proxies in the first.
  pacedRounds: Number(values['paced-rounds'] ?? (quick ? 1 : 3)),
  // kcp-edge and node-floor loaded at once, per protocol: the ratio a drifting box does not move. Each
  // one's CPU per second wanders by ±20 % at a steady rate here, independently of the other's: five
  // rounds of 8 s keep a single round's ratio within about ±0.1 and give the median something to reject.
  sideBySideRounds: Number(values['side-by-side-rounds'] ?? (quick ? 1 : 5)),
  sideBySideSeconds: Number(values['side-by-side-seconds'] ?? (quick ? 3 : 8)),
};
// HTTP/1.1 (wrk) and/or HTTP/2 (h2load) on the client hop: `--clients h1,h2` (the default), `h1`, `h2`.
const clients = parseClients(values.clients);

async function main(processes: Processes, dir: string): Promise<void> {
  const loadGenerators = Object.assign({}, ...clients.map((c) => c.packages)) as Record<string, string>;
  await ensureCommands({ nginx: 'nginx', caddy: 'caddy', ...loadGenerators, openssl: 'openssl', 'redis-server': 'redis-server' }, log);
  const pki = await makeBenchPki(dir);
  const upstream = await startUpstream(processes, { certFile: pki.upstreamCertFile, keyFile: pki.upstreamKeyFile, clientCaFile: pki.caFile });
  log(`upstream listening on 127.0.0.1:${upstream.port}`);
  const env: BenchEnv = { dir, processes, upstreamPort: upstream.port, connections: options.connections, ...pki };

  const withGo = await goPeer.available();
  const available: Target[] = [direct, nginx, caddy, ...(withGo ? [goPeer] : []), nodeFloor, ...((await kcpEdge.available()) ? [kcpEdge] : [])];
  const wanted = values.targets?.split(',');
  // Only when asked for by name: both upstream protocols side by side (--targets kcp-edge-h1up,kcp-edge-h2up),
  // and `workers: 2` (kcp-edge-2w), whose rounds the side-by-side rounds need inside the bound.
  const onRequest = available.includes(kcpEdge) ? [kcpEdgeTwoWorkers, kcpEdgeH1Upstream, kcpEdgeH2Upstream] : [];
  const targets = wanted === undefined ? available : [...available, ...onRequest].filter((t) => wanted.includes(t.name));
  if (!available.includes(kcpEdge)) log(`kcp-edge: ${kcpEdge.unavailableReason()}`);
  if (!withGo) log(`go-peer: ${goPeer.unavailableReason()}`);

  const profileDir = join(dir, 'profiles');
  // node-floor is profiled too, in the same run, so the two profiles can be read against each other.
  if (values.profile === true) {
    kcpEdgeNodeArgs.push('--cpu-prof', `--cpu-prof-dir=${join(profileDir, 'kcp-edge')}`);
    nodeFloorNodeArgs.push('--cpu-prof', `--cpu-prof-dir=${join(profileDir, 'node-floor')}`);
  }
  // `--targets none` skips the comparison (to run other scenarios alone).
  const { comparisons, paced, sideBySide } =
    targets.length === 0 ? { comparisons: [], paced: undefined, sideBySide: undefined } : await compareTargets(env, upstream, targets, { ...options, clients, log });
  for (const { comparison, table } of comparisonTables(comparisons)) {
    process.stdout.write(`\n### ${comparison.client.title}\n\n${table}\n\n${floorRatioLine(comparison.summaries) ?? ''}\n`);
  }
  const pacedSection = paced === undefined ? undefined : pacedReport(paced, options);
  if (pacedSection !== undefined) process.stdout.write(`\n### ${pacedSection.title}\n\n${pacedSection.markdown}\n\n`);
  const sideBySideSection = sideBySide === undefined ? undefined : sideBySideReport(sideBySide);
  if (sideBySideSection !== undefined) process.stdout.write(`\n### ${sideBySideSection.title}\n\n${sideBySideSection.markdown}\n\n`);
  const reports: ScenarioReport[] = [];
  if (values.profile === true) {
    for (const name of ['kcp-edge', 'node-floor']) {
      const profile = await reportProfiles(join(profileDir, name), name);
      if (profile !== undefined) reports.push(profile);
    }
  }

  const wantedScenarios = values.scenarios?.split(',');
  for (const scenario of extraScenarios) {
    if (wantedScenarios !== undefined && !wantedScenarios.includes(scenario.name)) continue;
    const remainingMs = BOUND_MS - (Date.now() - started) - 30_000;
    const report = await scenario.run({ env, upstream, log, quick, remainingMs });
    reports.push(report);
    process.stdout.write(`\n### ${report.title}\n\n${report.markdown}\n\n`);
  }

  if (values['no-report'] !== true) {
    await writeReport(comparisons, [...(sideBySideSection === undefined ? [] : [sideBySideSection]), ...(pacedSection === undefined ? [] : [pacedSection]), ...reports]);
  }
  log(`done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

/** Prints where a profiled target spent its CPU; the profile of the measured instance is the largest one. */
async function reportProfiles(profileDir: string, name: string): Promise<ScenarioReport | undefined> {
  const { readdir, stat, copyFile } = await import('node:fs/promises');
  const files = await readdir(profileDir).catch(() => [] as string[]);
  const sized = await Promise.all(files.map(async (f) => ({ f, size: (await stat(join(profileDir, f))).size })));
  const largest = sized.sort((a, b) => b.size - a.size)[0];
  if (largest === undefined) {
    log(`${name}: no CPU profile was written`);
    return undefined;
  }
  const kept = new URL(`./results/${name}-${new Date().toISOString().replace(/[:.]/g, '-')}.cpuprofile`, import.meta.url).pathname;
  await mkdir(new URL('./results/', import.meta.url).pathname, { recursive: true });
  await copyFile(join(profileDir, largest.f), kept);
  const markdown = formatProfile(await summarizeProfile(kept));
  process.stdout.write(`\n### Where ${name}'s CPU goes\n\n${markdown}\n\n`);
  log(`profile kept at ${kept}`);
  return { title: `Where ${name}'s CPU goes (node --cpu-prof, whole process life)`, markdown };
}

async function writeReport(comparisons: ClientComparison[], reports: ScenarioReport[]): Promise<void> {
  const resultsDir = new URL('./results/', import.meta.url).pathname;
  await mkdir(resultsDir, { recursive: true });
  const date = new Date().toISOString().slice(0, 10);
  const name = [date, ...(quick ? ['quick'] : []), ...(values.name === undefined ? [] : [values.name])].join('-');
  const compared = comparisons.length > 0;
  const { markdown: sections, charts } = comparisonReport(comparisons, {
    name,
    chartTitle: (protocol) => `GET ${protocol}, ${options.connections} connections, TLS both hops — ${date}${quick ? ' (quick run)' : ''}`,
    ...options,
  });
  for (const [file, svg] of charts) await writeFile(join(resultsDir, file), svg);
  const comparison = !compared
    ? []
    : [
        `Method: ${options.warmupSeconds} s warm-up (${options.rewarmSeconds} s after a target's first round) + ${options.seconds} s per measurement, ${options.rounds} interleaved round(s) (targets and client`,
        'protocols rotated), medians; TLS 1.3 on both hops. The upstream hop is mTLS, HTTP/1.1 for every proxy but kcp-edge-h2up',
        '(kcp-edge follows its upstream.protocol default), whatever the client speaks (checked for every request of every run). Upstream = one Node HTTPS worker (HTTP/1.1 and HTTP/2 by ALPN)',
        'serving a fixed 1.5 KB ConfigMapList. Each target was checked to relay the body byte for byte over every client protocol measured',
        'and to answer 502 when told to trust another CA; each upstream pool was pre-filled with one slow request per client connection',
        'before warm-up. "new upstream conns" counts TLS connections that carried bench traffic to the upstream during the measured run',
        '(direct: the client\'s own). "errors" counts socket/stream errors and 4xx/5xx answers.',
        '',
        ...sections,
      ];
  const markdown = [
    `# kcp-edge load test — ${date}${quick ? ' (quick run: short and single-round, not for quoting)' : ''}`,
    '',
    `Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}. Load generator, targets and upstream share these cores, so the`,
    'ratio to direct mostly measures the CPU each target spends per proxied request.',
    '',
    ...comparison,
    ...reports.flatMap((r) => [`## ${r.title}`, '', r.markdown, '']),
  ].join('\n');
  await writeFile(join(resultsDir, `${name}.md`), markdown);
  log(`wrote loadtest/results/${name}.md${[...charts.keys()].map((file) => ` and ${file}`).join('')}`);
}

const dir = await mkdtemp(join(tmpdir(), 'kcp-edge-bench-'));
const processes = new Processes(dir);
let finished = false;
async function shutdown(code: number): Promise<never> {
  if (!finished) {
    finished = true;
    await kcpEdge.shutdown().catch(() => {});
    await processes.stopAll().catch(() => processes.killAllNow());
    await rm(dir, { recursive: true, force: true }).catch(() => {});
  }
  process.exit(code);
}
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    log(`${signal}: stopping everything`);
    void shutdown(130);
  });
}
const bound = setTimeout(() => {
  log('the 10-minute bound is reached: stopping everything');
  void shutdown(1);
}, BOUND_MS);
bound.unref();

try {
  await main(processes, dir);
  await shutdown(0);
} catch (err) {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  await shutdown(1);
}
