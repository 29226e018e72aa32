// EVALSHA first (the script body is not resent on every request); EVAL when Redis does not know the
// script yet (first call, or after a restart or SCRIPT FLUSH), which also caches it for the next EVALSHA.
import type { RedisClient } from '../routing/redis-connection.ts';
import type { Script } from './redis-scripts.ts';

export class RedisScripts {
  readonly #redis: RedisClient;

  constructor(redis: RedisClient) {
    this.#redis = redis;
  }

  async run(script: Script, keys: string[], args: (string | number)[]): Promise<unknown> {
    try {
      return await this.#redis.evalsha(script.sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      return this.#redis.eval(script.source, keys.length, ...keys, ...args);
    }
  }
}
