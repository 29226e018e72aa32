// The limiter of the embedded mode (one node, no Redis): every counter in this process. When the node
// serves from several worker processes, each holds its own counters and enforces its share of every
// limit (1/N), the same division a Redis replica makes alone while Redis is unreachable.
import type { Identity } from '../auth/identity.ts';
import type { RequestAttributes } from '../kube/request-attributes.ts';
import { names, planAdmission, rejectedDecision, type AdmissionPlan, type DecisionNames } from './admission.ts';
import { classify, type Classification } from './classify.ts';
import { FlowCache } from './flow-cache.ts';
import { LocalCounters } from './local-counters.ts';
import type { FlowMeters, RateLimitMetrics } from './metrics.ts';
import type { Limits, RateLimitPolicy } from './policy.ts';
import type { PolicySource } from './policy-source.ts';
import type { LimitContext, LimitDecision, Limiter } from './types.ts';

export interface MemoryLimiterOptions {
  policy: PolicySource;
  metrics?: RateLimitMetrics;
  /** Part of every limit this process enforces: 1 alone, 1/N as one of N worker processes. */
  share?: number;
  /** Distinct request shapes whose classification is kept (see flow-cache.ts). */
  flowCacheEntries?: number;
}

/**
 * Everything about a request of one shape that does not change from one request to the next under
 * one policy: its classification, its plan against the level's limits, its counter keys, the names
 * its decisions carry and the series its metrics go to. Made on the first request of that shape.
 */
interface Flow {
  readonly c: Classification;
  /** Undefined for an exempt level: no counter is consulted. */
  readonly limits: Limits | undefined;
  readonly plan: AdmissionPlan | undefined;
  readonly bucketKey: string;
  readonly slotKey: string;
  readonly names: DecisionNames;
  readonly meters: FlowMeters | undefined;
}

export class MemoryLimiter implements Limiter {
  readonly #policy: PolicySource;
  readonly #metrics: RateLimitMetrics | undefined;
  readonly #share: number;
  readonly #counters = new LocalCounters();
  readonly #flows: FlowCache<Flow>;
  readonly #sweeper: NodeJS.Timeout;

  constructor(options: MemoryLimiterOptions) {
    this.#policy = options.policy;
    this.#metrics = options.metrics;
    this.#share = options.share ?? 1;
    this.#flows = new FlowCache((policy, identity, attrs, context) => this.#flow(policy, identity, attrs, context), options.flowCacheEntries);
    this.#sweeper = setInterval(() => this.#counters.sweep(), 30_000).unref();
  }

  /** Request shapes whose flow is kept; for tests. */
  get cachedFlows(): number {
    return this.#flows.size;
  }

  admit(identity: Identity, attrs: RequestAttributes, context: LimitContext): LimitDecision {
    const flow = this.#flows.get(this.#policy.current(), identity, attrs, context);
    const plan = flow.plan;
    if (plan === undefined) return this.#admitted(flow);
    const outcome = this.#counters.admit(flow.bucketKey, flow.slotKey, plan);
    if (!outcome.allowed) return rejectedDecision(flow.c, flow.limits!, outcome, this.#metrics);
    return this.#admitted(flow);
  }

  async close(): Promise<void> {
    clearInterval(this.#sweeper);
  }

  #flow(policy: RateLimitPolicy, identity: Identity, attrs: RequestAttributes, context: LimitContext): Flow {
    const c = classify(policy, identity, attrs, context);
    const limits = c.priorityLevel.limits;
    const plan = limits === undefined ? undefined : planAdmission(c, limits, this.#share);
    const { flowSchema, priorityLevel } = names(c);
    return {
      c,
      limits,
      plan,
      bucketKey: `${c.flowKey}|${plan?.bucket}`,
      slotKey: `${c.flowKey}|${plan?.slot?.kind}`,
      // Shared by every decision of this flow: nobody may change them.
      names: Object.freeze({ flowSchema: Object.freeze(flowSchema), priorityLevel: Object.freeze(priorityLevel) }),
      meters: this.#metrics?.meters(c.priorityLevel.name, c.flowSchema.name, c.isWatch ? 'watches' : 'in-flight'),
    };
  }

  #admitted(flow: Flow): LimitDecision {
    flow.meters?.admitted(flow.c.cost);
    return new Admitted(flow, flow.plan?.slot === undefined ? undefined : this.#counters);
  }
}

/**
 * An admitted request: counted when made, and its release() frees the slot (if its level bounds one)
 * and the gauge exactly once. Watches and in-flight requests are gauged whether or not their level
 * bounds them. One object per request, release() a method on it: no closure per request.
 */
class Admitted implements LimitDecision {
  readonly allowed = true;
  readonly retryAfterSeconds = 0;
  readonly flowSchema: LimitDecision['flowSchema'];
  readonly priorityLevel: LimitDecision['priorityLevel'];
  readonly #flow: Flow;
  readonly #counters: LocalCounters | undefined;
  #released = false;

  constructor(flow: Flow, counters: LocalCounters | undefined) {
    this.flowSchema = flow.names.flowSchema;
    this.priorityLevel = flow.names.priorityLevel;
    this.#flow = flow;
    this.#counters = counters;
  }

  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#flow.meters?.released();
    this.#counters?.release(this.#flow.slotKey);
  }
}
