// Key names of the routing table in Redis. Every key carries the same hash tag, `{routing}`, so on
// Redis Cluster they all live in one slot and a Lua script may touch all of them atomically.

export const DEFAULT_KEY_PREFIX = 'kcp-edge:';

export interface RoutingKeys {
  /** Hash: shard name → Shard JSON. */
  shards: string;
  /** Hash: canonical workspace path → {shard, cluster, phase, rev} JSON. */
  routes: string;
  /** Hash: logical-cluster name → canonical workspace path. */
  clusters: string;
  /** Hash: shard name → number of routes pointing at it, so "does this shard still hold workspaces" is O(1). */
  shardRouteCounts: string;
  /** Counter bumped by every change; the rev stored in a route and carried by its change message. */
  rev: string;
  /** Pub/sub channel carrying one ChangeMessage per change. */
  channel: string;
  /** String key held by the replica that runs the indexer. */
  indexerLease: string;
  /** Hash: shard name → the latest health verdict a gateway replica reported (for `shards list`). */
  shardHealth: string;
  /**
   * Hash {id, routes}: which incarnation of the table this is, and whether its routes are complete
   * (`complete`) or still being written by the indexer (`rebuilding`). A Redis that lost its data has
   * no marker (or, once re-seeded, another id): that is how replicas tell "unknown" from "gone".
   */
  generation: string;
  /** Hash: canonical workspace path → the move under way (or last finished) for it. */
  moves: string;
}

export function routingKeys(prefix: string = DEFAULT_KEY_PREFIX): RoutingKeys {
  const base = `${prefix}{routing}:`;
  return {
    shards: `${base}shards`,
    routes: `${base}routes`,
    clusters: `${base}clusters`,
    shardRouteCounts: `${base}shard-route-counts`,
    rev: `${base}rev`,
    channel: `${base}changes`,
    indexerLease: `${base}indexer-lease`,
    shardHealth: `${base}shard-health`,
    generation: `${base}generation`,
    moves: `${base}moves`,
  };
}

/**
 * What every writer publishes after a change. `path` names a changed route, `clusters` the logical
 * clusters whose lookup may have changed with it (old and new), `shard` a changed shard record.
 */
export interface ChangeMessage {
  rev: number;
  path?: string;
  clusters?: string[];
  shard?: string;
  /** The table's generation was seeded or completed: replicas re-read it. */
  generation?: string;
}

export function parseChangeMessage(text: string): ChangeMessage | undefined {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null) return undefined;
    const v = value as Record<string, unknown>;
    const message: ChangeMessage = { rev: typeof v.rev === 'number' ? v.rev : 0 };
    if (typeof v.path === 'string') message.path = v.path;
    if (typeof v.shard === 'string') message.shard = v.shard;
    if (typeof v.generation === 'string') message.generation = v.generation;
    if (Array.isArray(v.clusters)) message.clusters = v.clusters.filter((c): c is string => typeof c === 'string');
    return message;
  } catch {
    return undefined;
  }
}
