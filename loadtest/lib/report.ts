// The results as a Markdown table and an SVG bar chart, both written to loadtest/results/.
import type { TargetSummary } from '../scenarios/proxy-compare.ts';

const thousands = (n: number) => Math.round(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ' ');
const fixed = (n: number, digits: number) => (Number.isFinite(n) ? n.toFixed(digits) : '–');

export function compareTable(summaries: TargetSummary[]): string {
  const rows = summaries.map((s) =>
    `| ${s.name} — ${s.description} | ${thousands(s.requestsPerSecond)} | ${fixed(s.ratioToDirect, 2)} | ${fixed(s.p50Ms, 1)} | ${fixed(s.p99Ms, 1)} | ` +
      `${Number.isFinite(s.cpuMicrosPerRequest) ? Math.round(s.cpuMicrosPerRequest) : '–'} | ${s.newUpstreamConnections} | ${s.errors} |`,
  );
  return [
    '| target | req/s | vs direct | p50 ms | p99 ms | target CPU µs/req | new upstream conns | errors |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...rows,
  ].join('\n');
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
  const colours: Record<string, string> = { direct: '#8a8f98', nginx: '#2f9e44', caddy: '#1c7ed6', 'node-floor': '#ae3ec9', 'kcp-edge': '#e8590c', 'kcp-edge-2w': '#f59f00' };
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
