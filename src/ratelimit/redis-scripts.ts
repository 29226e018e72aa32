// The Lua the Redis limiter runs. Each admission is ONE script call touching only keys of one flow
// (same hash tag, so it runs on Redis Cluster too). Time comes from the Redis server (TIME), so
// replicas with skewed clocks still share one bucket correctly.
//
// Slot hashes hold, per replica r: `c:<r>` (slots r holds) and `e:<r>` (when r's lease runs out, µs).
// A replica that stops heartbeating (crashed) stops counting once its lease runs out.
import { createHash } from 'node:crypto';

export interface Script {
  readonly source: string;
  readonly sha: string;
}

function script(source: string): Script {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

const now = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
`;

/**
 * KEYS[1] GCRA bucket (theoretical arrival time, µs), KEYS[2] slot hash.
 * ARGV: emission interval µs, tolerance µs, cost, max slots (-1: no slot), replica id, lease ms.
 * Returns {allowed 0|1, retry-after µs, reason}.
 */
export const admitScript = script(`${now}
local maxSlots = tonumber(ARGV[4])
local me = ARGV[5]
local leaseMs = tonumber(ARGV[6])
if maxSlots >= 0 then
  local h = redis.call('HGETALL', KEYS[2])
  local expiry = {}
  for i = 1, #h, 2 do
    if string.sub(h[i], 1, 2) == 'e:' then expiry[string.sub(h[i], 3)] = tonumber(h[i + 1]) end
  end
  local live = 0
  for i = 1, #h, 2 do
    if string.sub(h[i], 1, 2) == 'c:' then
      local r = string.sub(h[i], 3)
      local e = expiry[r]
      if e == nil or e < now then
        redis.call('HDEL', KEYS[2], 'c:' .. r, 'e:' .. r)
      else
        live = live + tonumber(h[i + 1])
      end
    end
  end
  if live >= maxSlots then return {0, 1000000, 'slots'} end
end
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local newTat = tat + tonumber(ARGV[3]) * tonumber(ARGV[1])
local allowAt = newTat - tonumber(ARGV[2])
if allowAt > now then return {0, math.ceil(allowAt - now), 'rate'} end
redis.call('SET', KEYS[1], string.format('%.0f', newTat), 'PX', math.ceil((newTat - now) / 1000) + 1)
if maxSlots >= 0 then
  redis.call('HINCRBY', KEYS[2], 'c:' .. me, 1)
  redis.call('HSET', KEYS[2], 'e:' .. me, string.format('%.0f', now + leaseMs * 1000))
  redis.call('PEXPIRE', KEYS[2], leaseMs * 2)
end
return {1, 0, ''}
`);

/** KEYS[1] slot hash. ARGV: replica id. Frees one slot of this replica. */
export const releaseScript = script(`
local n = redis.call('HINCRBY', KEYS[1], 'c:' .. ARGV[1], -1)
if n <= 0 then redis.call('HDEL', KEYS[1], 'c:' .. ARGV[1], 'e:' .. ARGV[1]) end
return n
`);

/**
 * KEYS[1] slot hash. ARGV: replica id, slots held, lease ms. Renews the lease and sets the count to
 * what the replica really holds, which also repairs counts lost with a Redis restart or taken while
 * the replica ran on its local fallback.
 */
export const heartbeatSlotsScript = script(`${now}
local me = ARGV[1]
local held = tonumber(ARGV[2])
local leaseMs = tonumber(ARGV[3])
if held > 0 then
  redis.call('HSET', KEYS[1], 'c:' .. me, held, 'e:' .. me, string.format('%.0f', now + leaseMs * 1000))
  redis.call('PEXPIRE', KEYS[1], leaseMs * 2)
else
  redis.call('HDEL', KEYS[1], 'c:' .. me, 'e:' .. me)
end
return held
`);

/** KEYS[1] replica set (member → lease expiry µs). ARGV: replica id, lease ms. Returns live replicas. */
export const registerReplicaScript = script(`${now}
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]) * 1000, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 2)
return redis.call('ZCARD', KEYS[1])
`);
