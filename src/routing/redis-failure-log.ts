// How the routing table reports its Redis connection: each kind of failure once (until it works
// again), at a level that says whether waiting helps, and that it works again.
import type { Log } from '../log.ts';
import { classifyRedisError, type RedisFailure } from './redis-connection.ts';

/** Wrong credentials and TLS failures will not go away by waiting: they are errors, an outage is a warning. */
const failureLogs: Record<RedisFailure, { level: 'warn' | 'error'; msg: string }> = {
  credentials: { level: 'error', msg: 'routing table: Redis refused the credentials (user, password file); cold lookups get 503 until it accepts them' },
  permission: { level: 'error', msg: 'routing table: the Redis user lacks a permission the gateway needs' },
  tls: { level: 'error', msg: 'routing table: TLS connection to Redis failed (CA, server name, client certificate); cold lookups get 503 until it works' },
  unreachable: { level: 'warn', msg: 'routing table: Redis unreachable; cold lookups get 503 until it is back' },
  other: { level: 'warn', msg: 'routing table: Redis connection failed; cold lookups get 503 until it works' },
};

export class RedisFailureLog {
  readonly #log: Log | undefined;
  /** The last connection failure since a connection was last ready, and the kind last logged. */
  #lastError: string | undefined;
  #loggedFailure: RedisFailure | undefined;

  constructor(log: Log | undefined) {
    this.#log = log;
  }

  /** Why Redis cannot be used right now (the last connection error), if it cannot. */
  get lastError(): string | undefined {
    return this.#lastError;
  }

  failed(err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    this.#lastError = message;
    const failure = classifyRedisError(message);
    if (failure === this.#loggedFailure) return;
    this.#loggedFailure = failure;
    const { level, msg } = failureLogs[failure];
    this.#log?.[level]({ err: message }, msg);
  }

  works(): void {
    this.#lastError = undefined;
    if (this.#loggedFailure === undefined) return;
    this.#loggedFailure = undefined;
    this.#log?.info({}, 'routing table: Redis connection works again');
  }
}
