//! The Lua scripts of [`RedisQueue`](super::RedisQueue): each queue step that touches more than
//! one key, or reads before it writes, is one script, so Redis runs it as one atomic step and a
//! worker dying between two commands cannot leave half of it done. "Now" is Redis `TIME`, one
//! clock for every instance. Every script names all its keys in `KEYS` (a Redis Cluster needs
//! them on one slot: see the module docs).

use ::redis::Script;

/// Milliseconds since the epoch by the Redis clock, as the local `now`.
macro_rules! now_ms {
    () => {
        "local clock = redis.call('TIME')\n\
         local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)\n"
    };
}

/// Push. KEYS: stream, scheduled[, unique key]. ARGV: record JSON, run-at ms ('' = now),
/// job id, unique window ms. Returns {1, id} when queued, {0, existing id} for a duplicate.
/// The unique key and the job are written together: a unique key never outlives a push that
/// did not happen.
const PUSH: &str = concat!(
    "if #KEYS == 3 then\n",
    "  if not redis.call('SET', KEYS[3], ARGV[3], 'NX', 'PX', ARGV[4]) then\n",
    "    return {0, redis.call('GET', KEYS[3]) or ''}\n",
    "  end\n",
    "end\n",
    now_ms!(),
    "if ARGV[2] ~= '' and tonumber(ARGV[2]) > now then\n",
    "  redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])\n",
    "else\n",
    "  redis.call('XADD', KEYS[1], '*', 'record', ARGV[1])\n",
    "end\n",
    "return {1, ARGV[3]}\n",
);

/// Moves due scheduled jobs to the stream. KEYS: scheduled, stream. ARGV: most to move.
/// Returns {moved, ms until the next scheduled job is due (-1: none)}.
const PROMOTE: &str = concat!(
    now_ms!(),
    "local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))\n",
    "for _, member in ipairs(due) do\n",
    "  redis.call('XADD', KEYS[2], '*', 'record', member)\n",
    "  redis.call('ZREM', KEYS[1], member)\n",
    "end\n",
    "local next = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')\n",
    "local wait = -1\n",
    "if #next == 2 then wait = math.max(0, math.floor(tonumber(next[2]) - now)) end\n",
    "return {#due, wait}\n",
);

/// Extends a lease. KEYS: stream. ARGV: entry id, consumer. Only while the entry is pending
/// with this consumer: a worker whose lease expired and was taken over does not take it back.
const RENEW: &str = "
if #redis.call('XPENDING', KEYS[1], 'workers', ARGV[1], ARGV[1], 1, ARGV[2]) == 0 then
  return 0
end
redis.call('XCLAIM', KEYS[1], 'workers', ARGV[2], 0, ARGV[1], 'JUSTID')
return 1
";

/// Completes. KEYS: stream. ARGV: entry id, consumer. The entry is deleted as well as
/// acknowledged, so done jobs do not pile up in the stream. Like every settling step, only
/// while the entry is pending with this consumer: a worker whose lease was taken over settles
/// nothing its successor runs.
const COMPLETE: &str = "
if #redis.call('XPENDING', KEYS[1], 'workers', ARGV[1], ARGV[1], 1, ARGV[2]) == 0 then return 0 end
redis.call('XACK', KEYS[1], 'workers', ARGV[1])
redis.call('XDEL', KEYS[1], ARGV[1])
return 1
";

/// Retries. KEYS: stream, scheduled. ARGV: entry id, run-at ms, next record JSON, consumer.
/// Only while the entry is pending with this consumer (not yet settled, not taken over):
/// repeating the step after a lost reply changes nothing.
const RETRY: &str = concat!(
    "if #redis.call('XPENDING', KEYS[1], 'workers', ARGV[1], ARGV[1], 1, ARGV[4]) == 0 then return 0 end\n",
    "redis.call('XACK', KEYS[1], 'workers', ARGV[1])\n",
    "redis.call('XDEL', KEYS[1], ARGV[1])\n",
    now_ms!(),
    "if tonumber(ARGV[2]) > now then\n",
    "  redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])\n",
    "else\n",
    "  redis.call('XADD', KEYS[1], '*', 'record', ARGV[3])\n",
    "end\n",
    "return 1\n",
);

/// Buries. KEYS: stream, dead hash, dead index. ARGV: entry id, job id, dead JSON, failed-at
/// ms, consumer. Only while the entry is pending with this consumer, like a retry.
const BURY: &str = "
if #redis.call('XPENDING', KEYS[1], 'workers', ARGV[1], ARGV[1], 1, ARGV[5]) == 0 then return 0 end
redis.call('XACK', KEYS[1], 'workers', ARGV[1])
redis.call('XDEL', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[2])
return 1
";

/// Gives an entry back. KEYS: stream. ARGV: entry id, consumer. A copy goes to the end of the
/// stream (ready at once for any worker), then the original is acknowledged and deleted;
/// nothing happens when the entry is no longer pending with this consumer. The copy carries
/// the deliveries lost so far in its `lost` field (the entry's own, plus its delivery count
/// less this delivery, which is given back, not lost): a new entry's delivery count starts
/// again at 1, and a job that kills its workers must not escape the limit by a release.
const RELEASE: &str = "
local pending = redis.call('XPENDING', KEYS[1], 'workers', ARGV[1], ARGV[1], 1, ARGV[2])
if #pending == 0 then return 0 end
local entry = redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1])
if #entry == 1 then
  local fields, lost = {}, 0
  local old = entry[1][2]
  for i = 1, #old, 2 do
    if old[i] == 'lost' then
      lost = tonumber(old[i + 1]) or 0
    else
      fields[#fields + 1] = old[i]
      fields[#fields + 1] = old[i + 1]
    end
  end
  lost = lost + math.max(tonumber(pending[1][4]) - 1, 0)
  if lost > 0 then
    fields[#fields + 1] = 'lost'
    fields[#fields + 1] = string.format('%d', lost)
  end
  if #fields > 0 then redis.call('XADD', KEYS[1], '*', unpack(fields)) end
end
redis.call('XACK', KEYS[1], 'workers', ARGV[1])
redis.call('XDEL', KEYS[1], ARGV[1])
return 1
";

/// Dead jobs, newest first. KEYS: dead hash, dead index. ARGV: how many. Returns their JSON
/// (false where the index names a job the hash lacks).
const DEAD: &str = "
local ids = redis.call('ZREVRANGE', KEYS[2], 0, tonumber(ARGV[1]) - 1)
local out = {}
for i, id in ipairs(ids) do out[i] = redis.call('HGET', KEYS[1], id) end
return out
";

/// Revives. KEYS: dead hash, dead index, stream. ARGV: job id, the dead JSON the caller read,
/// the record to queue. Returns 0 when the dead job changed or went since it was read.
const REVIVE: &str = "
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('XADD', KEYS[3], '*', 'record', ARGV[3])
return 1
";

/// Buries a job that never reached a stream. KEYS: dead hash, dead index. ARGV: job id, dead
/// JSON, failed-at ms.
const BURY_UNQUEUED: &str = "
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
return 1
";

/// Discards. KEYS: dead hash, dead index. ARGV: job id. Returns whether it was there.
const DISCARD: &str = "
local removed = redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return removed
";

/// The dead-letter queue's retention. KEYS: dead hash, dead index. ARGV: max age ms, how many
/// to keep, most to delete. Deletes jobs buried before now (Redis clock) less the max age,
/// then the oldest beyond the count; returns how many went. The caller repeats it while it
/// deletes a full batch, so no one call holds Redis long.
const PRUNE_DEAD: &str = concat!(
    now_ms!(),
    "local batch = tonumber(ARGV[3])\n",
    "local cutoff = now - tonumber(ARGV[1])\n",
    "local ids = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', '(' .. cutoff, 'LIMIT', 0, batch)\n",
    "local excess = redis.call('ZCARD', KEYS[2]) - #ids - tonumber(ARGV[2])\n",
    "if excess > 0 and #ids < batch then\n",
    "  local oldest = redis.call('ZRANGE', KEYS[2], #ids, #ids + math.min(excess, batch - #ids) - 1)\n",
    "  for _, id in ipairs(oldest) do ids[#ids + 1] = id end\n",
    "end\n",
    "for _, id in ipairs(ids) do\n",
    "  redis.call('HDEL', KEYS[1], id)\n",
    "  redis.call('ZREM', KEYS[2], id)\n",
    "end\n",
    "return #ids\n",
);

/// Counts. KEYS: stream, scheduled, dead hash. Returns {ready, scheduled, in flight, oldest
/// ready age ms, dead}. Ready entries are those after the group's last-delivered id; the
/// oldest one's age comes from its id's timestamp (when it was added to the stream).
const STATS: &str = concat!(
    now_ms!(),
    "local len = redis.call('XLEN', KEYS[1])\n",
    "local pending, last = 0, '0-0'\n",
    "if redis.call('EXISTS', KEYS[1]) == 1 then\n",
    "  for _, group in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do\n",
    "    local fields = {}\n",
    "    for i = 1, #group, 2 do fields[group[i]] = group[i + 1] end\n",
    "    if fields['name'] == 'workers' then\n",
    "      pending = tonumber(fields['pending']) or 0\n",
    "      last = fields['last-delivered-id'] or '0-0'\n",
    "    end\n",
    "  end\n",
    "end\n",
    "local age = 0\n",
    "local first = redis.call('XRANGE', KEYS[1], '(' .. last, '+', 'COUNT', 1)\n",
    "if #first == 1 then\n",
    "  local added = tonumber(string.match(first[1][1], '^(%d+)'))\n",
    "  if added and now > added then age = now - added end\n",
    "end\n",
    "return {math.max(len - pending, 0), redis.call('ZCARD', KEYS[2]), pending, age, redis.call('HLEN', KEYS[3])}\n",
);

/// Forgets consumers that hold nothing and have not read for a while. KEYS: stream. ARGV:
/// idle ms. Each worker process reads under a name of its own, so without this the group
/// would keep one consumer per worker ever started. Forgetting a live one loses nothing (it
/// holds no entry; its next read registers it again). Returns how many were forgotten.
const REAP: &str = "
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local forgotten = 0
for _, consumer in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], 'workers')) do
  local fields = {}
  for i = 1, #consumer, 2 do fields[consumer[i]] = consumer[i + 1] end
  if tonumber(fields['pending']) == 0 and tonumber(fields['idle']) > tonumber(ARGV[1]) then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], 'workers', fields['name'])
    forgotten = forgotten + 1
  end
end
return forgotten
";

/// The scripts, hashed once.
pub(super) struct Scripts {
    pub(super) push: Script,
    pub(super) promote: Script,
    pub(super) renew: Script,
    pub(super) complete: Script,
    pub(super) retry: Script,
    pub(super) bury: Script,
    pub(super) bury_unqueued: Script,
    pub(super) release: Script,
    pub(super) dead: Script,
    pub(super) revive: Script,
    pub(super) discard: Script,
    pub(super) stats: Script,
    pub(super) reap: Script,
    pub(super) prune_dead: Script,
}

impl Scripts {
    pub(super) fn new() -> Self {
        Self {
            push: Script::new(PUSH),
            promote: Script::new(PROMOTE),
            renew: Script::new(RENEW),
            complete: Script::new(COMPLETE),
            retry: Script::new(RETRY),
            bury: Script::new(BURY),
            bury_unqueued: Script::new(BURY_UNQUEUED),
            release: Script::new(RELEASE),
            dead: Script::new(DEAD),
            revive: Script::new(REVIVE),
            discard: Script::new(DISCARD),
            stats: Script::new(STATS),
            reap: Script::new(REAP),
            prune_dead: Script::new(PRUNE_DEAD),
        }
    }
}
