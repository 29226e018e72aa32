// Prometheus metrics of the routing table and shard health, registered on the Registry the caller
// owns (the gateway's /metrics, or a test's own), never on the global one.
import { Counter, Gauge, type Registry } from 'prom-client';

export interface RoutingMetrics {
  cacheHits: Counter;
  cacheMisses: Counter;
  redisErrors: Counter;
  routeChanges: Counter;
  cacheEntries: Gauge;
  secondsSinceSync: Gauge;
  tableComplete: Gauge;
  shardUp: Gauge<'shard'>;
  shardProbeFailures: Counter<'shard'>;
  /** The table tells the gauges how to read its state at scrape time. */
  observe(source: RoutingMetricsSource): void;
}

export interface RoutingMetricsSource {
  cacheSize(): number;
  secondsSinceSync(): number;
  /** 1 when the table's routes are complete, 0 while it is rebuilt (or partial) after Redis lost it. */
  tableComplete(): number;
}

export function registerRoutingMetrics(registry: Registry): RoutingMetrics {
  let source: RoutingMetricsSource | undefined;
  const registers = [registry];
  return {
    cacheHits: new Counter({ name: 'kcp_edge_routing_cache_hits_total', help: 'Workspace lookups answered from the local cache.', registers }),
    cacheMisses: new Counter({ name: 'kcp_edge_routing_cache_misses_total', help: 'Workspace lookups that went to Redis.', registers }),
    redisErrors: new Counter({ name: 'kcp_edge_routing_redis_errors_total', help: 'Failed Redis commands and connection errors of the routing table.', registers }),
    routeChanges: new Counter({ name: 'kcp_edge_routing_changes_total', help: 'Change messages received (routes and shards).', registers }),
    cacheEntries: new Gauge({
      name: 'kcp_edge_routing_cache_entries',
      help: 'Entries in the local route cache, negative ones included.',
      registers,
      collect() {
        if (source !== undefined) this.set(source.cacheSize());
      },
    }),
    secondsSinceSync: new Gauge({
      name: 'kcp_edge_routing_seconds_since_last_sync',
      help: 'Seconds since the cache was last known to be in sync with Redis (0 while connected and subscribed).',
      registers,
      // Worker processes of one serve each keep a cache: the group is as stale as its stalest.
      aggregator: 'max',
      collect() {
        if (source !== undefined) this.set(source.secondsSinceSync());
      },
    }),
    tableComplete: new Gauge({
      name: 'kcp_edge_routing_table_complete',
      help: 'Whether the routing table is complete (1), or being rebuilt after Redis lost it, or never seeded (0): unknown workspaces get 503, /readyz is 503 unless partial.',
      registers,
      aggregator: 'min',
      collect() {
        if (source !== undefined) this.set(source.tableComplete());
      },
    }),
    // Each worker process of one serve tracks shard health itself; 0 when any of them fails the shard fast.
    shardUp: new Gauge({
      name: 'kcp_edge_shard_up',
      help: 'Whether the gateway currently sends requests to a shard (1) or fails them fast (0).',
      labelNames: ['shard'],
      registers,
      aggregator: 'min',
    }),
    shardProbeFailures: new Counter({ name: 'kcp_edge_shard_failures_total', help: 'Failed probes and forwarded requests per shard.', labelNames: ['shard'], registers }),
    observe(s) {
      source = s;
    },
  };
}
