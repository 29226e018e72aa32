// The limiter of the embedded mode (one node, no Redis): every counter in this process. When the node
// serves from several worker processes, each holds its own counters and enforces its share of every
// limit (1/N), the same division a Redis replica makes alone while Redis is unreachable.
import type { Identity } from '../auth/identity.ts';
import type { RequestAttributes } from '../kube/request-attributes.ts';
import { admittedDecision, planAdmission, rejectedDecision } from './admission.ts';
import { classify } from './classify.ts';
import { LocalCounters } from './local-counters.ts';
import type { RateLimitMetrics } from './metrics.ts';
import type { PolicySource } from './policy-source.ts';
import type { LimitContext, LimitDecision, Limiter } from './types.ts';

export interface MemoryLimiterOptions {
  policy: PolicySource;
  metrics?: RateLimitMetrics;
  /** Part of every limit this process enforces: 1 alone, 1/N as one of N worker processes. */
  share?: number;
}

export class MemoryLimiter implements Limiter {
  readonly #policy: PolicySource;
  readonly #metrics: RateLimitMetrics | undefined;
  readonly #share: number;
  readonly #counters = new LocalCounters();
  readonly #sweeper: NodeJS.Timeout;

  constructor(options: MemoryLimiterOptions) {
    this.#policy = options.policy;
    this.#metrics = options.metrics;
    this.#share = options.share ?? 1;
    this.#sweeper = setInterval(() => this.#counters.sweep(), 30_000).unref();
  }

  admit(identity: Identity, attrs: RequestAttributes, context: LimitContext): LimitDecision {
    const c = classify(this.#policy.current(), identity, attrs, context);
    const limits = c.priorityLevel.limits;
    if (limits === undefined) return admittedDecision(c, this.#metrics, undefined);
    const plan = planAdmission(c, limits, this.#share);
    const slotKey = `${c.flowKey}|${plan.slot?.kind}`;
    const outcome = this.#counters.admit(`${c.flowKey}|${plan.bucket}`, slotKey, plan);
    if (!outcome.allowed) return rejectedDecision(c, limits, outcome, this.#metrics);
    return admittedDecision(c, this.#metrics, plan.slot === undefined ? undefined : () => this.#counters.release(slotKey));
  }

  async close(): Promise<void> {
    clearInterval(this.#sweeper);
  }
}
