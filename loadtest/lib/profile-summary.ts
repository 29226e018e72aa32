// Reads a V8 .cpuprofile (node --cpu-prof) and sums self time by function and by source, so the
// bench can say where kcp-edge's time goes without a browser.
import { readFile } from 'node:fs/promises';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileLine {
  name: string;
  share: number;
}

function source(url: string): string {
  if (url === '') return '(native / V8)';
  if (url.startsWith('node:')) return url;
  const nm = url.lastIndexOf('/node_modules/');
  if (nm !== -1)
    return url
      .slice(nm + '/node_modules/'.length)
      .split('/')
      .slice(0, 1)
      .join('/');
  const src = url.indexOf('/src/');
  return src !== -1 ? url.slice(src + 1) : url;
}

export async function summarizeProfile(file: string, top = 25): Promise<{ byFunction: ProfileLine[]; bySource: ProfileLine[]; idleShare: number }> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfTime = new Map<number, number>();
  profile.samples.forEach((id, i) => selfTime.set(id, (selfTime.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  let total = 0;
  let idle = 0;
  const byFunction = new Map<string, number>();
  const bySource = new Map<string, number>();
  for (const [id, time] of selfTime) {
    const frame = nodes.get(id)!.callFrame;
    total += time;
    if (frame.functionName === '(idle)') {
      idle += time;
      continue;
    }
    const fn = `${frame.functionName || '(anonymous)'} ${source(frame.url)}${frame.url ? `:${frame.lineNumber + 1}` : ''}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + time);
    const src = frame.functionName.startsWith('(') ? frame.functionName : source(frame.url);
    bySource.set(src, (bySource.get(src) ?? 0) + time);
  }
  const busy = total - idle;
  const ranked = (m: Map<string, number>) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, t]) => ({ name, share: t / busy }));
  return { byFunction: ranked(byFunction), bySource: ranked(bySource), idleShare: idle / total };
}

export function formatProfile(summary: Awaited<ReturnType<typeof summarizeProfile>>): string {
  const rows = (lines: ProfileLine[]) => lines.map((l) => `| ${(l.share * 100).toFixed(1)} % | \`${l.name}\` |`);
  return [
    `Idle: ${(summary.idleShare * 100).toFixed(0)} % of the profile. Shares below are of busy time (self time).`,
    '',
    '| share | source |',
    '|---:|---|',
    ...rows(summary.bySource),
    '',
    '| share | function |',
    '|---:|---|',
    ...rows(summary.byFunction),
  ].join('\n');
}
