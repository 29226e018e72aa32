// Retry delays: exponential, capped, with jitter so that a shard coming back is not hit by every
// worker at the same instant.

export interface BackoffPolicy {
  baseMs: number;
  capMs: number;
  /** Fraction of the delay that is randomised: 0.5 means the delay lands in [d/2, d]. */
  jitter: number;
}

export const defaultBackoff: BackoffPolicy = Object.freeze({ baseMs: 100, capMs: 30_000, jitter: 0.5 });

/** Delay before retry number `attempt` (0 for the first retry). */
export function backoffDelay(attempt: number, policy: BackoffPolicy = defaultBackoff, random: () => number = Math.random): number {
  const exponential = policy.baseMs * 2 ** Math.min(attempt, 30);
  const capped = Math.min(policy.capMs, exponential);
  return Math.round(capped * (1 - policy.jitter * random()));
}

/** Resolves after `ms`, or early (without throwing) when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted === true) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
