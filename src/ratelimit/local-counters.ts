// GCRA buckets and slot counters held in this process: the whole state of the embedded limiter, and
// a replica's own share of the limits while Redis is unreachable. Same arithmetic as the Lua script.
import type { AdmissionOutcome, AdmissionPlan } from './admission.ts';

/** Every admission answers the same: one frozen answer instead of a new one per request. */
const admitted: AdmissionOutcome = Object.freeze({ allowed: true, retryAfterMicros: 0, reason: undefined });

/**
 * Counters are objects changed in place. A Map<string, number> would box every new fractional value
 * it is given, and a slot counter deleted at 0 and added again on the next request leaves a deleted
 * entry each time, which makes the map rebuild its table every so many requests.
 */
interface Bucket {
  /** Theoretical arrival time, µs. */
  tat: number;
}

interface Slots {
  held: number;
}

/** Read once: a getter that makes a new number on every read, and it never changes. */
const timeOrigin = performance.timeOrigin;

export class LocalCounters {
  /** bucket key → theoretical arrival time (µs, performance clock). */
  readonly #tat = new Map<string, Bucket>();
  /** slot key → slots held; a counter at 0 stays until the next sweep and reads like an absent one. */
  readonly #slots = new Map<string, Slots>();

  static now(): number {
    return (timeOrigin + performance.now()) * 1000;
  }

  admit(bucketKey: string, slotKey: string, plan: AdmissionPlan, now = LocalCounters.now()): AdmissionOutcome {
    const slot = plan.slot === undefined ? undefined : this.#slots.get(slotKey);
    if (plan.slot !== undefined && (slot?.held ?? 0) >= plan.slot.max) {
      return { allowed: false, retryAfterMicros: 1e6, reason: plan.slot.kind === 'watches' ? 'open-watches' : 'in-flight' };
    }
    const bucket = this.#tat.get(bucketKey);
    const tat = bucket === undefined ? now : Math.max(bucket.tat, now);
    const newTat = tat + plan.cost * plan.emissionMicros;
    const allowAt = newTat - plan.toleranceMicros;
    if (allowAt > now) {
      return { allowed: false, retryAfterMicros: allowAt - now, reason: plan.bucket === 'rate' ? 'rate' : 'watch-starts' };
    }
    if (bucket === undefined) this.#tat.set(bucketKey, { tat: newTat });
    else bucket.tat = newTat;
    if (slot !== undefined) slot.held += 1;
    else if (plan.slot !== undefined) this.#slots.set(slotKey, { held: 1 });
    return admitted;
  }

  /** Records a slot taken elsewhere (in Redis), so this replica knows what it holds. */
  hold(slotKey: string): void {
    this.#slot(slotKey).held += 1;
  }

  /** Slot counters above 0. */
  *held(): IterableIterator<[string, number]> {
    for (const [key, slots] of this.#slots) if (slots.held > 0) yield [key, slots.held];
  }

  release(slotKey: string): void {
    const slots = this.#slots.get(slotKey);
    if (slots !== undefined && slots.held > 0) slots.held -= 1;
  }

  slots(slotKey: string): number {
    return this.#slots.get(slotKey)?.held ?? 0;
  }

  /** Drops buckets that have drained completely and slot counters at 0: they read exactly like absent ones. */
  sweep(now = LocalCounters.now()): void {
    for (const [key, bucket] of this.#tat) if (bucket.tat <= now) this.#tat.delete(key);
    for (const [key, slots] of this.#slots) if (slots.held <= 0) this.#slots.delete(key);
  }

  clearBuckets(): void {
    this.#tat.clear();
  }

  #slot(slotKey: string): Slots {
    let slots = this.#slots.get(slotKey);
    if (slots === undefined) this.#slots.set(slotKey, (slots = { held: 0 }));
    return slots;
  }
}
