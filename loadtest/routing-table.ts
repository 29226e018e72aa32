// The shared routing table under load, run on demand (not a test):
//   node --expose-gc loadtest/routing-table.ts [--routes 1000000] [--cache 100000]
// Starts its own redis-server, imports N routes through the same code as `kcp-edge routes import`
// (an NDJSON file, checked then written in batches), then measures on one gateway replica's table:
// warm lookups/s (cache hits), cold lookups/s (one Redis round trip each, 64 in flight, and one at a
// time), and the heap the cache takes per entry. Prints one summary table.
import { writeFile, rm, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { importRoutes } from '../src/routing/cli/route-import.ts';
import { parseRedisUrl } from '../src/routing/redis-connection.ts';
import { RedisRouteStore } from '../src/routing/redis-route-store.ts';
import { RedisRoutingTable } from '../src/routing/redis-routing-table.ts';
import { startRedis } from '../test/helpers/redis.ts';

const { values } = parseArgs({ options: { routes: { type: 'string', default: '1000000' }, cache: { type: 'string', default: '100000' } } });
const ROUTES = Number(values.routes);
const CACHE = Number(values.cache);
const gc = (globalThis as { gc?: () => void }).gc;
const pathOf = (n: number) => {
  const i = n % ROUTES;
  return `root:org-${i % 1000}:ws-${i}`;
};
const results: [string, string][] = [];
const note = (what: string, value: string) => {
  results.push([what, value]);
  process.stdout.write(`${what}: ${value}\n`);
};
const cpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

const redis = await startRedis();
const dir = await mkdtemp(join(tmpdir(), 'kcp-edge-bench-'));
const config = parseRedisUrl(redis.url);
const store = RedisRouteStore.connect(config);
try {
  await store.putShard({ name: 'shard-a', url: 'https://shard-a.example:6443', state: 'active', labels: {} });
  await store.putShard({ name: 'shard-b', url: 'https://shard-b.example:6443', state: 'active', labels: {} });

  // A replica subscribed during the import: it receives every change message, as in production.
  const watching = new RedisRoutingTable({ redis: config });
  await watching.waitUntilSynced();

  const file = join(dir, 'routes.ndjson');
  const lines: string[] = [];
  for (let i = 0; i < ROUTES; i++) lines.push(`{"path":"${pathOf(i)}","shard":"shard-${i % 2 === 0 ? 'a' : 'b'}","cluster":"lc${i.toString(36)}"}`);
  await writeFile(file, lines.join('\n') + '\n');
  lines.length = 0;

  let cpu = cpuSeconds();
  const imported = await importRoutes(store, file, { batchSize: 1000, progress: process.stderr, inFlight: 4 });
  note(
    `import ${ROUTES} routes (routes import, NDJSON, batches of 1000)`,
    `${(imported.ms / 1000).toFixed(1)} s = ${Math.round(ROUTES / (imported.ms / 1000))} routes/s (importer CPU ${(cpuSeconds() - cpu).toFixed(1)} s)`,
  );
  const memory = await store.client.info('memory');
  note('Redis memory with the table', /used_memory_human:(\S+)/.exec(memory)?.[1] ?? '?');
  await watching.close();

  const table = new RedisRoutingTable({ redis: config, cacheMax: CACHE });
  await table.waitUntilSynced();

  // Cold: every key looked up for the first time (one EVALSHA each), 64 in flight.
  const COLD = Math.min(50_000, CACHE);
  let next = 0;
  let t0 = performance.now();
  cpu = cpuSeconds();
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (next < COLD) {
        const i = next++;
        if ((await table.resolve(pathOf(i * 7))) === undefined) throw new Error(`missing ${pathOf(i * 7)}`);
      }
    }),
  );
  let seconds = (performance.now() - t0) / 1000;
  note(`cold lookups, 64 concurrent (${COLD})`, `${Math.round(COLD / seconds)}/s (gateway CPU ${(((cpuSeconds() - cpu) / COLD) * 1e6).toFixed(0)} µs per lookup)`);

  const SERIAL = 5_000;
  t0 = performance.now();
  for (let i = 0; i < SERIAL; i++) await table.resolve(pathOf(COLD * 7 + i * 3 + 1));
  seconds = (performance.now() - t0) / 1000;
  note(`cold lookups, one at a time (${SERIAL})`, `${Math.round(SERIAL / seconds)}/s (${((seconds / SERIAL) * 1e6).toFixed(0)} µs each)`);

  // Warm: keys now in the cache, looked up again and again (what the gateway does on every request).
  const WARM = 2_000_000;
  t0 = performance.now();
  for (let i = 0; i < WARM; i++) await table.resolve(pathOf((i % COLD) * 7));
  seconds = (performance.now() - t0) / 1000;
  note(`warm lookups (${WARM}, ${COLD} distinct keys)`, `${Math.round(WARM / seconds)}/s (${((seconds / WARM) * 1e9).toFixed(0)} ns each)`);
  await table.close();

  // Cache memory: heap of a table filled to its bound, against the same table empty.
  if (gc !== undefined) {
    const sized = new RedisRoutingTable({ redis: config, cacheMax: CACHE });
    await sized.waitUntilSynced();
    gc();
    const before = process.memoryUsage().heapUsed;
    next = 0;
    await Promise.all(
      Array.from({ length: 64 }, async () => {
        while (next < CACHE) await sized.resolve(pathOf(next++ * 3));
      }),
    );
    gc();
    const used = process.memoryUsage().heapUsed - before;
    note(`cache memory at ${sized.cacheSize} entries`, `${(used / 1024 / 1024).toFixed(1)} MiB = ${Math.round(used / sized.cacheSize)} bytes per entry`);
    await sized.close();
  } else {
    note('cache memory', 'run with --expose-gc to measure');
  }
} finally {
  await store.close();
  await redis[Symbol.asyncDispose]();
  await rm(dir, { recursive: true, force: true });
}

process.stdout.write(`\n| measurement | result |\n|---|---|\n${results.map(([k, v]) => `| ${k} | ${v} |`).join('\n')}\n`);
