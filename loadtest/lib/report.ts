// The results as a Markdown table and an SVG bar chart, both written to loadtest/results/.
import type { PacedLatency } from '../scenarios/paced-latency.ts';
import type { ClientComparison, TargetSummary } from '../scenarios/proxy-compare.ts';
import { median } from './stats.ts';

const thousands = (n: number) =>
  Math.round(n)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, ' ');
const fixed = (n: number, digits: number) => (Number.isFinite(n) ? n.toFixed(digits) : '–');

/**
 * One row per target. With `baseline` (the same targets measured with another client), a last column
 * gives each target's req/s relative to its own there.
 */
export function compareTable(summaries: TargetSummary[], baseline?: { label: string; summaries: TargetSummary[] }): string {
  const against = (s: TargetSummary) => {
    const other = baseline?.summaries.find((b) => b.name === s.name);
    return other === undefined ? '' : ` ${fixed(s.requestsPerSecond / other.requestsPerSecond, 2)} |`;
  };
  const rows = summaries.map(
    (s) =>
      `| ${s.name} — ${s.description} | ${thousands(s.requestsPerSecond)} | ${fixed(s.ratioToDirect, 2)} | ${fixed(s.p50Ms, 1)} | ${fixed(s.p99Ms, 1)} | ` +
      `${Number.isFinite(s.cpuMicrosPerRequest) ? Math.round(s.cpuMicrosPerRequest) : '–'} | ${s.newUpstreamConnections} | ${s.errors} |${against(s)}`,
  );
  return [
    `| target | req/s | vs direct | p50 ms | p99 ms | target CPU µs/req | new upstream conns | errors |${baseline === undefined ? '' : ` vs ${baseline.label} |`}`,
    `|---|---:|---:|---:|---:|---:|---:|---:|${baseline === undefined ? '' : '---:|'}`,
    ...rows,
  ].join('\n');
}

/** The tables of every client, the HTTP/2 one compared with HTTP/1.1 when both were measured. */
export function comparisonTables(comparisons: ClientComparison[]): { comparison: ClientComparison; table: string }[] {
  const h1 = comparisons.find((c) => c.client.hop === 'h1');
  return comparisons.map((comparison) => ({
    comparison,
    table: compareTable(comparison.summaries, comparison.client.hop === 'h2' && h1 !== undefined ? { label: 'own HTTP/1.1', summaries: h1.summaries } : undefined),
  }));
}

/**
 * kcp-edge's CPU per request against the bare Node forwarder's, same client and rounds: what the
 * pipeline costs on top of what any Node gateway costs (the runtime decision's target is ≤ 1.15).
 */
export function floorRatioLine(summaries: TargetSummary[]): string | undefined {
  const floor = summaries.find((s) => s.name === 'node-floor');
  const edges = summaries.filter((s) => s.name.startsWith('kcp-edge'));
  if (floor === undefined || edges.length === 0 || !Number.isFinite(floor.cpuMicrosPerRequest)) return undefined;
  const parts = edges.map((e) => `${e.name} ${fixed(e.cpuMicrosPerRequest / floor.cpuMicrosPerRequest, 2)}× (${Math.round(e.cpuMicrosPerRequest)} µs)`);
  // The box drifts between rounds (other work, frequency): a ratio taken within each round, then the
  // median of those, is steadier than the ratio of two medians taken from different rounds.
  const paired = edges.map((e) => {
    const ratios = e.rounds.map((r, i) => r.cpuMicrosPerRequest / (floor.rounds[i]?.cpuMicrosPerRequest ?? NaN)).filter(Number.isFinite);
    return `${e.name} ${fixed(median(ratios), 2)}× (${ratios.map((r) => fixed(r, 2)).join(', ')})`;
  });
  return (
    `CPU per request against node-floor's (${Math.round(floor.cpuMicrosPerRequest)} µs), medians of the same rounds: ${parts.join(', ')}. ` +
    `Round by round (each round's kcp-edge ÷ that round's node-floor), median: ${paired.join(', ')}.`
  );
}

/** The constant-rate latency section: every target at half of kcp-edge's HTTP/2 peak. */
export function pacedReport(paced: PacedLatency, o: { threads: number; seconds: number }): { title: string; markdown: string } {
  const rows = paced.summaries.map(
    (s) =>
      `| ${s.name} | ${s.rounds} | ${thousands(s.requestsPerSecond)} | ${fixed(s.p50Ms, 2)} | ${fixed(s.p99Ms, 2)} | ${s.name === 'direct' ? '–' : fixed(s.addedP50Ms, 2)} | ` +
      `${s.name === 'direct' ? '–' : fixed(s.addedP99Ms, 2)} | ${s.errors} |`,
  );
  return {
    title: `Added latency at a constant rate (HTTP/2, half of ${paced.basis.target}'s peak)`,
    markdown: [
      `Every target at the same steady ${thousands(paced.offeredRate)} req/s, half of ${paced.basis.target}'s median ${thousands(paced.basis.requestsPerSecond)} req/s ` +
        `over HTTP/2 above: h2load -t${o.threads} -c${paced.connections} -m1 --rps=${paced.ratePerConnection} (each connection sends on its own ` +
        `schedule), ${o.seconds} s after a warm-up. "added" is the target's percentile minus direct's in the same round, medians over rounds ` +
        '(direct, node-floor and kcp-edge run in every round, the other proxies in the first). ' +
        "Direct over HTTP/2 is the upstream's own HTTP/2 while the proxies reach it over HTTP/1.1 (see the HTTP/2 table). " +
        'The issue asks for p50 ≤ 0.5 ms and p99 ≤ 2 ms added.',
      '',
      '| target | rounds | req/s achieved | p50 ms | p99 ms | added p50 ms | added p99 ms | errors |',
      '|---|---:|---:|---:|---:|---:|---:|---:|',
      ...rows,
    ].join('\n'),
  };
}

export interface ComparisonReport {
  markdown: string[];
  /** File name (in the results directory) → SVG. */
  charts: Map<string, string>;
}

/**
 * The report's comparison part: one section per client hop, each with its table and chart (`<name>.svg`
 * for HTTP/1.1, `<name>-h2.svg` for HTTP/2), then every round.
 */
export function comparisonReport(
  comparisons: ClientComparison[],
  o: { name: string; chartTitle: (protocol: string) => string; threads: number; connections: number },
): ComparisonReport {
  const charts = new Map<string, string>();
  const sections = comparisonTables(comparisons).flatMap(({ comparison, table }) => {
    const file = comparison.client.hop === 'h1' ? `${o.name}.svg` : `${o.name}-${comparison.client.hop}.svg`;
    charts.set(file, compareChart(comparison.summaries, o.chartTitle(comparison.client.protocol)));
    const note = comparison.client.note === undefined ? [] : [comparison.client.note, ''];
    const floor = floorRatioLine(comparison.summaries);
    return [
      `## ${comparison.client.title}`,
      '',
      `Client: ${comparison.client.method(o)}.`,
      '',
      ...note,
      table,
      '',
      ...(floor === undefined ? [] : [floor, '']),
      `![chart](${file})`,
      '',
    ];
  });
  const markdown = [
    ...sections,
    '## Rounds',
    '',
    '| client hop | target | round | req/s | p50 ms | p99 ms | CPU µs/req | new upstream conns | errors |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|',
    ...comparisons.flatMap(({ client, summaries }) =>
      summaries.flatMap((s) =>
        s.rounds.map(
          (r, i) =>
            `| ${client.hop} | ${s.name} | ${i + 1} | ${r.requestsPerSecond.toFixed(0)} | ${r.p50Ms.toFixed(2)} | ${r.p99Ms.toFixed(2)} | ` +
            `${Number.isFinite(r.cpuMicrosPerRequest) ? r.cpuMicrosPerRequest.toFixed(0) : '–'} | ${r.newUpstreamConnections} | ${r.socketErrors + r.non2xx} |`,
        ),
      ),
    ),
    '',
  ];
  return { markdown, charts };
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);
}

/** Horizontal bars of req/s, labelled with the ratio to direct and p99. */
export function compareChart(summaries: TargetSummary[], title: string): string {
  const barHeight = 28;
  const gap = 14;
  const left = 120;
  const width = 720;
  const plot = width - left - 170;
  const top = 46;
  const max = Math.max(...summaries.map((s) => s.requestsPerSecond), 1);
  const height = top + summaries.length * (barHeight + gap) + 20;
  const colours: Record<string, string> = {
    direct: '#8a8f98',
    nginx: '#2f9e44',
    caddy: '#1c7ed6',
    'go-peer': '#0b7285',
    'node-floor': '#ae3ec9',
    'kcp-edge': '#e8590c',
    'kcp-edge-2w': '#f59f00',
  };
  const bars = summaries.map((s, i) => {
    const y = top + i * (barHeight + gap);
    const w = Math.max(1, (s.requestsPerSecond / max) * plot);
    const label = `${thousands(s.requestsPerSecond)} req/s · ${fixed(s.ratioToDirect, 2)}× · p99 ${fixed(s.p99Ms, 1)} ms`;
    return [
      `<text x="${left - 10}" y="${y + barHeight / 2 + 5}" text-anchor="end">${escapeXml(s.name)}</text>`,
      `<rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="${barHeight}" fill="${colours[s.name] ?? '#7048e8'}" rx="3"/>`,
      `<text x="${(left + w + 8).toFixed(1)}" y="${y + barHeight / 2 + 5}">${escapeXml(label)}</text>`,
    ].join('\n  ');
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="13">`,
    `  <rect width="100%" height="100%" fill="#ffffff"/>`,
    `  <text x="${left}" y="26" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
    `  ${bars.join('\n  ')}`,
    '</svg>',
    '',
  ].join('\n');
}
