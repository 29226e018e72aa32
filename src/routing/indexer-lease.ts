// Exactly one indexer across all replicas: whoever holds a lease key in Redis runs it, renewing the
// lease every third of its lifetime. A holder that cannot renew stops indexing before the lease can
// have passed to someone else; another replica takes over once it expires.
import { hostname } from 'node:os';
import type { RedisClient } from './redis-connection.ts';
import type { RoutingKeys } from './redis-keys.ts';
import { ACQUIRE_LEASE, RELEASE_LEASE, runScript } from './redis-scripts.ts';
import type { Log } from '../log.ts';

export interface Leased {
  stop(): Promise<void>;
}

export interface LeaseOptions {
  client: RedisClient;
  keys: RoutingKeys;
  /** Lifetime of the lease; default 15 s. */
  ttlMs?: number;
  holder?: string;
  /** Starts the work once the lease is ours; the returned handle stops it when the lease is lost. */
  run(): Promise<Leased>;
  log?: Log;
}

export class LeaseRunner {
  readonly #options: LeaseOptions;
  readonly #ttlMs: number;
  readonly holder: string;
  #timer: NodeJS.Timeout | undefined;
  #work: Leased | undefined;
  #renewedAt = 0;
  #busy: Promise<void> | undefined;
  #stopped = false;
  /** Acquire-or-renew rounds run so far. */
  attempts = 0;

  constructor(options: LeaseOptions) {
    this.#options = options;
    this.#ttlMs = options.ttlMs ?? 15_000;
    this.holder = options.holder ?? `${hostname()}/${process.pid}/${Math.random().toString(36).slice(2, 8)}`;
  }

  get holding(): boolean {
    return this.#work !== undefined;
  }

  start(): void {
    this.#timer = setInterval(() => void this.#tick(), Math.max(50, Math.floor(this.#ttlMs / 3)));
    void this.#tick();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    await this.#busy;
    await this.#lose('stopping');
    await runScript(this.#options.client, RELEASE_LEASE, [this.#options.keys.indexerLease], [this.holder]).catch(() => undefined);
  }

  #tick(): Promise<void> {
    if (this.#busy !== undefined || this.#stopped) return this.#busy ?? Promise.resolve();
    this.#busy = this.#renew().finally(() => (this.#busy = undefined));
    return this.#busy;
  }

  async #renew(): Promise<void> {
    let held: boolean;
    this.attempts++;
    try {
      held = (await runScript(this.#options.client, ACQUIRE_LEASE, [this.#options.keys.indexerLease], [this.holder, this.#ttlMs])) === 1;
    } catch (err) {
      // Cannot tell: keep going only while the lease surely is still ours.
      if (this.#work !== undefined && Date.now() - this.#renewedAt > this.#ttlMs * 0.8) await this.#lose(`cannot renew: ${String(err)}`);
      return;
    }
    if (!held) {
      await this.#lose('held by another replica');
      return;
    }
    this.#renewedAt = Date.now();
    if (this.#work === undefined && !this.#stopped) {
      this.#options.log?.info({ holder: this.holder }, 'indexer lease acquired: indexing');
      try {
        this.#work = await this.#options.run();
      } catch (err) {
        // Redis failing between the lease and the first registry read: the next round starts it again.
        this.#options.log?.warn({ holder: this.holder, err: err instanceof Error ? err.message : String(err) }, 'indexer could not start; retrying');
      }
    }
  }

  async #lose(reason: string): Promise<void> {
    const work = this.#work;
    if (work === undefined) return;
    this.#work = undefined;
    this.#options.log?.warn({ holder: this.holder, reason }, 'indexer lease lost: indexing stops');
    await work.stop();
  }
}
