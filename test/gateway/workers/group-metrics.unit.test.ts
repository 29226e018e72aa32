// How each metric of one worker process merges with the same metric of the others when /metrics shows
// the whole group: the `aggregator` each declares, applied by the same prom-client call the supervisor uses.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AggregatorRegistry, Registry } from 'prom-client';
import { createGatewayMetrics } from '../../../src/metrics.ts';
import { registerRateLimitMetrics } from '../../../src/ratelimit/metrics.ts';
import { registerRoutingMetrics } from '../../../src/routing/metrics.ts';

function worker(state: { watches: number; requests: number; shardUp: 0 | 1; fallback: boolean; replicas: number; secondsSinceSync: number; tableComplete: 0 | 1 }): Registry {
  const registry = new Registry();
  const gateway = createGatewayMetrics(registry);
  const routing = registerRoutingMetrics(registry);
  const limits = registerRateLimitMetrics(registry);
  for (let i = 0; i < state.watches; i++) gateway.watchOpened('a');
  for (let i = 0; i < state.requests; i++) gateway.observeRequest('a', 'list', 200, 0.002);
  routing.shardUp.set({ shard: 'a' }, state.shardUp);
  routing.observe({ cacheSize: () => 10, secondsSinceSync: () => state.secondsSinceSync, tableComplete: () => state.tableComplete });
  limits.setLocalFallback(state.fallback);
  limits.setKnownReplicas(state.replicas);
  return registry;
}

function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

test('merged over workers: counts and open things sum; flags and health take the worst; shared counts stay one', async () => {
  const a = worker({ watches: 3, requests: 5, shardUp: 1, fallback: false, replicas: 4, secondsSinceSync: 0, tableComplete: 1 });
  const b = worker({ watches: 2, requests: 7, shardUp: 0, fallback: true, replicas: 4, secondsSinceSync: 12, tableComplete: 0 });
  const text = await AggregatorRegistry.aggregate([await a.getMetricsAsJSON(), await b.getMetricsAsJSON()]).metrics();
  assert.equal(sample(text, 'kcp_edge_open_watches{shard="a"}'), 5);
  assert.equal(sample(text, 'kcp_edge_requests_total{shard="a",verb="list",code="200"}'), 12);
  assert.equal(sample(text, 'kcp_edge_request_duration_seconds_count{shard="a",verb="list"}'), 12);
  assert.equal(sample(text, 'kcp_edge_request_duration_seconds_bucket{le="0.0025",shard="a",verb="list"}'), 12);
  assert.equal(sample(text, 'kcp_edge_routing_cache_entries'), 20);
  // One worker fails shard a fast: the group does not reliably send to it.
  assert.equal(sample(text, 'kcp_edge_shard_up{shard="a"}'), 0);
  assert.equal(sample(text, 'kcp_edge_routing_seconds_since_last_sync'), 12);
  // One worker still sees the table rebuilt after Redis lost it: the group does not trust it yet.
  assert.equal(sample(text, 'kcp_edge_routing_table_complete'), 0);
  assert.equal(sample(text, 'kcp_edge_ratelimit_local_fallback'), 1);
  // Every worker registered itself in Redis and read the same count: not 8.
  assert.equal(sample(text, 'kcp_edge_ratelimit_known_replicas'), 4);
});
