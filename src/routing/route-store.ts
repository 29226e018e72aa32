// The write side of the routing table, used by the operator CLI and the indexer. Every change is
// published to all gateway replicas by the store itself, in the same atomic step as the write.
import type { Route, RoutePhase, Shard, ShardState } from './types.ts';

export interface RouteInput {
  path: string;
  shard: string;
  cluster: string;
  phase: RoutePhase;
}

export interface ListRoutesOptions {
  /** Only routes on this shard. */
  shard?: string;
  /** Only paths equal to this one or below it (`root:org` matches `root:org:proj`). */
  under?: string;
}

/** A write the store refused: unknown shard, a shard still holding workspaces, a bad name. */
export class RouteStoreError extends Error {
  readonly reason: 'UnknownShard' | 'ShardNotEmpty' | 'NotFound' | 'Invalid';
  constructor(reason: RouteStoreError['reason'], message: string) {
    super(message);
    this.name = 'RouteStoreError';
    this.reason = reason;
  }
}

export interface RouteStore {
  putShard(shard: Shard): Promise<void>;
  /** Changes only the state; throws NotFound for an unknown shard. */
  setShardState(name: string, state: ShardState): Promise<Shard>;
  getShard(name: string): Promise<Shard | undefined>;
  listShards(): Promise<Shard[]>;
  /** Routes pointing at each shard (shard name → count). */
  countRoutesByShard(): Promise<Record<string, number>>;
  /** Refuses (ShardNotEmpty) while routes point at the shard unless forced; the routes then stay, unroutable. */
  removeShard(name: string, options?: { force?: boolean }): Promise<boolean>;

  getRoute(pathOrCluster: string): Promise<Route | undefined>;
  /** Creates or replaces a route (UnknownShard if its shard is not registered); returns it with its new rev. */
  putRoute(route: RouteInput): Promise<Route>;
  /** Many routes in few round trips (import); all-or-nothing per batch. Returns the number written. */
  putRoutes(routes: RouteInput[]): Promise<number>;
  deleteRoute(path: string): Promise<boolean>;
  listRoutes(options?: ListRoutesOptions): AsyncIterable<Route>;
  close(): Promise<void>;
}

export function validateRouteInput(route: RouteInput, isPath: (p: string) => boolean, isName: (n: string) => boolean): void {
  if (!isPath(route.path)) throw new RouteStoreError('Invalid', `invalid workspace path "${route.path}": expected root:<label>:…`);
  if (!isName(route.cluster)) throw new RouteStoreError('Invalid', `invalid logical cluster name "${route.cluster}"`);
  if (!isName(route.shard)) throw new RouteStoreError('Invalid', `invalid shard name "${route.shard}"`);
}
