// Hands memory back to the system once a burst is over. V8 grows its young generation under load (to
// 2 × 64 MiB on a 64-bit Node without pointer compression) and keeps the pages it frees in a pool; only a
// memory-reducing collection returns them, and V8 starts one on its own heuristics, which an idle process
// never meets: after 10 000 watch opens and resets the gateway's RSS stayed ~100 MiB above its working
// size for as long as it was quiet. So when the process is quiet (little event-loop use over the last
// interval) and its RSS grew by more than a bound since it was last trimmed, it runs one such
// collection. A busy process never does (its heap is sized by its load), and the bound keeps a quiet one
// from doing it twice for the same memory.
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { queryObjects } from 'node:v8';
import { Counter, type Registry } from 'prom-client';
import type { Log } from '../log.ts';

export interface HeapReleaseOptions {
  /** How often quiet and growth are checked; default 5 s. */
  intervalMs?: number;
  /** Growth of RSS since the last release (or start) that is worth a collection; default 16 MiB. */
  growthBytes?: number;
  /** Event-loop utilisation over the last interval below which the process counts as quiet; default 0.05. */
  quietUtilization?: number;
  /**
   * How long the process must have been quiet, without a busy interval, before memory is handed back;
   * default 300 s. After a release V8 starts again from a small young generation and re-optimises what
   * it dropped: the next burst costs up to ~1.4× the CPU per request for its first ~20 s (measured side
   * by side). A gateway whose load comes and goes every minute keeps its memory rather than pay that
   * every time; one that is really idle gives it back. Go's runtime returns memory on a similar clock.
   */
  quietForMs?: number;
  registry?: Registry;
  log: Log;
}

type Collect = () => void;

/** A class no object is ever made of: the heap query below looks for it and finds nothing. */
class NeverInstantiated {}

/**
 * V8's memory-reducing collection (all available garbage, pooled pages handed back) without a second
 * context or a V8 flag switched at run time. The earlier way, `--expose-gc` switched on for one `vm`
 * context made for its `gc()`, cost the whole process: in interleaved bench rounds a gateway holding
 * that context spent 1.1–1.5× the CPU per request of one without (7 runs), whether or not it ever collected
 * (process.nextTick alone ~3× its usual self time). A heap query runs the same collection first, so
 * that it counts only live objects; then it walks the heap once to count instances of a class that
 * has none. `gc` exposed at start (`node --expose-gc`) is used as it is.
 */
function memoryReducingCollector(): Collect | undefined {
  const exposed = (globalThis as { gc?: unknown }).gc;
  if (typeof exposed === 'function')
    return () => (exposed as (options: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void)({ type: 'major', execution: 'sync', flavor: 'last-resort' });
  if (typeof queryObjects !== 'function') return undefined;
  return () => {
    // The query is marked experimental and says so once, on first use, as a process warning: a line
    // an operator can do nothing about. The warning is emitted on the next tick; the listeners that
    // print it are put back right after, so no other warning is lost.
    const listeners = process.listeners('warning');
    process.removeAllListeners('warning');
    try {
      queryObjects(NeverInstantiated, { format: 'count' });
    } finally {
      process.nextTick(() => {
        for (const listener of listeners) process.on('warning', listener);
      });
    }
  };
}

/** Starts the checks; `stop()` ends them. The timer does not keep the process alive. */
export function releaseHeapWhenQuiet(options: HeapReleaseOptions): { stop(): void } {
  const intervalMs = options.intervalMs ?? 5_000;
  const growthBytes = options.growthBytes ?? 16 * 2 ** 20;
  const quietUtilization = options.quietUtilization ?? 0.05;
  const quietForMs = options.quietForMs ?? 300_000;
  const collect = memoryReducingCollector();
  if (collect === undefined) {
    options.log.warn({}, 'this runtime offers no memory-reducing collection: memory grown in a burst stays with the process');
    return { stop: () => undefined };
  }
  const releases =
    options.registry === undefined
      ? undefined
      : new Counter({
          name: 'kcp_edge_heap_releases_total',
          help: 'Memory-reducing collections run because the process turned quiet with its memory grown since the last one.',
          registers: [options.registry],
        });
  let baseline = process.memoryUsage.rss();
  let last: EventLoopUtilization = performance.eventLoopUtilization();
  /** performance.now() when the current quiet stretch began (the start of its first quiet interval). */
  let quietSince: number | undefined;
  const timer = setInterval(() => {
    const now = performance.eventLoopUtilization();
    const utilization = performance.eventLoopUtilization(now, last).utilization;
    last = now;
    const rss = process.memoryUsage.rss();
    if (rss < baseline) baseline = rss;
    if (utilization >= quietUtilization) {
      quietSince = undefined;
      return;
    }
    quietSince ??= performance.now() - intervalMs;
    if (performance.now() - quietSince < quietForMs || rss - baseline < growthBytes) return;
    const started = performance.now();
    collect();
    baseline = process.memoryUsage.rss();
    // The collection itself used the loop: the next interval starts after it.
    last = performance.eventLoopUtilization();
    releases?.inc();
    options.log.info({ rssBefore: rss, rssAfter: baseline, pauseMs: Math.round(performance.now() - started) }, 'released memory after a burst');
  }, intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
