// The Redis implementation of RouteStore. Every write is one Lua script that validates, writes,
// bumps `rev` and publishes, so replicas never see a change without being told about it.
import { decodeRoute, decodeShard, encodeShard, isClusterName, isShardName, isWorkspacePath } from './codec.ts';
import { createRedisClient, type RedisClient, type RedisConnectionConfig } from './redis-connection.ts';
import { routingKeys, type RoutingKeys } from './redis-keys.ts';
import { DELETE_ROUTE, PUT_ROUTES, PUT_SHARD, REMOVE_SHARD, RESOLVE, runScript, SET_ROUTE_FENCE, SET_SHARD_STATE } from './redis-scripts.ts';
import { RouteStoreError, validateRouteInput, type ListRoutesOptions, type RouteInput, type RouteStore } from './route-store.ts';
import type { Route, RouteFence, Shard, ShardState } from './types.ts';

export class RedisRouteStore implements RouteStore {
  readonly client: RedisClient;
  readonly keys: RoutingKeys;
  readonly #ownsClient: boolean;
  #connectionError: Error | undefined;

  constructor(client: RedisClient, keyPrefix?: string, ownsClient = false) {
    this.client = client;
    this.keys = routingKeys(keyPrefix);
    this.#ownsClient = ownsClient;
    // Connection trouble surfaces as rejected commands to whoever called; the event is kept for them.
    if (ownsClient) client.on('error', (err: Error) => void (this.#connectionError = err));
  }

  /**
   * The last connection error of a client this store owns. A command failing on a connection that
   * could not be made says only "Connection is closed."; this says why (refused, TLS, credentials).
   */
  get connectionError(): Error | undefined {
    return this.#connectionError;
  }

  /** For one-shot commands: a client that fails at once if Redis cannot be reached. */
  static connect(config: RedisConnectionConfig, options: { noRetry?: boolean } = {}): RedisRouteStore {
    return new RedisRouteStore(createRedisClient(config, { noRetry: options.noRetry ?? false }), config.keyPrefix, true);
  }

  async putShard(shard: Shard): Promise<void> {
    if (!isShardName(shard.name)) throw new RouteStoreError('Invalid', `invalid shard name "${shard.name}": must be a DNS label`);
    let url: URL;
    try {
      url = new URL(shard.url);
    } catch {
      throw new RouteStoreError('Invalid', `invalid shard URL "${shard.url}"`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new RouteStoreError('Invalid', `shard URL must be https: "${shard.url}"`);
    await runScript(this.client, PUT_SHARD, [this.keys.shards, this.keys.rev], [this.keys.channel, shard.name, encodeShard(shard)]);
  }

  async setShardState(name: string, state: ShardState): Promise<Shard> {
    const json = await runScript(this.client, SET_SHARD_STATE, [this.keys.shards, this.keys.rev], [this.keys.channel, name, state]);
    if (typeof json !== 'string') throw new RouteStoreError('NotFound', `shard "${name}" not found`);
    return decodeShard(name, json);
  }

  async getShard(name: string): Promise<Shard | undefined> {
    const json = await this.client.hget(this.keys.shards, name);
    return json === null ? undefined : decodeShard(name, json);
  }

  async listShards(): Promise<Shard[]> {
    const all = await this.client.hgetall(this.keys.shards);
    return Object.entries(all)
      .map(([name, json]) => decodeShard(name, json))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  async countRoutesByShard(): Promise<Record<string, number>> {
    const all = await this.client.hgetall(this.keys.shardRouteCounts);
    return Object.fromEntries(Object.entries(all).map(([name, n]) => [name, Number(n)]));
  }

  async removeShard(name: string, options: { force?: boolean } = {}): Promise<boolean> {
    try {
      const removed = await runScript(
        this.client,
        REMOVE_SHARD,
        [this.keys.shards, this.keys.shardRouteCounts, this.keys.rev],
        [this.keys.channel, name, options.force === true ? '1' : '0'],
      );
      return removed === 1;
    } catch (err) {
      const m = err instanceof Error ? /ShardNotEmpty (\d+)/.exec(err.message) : null;
      if (m !== null) {
        throw new RouteStoreError('ShardNotEmpty', `shard "${name}" still holds ${m[1]} workspace(s); move them first or force the removal`);
      }
      throw err;
    }
  }

  async getRoute(pathOrCluster: string): Promise<Route | undefined> {
    const found = await runScript(this.client, RESOLVE, [this.keys.routes, this.keys.clusters, this.keys.rev, this.keys.generation, this.keys.shards], [pathOrCluster]);
    if (!Array.isArray(found) || found.length !== 3) return undefined;
    return decodeRoute(String(found[1]), String(found[2]));
  }

  async putRoute(route: RouteInput): Promise<Route> {
    const [rev] = await this.#put([route]);
    return { ...route, rev: rev ?? 0 };
  }

  async putRoutes(routes: RouteInput[]): Promise<number> {
    if (routes.length === 0) return 0;
    return (await this.#put(routes)).length;
  }

  async #put(routes: RouteInput[]): Promise<number[]> {
    const args: string[] = [this.keys.channel];
    for (const r of routes) {
      validateRouteInput(r, isWorkspacePath, isClusterName);
      args.push(r.path, r.shard, r.cluster, r.phase);
    }
    try {
      const revs = await runScript(this.client, PUT_ROUTES, [this.keys.routes, this.keys.clusters, this.keys.shards, this.keys.shardRouteCounts, this.keys.rev], args);
      return (revs as number[]).map(Number);
    } catch (err) {
      const m = err instanceof Error ? /UnknownShard (\S+)/.exec(err.message) : null;
      if (m !== null) throw new RouteStoreError('UnknownShard', `shard "${m[1]}" is not registered (kcp-edge shards add ${m[1]} …)`);
      throw err;
    }
  }

  /** Leaves a move's resourceVersion fence on a route; false when there is no such route. */
  async setRouteFence(path: string, fence: RouteFence): Promise<boolean> {
    const rev = await runScript(this.client, SET_ROUTE_FENCE, [this.keys.routes, this.keys.rev], [this.keys.channel, path, JSON.stringify(fence)]);
    return Number(rev) > 0;
  }

  async deleteRoute(path: string): Promise<boolean> {
    const rev = await runScript(this.client, DELETE_ROUTE, [this.keys.routes, this.keys.clusters, this.keys.shardRouteCounts, this.keys.rev], [this.keys.channel, path]);
    return Number(rev) > 0;
  }

  async *listRoutes(options: ListRoutesOptions = {}): AsyncIterable<Route> {
    const match = options.under === undefined ? '*' : `${options.under}*`;
    let cursor = '0';
    do {
      const [next, flat] = await this.client.hscan(this.keys.routes, cursor, 'MATCH', match, 'COUNT', 1000);
      cursor = next;
      for (let i = 0; i + 1 < flat.length; i += 2) {
        const path = flat[i]!;
        if (options.under !== undefined && path !== options.under && !path.startsWith(`${options.under}:`)) continue;
        const route = decodeRoute(path, flat[i + 1]!);
        if (options.shard !== undefined && route.shard !== options.shard) continue;
        yield route;
      }
    } while (cursor !== '0');
  }

  async close(): Promise<void> {
    if (this.#ownsClient) await this.client.quit().catch(() => this.client.disconnect());
  }
}
