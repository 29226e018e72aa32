// Route lookups with a million workspaces: the Redis routing table every replica reads, loaded the way
// the operator CLI and the indexer write it, then resolved cold (a Redis round trip) and warm (the
// in-process LRU) — the two costs a request pays in the resolve stage.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort, waitForPort } from '../lib/net.ts';
import { percentile } from '../lib/stats.ts';
import { parseRedisUrl } from '../../src/routing/redis-connection.ts';
import { RedisRouteStore } from '../../src/routing/redis-route-store.ts';
import { RedisRoutingTable } from '../../src/routing/redis-routing-table.ts';
import type { RouteInput } from '../../src/routing/route-store.ts';
import type { Scenario } from './index.ts';

const SHARDS = 4;
const pathOf = (i: number) => `root:org-${i % 5000}:ws-${i.toString(36)}`;
const clusterOf = (i: number) => `lc${i.toString(36).padStart(6, '0')}`;

/** Runs `count` lookups with `concurrency` in flight, timing each. */
async function timedLookups(
  table: RedisRoutingTable,
  keys: () => string,
  count: number,
  concurrency: number,
): Promise<{ perSecond: number; p50us: number; p99us: number; misses: number }> {
  const latencies = new Float64Array(count);
  let next = 0;
  let misses = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        const t = performance.now();
        if ((await table.resolve(keys())) === undefined) misses += 1;
        latencies[i] = (performance.now() - t) * 1000;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const all = Array.from(latencies);
  return { perSecond: count / seconds, p50us: percentile(all, 50), p99us: percentile(all, 99), misses };
}

export const routeLookups: Scenario = {
  name: 'routes',
  async run({ env, log, quick }) {
    const total = quick ? 100_000 : 1_000_000;
    const port = await freePort();
    const dir = join(env.dir, 'redis');
    await mkdir(dir, { recursive: true });
    const server = env.processes.spawn('redis', 'redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir]);
    await waitForPort(port, { what: 'redis-server', alive: () => server.child.exitCode === null });
    const config = parseRedisUrl(`redis://127.0.0.1:${port}`);
    const store = RedisRouteStore.connect(config);
    const admin = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 1 });
    let table: RedisRoutingTable | undefined;
    try {
      for (let s = 0; s < SHARDS; s++) await store.putShard({ name: `shard-${s}`, url: `https://shard-${s}.internal:6443`, state: 'active', labels: {} });
      const loadStarted = performance.now();
      const batch = 5000;
      for (let i = 0; i < total; i += batch) {
        const routes: RouteInput[] = [];
        for (let j = i; j < Math.min(total, i + batch); j++) routes.push({ path: pathOf(j), shard: `shard-${j % SHARDS}`, cluster: clusterOf(j), phase: 'Ready' });
        await store.putRoutes(routes);
      }
      const loadSeconds = (performance.now() - loadStarted) / 1000;
      const memory = /used_memory:(\d+)/.exec(await admin.info('memory'))?.[1];
      log(`routes: ${total} routes written in ${loadSeconds.toFixed(1)} s, Redis holds ${(Number(memory) / 2 ** 20).toFixed(0)} MiB`);

      table = new RedisRoutingTable({ redis: config, cacheMax: 100_000 });
      await table.waitUntilSynced();
      const random = () => Math.floor(Math.random() * total);
      // Cold: uniformly random among all routes, so nearly every lookup misses the 100 000-entry cache.
      const cold = await timedLookups(table, () => pathOf(random()), quick ? 20_000 : 100_000, 64);
      // Warm: a working set that fits the cache, resolved once before timing.
      const hot = Array.from({ length: 10_000 }, () => pathOf(random()));
      for (const p of hot) await table.resolve(p);
      let k = 0;
      const warm = await timedLookups(table, () => hot[k++ % hot.length]!, 1_000_000, 1);
      const byCluster = await timedLookups(table, () => clusterOf(random()), quick ? 20_000 : 100_000, 64);
      const unknown = await timedLookups(table, () => `root:org-none:ws-${random().toString(36)}`, quick ? 20_000 : 50_000, 64);
      const row = (what: string, r: Awaited<ReturnType<typeof timedLookups>>) =>
        `| ${what} | ${Math.round(r.perSecond).toLocaleString('en-US')} | ${r.p50us.toFixed(1)} | ${r.p99us.toFixed(1)} | ${r.misses} |`;
      return {
        title: `Route lookups: ${total.toLocaleString('en-US')} routes in Redis`,
        markdown: [
          `Loaded with the route store's batch import (${batch} routes a call) in ${loadSeconds.toFixed(1)} s; Redis holds ${(Number(memory) / 2 ** 20).toFixed(0)} MiB.`,
          "Lookups go through the gateway's RedisRoutingTable (100 000-entry LRU in front of one Lua call per miss), in this process.",
          '',
          '| lookup | per second | p50 µs | p99 µs | not found |',
          '|---|---:|---:|---:|---:|',
          row('cold: random workspace path, 64 in flight', cold),
          row('cold: random logical-cluster name, 64 in flight', byCluster),
          row('unknown workspace (random, so never negatively cached), 64 in flight', unknown),
          row('warm: 10 000 hot paths from the LRU, one at a time', warm),
        ].join('\n'),
      };
    } finally {
      await table?.close();
      await store.close();
      admin.disconnect();
      await server.stop();
    }
  },
};
