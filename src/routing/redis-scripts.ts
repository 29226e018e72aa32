// Lua scripts of the Redis routing table. Each write changes the hashes, bumps `rev` and publishes
// the change in one atomic step, so no replica can see a change without its message following it.
// Scripts validate everything before their first write: Redis does not roll back a failing script.
import { createHash } from 'node:crypto';
import type { RedisClient } from './redis-connection.ts';

export interface LuaScript {
  source: string;
  sha: string;
}

export function script(source: string): LuaScript {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

/** Runs a script by SHA, loading it on first use (NOSCRIPT) — one round trip in the steady state. */
export async function runScript(client: RedisClient, s: LuaScript, keys: string[], args: (string | number)[]): Promise<unknown> {
  try {
    return await client.evalsha(s.sha, keys.length, ...keys, ...args);
  } catch (err) {
    if (err instanceof Error && err.message.startsWith('NOSCRIPT')) return await client.eval(s.source, keys.length, ...keys, ...args);
    throw err;
  }
}

/**
 * KEYS: routes, clusters, rev, generation, shards. ARGV: path or logical-cluster name. Returns {rev,
 * path, routeJSON}, or when unknown {rev, generation id or '', its routes state or '', 1 if the table
 * holds any shard or route else 0}; rev is the table's revision the answer reflects, so a reader can
 * tell whether a change message it receives afterwards is already contained in the answer. An unknown
 * answer carries the table's state because "unknown" only means "does not exist" in a complete table.
 */
export const RESOLVE = script(`
local rev = tonumber(redis.call('GET', KEYS[3]) or '0')
local v = redis.call('HGET', KEYS[1], ARGV[1])
if v then return {rev, ARGV[1], v} end
local p = redis.call('HGET', KEYS[2], ARGV[1])
if p then
  v = redis.call('HGET', KEYS[1], p)
  if v then return {rev, p, v} end
end
local g = redis.call('HMGET', KEYS[4], 'id', 'routes')
local has = 0
if redis.call('EXISTS', KEYS[1]) == 1 or redis.call('EXISTS', KEYS[5]) == 1 then has = 1 end
return {rev, g[1] or '', g[2] or '', has}
`);

/**
 * KEYS: routes, clusters, shards, shard-route-counts, rev. ARGV: channel, then (path, shard, cluster,
 * phase) per route. Unchanged routes are left alone (no rev, no message) so re-lists and re-imports
 * cost nothing downstream. Returns the rev of each route.
 */
export const PUT_ROUTES = script(`
local n = (#ARGV - 1) / 4
local seen = {}
for i = 0, n - 1 do
  local shard = ARGV[3 + i * 4]
  if not seen[shard] then
    if redis.call('HEXISTS', KEYS[3], shard) == 0 then return redis.error_reply('UnknownShard ' .. shard) end
    seen[shard] = true
  end
end
local revs = {}
for i = 0, n - 1 do
  local path, shard, cluster, phase = ARGV[2 + i * 4], ARGV[3 + i * 4], ARGV[4 + i * 4], ARGV[5 + i * 4]
  local changed = {cluster}
  local old = redis.call('HGET', KEYS[1], path)
  local o = nil
  if old then o = cjson.decode(old) end
  if o and o.shard == shard and o.cluster == cluster and o.phase == phase then
    revs[#revs + 1] = o.rev
  else
    if o then
      if redis.call('HINCRBY', KEYS[4], o.shard, -1) <= 0 then redis.call('HDEL', KEYS[4], o.shard) end
      if o.cluster ~= cluster then
        if redis.call('HGET', KEYS[2], o.cluster) == path then redis.call('HDEL', KEYS[2], o.cluster) end
        changed[#changed + 1] = o.cluster
      end
    end
    local rev = redis.call('INCR', KEYS[5])
    local fence = nil
    if o and o.cluster == cluster then fence = o.fence end
    redis.call('HSET', KEYS[1], path, cjson.encode({shard = shard, cluster = cluster, phase = phase, rev = rev, fence = fence}))
    redis.call('HSET', KEYS[2], cluster, path)
    redis.call('HINCRBY', KEYS[4], shard, 1)
    redis.call('PUBLISH', ARGV[1], cjson.encode({path = path, rev = rev, clusters = changed}))
    revs[#revs + 1] = rev
  end
end
return revs
`);

/**
 * KEYS: routes, rev. ARGV: channel, path, fenceJSON. Sets the resourceVersion fence a move leaves on a
 * route (kept by later writes of the same logical cluster's route). Returns the rev, or 0 if absent.
 */
export const SET_ROUTE_FENCE = script(`
local old = redis.call('HGET', KEYS[1], ARGV[2])
if not old then return 0 end
local o = cjson.decode(old)
local rev = redis.call('INCR', KEYS[2])
o.fence = cjson.decode(ARGV[3])
o.rev = rev
redis.call('HSET', KEYS[1], ARGV[2], cjson.encode(o))
redis.call('PUBLISH', ARGV[1], cjson.encode({path = ARGV[2], rev = rev, clusters = {o.cluster}}))
return rev
`);

/** KEYS: routes, clusters, shard-route-counts, rev. ARGV: channel, path. Returns the rev, or 0 if absent. */
export const DELETE_ROUTE = script(`
local old = redis.call('HGET', KEYS[1], ARGV[2])
if not old then return 0 end
local o = cjson.decode(old)
redis.call('HDEL', KEYS[1], ARGV[2])
if redis.call('HGET', KEYS[2], o.cluster) == ARGV[2] then redis.call('HDEL', KEYS[2], o.cluster) end
if redis.call('HINCRBY', KEYS[3], o.shard, -1) <= 0 then redis.call('HDEL', KEYS[3], o.shard) end
local rev = redis.call('INCR', KEYS[4])
redis.call('PUBLISH', ARGV[1], cjson.encode({path = ARGV[2], rev = rev, clusters = {o.cluster}}))
return rev
`);

/** KEYS: shards, rev. ARGV: channel, name, shardJSON. */
export const PUT_SHARD = script(`
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
local rev = redis.call('INCR', KEYS[2])
redis.call('PUBLISH', ARGV[1], cjson.encode({shard = ARGV[2], rev = rev}))
return rev
`);

/** KEYS: shards, rev. ARGV: channel, name, state. Returns the new shard JSON, or nil if unknown. */
export const SET_SHARD_STATE = script(`
local old = redis.call('HGET', KEYS[1], ARGV[2])
if not old then return false end
local s = cjson.decode(old)
s.state = ARGV[3]
local json = cjson.encode(s)
redis.call('HSET', KEYS[1], ARGV[2], json)
local rev = redis.call('INCR', KEYS[2])
redis.call('PUBLISH', ARGV[1], cjson.encode({shard = ARGV[2], rev = rev}))
return json
`);

/** KEYS: shards, shard-route-counts, rev. ARGV: channel, name, force ("1"). Returns 1 if removed. */
export const REMOVE_SHARD = script(`
if redis.call('HEXISTS', KEYS[1], ARGV[2]) == 0 then return 0 end
local count = tonumber(redis.call('HGET', KEYS[2], ARGV[2]) or '0')
if count > 0 and ARGV[3] ~= '1' then return redis.error_reply('ShardNotEmpty ' .. count) end
redis.call('HDEL', KEYS[1], ARGV[2])
local rev = redis.call('INCR', KEYS[3])
redis.call('PUBLISH', ARGV[1], cjson.encode({shard = ARGV[2], rev = rev}))
return 1
`);

/** KEYS: lease. ARGV: holder, ttl ms. Takes the lease if free or already ours (renewal). Returns 1 if held. */
export const ACQUIRE_LEASE = script(`
local holder = redis.call('GET', KEYS[1])
if holder == false or holder == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
`);

/** KEYS: lease. ARGV: holder. Releases the lease only if we hold it. */
export const RELEASE_LEASE = script(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`);
