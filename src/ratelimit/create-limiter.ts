// The one place the gateway (and `kcp-edge dev`) gets its limiter from: the policy file (or the
// built-in default), Redis when a URL is given (shared across replicas) or memory otherwise
// (embedded mode), and metrics on the caller's registry.
import type { Registry } from 'prom-client';
import { MemoryLimiter } from './memory-limiter.ts';
import { registerRateLimitMetrics } from './metrics.ts';
import { defaultPolicy, filePolicy, staticPolicy, type PolicySource } from './policy-source.ts';
import { RedisLimiter } from './redis-limiter.ts';
import type { RedisConnectionConfig } from '../routing/redis-connection.ts';
import type { Limiter } from './types.ts';
import type { Log } from '../log.ts';

export interface LimiterSetup {
  /** Policy file, watched for changes; the built-in default policy when absent. */
  policyFile?: string;
  /** Redis shared by all replicas (a URL or the routing store's connection); an in-process limiter when absent. */
  redis?: string | RedisConnectionConfig;
  registry?: Registry;
  log?: Log;
  /**
   * Worker processes of this node sharing the in-memory limits (default 1): each enforces 1/N of them.
   * With Redis nothing is divided: every process registers as a replica of its own, so the shared
   * counters are exact and the Redis-down fallback already divides by every process.
   */
  processes?: number;
}

export async function createLimiter(setup: LimiterSetup): Promise<Limiter> {
  const log = setup.log;
  const policy: PolicySource = setup.policyFile === undefined ? staticPolicy(await defaultPolicy()) : await filePolicy(setup.policyFile, { log });
  const metrics = setup.registry === undefined ? undefined : registerRateLimitMetrics(setup.registry);
  const limiter: Limiter =
    setup.redis === undefined
      ? new MemoryLimiter({ policy, metrics, share: 1 / (setup.processes ?? 1) })
      : new RedisLimiter({
          policy,
          metrics,
          redis: setup.redis,
          onModeChange: (mode, cause) =>
            mode === 'local'
              ? log?.warn({ err: cause instanceof Error ? cause.message : String(cause) }, "rate limiter: Redis unreachable, enforcing this replica's share locally")
              : log?.info({}, 'rate limiter: Redis reachable again, limits are shared'),
        });
  return {
    admit: (identity, attrs, context) => limiter.admit(identity, attrs, context),
    async close() {
      policy.close();
      await limiter.close();
    },
  };
}
