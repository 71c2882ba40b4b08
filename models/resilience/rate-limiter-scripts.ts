/**
 * The rate limiter's Lua scripts. Redis runs each one atomically, so every check and
 * update below sees one consistent state across all worker processes. Time comes from the
 * Redis server (TIME), never from a client clock.
 *
 * Keys of one `provider:model` limit (one hash tag, so they share a Redis Cluster slot):
 *   KEYS[1] log     sorted set  reservationId -> time it was granted (ms)
 *   KEYS[2] tokens  hash        reservationId -> tokens it holds (estimate, then actual)
 *   KEYS[3] total   string      sum of the hash, kept in step with it
 */

/** Drops reservations granted at or before `now - window`, with their tokens. */
const FORGET_EXPIRED = `
local function now_ms()
  local time = redis.call('TIME')
  return tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end

local function forget_expired(now, window)
  local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - window)
  local freed = 0
  for _, id in ipairs(expired) do
    freed = freed + tonumber(redis.call('HGET', KEYS[2], id) or '0')
    redis.call('HDEL', KEYS[2], id)
  end
  if #expired > 0 then
    redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
    redis.call('DECRBY', KEYS[3], freed)
  end
end
`;

/**
 * ARGV: reservationId, estimatedTokens, requestLimit, tokenLimit, windowMs.
 * Returns {1, 0} when granted, or {0, retryAfterMs}: the time until enough reservations
 * leave the window for this one to fit.
 */
export const RESERVE_SCRIPT = `${FORGET_EXPIRED}
local id = ARGV[1]
local estimate = tonumber(ARGV[2])
local request_limit = tonumber(ARGV[3])
local token_limit = tonumber(ARGV[4])
local window = tonumber(ARGV[5])
local now = now_ms()
forget_expired(now, window)

local requests = redis.call('ZCARD', KEYS[1])
local tokens = tonumber(redis.call('GET', KEYS[3]) or '0')
if requests < request_limit and tokens + estimate <= token_limit then
  redis.call('ZADD', KEYS[1], now, id)
  redis.call('HSET', KEYS[2], id, estimate)
  redis.call('INCRBY', KEYS[3], estimate)
  for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], window) end
  return {1, 0}
end

local wait = 0
if requests >= request_limit then
  -- the (requests - limit + 1)th oldest reservation must leave before one more fits
  local entry = redis.call('ZRANGE', KEYS[1], requests - request_limit, requests - request_limit, 'WITHSCORES')
  wait = tonumber(entry[2]) + window - now
end
if tokens + estimate > token_limit then
  local excess = tokens + estimate - token_limit
  local entries = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
  for i = 1, #entries, 2 do
    excess = excess - tonumber(redis.call('HGET', KEYS[2], entries[i]) or '0')
    if excess <= 0 then
      wait = math.max(wait, tonumber(entries[i + 1]) + window - now)
      break
    end
  end
end
return {0, math.max(wait, 1)}
`;

/**
 * ARGV: reservationId, actualTokens. Sets the reservation's tokens to the actual usage.
 * Returns 1 when applied, 0 when the reservation is unknown or has left the window.
 */
export const SETTLE_SCRIPT = `
local previous = redis.call('HGET', KEYS[2], ARGV[1])
if not previous then return 0 end
local actual = tonumber(ARGV[2])
redis.call('HSET', KEYS[2], ARGV[1], actual)
redis.call('INCRBY', KEYS[3], actual - tonumber(previous))
return 1
`;
