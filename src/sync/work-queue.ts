// A keyed work queue in the manner of client-go's: a key is queued at most once, is processed by one
// worker at a time (a change arriving meanwhile runs it again afterwards), failures come back after a
// capped exponential backoff with jitter, and a handler may ask to be called again later (waiting for the
// service cluster to really remove a copy). Retries are bounded; a key that gives up is not lost: it is
// remembered as failing, so the owner can run it again the moment the server it failed against answers
// again (`retryFailed`), and the periodic resync queues every known key anyway.
import { backoffDelay, defaultBackoff, type BackoffPolicy } from '../kube/backoff.ts';

export type HandlerResult = void | { requeueAfterMs: number };

export interface WorkQueueOptions {
  concurrency: number;
  handle(key: string): Promise<HandlerResult>;
  onError?(key: string, err: unknown, attempt: number, gaveUp: boolean): void;
  /** Told how many keys have given up whenever that number changes (a gauge). */
  onGivenUpChange?(count: number): void;
  backoff?: BackoffPolicy;
  /** Attempts before a key gives up until something queues it again (default 12: about two minutes). */
  maxAttempts?: number;
}

export class WorkQueue {
  #options: WorkQueueOptions;
  #queue: string[] = [];
  #queued = new Set<string>();
  #processing = new Set<string>();
  #dirty = new Set<string>();
  #attempts = new Map<string, number>();
  /** Keys whose last run failed: waiting for a retry, or given up. */
  #failing = new Set<string>();
  #givenUp = new Set<string>();
  #timers = new Map<string, NodeJS.Timeout>();
  #active = 0;
  #stopped = false;
  #idleWaiters: (() => void)[] = [];

  constructor(options: WorkQueueOptions) {
    this.#options = options;
  }

  get length(): number {
    return this.#queue.length + this.#processing.size + this.#timers.size;
  }

  add(key: string): void {
    if (this.#stopped) return;
    const timer = this.#timers.get(key);
    if (timer !== undefined) {
      // A fresh change beats a scheduled retry.
      clearTimeout(timer);
      this.#timers.delete(key);
    }
    if (this.#processing.has(key)) {
      this.#dirty.add(key);
      return;
    }
    if (this.#queued.has(key)) return;
    this.#queued.add(key);
    this.#queue.push(key);
    this.#pump();
  }

  addAfter(key: string, ms: number): void {
    if (this.#stopped || this.#timers.has(key)) return;
    const timer = setTimeout(() => {
      this.#timers.delete(key);
      this.add(key);
    }, ms);
    timer.unref();
    this.#timers.set(key, timer);
  }

  get givenUp(): number {
    return this.#givenUp.size;
  }

  /**
   * Runs the failing keys that `filter` picks now, with a fresh retry budget: the server they failed
   * against answers again. A key still running is marked to run once more, since its attempt may have
   * been sent before the server came back. Returns how many keys were picked.
   */
  retryFailed(filter: (key: string) => boolean = () => true): number {
    let picked = 0;
    for (const key of [...this.#failing]) {
      if (!filter(key)) continue;
      this.#attempts.delete(key);
      this.#setGivenUp(key, false);
      this.add(key);
      picked++;
    }
    return picked;
  }

  /** Resolves when nothing is queued, running or scheduled (tests and the benchmark use it). */
  idle(): Promise<void> {
    if (this.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  stop(): void {
    this.#stopped = true;
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    this.#queue = [];
    this.#queued.clear();
    this.#failing.clear();
    this.#givenUp.clear();
  }

  #pump(): void {
    while (!this.#stopped && this.#active < this.#options.concurrency && this.#queue.length > 0) {
      const key = this.#queue.shift() as string;
      this.#queued.delete(key);
      this.#processing.add(key);
      this.#active++;
      void this.#process(key);
    }
    if (this.length === 0) for (const resolve of this.#idleWaiters.splice(0)) resolve();
  }

  async #process(key: string): Promise<void> {
    let retryAfter: number | undefined;
    this.#setGivenUp(key, false); // running again, whoever queued it
    try {
      const result = await this.#options.handle(key);
      this.#attempts.delete(key);
      this.#failing.delete(key);
      if (result !== undefined) retryAfter = result.requeueAfterMs;
    } catch (err) {
      const attempt = this.#attempts.get(key) ?? 0;
      const gaveUp = attempt + 1 >= (this.#options.maxAttempts ?? 12);
      this.#options.onError?.(key, err, attempt, gaveUp);
      if (!this.#stopped) this.#failing.add(key);
      if (gaveUp) {
        this.#attempts.delete(key);
        this.#setGivenUp(key, !this.#stopped);
      } else {
        this.#attempts.set(key, attempt + 1);
        retryAfter = backoffDelay(attempt, this.#options.backoff ?? defaultBackoff);
      }
    } finally {
      this.#processing.delete(key);
      this.#active--;
    }
    if (this.#dirty.delete(key)) this.add(key);
    else if (retryAfter !== undefined) this.addAfter(key, retryAfter);
    this.#pump();
  }

  #setGivenUp(key: string, on: boolean): void {
    const before = this.#givenUp.size;
    if (on) this.#givenUp.add(key);
    else this.#givenUp.delete(key);
    if (this.#givenUp.size !== before) this.#options.onGivenUpChange?.(this.#givenUp.size);
  }
}
