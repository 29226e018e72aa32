// Shard health as operators see it in `kcp-edge shards list`: each gateway replica writes its verdict
// to one hash when it changes (and refreshes it now and then); the latest writer wins. Routing never
// reads it: each replica fails fast on its own observations, so one replica's bad network path
// cannot take a shard away from the others.
import type { RedisClient } from './redis-connection.ts';
import type { RoutingKeys } from './redis-keys.ts';

export interface ShardHealthRecord {
  up: boolean;
  /** Epoch ms of the observation. */
  checkedAt: number;
  reason?: string;
  /** Which replica saw it (host name and pid). */
  reporter?: string;
}

export async function writeShardHealth(client: RedisClient, keys: RoutingKeys, shard: string, record: ShardHealthRecord): Promise<void> {
  await client.hset(keys.shardHealth, shard, JSON.stringify(record));
}

export async function readShardHealth(client: RedisClient, keys: RoutingKeys): Promise<Record<string, ShardHealthRecord>> {
  const all = await client.hgetall(keys.shardHealth);
  const out: Record<string, ShardHealthRecord> = {};
  for (const [name, json] of Object.entries(all)) {
    try {
      const v = JSON.parse(json) as Partial<ShardHealthRecord>;
      if (typeof v.up !== 'boolean' || typeof v.checkedAt !== 'number') continue;
      out[name] = {
        up: v.up,
        checkedAt: v.checkedAt,
        ...(typeof v.reason === 'string' ? { reason: v.reason } : {}),
        ...(typeof v.reporter === 'string' ? { reporter: v.reporter } : {}),
      };
    } catch {
      // A value we cannot read is shown as unknown.
    }
  }
  return out;
}
