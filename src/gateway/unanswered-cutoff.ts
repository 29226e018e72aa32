// A request the shard has not started answering within the upstream bounds (connect + header timeout)
// gets its 504 from here, whatever undici is doing with it. undici's own timeouts run only once a
// request is on a connection: a request it holds in a Client whose HTTP/2 session the shard closed
// (GOAWAY) while watches still ran on it is not failed when the next dial fails, and waits for the last
// of those watches to end. One sweep, not a timer per request, over only the requests not yet
// answered: a sweep over every request in flight would walk every open watch (50 000) each time.

import { InFlightSet, type InFlightSlot } from './in-flight-set.ts';

/** An exchange with the shard that may still be waiting for the start of its answer. */
export interface AwaitingAnswer extends InFlightSlot {
  /**
   * Answers 504 if the shard has not started answering and the exchange began before `overdueBefore`
   * (performance.now()). True once there is nothing left to watch for (answered, over, or just expired).
   */
  expireUnanswered(overdueBefore: number): boolean;
}

export class UnansweredRequests {
  readonly #waiting = new InFlightSet<AwaitingAnswer>();
  readonly #timer: NodeJS.Timeout;

  constructor(boundMs: number, intervalMs = 250) {
    this.#timer = setInterval(() => {
      const overdueBefore = performance.now() - boundMs;
      for (const exchange of this.#waiting) if (exchange.expireUnanswered(overdueBefore)) this.#waiting.delete(exchange);
    }, intervalMs);
    this.#timer.unref();
  }

  add(exchange: AwaitingAnswer): void {
    this.#waiting.add(exchange);
  }

  /**
   * The exchange's answer started (or it ended): it leaves at once rather than at the next sweep, so
   * an ordinary request's objects are not kept alive for a quarter of a second, long enough to be
   * promoted to V8's old generation at thousands of requests a second.
   */
  settled(exchange: AwaitingAnswer): void {
    this.#waiting.delete(exchange);
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#waiting.clear();
  }
}
