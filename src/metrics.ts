// The gateway's Prometheus metrics. One Registry per gateway (tests run several in one process). The
// per-request ones are plain numbers per label set (metric-series.ts), looked up through nested maps
// so a request pays a few Map lookups and no string, object or label hashing.
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { SeriesHistogram, SeriesValues, type HistogramSeries, type ValueSeries } from './metric-series.ts';

interface RequestSeries {
  count: ValueSeries;
  latency: HistogramSeries;
}

export interface GatewayMetrics {
  readonly registry: Registry;
  /** Counts one finished request and its latency. */
  observeRequest(shard: string, verb: string, code: number, seconds: number): void;
  watchOpened(shard: string): void;
  watchClosed(shard: string): void;
  upgradeOpened(shard: string): void;
  upgradeClosed(shard: string): void;
  /** A watch refused by the gateway's own cap on open watches ('gateway': in total, 'org': for its organisation). */
  watchCapRejected(scope: 'gateway' | 'org'): void;
  /** Where /metrics reads the requests each shard's connection pool holds now (read at scrape time only). */
  observeUpstream(requestsByShard: () => Iterable<readonly [shard: string, requests: number]>): void;
}

/** `registry`: share one with other components (routing, rate limiting) so /metrics shows them all. */
export function createGatewayMetrics(registry: Registry = new Registry()): GatewayMetrics {
  collectDefaultMetrics({ register: registry, prefix: 'kcp_edge_' });
  const requests = new SeriesValues('counter', {
    name: 'kcp_edge_requests_total',
    help: 'Requests answered, by shard (empty when none was chosen), Kubernetes verb and HTTP status code.',
    labelNames: ['shard', 'verb', 'code'] as const,
    registers: [registry],
  });
  const duration = new SeriesHistogram({
    name: 'kcp_edge_request_duration_seconds',
    help: 'Time from request start to the end of the response, by shard and verb (watches included: long).',
    labelNames: ['shard', 'verb'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });
  // Gauges of things open now sum over the worker processes of one serve (prom-client's default aggregator).
  const openWatches = new Gauge({
    name: 'kcp_edge_open_watches',
    help: 'Long-running streamed responses (watches, followed logs) open now, by shard.',
    labelNames: ['shard'] as const,
    registers: [registry],
  });
  const openUpgrades = new Gauge({
    name: 'kcp_edge_open_upgrades',
    help: 'Upgraded connections (WebSocket, SPDY) piped now, by shard.',
    labelNames: ['shard'] as const,
    registers: [registry],
  });
  const watchCapRejections = new Counter({
    name: 'kcp_edge_watch_cap_rejections_total',
    help: 'Watches refused with 429 because this gateway process holds its maximum of open watches, in total (scope="gateway") or for the organisation (scope="org").',
    labelNames: ['scope'] as const,
    registers: [registry],
  });
  let upstreamRequests: () => Iterable<readonly [string, number]> = () => [];
  new Gauge({
    name: 'kcp_edge_upstream_requests',
    help: 'Requests held towards each shard now (queued for or running on a pooled connection): open watches plus requests in progress; more means requests outlive their clients.',
    labelNames: ['shard'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [shard, requests] of upstreamRequests()) this.set({ shard }, requests);
    },
  });
  const series = new Map<string, Map<string, Map<number, RequestSeries>>>();
  // The duration histogram has no code label: one series per shard and verb, shared by their codes.
  const latencies = new Map<string, Map<string, HistogramSeries>>();
  const latencyOf = (shard: string, verb: string): HistogramSeries => {
    let byVerb = latencies.get(shard);
    if (byVerb === undefined) latencies.set(shard, (byVerb = new Map()));
    let h = byVerb.get(verb);
    if (h === undefined) byVerb.set(verb, (h = duration.series({ shard, verb })));
    return h;
  };

  return {
    registry,
    observeRequest(shard, verb, code, seconds) {
      // Nested by label rather than keyed by a joined string: no string built per request.
      let byVerb = series.get(shard);
      if (byVerb === undefined) series.set(shard, (byVerb = new Map()));
      let byCode = byVerb.get(verb);
      if (byCode === undefined) byVerb.set(verb, (byCode = new Map()));
      let s = byCode.get(code);
      if (s === undefined) {
        s = { count: requests.series({ shard, verb, code: String(code) }), latency: latencyOf(shard, verb) };
        byCode.set(code, s);
      }
      s.count.value += 1;
      s.latency.observe(seconds);
    },
    watchOpened: (shard) => openWatches.inc({ shard }),
    watchClosed: (shard) => openWatches.dec({ shard }),
    upgradeOpened: (shard) => openUpgrades.inc({ shard }),
    upgradeClosed: (shard) => openUpgrades.dec({ shard }),
    watchCapRejected: (scope) => watchCapRejections.inc({ scope }),
    observeUpstream(requestsByShard) {
      upstreamRequests = requestsByShard;
    },
  };
}
