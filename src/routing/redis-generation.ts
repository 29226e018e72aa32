// The generation marker of the Redis routing table. Redis may come back from a restart or failover
// without its data; an empty table then looks exactly like "no such workspace" (403) to every replica.
// The marker tells the two apart: the indexer seeds it (with the shards named in configuration) when it
// finds none, marks it complete once every shard has been listed and every route written, and replicas
// that see it vanish or change keep their warm routes, answer 503 instead of 403 for the rest and report
// unready until it is complete again. A shard that cannot be listed must not keep every replica unready:
// after a grace period the indexer marks the generation partial — replicas serve what is known and are
// ready, but still answer 503 for what they cannot find, until the last shard is listed.
import { randomUUID } from 'node:crypto';
import { encodeShard } from './codec.ts';
import type { RedisClient } from './redis-connection.ts';
import type { RoutingKeys } from './redis-keys.ts';
import { runScript, script } from './redis-scripts.ts';
import type { Shard } from './types.ts';

export interface TableState {
  /** The generation's id; undefined when the table carries no marker (lost its data, or never seeded). */
  generation: string | undefined;
  /** Whether "unknown" can be trusted to mean "does not exist". */
  complete: boolean;
  /** Whether replicas should take traffic: complete, or partial (some shard not listed yet). */
  serving: boolean;
}

/**
 * A table without a marker is complete when it holds anything: tables written before markers existed,
 * or kept by hand (`shards add`, `routes import`) without an indexer, have data and no marker.
 */
export function tableState(id: string, routes: string, hasData: boolean): TableState {
  if (id === '') return { generation: undefined, complete: hasData, serving: hasData };
  return { generation: id, complete: routes === 'complete', serving: routes === 'complete' || routes === 'partial' };
}

/** KEYS: generation, routes, shards. Returns {id or '', routes state or '', 1 if any shard or route}. */
const TABLE_STATE = script(`
local g = redis.call('HMGET', KEYS[1], 'id', 'routes')
local has = 0
if redis.call('EXISTS', KEYS[2]) == 1 or redis.call('EXISTS', KEYS[3]) == 1 then has = 1 end
return {g[1] or '', g[2] or '', has}
`);

/**
 * KEYS: generation, shards, rev. ARGV: channel, new id, then (name, shardJSON) per seed shard. When the
 * table has no marker: adds the seed shards it lacks (never overwriting), starts a generation whose
 * routes are being rebuilt and tells the replicas. Returns {id, routes state} of the table's generation.
 */
const SEED_GENERATION = script(`
local id = redis.call('HGET', KEYS[1], 'id')
if id then return {id, redis.call('HGET', KEYS[1], 'routes') or ''} end
for i = 3, #ARGV - 1, 2 do
  if redis.call('HSETNX', KEYS[2], ARGV[i], ARGV[i + 1]) == 1 then
    local rev = redis.call('INCR', KEYS[3])
    redis.call('PUBLISH', ARGV[1], cjson.encode({shard = ARGV[i], rev = rev}))
  end
end
redis.call('HSET', KEYS[1], 'id', ARGV[2], 'routes', 'rebuilding')
local rev = redis.call('INCR', KEYS[3])
redis.call('PUBLISH', ARGV[1], cjson.encode({generation = ARGV[2], rev = rev}))
return {ARGV[2], 'rebuilding'}
`);

/**
 * KEYS: generation, rev. ARGV: channel, id, 'complete' or 'partial'. Marks that generation's routes so
 * (never complete back to partial). Returns 1, or 0 if it is not the table's generation.
 */
const MARK_GENERATION = script(`
if redis.call('HGET', KEYS[1], 'id') ~= ARGV[2] then return 0 end
local now = redis.call('HGET', KEYS[1], 'routes')
if now == 'complete' or now == ARGV[3] then return 1 end
redis.call('HSET', KEYS[1], 'routes', ARGV[3])
local rev = redis.call('INCR', KEYS[2])
redis.call('PUBLISH', ARGV[1], cjson.encode({generation = ARGV[2], rev = rev}))
return 1
`);

function strings(reply: unknown): string[] {
  return Array.isArray(reply) ? reply.map((v) => (v === null || v === undefined ? '' : String(v))) : [];
}

export async function readTableState(client: RedisClient, keys: RoutingKeys): Promise<TableState> {
  const [id = '', routes = '', has = '0'] = strings(await runScript(client, TABLE_STATE, [keys.generation, keys.routes, keys.shards], []));
  return tableState(id, routes, has === '1');
}

/** What the indexer asks of the table's generation (the Redis store has one; the embedded file has none). */
export interface TableGeneration {
  /** The table's generation, seeding one (and the configured shards) when the table has none. */
  ensure(): Promise<{ id: string; complete: boolean }>;
  /** Every shard listed and every route written for this generation: lookups may trust "unknown" again. */
  complete(id: string): Promise<boolean>;
  /** Some shard still unlisted after the grace period: replicas serve what is known, "unknown" stays 503. */
  partial(id: string): Promise<boolean>;
  /** Calls back on every (re)connection to the table's store; returns how to stop. */
  onReconnect?(listener: () => void): () => void;
}

export function redisTableGeneration(client: RedisClient, keys: RoutingKeys, seedShards: readonly Shard[] = []): TableGeneration {
  return {
    async ensure() {
      const args = [keys.channel, randomUUID(), ...seedShards.flatMap((s) => [s.name, encodeShard(s)])];
      const [id = '', routes = ''] = strings(await runScript(client, SEED_GENERATION, [keys.generation, keys.shards, keys.rev], args));
      return { id, complete: routes === 'complete' };
    },
    async complete(id) {
      return (await runScript(client, MARK_GENERATION, [keys.generation, keys.rev], [keys.channel, id, 'complete'])) === 1;
    },
    async partial(id) {
      return (await runScript(client, MARK_GENERATION, [keys.generation, keys.rev], [keys.channel, id, 'partial'])) === 1;
    },
    onReconnect(listener) {
      client.on('ready', listener);
      return () => void client.off('ready', listener);
    },
  };
}
