/**
 * The presence table's atomic steps, as Lua scripts (see `lua-script.ts` for
 * why scripts).
 *
 * State, under the cluster's prefix:
 * - `session:USER` = `NODE SESSION`, expiring after the session TTL unless
 *   the node's heartbeat refreshes it: the one-session-per-user claim.
 * - `members:NODE`, a zset of USER → when they joined: who is on each node,
 *   in arrival order (for `/who`, and for clearing up after a dead node).
 * - `nodes`, a zset of NODE → when its last heartbeat runs out.
 *
 * Every change that others must hear about is published *inside* the script
 * that makes it (`PUBLISH` from Lua), so events and state cannot disagree:
 * the `join` of a user who moved to node B is always published after the
 * `leave` for their dead node A, because the script that freed the session
 * ran first. What a script publishes is an event a node signed and passed in
 * (`presence-event.ts`): Redis never holds the key, so no script writes an
 * event of its own, and nobody else can make one that a node would believe.
 *
 * Every script is safe to run twice (the Redis client may resend one after a
 * reconnect): a claim that finds its own owner in place succeeds without a
 * second `join`; a release that finds nothing to release does nothing.
 *
 * @module
 */
import { LUA_NOW, LuaScript } from './lua-script';

/**
 * Claims a session if it is free.
 * KEYS: session, members of this node. ARGV: owner, session TTL, user,
 * presence channel, the `join` event, members TTL.
 * Returns 1 (claimed, or already ours) or 0 (someone else holds it).
 */
export const CLAIM = new LuaScript(
  'claim',
  `${LUA_NOW}
local current = redis.call('GET', KEYS[1])
if current == ARGV[1] then return 1 end
if current then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('ZADD', KEYS[2], now, ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[6])
redis.call('PUBLISH', ARGV[4], ARGV[5])
return 1
`,
);

/**
 * Releases a session, only for its owner (compare-and-delete: a late release
 * from an old connection must not end a newer session). If the user holds a
 * session on another node now (a release retried after they logged in
 * again elsewhere), they are still taken off this node's list, quietly:
 * left there, they would be counted twice by `/who` for as long as this
 * node lives.
 * KEYS: session, members of this node. ARGV: owner, user, presence channel,
 * the `leave` event. Returns 1 if the session was ours (or already gone), 0
 * if someone else holds it now.
 */
export const RELEASE = new LuaScript(
  'release',
  `local current = redis.call('GET', KEYS[1])
if current and current ~= ARGV[1] then
  local node = string.match(ARGV[1], '^(%S+) ')
  if string.sub(current, 1, #node + 1) ~= node .. ' ' then redis.call('ZREM', KEYS[2], ARGV[2]) end
  return 0
end
if current then redis.call('DEL', KEYS[1]) end
if redis.call('ZREM', KEYS[2], ARGV[2]) == 1 then redis.call('PUBLISH', ARGV[3], ARGV[4]) end
return 1
`,
);

/**
 * One node's heartbeat for a batch of its sessions: pushes the node's expiry
 * forward, refreshes each session it still owns, takes back each one that
 * ran out (while the node was cut off) if nobody else took it, and reports
 * the ones taken by another login.
 *
 * A user taken back is announced (`join`) only if a reap announced them
 * leaving: the reap marks the node (`reaped:NODE`), and the user is missing
 * from the node's list. A user missing for another reason was never
 * announced as gone: after Redis restarts empty, every node takes all of its
 * sessions back, and a `join` for each would tell the room that everyone
 * arrived, when nobody had left.
 *
 * Those `join`s must be signed by the node, one per user, which costs an HMAC
 * per session: too much for every heartbeat, for an event that follows only
 * a reap. So the node sends its batches `quiet` (owner and user for each
 * session), and a quiet batch that finds the mark does nothing at all and
 * returns -1. The node then sends every batch again with a signed `join` for
 * each session (owner, user, event), `announce` for all but the last and
 * `last` for the last, which clears the mark: the node's users are
 * announced once, and its next heartbeat is quiet again.
 * KEYS: nodes, members of this node, its reaped mark, then one session key
 * per session. ARGV: node, session TTL, members TTL, presence channel, mode
 * (`quiet`, `announce` or `last`), then the sessions' fields. Returns the
 * users whose session was lost, or -1 (`quiet` only): send the batches again
 * with events.
 */
export const HEARTBEAT = new LuaScript(
  'heartbeat',
  `${LUA_NOW}
local ttl = tonumber(ARGV[2])
local reaped = redis.call('EXISTS', KEYS[3]) == 1
local quiet = ARGV[5] == 'quiet'
if reaped and quiet then return -1 end
local stride = quiet and 2 or 3
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
local lost = {}
for i = 4, #KEYS do
  local at = 6 + stride * (i - 4)
  local owner = ARGV[at]
  local user = ARGV[at + 1]
  local current = redis.call('GET', KEYS[i])
  if current == owner then
    redis.call('PEXPIRE', KEYS[i], ttl)
  elseif not current then
    redis.call('SET', KEYS[i], owner, 'PX', ttl)
    if redis.call('ZADD', KEYS[2], 'NX', now, user) == 1 and reaped then
      redis.call('PUBLISH', ARGV[4], ARGV[at + 2])
    end
  else
    redis.call('ZREM', KEYS[2], user)
    lost[#lost + 1] = user
  end
end
redis.call('PEXPIRE', KEYS[2], ARGV[3])
if ARGV[5] == 'last' then redis.call('DEL', KEYS[3]) end
return lost
`,
);

/**
 * Finds a dead node (its heartbeat ran out) and lists the next batch of its
 * users, first arrived first, for the reaper to sign a `leave` for each. A
 * dead node with nobody left on its list is taken off the list of nodes.
 * KEYS: nodes. ARGV: key prefix, batch size.
 * Returns 0 when no node is dead, else `{node, user, user, …}`.
 */
export const DEAD_NODE = new LuaScript(
  'dead-node',
  `${LUA_NOW}
local node = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. now, 'LIMIT', 0, 1)[1]
if not node then return 0 end
local users = redis.call('ZRANGE', ARGV[1] .. 'members:' .. node, 0, tonumber(ARGV[2]) - 1)
if #users == 0 then redis.call('ZREM', KEYS[1], node) end
table.insert(users, 1, node)
return users
`,
);

/**
 * Clears up a batch of a dead node's users, found by {@link DEAD_NODE}, each
 * with the `leave` the reaper signed for them. The node must still be dead
 * (it may have come back since it was found). `ZREM` takes each user off its
 * list exactly once, so two nodes reaping at once never announce the same
 * `leave` twice. A user whose session already belongs to another node (they
 * logged in again elsewhere) is not announced as leaving. The node is marked
 * `reaped:NODE` (for a day, or until its heartbeat has announced them again),
 * so that, if it comes back, its users are announced again.
 * KEYS: nodes. ARGV: key prefix, presence channel, node, the mark's TTL, then
 * user and signed `leave` for each user. Returns how many users it cleared.
 */
export const REAP = new LuaScript(
  'reap',
  `${LUA_NOW}
local node = ARGV[3]
local expires = redis.call('ZSCORE', KEYS[1], node)
if not expires or tonumber(expires) >= now then return 0 end
local members = ARGV[1] .. 'members:' .. node
local cleared = 0
for i = 5, #ARGV, 2 do
  local user = ARGV[i]
  if redis.call('ZREM', members, user) == 1 then
    cleared = cleared + 1
    local key = ARGV[1] .. 'session:' .. user
    local current = redis.call('GET', key)
    if not current or string.sub(current, 1, #node + 1) == node .. ' ' then
      if current then redis.call('DEL', key) end
      redis.call('PUBLISH', ARGV[2], ARGV[i + 1])
    end
  end
end
if cleared > 0 then redis.call('SET', ARGV[1] .. 'reaped:' .. node, '1', 'PX', ARGV[4]) end
if redis.call('EXISTS', members) == 0 then redis.call('ZREM', KEYS[1], node) end
return cleared
`,
);

/**
 * `/who` across the live nodes: the exact count, and the first `limit` users
 * by arrival (each node's list is read only up to `limit`, so the work grows
 * with the number of nodes, not of users).
 * KEYS: nodes. ARGV: key prefix, limit. Returns `{count, name, name, …}`.
 */
export const WHO = new LuaScript(
  'who',
  `${LUA_NOW}
local limit = tonumber(ARGV[2])
local count = 0
local candidates = {}
for _, node in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], now, '+inf')) do
  local members = ARGV[1] .. 'members:' .. node
  count = count + redis.call('ZCARD', members)
  local listed = redis.call('ZRANGE', members, 0, limit - 1, 'WITHSCORES')
  for i = 1, #listed, 2 do
    candidates[#candidates + 1] = { tonumber(listed[i + 1]), listed[i] }
  end
end
table.sort(candidates, function(a, b)
  if a[1] == b[1] then return a[2] < b[2] end
  return a[1] < b[1]
end)
local answer = { count }
for i = 1, math.min(limit, #candidates) do answer[i + 1] = candidates[i][2] end
return answer
`,
);
