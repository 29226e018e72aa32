// Per-org realm overrides kept in Redis so every gateway replica agrees on them: one hash
// `<prefix>{routing}:realms` (org → override JSON) next to the routing table (same prefix, same hash
// tag), and a pub/sub channel announcing changes. Each replica re-reads the whole hash on a change
// message and after every (re)subscription, so a message missed while disconnected leaves nothing stale;
// while Redis is unreachable the last overrides read stay in force.
import { Ajv } from 'ajv';
import type { Cluster, Redis } from 'ioredis';
import { realmOverrideSchema } from './org-realms-config.ts';
import type { RealmRegistry } from './realm-registry.ts';
import type { RealmOverride } from './realm-settings.ts';
import { isOrgName } from './realm-settings.ts';
import type { Log } from '../log.ts';

export const DEFAULT_REALM_KEY_PREFIX = 'kcp-edge:';

export function realmKeys(prefix: string = DEFAULT_REALM_KEY_PREFIX): { realms: string; channel: string } {
  return { realms: `${prefix}{routing}:realms`, channel: `${prefix}{routing}:realms-changes` };
}

type RedisClient = Redis | Cluster;

const validate = new Ajv({ allErrors: true, strict: false }).compile(realmOverrideSchema);

/** Parses one stored override; throws with every schema problem named. */
export function parseRealmOverride(org: string, json: string): RealmOverride {
  if (!isOrgName(org)) throw new Error(`"${org}" is not an org name (a DNS-1123 label)`);
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new Error(`override of ${org} is not JSON`);
  }
  if (!validate(value)) {
    const problems = (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`);
    throw new Error(`override of ${org}: ${problems.join('; ')}`);
  }
  return value as RealmOverride;
}

export interface RedisRealmOverridesOptions {
  /** Commands (HGETALL, HSET, PUBLISH). */
  client: RedisClient;
  /** A connection of its own for SUBSCRIBE; omit for a writer that never listens (the CLI). */
  subscriber?: RedisClient;
  keyPrefix?: string;
  log?: Log;
}

export class RedisRealmOverrides {
  readonly #client: RedisClient;
  readonly #subscriber: RedisClient | undefined;
  readonly #keys: { realms: string; channel: string };
  readonly #log: Log | undefined;
  #registry: RealmRegistry | undefined;
  #loading: Promise<void> | undefined;
  #again = false;

  constructor(options: RedisRealmOverridesOptions) {
    this.#client = options.client;
    this.#subscriber = options.subscriber;
    this.#keys = realmKeys(options.keyPrefix);
    this.#log = options.log;
  }

  /** Reads the overrides into the registry and keeps them current. Resolves after the first read (or its failure, logged). */
  async follow(registry: RealmRegistry): Promise<void> {
    this.#registry = registry;
    // A command connection that (re)connects re-reads too: at start it may come up after the
    // subscriber did, and a fail-fast client refuses the read until then.
    this.#client.on('ready', () => void this.#reload());
    const subscriber = this.#subscriber;
    if (subscriber !== undefined) {
      subscriber.on('message', (channel: string) => {
        if (channel === this.#keys.channel) void this.#reload();
      });
      // After a reconnect: subscribe again and re-read, since changes may have been missed meanwhile.
      subscriber.on('ready', () => {
        subscriber.subscribe(this.#keys.channel).then(
          () => this.#reload(),
          () => undefined,
        );
      });
      if (subscriber.status === 'ready') await subscriber.subscribe(this.#keys.channel).catch(() => undefined);
    }
    await this.#reload();
  }

  /** Collapses reloads: one read in flight, at most one more queued behind it. */
  #reload(): Promise<void> {
    if (this.#loading !== undefined) {
      this.#again = true;
      return this.#loading;
    }
    this.#loading = (async () => {
      do {
        this.#again = false;
        try {
          const overrides = await this.list();
          this.#registry?.setDynamicOverrides(overrides);
        } catch (err) {
          this.#log?.warn({ err: err instanceof Error ? err.message : String(err) }, 'cannot read realm overrides from Redis; keeping the last ones read');
        }
      } while (this.#again);
    })().finally(() => {
      this.#loading = undefined;
    });
    return this.#loading;
  }

  /** Every stored override; an invalid one is logged and left out, never fatal for the others. */
  async list(): Promise<Map<string, RealmOverride>> {
    const raw = await this.#client.hgetall(this.#keys.realms);
    const overrides = new Map<string, RealmOverride>();
    for (const [org, json] of Object.entries(raw)) {
      try {
        overrides.set(org, parseRealmOverride(org, json));
      } catch (err) {
        this.#log?.warn({ org, err: (err as Error).message }, 'ignoring an invalid realm override in Redis');
      }
    }
    return overrides;
  }

  async set(org: string, override: RealmOverride): Promise<void> {
    const json = JSON.stringify(override);
    parseRealmOverride(org, json);
    await this.#client.hset(this.#keys.realms, org, json);
    await this.#client.publish(this.#keys.channel, JSON.stringify({ org }));
  }

  async delete(org: string): Promise<boolean> {
    const removed = await this.#client.hdel(this.#keys.realms, org);
    await this.#client.publish(this.#keys.channel, JSON.stringify({ org }));
    return removed > 0;
  }
}
