// The routing table as every stage sees it: workspace path → shard. The embedded (file) and Redis
// stores implement it; the gateway never knows which one it has.

export type ShardState = 'active' | 'cordoned' | 'draining' | 'down';

export interface Shard {
  name: string;
  /** Base URL of the shard, e.g. https://shard-a.internal:6443 */
  url: string;
  /** PEM bundle that signs the shard's serving certificate; the system trust store when absent. */
  ca?: string;
  state: ShardState;
  labels: Record<string, string>;
}

export type RoutePhase = 'Ready' | 'Moving' | 'Unavailable';

/**
 * Left on a route by a workspace move: for a while after the cutover, a resourceVersion issued by the
 * shard the workspace left must never be read against `shard`, whose counter is another one.
 */
export interface RouteFence {
  /** The shard the workspace moved to; the fence means nothing while the route names another. */
  shard: string;
  /** The target's resourceVersion just before the route flipped: everything it issued since is above it. */
  targetRV: string;
  /** The source's resourceVersion once no client could get another from it; absent until then. */
  sourceRV?: string;
  /** Epoch milliseconds after which the fence is gone. */
  until: number;
}

export interface Route {
  /** Canonical workspace path, always with the root prefix: root:org-acme:proj-frontend */
  path: string;
  shard: string;
  /** Canonical logical-cluster name the shard knows the workspace by. */
  cluster: string;
  phase: RoutePhase;
  rev: number;
  fence?: RouteFence;
}

export interface Resolution {
  route: Route;
  shard: Shard;
}

export interface RoutingTable {
  /**
   * Looks up a workspace by canonical path or by logical-cluster name. Undefined means unknown;
   * a store that cannot answer throws GatewayError('ROUTING_UNAVAILABLE').
   */
  resolve(pathOrCluster: string): Promise<Resolution | undefined>;
  /**
   * The workspace's resolution when the store holds it now (a warm cache, the embedded table):
   * answered at once, with no I/O and no promise. Undefined means "ask resolve()", not "unknown".
   */
  held?(pathOrCluster: string): Resolution | undefined;
  getShard(name: string): Promise<Shard | undefined>;
  listShards(): Promise<Shard[]>;
  /** Routes per shard name, for the status page; absent where the store cannot tell cheaply. */
  countRoutesByShard?(): Promise<Record<string, number>>;
  /** True when lookups can be answered (store reachable, or a warm cache). */
  ready(): boolean;
  close(): Promise<void>;
}

/**
 * What the gateway tells shard health tracking and asks of it (optional: without it every shard that
 * is not marked down is tried).
 */
export interface ShardHealth {
  /** False when requests to this shard should fail fast with 503 instead of being tried. */
  isAvailable(shard: string): boolean;
  /** A connection to the shard failed or timed out. */
  reportFailure(shard: string): void;
  /** The shard answered (any HTTP status). */
  reportSuccess(shard: string): void;
}
