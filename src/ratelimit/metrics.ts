// Prometheus metrics of the rate policy, per priority level. Registered on a registry the caller
// owns (the gateway passes its own), so the limiter never touches prom-client's global registry.
import { Counter, Gauge, type Registry } from 'prom-client';
import { SeriesValues, type ValueSeries } from '../metric-series.ts';
import type { RejectReason } from './admission.ts';

const windowSeconds = 10;

/**
 * Admitted cost units per second over the last 10 s of one priority level, on this replica: a ring of
 * per-second sums. An update reads the clock and adds to the current second's sum; the second's
 * number and ring slot are worked out only when the clock has passed into another second.
 */
class LevelRate {
  /** Which epoch second each ring slot holds, -1 for none yet. */
  readonly #seconds = new Float64Array(windowSeconds).fill(-1);
  readonly #units = new Float64Array(windowSeconds);
  #slot = 0;
  /** The current second's span in ms: [#from, #until). */
  #from = 0;
  #until = 0;

  add(units: number): void {
    const t = Date.now();
    // Also when the clock went back: the sum belongs to that (earlier) second, as if read afresh.
    if (t >= this.#until || t < this.#from) this.#enter(t);
    this.#units[this.#slot]! += units;
  }

  #enter(t: number): void {
    const second = Math.floor(t / 1000);
    this.#from = second * 1000;
    this.#until = this.#from + 1000;
    this.#slot = second % windowSeconds;
    if (this.#seconds[this.#slot] !== second) {
      this.#seconds[this.#slot] = second;
      this.#units[this.#slot] = 0;
    }
  }

  rate(): number {
    const now = Math.floor(Date.now() / 1000);
    let sum = 0;
    for (let i = 0; i < windowSeconds; i++) if (this.#seconds[i]! >= 0 && now - this.#seconds[i]! < windowSeconds) sum += this.#units[i]!;
    return sum / windowSeconds;
  }
}

/** The rate of every priority level seen, made on a level's first admission. */
class RateWindow {
  readonly #levels = new Map<string, LevelRate>();
  of(level: string): LevelRate {
    let r = this.#levels.get(level);
    if (r === undefined) this.#levels.set(level, (r = new LevelRate()));
    return r;
  }
  add(level: string, units: number): void {
    this.of(level).add(units);
  }
  rates(): [string, number][] {
    return [...this.#levels].map(([level, r]) => [level, r.rate()]);
  }
}

/**
 * The series one flow schema and kind of request (watch or not) count in, looked up once and kept by
 * a limiter that caches its flows: an admission or a release is then a few number updates.
 */
export interface FlowMeters {
  /** What admitted(level, schema, cost) and slotTaken(level, kind) together count. */
  admitted(cost: number): void;
  /** What slotReleased(level, kind) counts. */
  released(): void;
}

export interface RateLimitMetrics {
  admitted(priorityLevel: string, flowSchema: string, cost: number): void;
  rejected(priorityLevel: string, flowSchema: string, reason: RejectReason): void;
  slotTaken(priorityLevel: string, kind: 'watches' | 'in-flight'): void;
  slotReleased(priorityLevel: string, kind: 'watches' | 'in-flight'): void;
  /** 1 while this replica enforces its share of the limits on its own because Redis is unreachable. */
  setLocalFallback(active: boolean): void;
  setKnownReplicas(count: number): void;
  redisError(): void;
  /** The series of one priority level, flow schema and kind, for admitted() and the slot gauges at once. */
  meters(priorityLevel: string, flowSchema: string, kind: 'watches' | 'in-flight'): FlowMeters;
}

export function registerRateLimitMetrics(registry: Registry): RateLimitMetrics {
  const registers = [registry];
  // Updated on every request: plain numbers per label set (metric-series.ts), read at scrape time.
  const admitted = new SeriesValues('counter', {
    name: 'kcp_edge_ratelimit_admitted_total',
    help: 'Requests admitted by the rate policy, per priority level and flow schema.',
    labelNames: ['priority_level', 'flow_schema'] as const,
    registers,
  });
  const rejected = new Counter({
    name: 'kcp_edge_ratelimit_rejected_total',
    help: 'Requests rejected with 429, per priority level, flow schema and reason (rate, watch-starts, open-watches, in-flight).',
    labelNames: ['priority_level', 'flow_schema', 'reason'] as const,
    registers,
  });
  const openWatches = new SeriesValues('gauge', {
    name: 'kcp_edge_ratelimit_open_watches',
    help: 'Watches this replica holds open, per priority level.',
    labelNames: ['priority_level'] as const,
    registers,
  });
  const inFlight = new SeriesValues('gauge', {
    name: 'kcp_edge_ratelimit_in_flight',
    help: 'Requests in flight on this replica that hold an in-flight slot, per priority level.',
    labelNames: ['priority_level'] as const,
    registers,
  });
  const window = new RateWindow();
  new Gauge({
    name: 'kcp_edge_ratelimit_current_rate',
    help: 'Admitted cost units per second over the last 10 seconds on this replica, per priority level.',
    labelNames: ['priority_level'] as const,
    registers,
    collect() {
      for (const [level, rate] of window.rates()) this.set({ priority_level: level }, rate);
    },
  });
  const fallback = new Gauge({
    name: 'kcp_edge_ratelimit_local_fallback',
    help: '1 while Redis is unreachable and this replica enforces limits divided by the known replica count on its own.',
    registers,
    // Summed over the worker processes of one serve it would no longer read as a flag.
    aggregator: 'max',
  });
  const replicas = new Gauge({
    name: 'kcp_edge_ratelimit_known_replicas',
    help: 'Gateway processes (replicas, and each worker process of one) registered in Redis, by which the local fallback divides the limits.',
    registers,
    // Every worker process registers itself and reads the same count.
    aggregator: 'max',
  });
  const redisErrors = new Counter({
    name: 'kcp_edge_ratelimit_redis_errors_total',
    help: 'Redis calls of the limiter that failed and were answered by the local fallback.',
    registers,
  });
  fallback.set(0);
  replicas.set(1);
  const admittedSeries = new Map<string, Map<string, ValueSeries>>();
  const slotSeries = { watches: new Map<string, ValueSeries>(), 'in-flight': new Map<string, ValueSeries>() };
  const slotsOf = (priorityLevel: string, kind: 'watches' | 'in-flight'): ValueSeries => {
    let s = slotSeries[kind].get(priorityLevel);
    if (s === undefined) slotSeries[kind].set(priorityLevel, (s = (kind === 'watches' ? openWatches : inFlight).series({ priority_level: priorityLevel })));
    return s;
  };
  const admittedOf = (priorityLevel: string, flowSchema: string): ValueSeries => {
    let bySchema = admittedSeries.get(priorityLevel);
    if (bySchema === undefined) admittedSeries.set(priorityLevel, (bySchema = new Map()));
    let s = bySchema.get(flowSchema);
    if (s === undefined) bySchema.set(flowSchema, (s = admitted.series({ priority_level: priorityLevel, flow_schema: flowSchema })));
    return s;
  };
  return {
    admitted(priorityLevel, flowSchema, cost) {
      admittedOf(priorityLevel, flowSchema).value += 1;
      window.add(priorityLevel, cost);
    },
    rejected(priorityLevel, flowSchema, reason) {
      rejected.inc({ priority_level: priorityLevel, flow_schema: flowSchema, reason });
    },
    slotTaken(priorityLevel, kind) {
      slotsOf(priorityLevel, kind).value += 1;
    },
    slotReleased(priorityLevel, kind) {
      slotsOf(priorityLevel, kind).value -= 1;
    },
    setLocalFallback(active) {
      fallback.set(active ? 1 : 0);
    },
    setKnownReplicas(count) {
      replicas.set(count);
    },
    redisError() {
      redisErrors.inc();
    },
    meters(priorityLevel, flowSchema, kind) {
      const admittedCount = admittedOf(priorityLevel, flowSchema);
      const rate = window.of(priorityLevel);
      const slots = slotsOf(priorityLevel, kind);
      return {
        admitted(cost) {
          admittedCount.value += 1;
          rate.add(cost);
          slots.value += 1;
        },
        released() {
          slots.value -= 1;
        },
      };
    },
  };
}
