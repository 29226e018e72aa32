// What the rate policy costs a request: admit() + release() on the in-memory limiter (embedded mode),
// on the Redis limiter (one EVALSHA per request, one in flight and 64 in flight), and on the Redis
// limiter's local fallback (Redis stopped). A benchmark, not a test; run it alone with
// `node loadtest/scenarios/ratelimit-overhead.ts` or as part of `npm run bench`.
//
// Every request is admitted (the limits are far above what one process can send), over 1 000 flows,
// so this measures the price of the check itself, not of rejecting.
import { Registry } from 'prom-client';
import type { Limiter } from '../../src/ratelimit/types.ts';
import { MemoryLimiter } from '../../src/ratelimit/memory-limiter.ts';
import { registerRateLimitMetrics } from '../../src/ratelimit/metrics.ts';
import { parsePolicy } from '../../src/ratelimit/policy.ts';
import { staticPolicy } from '../../src/ratelimit/policy-source.ts';
import { RedisLimiter } from '../../src/ratelimit/redis-limiter.ts';
import { requestAttributes } from '../../src/kube/request-attributes.ts';
import { startRedis } from '../../test/helpers/redis.ts';
import type { Scenario, ScenarioReport } from './index.ts';

const policyText = `
priorityLevels:
  - name: tenants
    limits: { rate: 1000000000, burst: 1000000000, maxInFlight: 1000000, maxOpenWatches: 1000000 }
flowSchemas:
  - { name: per-user, precedence: 100, priorityLevel: tenants, distinguisher: byUser, rules: [{ orgs: ["*"] }] }
`;

const flows = 1000;
const identities = Array.from({ length: flows }, (_, i) => ({ user: `user-${i}`, groups: ['dev'], extra: {} }));
const attrs = requestAttributes('GET', '/api/v1/namespaces/default/configmaps', new URLSearchParams('limit=50'));
const context = { org: 'org-acme', workspace: 'root:org-acme:proj-frontend' };

interface Result {
  name: string;
  ops: number;
  seconds: number;
  cpuMicrosPerOp: number;
}

/** Runs `concurrency` loops of admit+release for `seconds`; measures wall clock and this process's CPU. */
async function measure(name: string, limiter: Limiter, seconds: number, concurrency: number): Promise<Result> {
  // Warm-up: JIT, script cache, connection.
  for (let i = 0; i < 2000; i++) (await limiter.admit(identities[i % flows]!, attrs, context)).release();
  let ops = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, lane) => {
      let i = lane;
      while (performance.now() < deadline) {
        // Check the clock once per 64 admissions; the loop must not measure performance.now().
        for (let k = 0; k < 64; k++, i += concurrency) {
          const d = await limiter.admit(identities[i % flows]!, attrs, context);
          if (!d.allowed) throw new Error(`${name}: unexpectedly limited: ${d.message}`);
          d.release();
        }
        ops += 64;
      }
    }),
  );
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { name, ops, seconds: elapsed, cpuMicrosPerOp: (cpu.user + cpu.system) / ops };
}

function table(results: Result[]): string {
  return [
    '| limiter | ops/s | wall µs/op | limiter-process CPU µs/op |',
    '|---|---:|---:|---:|',
    ...results.map((r) => `| ${r.name} | ${Math.round(r.ops / r.seconds)} | ${((r.seconds * 1e6) / r.ops).toFixed(1)} | ${r.cpuMicrosPerOp.toFixed(1)} |`),
  ].join('\n');
}

export async function ratelimitOverhead(seconds: number, log: (line: string) => void): Promise<ScenarioReport> {
  const policy = staticPolicy(await parsePolicy(policyText, 'bench policy'));
  const results: Result[] = [];

  const memory = new MemoryLimiter({ policy, metrics: registerRateLimitMetrics(new Registry()) });
  results.push(await measure('memory (embedded mode)', memory, seconds, 1));
  await memory.close();
  log(`ratelimit: ${results.at(-1)!.name} done`);

  await using redis = await startRedis();
  const shared = new RedisLimiter({ policy, redis: redis.url, prefix: 'bench:', metrics: registerRateLimitMetrics(new Registry()) });
  try {
    await shared.ready();
    results.push(await measure('redis, 1 in flight', shared, seconds, 1));
    log(`ratelimit: ${results.at(-1)!.name} done`);
    results.push(await measure('redis, 64 in flight', shared, seconds, 64));
    log(`ratelimit: ${results.at(-1)!.name} done`);
    await redis.stop();
    // The connection drops at once; the limiter switches to its local share on the next call.
    results.push(await measure('redis down → local fallback', shared, seconds, 1));
    if (shared.mode !== 'local') throw new Error('expected the local fallback while Redis is down');
    log(`ratelimit: ${results.at(-1)!.name} done`);
  } finally {
    await shared.close();
  }
  const markdown = [
    `admit() + release() per request, ${flows} flows, every request admitted; ${seconds} s per row on this machine.`,
    'CPU is this process only (redis-server runs beside it and is not counted).',
    '',
    table(results),
  ].join('\n');
  return { title: 'Rate-limit overhead per request', markdown };
}

export const ratelimitOverheadScenario: Scenario = {
  name: 'ratelimit-overhead',
  run: ({ quick, log }) => ratelimitOverhead(quick ? 1 : 3, log),
};

if (import.meta.main) {
  const report = await ratelimitOverhead(Number(process.argv[2] ?? 3), (line) => process.stderr.write(`${line}\n`));
  process.stdout.write(`## ${report.title}\n\n${report.markdown}\n`);
}
