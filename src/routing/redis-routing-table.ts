// The routing table every gateway replica reads: a bounded in-process LRU in front of the shared
// Redis table. Warm lookups never leave the process; cold ones cost one round trip (a Lua script
// resolving path or logical cluster) and concurrent cold lookups of one key share it. Changes arrive
// on the pub/sub channel and drop exactly the affected entries; a (re)subscription drops everything,
// because messages missed while disconnected must never leave a stale route behind.
import { LRUCache } from 'lru-cache';
import { GatewayError } from '../kube/gateway-error.ts';
import { decodeRoute, decodeShard } from './codec.ts';
import type { RoutingMetrics } from './metrics.ts';
import { classifyRedisError, createRedisClient, type RedisClient, type RedisConnectionConfig, type RedisFailure } from './redis-connection.ts';
import { parseChangeMessage, routingKeys, type RoutingKeys } from './redis-keys.ts';
import { RESOLVE, runScript } from './redis-scripts.ts';
import { writeShardHealth } from './shard-health-record.ts';
import type { Resolution, Route, RoutingTable, Shard } from './types.ts';
import type { Log } from '../log.ts';

export interface RedisRoutingTableOptions {
  redis: RedisConnectionConfig;
  /** Most entries the cache holds (positive and negative); default 100 000. */
  cacheMax?: number;
  /** How long "no such workspace" is remembered unless a change message says otherwise; default 5 s. */
  negativeTtlMs?: number;
  /** Retry-After of the 503 a cold lookup gets while Redis is unreachable; default 2 s. */
  retryAfterSeconds?: number;
  metrics?: RoutingMetrics;
  /** Told when the connection fails (once per kind of failure, until it works again) and when it recovers. */
  log?: Log;
}

/** Wrong credentials and TLS failures will not go away by waiting: they are errors, an outage is a warning. */
const failureLogs: Record<RedisFailure, { level: 'warn' | 'error'; msg: string }> = {
  credentials: { level: 'error', msg: 'routing table: Redis refused the credentials (user, password file); cold lookups get 503 until it accepts them' },
  permission: { level: 'error', msg: 'routing table: the Redis user lacks a permission the gateway needs' },
  tls: { level: 'error', msg: 'routing table: TLS connection to Redis failed (CA, server name, client certificate); cold lookups get 503 until it works' },
  unreachable: { level: 'warn', msg: 'routing table: Redis unreachable; cold lookups get 503 until it is back' },
  other: { level: 'warn', msg: 'routing table: Redis connection failed; cold lookups get 503 until it works' },
};

/** `rev`: the table revision the entry reflects; older change messages leave it alone. */
type CacheEntry = { route: Route; rev: number } | { route: undefined; rev: number };
interface Flight {
  promise?: Promise<Route | undefined>;
  /** Highest rev of a change message for this key received while the lookup was in flight. */
  invalidatedRev: number;
}

export class RedisRoutingTable implements RoutingTable {
  readonly #client: RedisClient;
  readonly #subscriber: RedisClient;
  readonly #keys: RoutingKeys;
  readonly #cache: LRUCache<string, CacheEntry>;
  /** Cold lookups in flight, by key; an entry's identity tells a lookup whether it was overtaken. */
  readonly #inflight = new Map<string, Flight>();
  readonly #negativeTtlMs: number;
  readonly #retryAfterSeconds: number;
  readonly #metrics: RoutingMetrics | undefined;
  readonly #log: Log | undefined;
  /** The last connection failure since a connection was last ready, and the kind last logged. */
  #lastError: string | undefined;
  #loggedFailure: RedisFailure | undefined;
  #shards = new Map<string, Shard>();
  #shardsLoaded = false;
  #shardLoad: Promise<void> | undefined;
  /** True while the subscription is confirmed: only then may lookups fill the cache. */
  #subscribed = false;
  #lastSyncAt = Date.now();
  #syncWaiters: (() => void)[] = [];
  #closed = false;

  constructor(options: RedisRoutingTableOptions) {
    this.#keys = routingKeys(options.redis.keyPrefix);
    this.#cache = new LRUCache({ max: options.cacheMax ?? 100_000 });
    this.#negativeTtlMs = options.negativeTtlMs ?? 5_000;
    this.#retryAfterSeconds = options.retryAfterSeconds ?? 2;
    this.#metrics = options.metrics;
    this.#log = options.log;
    this.#client = createRedisClient({ commandTimeoutMs: 2_000, ...options.redis }, { failFast: true });
    this.#subscriber = createRedisClient(options.redis, { subscriber: true, failFast: true });
    const onError = (err: unknown): void => this.#connectionFailed(err);
    // A Cluster reports a node's trouble (a refused AUTH among them) as 'node error', not 'error'.
    for (const c of [this.#client, this.#subscriber]) c.on('error', onError).on('node error', onError);
    this.#subscriber.on('ready', () => {
      this.#connectionWorks();
      void this.#subscribe();
    });
    this.#client.on('ready', () => {
      this.#connectionWorks();
      void this.#completeSync();
    });
    this.#subscriber.on('close', () => this.#lostSync());
    this.#subscriber.on('message', (_channel: string, message: string) => this.#onChange(message));
    this.#metrics?.observe({ cacheSize: () => this.#cache.size, secondsSinceSync: () => this.secondsSinceSync() });
  }

  async resolve(pathOrCluster: string): Promise<Resolution | undefined> {
    const hit = this.#cache.get(pathOrCluster);
    if (hit !== undefined) {
      this.#metrics?.cacheHits.inc();
      return hit.route === undefined ? undefined : this.#withShard(hit.route);
    }
    this.#metrics?.cacheMisses.inc();
    let flight = this.#inflight.get(pathOrCluster);
    if (flight === undefined) {
      flight = { invalidatedRev: 0 };
      this.#inflight.set(pathOrCluster, flight);
      flight.promise = this.#lookup(pathOrCluster, flight);
    }
    const route = await flight.promise;
    return route === undefined ? undefined : this.#withShard(route);
  }

  async getShard(name: string): Promise<Shard | undefined> {
    if (!this.#shardsLoaded) await this.#loadShards();
    return this.#shards.get(name);
  }

  async listShards(): Promise<Shard[]> {
    if (!this.#shardsLoaded) await this.#loadShards();
    return [...this.#shards.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** The writers keep these counts beside the routes: one HGETALL, however many routes there are. */
  async countRoutesByShard(): Promise<Record<string, number>> {
    const all = await this.#client.hgetall(this.#keys.shardRouteCounts);
    return Object.fromEntries(Object.entries(all).map(([shard, n]) => [shard, Number(n)]));
  }

  ready(): boolean {
    return (this.#subscribed && this.#client.status === 'ready') || this.#cache.size > 0;
  }

  /** Resolves once subscribed with the shard list loaded; startup and tests wait on it. */
  async waitUntilSynced(timeoutMs = 10_000): Promise<void> {
    if (this.#subscribed && this.#shardsLoaded) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`routing table: Redis not reachable within ${timeoutMs} ms`)), timeoutMs);
      this.#syncWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  secondsSinceSync(): number {
    if (this.#subscribed && this.#client.status === 'ready') this.#lastSyncAt = Date.now();
    return (Date.now() - this.#lastSyncAt) / 1000;
  }

  /** Writes this replica's shard health verdicts where `kcp-edge shards list` reads them (best effort). */
  shardHealthRecorder(reporter: string): (shard: string, up: boolean, reason: string | undefined) => void {
    return (shard, up, reason) => {
      const record = { up, checkedAt: Date.now(), reporter, ...(reason === undefined ? {} : { reason }) };
      writeShardHealth(this.#client, this.#keys, shard, record).catch(() => this.#metrics?.redisErrors.inc());
    };
  }

  /** Why Redis cannot be used right now (the last connection error), if it cannot. */
  get lastError(): string | undefined {
    return this.#lastError;
  }

  get cacheSize(): number {
    return this.#cache.size;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#subscribed = false;
    await Promise.all(
      [this.#client, this.#subscriber].map((c) => (c.status === 'ready' ? c.quit().then(() => undefined, () => c.disconnect()) : c.disconnect())),
    );
  }

  async #lookup(key: string, flight: Flight): Promise<Route | undefined> {
    let found: unknown;
    try {
      found = await runScript(this.#client, RESOLVE, [this.#keys.routes, this.#keys.clusters, this.#keys.rev], [key]);
    } catch (err) {
      if (this.#inflight.get(key) === flight) this.#inflight.delete(key);
      throw this.#unavailable(err);
    }
    const reply = Array.isArray(found) ? found : [];
    const rev = Number(reply[0] ?? 0);
    const route = reply.length >= 3 ? decodeRoute(String(reply[1]), String(reply[2])) : undefined;
    // Cache only what no later change may have overtaken: a resubscription drops the flight, and a
    // change message newer than the answer marks it.
    if (this.#inflight.get(key) === flight) {
      this.#inflight.delete(key);
      if (this.#subscribed && flight.invalidatedRev <= rev) {
        if (route === undefined) this.#cache.set(key, { route, rev }, { ttl: this.#negativeTtlMs });
        else this.#cache.set(key, { route, rev });
      }
    }
    return route;
  }

  /** Synchronous when the shard is known (the warm path): no extra promise per lookup. */
  #withShard(route: Route): Resolution | Promise<Resolution> {
    const shard = this.#shards.get(route.shard);
    if (shard !== undefined) return { route, shard };
    return this.#withReloadedShard(route);
  }

  async #withReloadedShard(route: Route): Promise<Resolution> {
    // The route may be newer than our shard list (a shard added just before it): look once more.
    await this.#loadShards();
    const shard = this.#shards.get(route.shard);
    if (shard === undefined) {
      throw new GatewayError('SHARD_UNAVAILABLE', `the workspace's shard is not available`, {
        retryAfterSeconds: this.#retryAfterSeconds,
        internalReason: `route ${route.path} names unregistered shard ${route.shard}`,
      });
    }
    return { route, shard };
  }

  #loadShards(): Promise<void> {
    this.#shardLoad ??= (async () => {
      try {
        const all = await this.#client.hgetall(this.#keys.shards);
        const shards = new Map<string, Shard>();
        for (const [name, json] of Object.entries(all)) shards.set(name, decodeShard(name, json));
        this.#shards = shards;
        this.#shardsLoaded = true;
      } catch (err) {
        throw this.#unavailable(err);
      } finally {
        this.#shardLoad = undefined;
      }
    })();
    return this.#shardLoad;
  }

  async #subscribe(): Promise<void> {
    try {
      await this.#subscriber.subscribe(this.#keys.channel);
    } catch {
      this.#metrics?.redisErrors.inc();
      return; // the connection dropped again; the next 'ready' retries
    }
    // From here on no change can be missed; whatever was cached before may be stale.
    this.#cache.clear();
    this.#inflight.clear();
    this.#subscribed = true;
    this.#shardsLoaded = false;
    await this.#completeSync();
  }

  /** Loads the shard list once subscribed; the command connection may become ready after the subscriber. */
  async #completeSync(): Promise<void> {
    if (!this.#subscribed || this.#shardsLoaded || this.#client.status !== 'ready') return;
    try {
      await this.#loadShards();
    } catch {
      return; // the next 'ready' of either connection tries again
    }
    this.#lastSyncAt = Date.now();
    for (const wake of this.#syncWaiters.splice(0)) wake();
  }

  #connectionFailed(err: unknown): void {
    this.#metrics?.redisErrors.inc();
    if (this.#closed) return;
    const message = err instanceof Error ? err.message : String(err);
    this.#lastError = message;
    const failure = classifyRedisError(message);
    if (failure === this.#loggedFailure) return;
    this.#loggedFailure = failure;
    const { level, msg } = failureLogs[failure];
    this.#log?.[level]({ err: message }, msg);
  }

  #connectionWorks(): void {
    this.#lastError = undefined;
    if (this.#loggedFailure === undefined) return;
    this.#loggedFailure = undefined;
    this.#log?.info({}, 'routing table: Redis connection works again');
  }

  #lostSync(): void {
    if (this.#subscribed) this.#lastSyncAt = Date.now();
    this.#subscribed = false;
  }

  #onChange(text: string): void {
    const change = parseChangeMessage(text);
    this.#metrics?.routeChanges.inc();
    if (change === undefined) {
      // Not ours to understand: be safe.
      this.#cache.clear();
      this.#inflight.clear();
      return;
    }
    for (const key of [change.path, ...(change.clusters ?? [])]) {
      if (key === undefined) continue;
      // A message can arrive after a lookup that already read the change (two connections): keep it.
      const entry = this.#cache.peek(key);
      if (entry !== undefined && entry.rev < change.rev) this.#cache.delete(key);
      const flight = this.#inflight.get(key);
      if (flight !== undefined) flight.invalidatedRev = Math.max(flight.invalidatedRev, change.rev);
    }
    if (change.shard !== undefined) void this.#refreshShard(change.shard);
  }

  async #refreshShard(name: string): Promise<void> {
    try {
      const json = await this.#client.hget(this.#keys.shards, name);
      if (json === null) this.#shards.delete(name);
      else this.#shards.set(name, decodeShard(name, json));
    } catch {
      // Cannot read it now: forget the list so the next lookup reloads it (or fails cleanly).
      this.#metrics?.redisErrors.inc();
      this.#shardsLoaded = false;
    }
  }

  #unavailable(err: unknown): GatewayError {
    if (!this.#closed) this.#metrics?.redisErrors.inc();
    return new GatewayError('ROUTING_UNAVAILABLE', 'the routing table is temporarily unavailable', {
      retryAfterSeconds: this.#retryAfterSeconds,
      internalReason: err instanceof Error ? err.message : String(err),
      cause: err,
    });
  }
}
