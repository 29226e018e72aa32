// The routing table every gateway replica reads: a bounded in-process LRU in front of the shared
// Redis table. Warm lookups never leave the process; cold ones cost one round trip (a Lua script
// resolving path or logical cluster) and concurrent cold lookups of one key share it. Changes arrive
// on the pub/sub channel and drop exactly the affected entries; a (re)subscription drops everything,
// because messages missed while disconnected must never leave a stale route behind — unless Redis came
// back without its data (redis-generation.ts): then warm entries keep serving until the indexer has
// rewritten the table, lookups it cannot answer get 503 instead of 403, and the replica is unready.
import { LRUCache } from 'lru-cache';
import { GatewayError } from '../kube/gateway-error.ts';
import { decodeRoute, decodeShard } from './codec.ts';
import type { RoutingMetrics } from './metrics.ts';
import { createRedisClient, type RedisClient, type RedisConnectionConfig } from './redis-connection.ts';
import { RedisFailureLog } from './redis-failure-log.ts';
import { parseChangeMessage, routingKeys, type RoutingKeys } from './redis-keys.ts';
import { readTableState, tableState, type TableState } from './redis-generation.ts';
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
  readonly #failures: RedisFailureLog;
  #shards = new Map<string, Shard>();
  #shardsLoaded = false;
  #shardLoad: Promise<void> | undefined;
  /** True while the subscription is confirmed: only then may lookups fill the cache. */
  #subscribed = false;
  /** Subscribed again: the table's state decides whether the cache is dropped or kept for a rebuild. */
  #resubscribed = false;
  #syncing: Promise<void> | undefined;
  /** The table's generation as last read; undefined before the first read. */
  #state: TableState | undefined;
  #stateRead: Promise<void> | undefined;
  #stateAgain = false;
  /** Redis lost the table: the cache and shard list hold what was known before, until it is complete again. */
  #rebuilding = false;
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
    this.#failures = new RedisFailureLog(options.log);
    const onError = (err: unknown): void => {
      this.#metrics?.redisErrors.inc();
      if (!this.#closed) this.#failures.failed(err);
    };
    // A Cluster reports a node's trouble (a refused AUTH among them) as 'node error', not 'error'.
    for (const c of [this.#client, this.#subscriber]) c.on('error', onError).on('node error', onError);
    this.#subscriber.on('ready', () => {
      this.#failures.works();
      void this.#subscribe();
    });
    this.#client.on('ready', () => {
      this.#failures.works();
      void this.#completeSync();
    });
    this.#subscriber.on('close', () => this.#lostSync());
    this.#subscriber.on('message', (_channel: string, message: string) => this.#onChange(message));
    this.#metrics?.observe({
      cacheSize: () => this.#cache.size,
      secondsSinceSync: () => this.secondsSinceSync(),
      tableComplete: () => (this.#state?.complete === true ? 1 : 0),
    });
  }

  held(pathOrCluster: string): Resolution | undefined {
    const route = this.#cache.get(pathOrCluster)?.route;
    const shard = route === undefined ? undefined : this.#shards.get(route.shard);
    if (shard === undefined) return undefined;
    this.#metrics?.cacheHits.inc();
    return { route: route!, shard };
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

  /** Unready while the table is being rebuilt (lost, or never seeded), even with a warm cache. */
  /** The writers keep these counts beside the routes: one HGETALL, however many routes there are. */
  async countRoutesByShard(): Promise<Record<string, number>> {
    const all = await this.#client.hgetall(this.#keys.shardRouteCounts);
    return Object.fromEntries(Object.entries(all).map(([shard, n]) => [shard, Number(n)]));
  }

  ready(): boolean {
    if (this.#state?.serving !== true) return false;
    return (this.#subscribed && this.#client.status === 'ready') || this.#cache.size > 0;
  }

  /** True between finding the table lost (or never seeded) and its generation being complete. */
  get rebuilding(): boolean {
    return this.#state !== undefined && !this.#state.complete;
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
    return this.#failures.lastError;
  }

  get cacheSize(): number {
    return this.#cache.size;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#subscribed = false;
    await Promise.all(
      [this.#client, this.#subscriber].map((c) =>
        c.status === 'ready'
          ? c.quit().then(
              () => undefined,
              () => c.disconnect(),
            )
          : c.disconnect(),
      ),
    );
  }

  async #lookup(key: string, flight: Flight): Promise<Route | undefined> {
    let found: unknown;
    try {
      found = await runScript(this.#client, RESOLVE, [this.#keys.routes, this.#keys.clusters, this.#keys.rev, this.#keys.generation, this.#keys.shards], [key]);
    } catch (err) {
      if (this.#inflight.get(key) === flight) this.#inflight.delete(key);
      throw this.#unavailable(err);
    }
    const reply = Array.isArray(found) ? found : [];
    const rev = Number(reply[0] ?? 0);
    const route = reply.length === 3 ? decodeRoute(String(reply[1]), String(reply[2])) : undefined;
    let current = true;
    if (route === undefined) {
      // "Unknown" means "does not exist" only in a complete table of the generation this replica knows.
      const state = tableState(String(reply[1] ?? ''), String(reply[2] ?? ''), String(reply[3] ?? '0') === '1');
      current = this.#state !== undefined && state.generation === this.#state.generation && state.complete === this.#state.complete && state.serving === this.#state.serving;
      if (!current) void this.#refreshState();
      if (!state.complete) {
        if (this.#inflight.get(key) === flight) this.#inflight.delete(key);
        // Not a Redis error (Redis answered): the same 503 a client gets while Redis is away.
        throw new GatewayError('ROUTING_UNAVAILABLE', 'the routing table is temporarily unavailable', {
          retryAfterSeconds: this.#retryAfterSeconds,
          internalReason: `the routing table is ${state.serving ? 'partial (a shard is not listed yet)' : 'being rebuilt (Redis lost its data)'}; ${key} is not indexed`,
        });
      }
    }
    // Cache only what no later change may have overtaken: a resubscription drops the flight, and a
    // change message newer than the answer marks it.
    if (this.#inflight.get(key) === flight) {
      this.#inflight.delete(key);
      if (this.#subscribed && current && flight.invalidatedRev <= rev) {
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
        // While the table is rebuilt, shards it does not hold yet stay known for the warm routes naming them.
        const shards = this.#rebuilding ? new Map(this.#shards) : new Map<string, Shard>();
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
    // From here on no change can be missed; whatever was cached before may be stale (the table's
    // state, read next, says whether to drop it or keep it while a lost table is rebuilt).
    this.#subscribed = true;
    this.#resubscribed = true;
    this.#shardsLoaded = false;
    await this.#completeSync();
  }

  /**
   * Once subscribed: reads the table's state and loads the shard list. The command connection may become
   * ready after the subscriber, so both call this; one run at a time, repeating while work remains.
   */
  #completeSync(): Promise<void> {
    if (this.#syncing !== undefined) return this.#syncing;
    const run = (async () => {
      try {
        while (this.#subscribed && this.#client.status === 'ready' && (this.#resubscribed || !this.#shardsLoaded)) {
          if (this.#resubscribed) {
            const state = await readTableState(this.#client, this.#keys);
            this.#resubscribed = false;
            this.#applyState(state, true);
          }
          if (!this.#shardsLoaded) await this.#loadShards();
        }
      } catch {
        this.#metrics?.redisErrors.inc();
        return; // the next 'ready' of either connection tries again
      }
      if (!this.#subscribed || !this.#shardsLoaded) return;
      this.#lastSyncAt = Date.now();
      for (const wake of this.#syncWaiters.splice(0)) wake();
    })();
    // Cleared in a later microtask: a run that ends at once must not leave a settled promise behind.
    this.#syncing = run.finally(() => (this.#syncing = undefined));
    return this.#syncing;
  }

  /**
   * Re-reads the table's state (a generation message, or a lookup saw another one). One read at a time;
   * asked again meanwhile, it reads once more after, or a completion announced mid-read would be missed.
   */
  #refreshState(): Promise<void> {
    if (this.#stateRead !== undefined) {
      this.#stateAgain = true;
      return this.#stateRead;
    }
    const run = (async () => {
      do {
        this.#stateAgain = false;
        try {
          this.#applyState(await readTableState(this.#client, this.#keys), false);
        } catch {
          this.#metrics?.redisErrors.inc(); // read again on the next message, lookup or reconnect
          return;
        }
      } while (this.#stateAgain);
    })();
    this.#stateRead = run.finally(() => (this.#stateRead = undefined));
    return this.#stateRead;
  }

  #applyState(state: TableState, resubscribed: boolean): void {
    const previous = this.#state;
    this.#state = state;
    const lost = previous !== undefined && (state.generation !== previous.generation || (previous.complete && !state.complete));
    if (lost) {
      this.#keepForRebuild();
    } else if (resubscribed) {
      this.#cache.clear();
      this.#inflight.clear();
    }
    if (state.complete && this.#rebuilding) {
      // The table is whole again: nothing from before the loss may outlive it.
      this.#rebuilding = false;
      this.#cache.clear();
      this.#inflight.clear();
      this.#shardsLoaded = false;
      void this.#completeSync();
      this.#log?.info({ generation: state.generation }, 'routing table: rebuilt; lookups are answered from it again');
    }
  }

  /**
   * Redis lost the table. Warm routes keep serving (their rev set to 0, so any rewrite of them in the
   * new table replaces them); remembered unknowns go, since the table cannot confirm them now.
   */
  #keepForRebuild(): void {
    if (!this.#rebuilding) {
      this.#log?.warn(
        { generation: this.#state?.generation ?? null, warmRoutes: this.#cache.size },
        'routing table: Redis lost its data; warm routes keep serving, other lookups get 503 and /readyz 503 until the table is rebuilt',
      );
    }
    this.#rebuilding = true;
    this.#inflight.clear();
    for (const [key, entry] of [...this.#cache.entries()]) {
      if (entry.route === undefined) this.#cache.delete(key);
      else entry.rev = 0;
    }
  }

  #lostSync(): void {
    if (this.#subscribed) this.#lastSyncAt = Date.now();
    this.#subscribed = false;
  }

  #onChange(text: string): void {
    const change = parseChangeMessage(text);
    this.#metrics?.routeChanges.inc();
    // A table without a complete generation may become one with any write (kept by hand, or rebuilt).
    if (change?.generation !== undefined || this.#state?.complete !== true) void this.#refreshState();
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
      if (json === null) {
        if (!this.#rebuilding) this.#shards.delete(name);
      } else this.#shards.set(name, decodeShard(name, json));
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
