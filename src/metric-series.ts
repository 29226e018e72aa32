// Metrics updated on every request, kept as plain numbers and handed to prom-client only when /metrics
// is read. prom-client's own inc()/observe() check and hash the label values on every call (a string
// and a few objects per update, some 1.5 KB per request across the gateway's metrics in its allocation
// profile); here an update is a number added to a series the caller looked up once and kept.
import { Counter, Gauge, type Metric, type Registry } from 'prom-client';

export type Labels = Readonly<Record<string, string>>;

/** One label set of a counter or gauge; `value` is what /metrics shows. */
export interface ValueSeries {
  readonly labels: Labels;
  value: number;
}

interface ValueOptions {
  name: string;
  help: string;
  labelNames: readonly string[];
  registers: Registry[];
}

/** A counter (or gauge) whose series are plain numbers; each series object is made once per label set. */
export class SeriesValues {
  readonly #series: ValueSeries[] = [];

  constructor(kind: 'counter' | 'gauge', options: ValueOptions) {
    const series = this.#series;
    if (kind === 'counter') {
      new Counter({
        ...options,
        collect() {
          this.reset();
          for (const s of series) this.inc(s.labels, s.value);
        },
      });
    } else {
      new Gauge({
        ...options,
        collect() {
          this.reset();
          for (const s of series) this.set(s.labels, s.value);
        },
      });
    }
  }

  /** A new series: keep it; asking twice for the same labels gives two series that /metrics would both show. */
  series(labels: Labels): ValueSeries {
    const s = { labels: Object.freeze({ ...labels }), value: 0 };
    this.#series.push(s);
    return s;
  }
}

/** One label set of a histogram. */
export class HistogramSeries {
  readonly labels: Labels;
  /** Observations per bucket (not cumulative); the last slot is +Inf. */
  readonly counts: Float64Array;
  readonly #bounds: readonly number[];
  sum = 0;
  count = 0;

  constructor(labels: Labels, bounds: readonly number[]) {
    this.labels = Object.freeze({ ...labels });
    this.#bounds = bounds;
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const bounds = this.#bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    this.counts[i]! += 1;
    this.sum += value;
    this.count += 1;
  }
}

interface HistogramOptions extends ValueOptions {
  buckets: readonly number[];
}

interface ExportedValue {
  labels: Record<string, string | number>;
  value: number;
  metricName: string;
}

/**
 * A histogram in prom-client's exposition shape (what Registry#metrics() and the worker group's
 * AggregatorRegistry read: name, help, type, aggregator, values) without prom-client's per-call work.
 */
export class SeriesHistogram {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly #bounds: readonly number[];
  readonly #series: HistogramSeries[] = [];

  constructor(options: HistogramOptions) {
    this.name = options.name;
    this.help = options.help;
    this.#bounds = [...options.buckets].sort((a, b) => a - b);
    // Not a prom-client class, but everything its registries call on one (get, reset): see above.
    for (const registry of options.registers) registry.registerMetric(this as unknown as Metric);
  }

  series(labels: Labels): HistogramSeries {
    const s = new HistogramSeries(labels, this.#bounds);
    this.#series.push(s);
    return s;
  }

  get(): Promise<{ name: string; help: string; type: 'histogram'; aggregator: 'sum'; values: ExportedValue[] }> {
    const values: ExportedValue[] = [];
    const bucket = `${this.name}_bucket`;
    for (const s of this.#series) {
      let cumulative = 0;
      for (let i = 0; i < this.#bounds.length; i++) {
        cumulative += s.counts[i]!;
        values.push({ labels: { le: this.#bounds[i]!, ...s.labels }, value: cumulative, metricName: bucket });
      }
      values.push({ labels: { le: '+Inf', ...s.labels }, value: s.count, metricName: bucket });
      values.push({ labels: { ...s.labels }, value: s.sum, metricName: `${this.name}_sum` });
      values.push({ labels: { ...s.labels }, value: s.count, metricName: `${this.name}_count` });
    }
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values });
  }

  reset(): void {
    for (const s of this.#series) {
      s.counts.fill(0);
      s.sum = 0;
      s.count = 0;
    }
  }
}
