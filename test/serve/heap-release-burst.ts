// Run by heap-release.test.ts in a process of its own: a burst of short-lived objects grows V8's heap,
// the loop then stays busy for a while, then goes quiet. Every step is a JSON line on stdout.
import { Registry } from 'prom-client';
import { releaseHeapWhenQuiet } from '../../src/serve/heap-release.ts';
import { silentLog } from '../../src/log.ts';

const say = (line: object) => process.stdout.write(JSON.stringify({ at: Date.now(), ...line }) + '\n');
const registry = new Registry();
releaseHeapWhenQuiet({
  intervalMs: 100,
  quietForMs: 1_500,
  registry,
  log: {
    ...silentLog,
    info: (fields) => {
      say({ event: 'released', ...fields });
      // Warnings still reach stderr after a release (the release keeps its own first-use notice off it).
      setImmediate(() => process.emitWarning('a warning after the release'));
    },
  },
});
const start = process.memoryUsage.rss();

// What a burst of requests leaves: objects that live a little (some survive a scavenge), then none.
let kept: { i: number; s: string; a: number[] }[] = [];
for (let i = 0; process.memoryUsage.rss() - start < 96 * 2 ** 20; i++) {
  kept.push({ i, s: `object ${i}`, a: [i, i + 1] });
  if (kept.length > 200_000) kept = kept.slice(100_000);
}
kept = [];
say({ event: 'burst', start, peak: process.memoryUsage.rss() });

// Busy for a second (well over the check interval): work in 20 ms slices, as a loaded gateway's loop is.
const busyUntil = Date.now() + 1_000;
await new Promise<void>((resolve) => {
  const slice = () => {
    const end = Date.now() + 20;
    while (Date.now() < end);
    if (Date.now() < busyUntil) setImmediate(slice);
    else resolve();
  };
  slice();
});
const releases = await registry.getSingleMetricAsString('kcp_edge_heap_releases_total');
say({ event: 'busy-done', releases: Number(/ (\d+)$/m.exec(releases)?.[1] ?? NaN) });
// Quiet from here on; the parent ends this process once it has seen what it waits for.
setInterval(() => undefined, 60_000);
