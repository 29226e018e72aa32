// The plain-number metrics must read exactly like prom-client's own for the same updates: on one
// registry's /metrics, and merged over a worker group by prom-client's AggregatorRegistry.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AggregatorRegistry, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { SeriesHistogram, SeriesValues } from '../src/metric-series.ts';

const buckets = [0.001, 0.01, 0.1, 1];
const observations: [string, string, number][] = [
  ['a', 'list', 0.0005],
  ['a', 'list', 0.001],
  ['a', 'list', 0.05],
  ['a', 'get', 3],
  ['b', 'watch', 0.2],
];

function withPromClient(): Registry {
  const registry = new Registry();
  const h = new Histogram({ name: 't_seconds', help: 'h', labelNames: ['shard', 'verb'], buckets, registers: [registry] });
  const c = new Counter({ name: 't_total', help: 'c', labelNames: ['shard', 'verb'], registers: [registry] });
  const g = new Gauge({ name: 't_open', help: 'g', labelNames: ['shard'], registers: [registry] });
  for (const [shard, verb, v] of observations) {
    h.labels(shard, verb).observe(v);
    c.labels(shard, verb).inc();
    g.labels(shard).inc();
  }
  g.labels('a').dec();
  return registry;
}

function withSeries(): Registry {
  const registry = new Registry();
  const h = new SeriesHistogram({ name: 't_seconds', help: 'h', labelNames: ['shard', 'verb'], buckets, registers: [registry] });
  const c = new SeriesValues('counter', { name: 't_total', help: 'c', labelNames: ['shard', 'verb'], registers: [registry] });
  const g = new SeriesValues('gauge', { name: 't_open', help: 'g', labelNames: ['shard'], registers: [registry] });
  const hs = new Map<string, ReturnType<typeof h.series>>();
  const cs = new Map<string, ReturnType<typeof c.series>>();
  const gs = new Map<string, ReturnType<typeof g.series>>();
  for (const [shard, verb, v] of observations) {
    const key = `${shard} ${verb}`;
    if (!hs.has(key)) hs.set(key, h.series({ shard, verb }));
    if (!cs.has(key)) cs.set(key, c.series({ shard, verb }));
    if (!gs.has(shard)) gs.set(shard, g.series({ shard }));
    hs.get(key)!.observe(v);
    cs.get(key)!.value += 1;
    gs.get(shard)!.value += 1;
  }
  gs.get('a')!.value -= 1;
  return registry;
}

test("a registry's exposition is the same text prom-client's own metrics give", async () => {
  assert.equal(await withSeries().metrics(), await withPromClient().metrics());
});

test('merged over worker processes, the same text as prom-client merging its own metrics', async () => {
  const ours = await AggregatorRegistry.aggregate([await withSeries().getMetricsAsJSON(), await withSeries().getMetricsAsJSON()]).metrics();
  const theirs = await AggregatorRegistry.aggregate([await withPromClient().getMetricsAsJSON(), await withPromClient().getMetricsAsJSON()]).metrics();
  assert.equal(ours, theirs);
  assert.match(ours, /^t_seconds_bucket\{le="0.001",shard="a",verb="list"\} 4$/m);
});

test('resetMetrics() zeroes the plain series too', async () => {
  const registry = withSeries();
  registry.resetMetrics();
  assert.match(await registry.metrics(), /^t_seconds_count\{shard="a",verb="list"\} 0$/m);
});
