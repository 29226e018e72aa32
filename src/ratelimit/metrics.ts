// Prometheus metrics of the rate policy, per priority level. Registered on a registry the caller
// owns (the gateway passes its own), so the limiter never touches prom-client's global registry.
import { Counter, Gauge, type Registry } from 'prom-client';
import { SeriesValues, type ValueSeries } from '../metric-series.ts';
import type { RejectReason } from './admission.ts';

const windowSeconds = 10;

/** Admitted cost units per second over the last 10 s, per priority level, on this replica. */
class RateWindow {
  readonly #buckets = new Map<string, number[]>();
  #epoch(): number {
    return Math.floor(Date.now() / 1000);
  }
  add(level: string, units: number): void {
    let b = this.#buckets.get(level);
    if (b === undefined) this.#buckets.set(level, (b = new Array<number>(windowSeconds * 2).fill(0)));
    const now = this.#epoch();
    // Slots are [second, count] pairs in a ring of windowSeconds.
    const i = (now % windowSeconds) * 2;
    if (b[i] !== now) {
      b[i] = now;
      b[i + 1] = 0;
    }
    b[i + 1]! += units;
  }
  rates(): [string, number][] {
    const now = this.#epoch();
    return [...this.#buckets].map(([level, b]) => {
      let sum = 0;
      for (let i = 0; i < b.length; i += 2) if (now - b[i]! < windowSeconds) sum += b[i + 1]!;
      return [level, sum / windowSeconds];
    });
  }
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
  return {
    admitted(priorityLevel, flowSchema, cost) {
      let bySchema = admittedSeries.get(priorityLevel);
      if (bySchema === undefined) admittedSeries.set(priorityLevel, (bySchema = new Map()));
      let s = bySchema.get(flowSchema);
      if (s === undefined) bySchema.set(flowSchema, (s = admitted.series({ priority_level: priorityLevel, flow_schema: flowSchema })));
      s.value += 1;
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
  };
}
