// The limiter gateway replicas share: GCRA buckets and open-watch counts in Redis, one Lua call per
// request (plus one when a watch ends). While Redis is unreachable every replica enforces its share
// of each limit on its own (the limit divided by the replica count last seen in Redis), and goes back
// to the shared counters by itself once Redis answers again.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Identity } from '../auth/identity.ts';
import type { RequestAttributes } from '../kube/request-attributes.ts';
import { admittedDecision, planAdmission, rejectedDecision, type AdmissionOutcome, type AdmissionPlan } from './admission.ts';
import { classify, type Classification } from './classify.ts';
import { FlowCache } from './flow-cache.ts';
import { LocalCounters } from './local-counters.ts';
import type { RateLimitMetrics } from './metrics.ts';
import type { Limits } from './policy.ts';
import type { PolicySource } from './policy-source.ts';
import { createRedisClient, parseRedisUrl, type RedisClient, type RedisConnectionConfig } from '../routing/redis-connection.ts';
import { RedisScripts } from './redis-script-runner.ts';
import { admitScript, heartbeatSlotsScript, registerReplicaScript, releaseScript } from './redis-scripts.ts';
import type { LimitContext, LimitDecision, Limiter } from './types.ts';

export interface RedisLimiterOptions {
  policy: PolicySource;
  /** A URL (redis://, rediss://, redis+sentinel://, redis+cluster://) or the connection the routing store uses. */
  redis: string | RedisConnectionConfig;
  /** Prefix of every key, default the connection's keyPrefix (`kcp-edge:`); keys are hash-tagged per flow after it. */
  prefix?: string;
  replicaId?: string;
  /** How long slots and the replica registration outlive the last heartbeat. */
  leaseMs?: number;
  heartbeatMs?: number;
  /** A Redis call slower than this counts as Redis being unreachable (default: the connection's, else 250 ms). */
  commandTimeoutMs?: number;
  metrics?: RateLimitMetrics;
  /** Told when the limiter switches between shared (Redis) and local enforcement. */
  onModeChange?: (mode: 'shared' | 'local', cause?: unknown) => void;
}

export class RedisLimiter implements Limiter {
  readonly #policy: PolicySource;
  readonly #redis: RedisClient;
  readonly #scripts: RedisScripts;
  readonly #prefix: string;
  readonly #replicaId: string;
  readonly #leaseMs: number;
  readonly #metrics: RateLimitMetrics | undefined;
  readonly #onModeChange: RedisLimiterOptions['onModeChange'];
  /** Slots this replica holds (shared or local), and the local buckets of the fallback. */
  readonly #local = new LocalCounters();
  /** Slot keys whose count fell to 0 since the last heartbeat: Redis must hear about them once. */
  readonly #emptied = new Set<string>();
  /** Each request shape classified once per policy (see flow-cache.ts). */
  readonly #classifications = new FlowCache<Classification>(classify);
  readonly #timer: NodeJS.Timeout;
  #shared = false;
  #replicas = 1;
  #heartbeat: Promise<void> | undefined;
  #closed = false;

  constructor(options: RedisLimiterOptions) {
    this.#policy = options.policy;
    const connection = typeof options.redis === 'string' ? parseRedisUrl(options.redis) : options.redis;
    this.#prefix = options.prefix ?? connection.keyPrefix;
    this.#replicaId = options.replicaId ?? `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
    this.#leaseMs = options.leaseMs ?? 15_000;
    this.#metrics = options.metrics;
    // Local until the first heartbeat has reached Redis.
    this.#metrics?.setLocalFallback(true);
    this.#onModeChange = options.onModeChange;
    // Fail fast instead of queueing: a request must never wait for Redis to come back.
    this.#redis = createRedisClient({ ...connection, commandTimeoutMs: options.commandTimeoutMs ?? connection.commandTimeoutMs ?? 250 }, { failFast: true });
    // Errors surface through failed calls and the mode switch; an unhandled 'error' event would crash.
    this.#redis.on('error', () => {});
    this.#redis.on('ready', () => void this.#beat());
    this.#redis.on('close', () => this.#lost(new Error('connection to Redis closed')));
    this.#scripts = new RedisScripts(this.#redis);
    this.#timer = setInterval(() => void this.#beat(), options.heartbeatMs ?? Math.floor(this.#leaseMs / 3)).unref();
  }

  /** 'shared' while Redis answers, 'local' while this replica enforces its share alone. */
  get mode(): 'shared' | 'local' {
    return this.#shared ? 'shared' : 'local';
  }

  get knownReplicas(): number {
    return this.#replicas;
  }

  /** Resolves once the limiter has talked to Redis (registered itself); for startup and tests. */
  async ready(timeoutMs = 5000): Promise<void> {
    if (this.#redis.status !== 'ready') {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          this.#redis.off('ready', onReady);
          reject(new Error(`redis not ready after ${timeoutMs} ms`));
        }, timeoutMs);
        const onReady = (): void => {
          clearTimeout(timer);
          resolve();
        };
        this.#redis.once('ready', onReady);
      });
    }
    await this.#beat();
    if (!this.#shared) await this.#beat();
  }

  async admit(identity: Identity, attrs: RequestAttributes, context: LimitContext): Promise<LimitDecision> {
    const c = this.#classifications.get(this.#policy.current(), identity, attrs, context);
    const limits = c.priorityLevel.limits;
    if (limits === undefined) return admittedDecision(c, this.#metrics, undefined);
    const base = `${this.#prefix}{rl:${c.flowKey}}`;
    const plan = planAdmission(c, limits);
    const slotKey = `${base}:${plan.slot?.kind ?? 'in-flight'}`;
    if (!this.#shared || this.#redis.status !== 'ready') return this.#admitLocally(c, limits, slotKey);

    // In-flight slots are held for milliseconds: counting them in Redis would cost a second call per
    // request (the release). Each replica enforces its share of maxInFlight instead; open watches,
    // held for minutes to hours, are counted exactly across replicas in the one admission call.
    const inFlight = plan.slot?.kind === 'in-flight';
    if (inFlight && this.#local.slots(slotKey) >= planAdmission(c, limits, 1 / this.#replicas).slot!.max) {
      return rejectedDecision(c, limits, { allowed: false, retryAfterMicros: 1e6, reason: 'in-flight' }, this.#metrics);
    }
    // Counted as held before Redis answers, so a heartbeat racing this call never under-reports.
    if (plan.slot !== undefined) this.#local.hold(slotKey);
    let outcome: AdmissionOutcome;
    try {
      outcome = await this.#admitShared(`${base}:${plan.bucket}`, slotKey, plan.slot?.kind === 'watches' ? plan : { ...plan, slot: undefined });
    } catch (err) {
      if (plan.slot !== undefined) this.#local.release(slotKey);
      this.#lost(err);
      return this.#admitLocally(c, limits, slotKey);
    }
    if (!outcome.allowed) {
      if (plan.slot !== undefined) this.#local.release(slotKey);
      return rejectedDecision(c, limits, outcome, this.#metrics);
    }
    if (plan.slot === undefined) return admittedDecision(c, this.#metrics, undefined);
    return admittedDecision(c, this.#metrics, inFlight ? () => this.#local.release(slotKey) : () => this.#releaseWatch(slotKey));
  }

  async #admitShared(bucketKey: string, slotKey: string, plan: AdmissionPlan): Promise<AdmissionOutcome> {
    const reply = await this.#scripts.run(
      admitScript,
      [bucketKey, slotKey],
      [plan.emissionMicros.toFixed(3), plan.toleranceMicros.toFixed(3), plan.cost, plan.slot?.max ?? -1, this.#replicaId, this.#leaseMs],
    );
    if (!Array.isArray(reply) || reply.length !== 3) throw new Error(`unexpected reply from the admission script: ${JSON.stringify(reply)}`);
    const [allowed, retryAfterMicros, reason] = reply as [number, number, string];
    if (allowed === 1) return { allowed: true, retryAfterMicros: 0, reason: undefined };
    if (reason === 'slots') return { allowed: false, retryAfterMicros, reason: 'open-watches' };
    return { allowed: false, retryAfterMicros, reason: plan.bucket === 'rate' ? 'rate' : 'watch-starts' };
  }

  #admitLocally(c: Classification, limits: Limits, slotKey: string): LimitDecision {
    const plan = planAdmission(c, limits, 1 / this.#replicas);
    const outcome = this.#local.admit(`${c.flowKey}|${plan.bucket}`, slotKey, plan);
    if (!outcome.allowed) return rejectedDecision(c, limits, outcome, this.#metrics);
    if (plan.slot === undefined) return admittedDecision(c, this.#metrics, undefined);
    return admittedDecision(c, this.#metrics, plan.slot.kind === 'in-flight' ? () => this.#local.release(slotKey) : () => this.#releaseWatch(slotKey));
  }

  #releaseWatch(slotKey: string): void {
    this.#local.release(slotKey);
    if (this.#local.slots(slotKey) === 0) this.#emptied.add(slotKey);
    if (!this.#shared || this.#redis.status !== 'ready') return;
    // Best effort: if it fails, the next heartbeat writes the true count anyway.
    this.#scripts.run(releaseScript, [slotKey], [this.#replicaId]).catch((err: unknown) => this.#lost(err));
  }

  #lost(cause: unknown): void {
    this.#metrics?.redisError();
    if (!this.#shared) return;
    this.#shared = false;
    this.#metrics?.setLocalFallback(true);
    this.#onModeChange?.('local', cause);
  }

  #regained(): void {
    if (this.#shared || this.#closed) return;
    this.#shared = true;
    // Buckets filled while alone must not linger into the next outage.
    this.#local.clearBuckets();
    this.#metrics?.setLocalFallback(false);
    this.#onModeChange?.('shared');
  }

  /** Registers this replica, learns how many there are, and renews (and corrects) every slot count it holds. */
  #beat(): Promise<void> {
    this.#heartbeat ??= this.#beatOnce().finally(() => (this.#heartbeat = undefined));
    return this.#heartbeat;
  }

  async #beatOnce(): Promise<void> {
    if (this.#closed || this.#redis.status !== 'ready') return;
    try {
      const count = await this.#scripts.run(registerReplicaScript, [`${this.#prefix}{replicas}`], [this.#replicaId, this.#leaseMs]);
      this.#replicas = Math.max(1, Number(count));
      this.#metrics?.setKnownReplicas(this.#replicas);
      const counts = new Map<string, number>([...this.#local.held()].filter(([key]) => key.endsWith(':watches')));
      for (const key of this.#emptied) if (!counts.has(key)) counts.set(key, 0);
      this.#emptied.clear();
      await Promise.all([...counts].map(([key, held]) => this.#scripts.run(heartbeatSlotsScript, [key], [this.#replicaId, held, this.#leaseMs])));
      this.#local.sweep();
      this.#regained();
    } catch (err) {
      this.#lost(err);
    }
  }

  /**
   * Stops heartbeating and leaves the replica set. Slots still held are not released: like a crashed
   * replica's, they stop counting when their lease runs out.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    await this.#heartbeat;
    if (this.#redis.status === 'ready') {
      await this.#redis.zrem(`${this.#prefix}{replicas}`, this.#replicaId).catch(() => {});
    }
    this.#redis.disconnect();
  }
}
