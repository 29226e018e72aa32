// GCRA buckets and slot counters held in this process: the whole state of the embedded limiter, and
// a replica's own share of the limits while Redis is unreachable. Same arithmetic as the Lua script.
import type { AdmissionOutcome, AdmissionPlan } from './admission.ts';

export class LocalCounters {
  /** bucket key → theoretical arrival time (µs, performance clock). */
  readonly #tat = new Map<string, number>();
  /** slot key → slots held. */
  readonly #slots = new Map<string, number>();

  static now(): number {
    return (performance.timeOrigin + performance.now()) * 1000;
  }

  admit(bucketKey: string, slotKey: string, plan: AdmissionPlan, now = LocalCounters.now()): AdmissionOutcome {
    if (plan.slot !== undefined && (this.#slots.get(slotKey) ?? 0) >= plan.slot.max) {
      return { allowed: false, retryAfterMicros: 1e6, reason: plan.slot.kind === 'watches' ? 'open-watches' : 'in-flight' };
    }
    const tat = Math.max(this.#tat.get(bucketKey) ?? now, now);
    const newTat = tat + plan.cost * plan.emissionMicros;
    const allowAt = newTat - plan.toleranceMicros;
    if (allowAt > now) {
      return { allowed: false, retryAfterMicros: allowAt - now, reason: plan.bucket === 'rate' ? 'rate' : 'watch-starts' };
    }
    this.#tat.set(bucketKey, newTat);
    if (plan.slot !== undefined) this.#slots.set(slotKey, (this.#slots.get(slotKey) ?? 0) + 1);
    return { allowed: true, retryAfterMicros: 0, reason: undefined };
  }

  /** Records a slot taken elsewhere (in Redis), so this replica knows what it holds. */
  hold(slotKey: string): void {
    this.#slots.set(slotKey, (this.#slots.get(slotKey) ?? 0) + 1);
  }

  held(): IterableIterator<[string, number]> {
    return this.#slots.entries();
  }

  release(slotKey: string): void {
    const n = (this.#slots.get(slotKey) ?? 0) - 1;
    if (n > 0) this.#slots.set(slotKey, n);
    else this.#slots.delete(slotKey);
  }

  slots(slotKey: string): number {
    return this.#slots.get(slotKey) ?? 0;
  }

  /** Drops buckets that have drained completely: they read exactly like absent ones. */
  sweep(now = LocalCounters.now()): void {
    for (const [key, tat] of this.#tat) if (tat <= now) this.#tat.delete(key);
  }

  clearBuckets(): void {
    this.#tat.clear();
  }
}
