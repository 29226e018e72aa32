// How a classified request is checked against its priority level's limits, independent of where the
// counters live (Redis or this process): which GCRA bucket, which slot counter, and the readable
// decision that comes back. Both limiters use this so their 429s read the same.
import type { Classification } from './classify.ts';
import type { Limits } from './policy.ts';
import type { RateLimitMetrics } from './metrics.ts';
import type { LimitDecision } from './types.ts';

export type RejectReason = 'rate' | 'watch-starts' | 'open-watches' | 'in-flight';

export interface AdmissionPlan {
  /** GCRA bucket key, relative to the flow. */
  bucket: 'rate' | 'watch-starts';
  /** Microseconds between two cost units at the steady rate. */
  emissionMicros: number;
  /** How far ahead of now the bucket may run: burst × emission interval. */
  toleranceMicros: number;
  cost: number;
  /** The slot counter a request holds until release(), if its level bounds it. */
  slot: { kind: 'watches' | 'in-flight'; max: number } | undefined;
}

export interface AdmissionOutcome {
  allowed: boolean;
  retryAfterMicros: number;
  reason: RejectReason | undefined;
}

/**
 * The plan for one request. `share` divides the limits, for a replica enforcing its part of a
 * shared limit on its own (Redis unreachable): share = 1 / known replica count.
 */
export function planAdmission(c: Classification, limits: Limits, share = 1): AdmissionPlan {
  const useWatchBucket = c.isWatch && limits.watchStartsPerSecond !== undefined;
  const rate = (useWatchBucket ? limits.watchStartsPerSecond! : limits.rate) * share;
  const burst = Math.max(1, Math.ceil((useWatchBucket ? limits.watchStartBurst : limits.burst) * share));
  const emissionMicros = 1e6 / rate;
  const max = c.isWatch ? limits.maxOpenWatches : limits.maxInFlight;
  return {
    bucket: useWatchBucket ? 'watch-starts' : 'rate',
    emissionMicros,
    toleranceMicros: emissionMicros * burst,
    // A shared burst divided among replicas may fall under a cost the full burst admits; never make a request unadmittable.
    cost: Math.min(c.cost, burst),
    slot: max === undefined ? undefined : { kind: c.isWatch ? 'watches' : 'in-flight', max: Math.max(max === 0 ? 0 : 1, Math.ceil(max * share)) },
  };
}

export function retryAfterSeconds(micros: number): number {
  return Math.max(1, Math.ceil(micros / 1e6));
}

function who(c: Classification): string {
  switch (c.flowSchema.distinguisher) {
    case 'byUser':
      return ` for user "${c.distinguisherValue}"`;
    case 'byWorkspace':
      return ` for workspace "${c.distinguisherValue}"`;
    case 'byOrg':
      return ` for organisation "${c.distinguisherValue}"`;
    case undefined:
      return '';
  }
}

export function rejectMessage(c: Classification, limits: Limits, reason: RejectReason, retryAfter: number): string {
  const where = `${who(c)} (flow schema "${c.flowSchema.name}", priority level "${c.priorityLevel.name}")`;
  switch (reason) {
    case 'rate':
      return `too many requests${where}: the limit is ${limits.rate} per second with bursts of ${limits.burst}; retry after ${retryAfter}s`;
    case 'watch-starts':
      return `too many new watches${where}: the limit is ${limits.watchStartsPerSecond} per second; retry after ${retryAfter}s`;
    case 'open-watches':
      return `too many open watches${where}: at most ${limits.maxOpenWatches} at a time; retry after ${retryAfter}s`;
    case 'in-flight':
      return `too many requests in flight${where}: at most ${limits.maxInFlight} at a time; retry after ${retryAfter}s`;
  }
}

const noop = (): void => {};

export type DecisionNames = Pick<LimitDecision, 'flowSchema' | 'priorityLevel'>;

export function names(c: Classification): DecisionNames {
  return {
    flowSchema: { name: c.flowSchema.name, uid: c.flowSchema.uid },
    priorityLevel: { name: c.priorityLevel.name, uid: c.priorityLevel.uid },
  };
}

/**
 * An admitted request: counts it, and returns a decision whose release() frees the slot (if one was
 * taken) exactly once. Watches and in-flight requests are gauged whether or not their level bounds them.
 */
export function admittedDecision(c: Classification, metrics: RateLimitMetrics | undefined, freeSlot: (() => void) | undefined): LimitDecision {
  const level = c.priorityLevel.name;
  const kind = c.isWatch ? 'watches' : 'in-flight';
  metrics?.admitted(level, c.flowSchema.name, c.cost);
  metrics?.slotTaken(level, kind);
  let released = false;
  return {
    ...names(c),
    allowed: true,
    retryAfterSeconds: 0,
    release: () => {
      if (released) return;
      released = true;
      metrics?.slotReleased(level, kind);
      freeSlot?.();
    },
  };
}

export function rejectedDecision(c: Classification, limits: Limits, outcome: AdmissionOutcome, metrics: RateLimitMetrics | undefined): LimitDecision {
  const reason = outcome.reason ?? 'rate';
  metrics?.rejected(c.priorityLevel.name, c.flowSchema.name, reason);
  const retryAfter = retryAfterSeconds(outcome.retryAfterMicros);
  return { ...names(c), allowed: false, retryAfterSeconds: retryAfter, message: rejectMessage(c, limits, reason, retryAfter), release: noop };
}
