/**
 * Lua run inside Redis, so each step is atomic across every hub node.
 *
 * Keys: KEYS[1] the stream (the log), KEYS[2] a hash holding `epoch`, `seq` (the
 * log sequence number of the newest entry ever appended in this epoch) and
 * `trimmed` (the id of the newest entry retention removed, so the entry right
 * before the oldest retained one still counts as a safe resume point).
 */

// Removes entries past the count limit and older than the cutoff, remembering the
// newest one removed. Exact trimming (not `~`): retention is part of the contract.
const TRIM = `
local function trim(stream, meta, maxlen, cutoff)
  local last = false
  local len = redis.call('XLEN', stream)
  if len > maxlen then
    local removed = redis.call('XRANGE', stream, '-', '+', 'COUNT', len - maxlen)
    last = removed[#removed][1]
    redis.call('XTRIM', stream, 'MAXLEN', maxlen)
  end
  local old = redis.call('XREVRANGE', stream, '(' .. cutoff .. '-0', '-', 'COUNT', 1)
  if #old > 0 then
    last = old[1][1]
    redis.call('XTRIM', stream, 'MINID', cutoff .. '-0')
  end
  if last then redis.call('HSET', meta, 'trimmed', last) end
end
`;

// The log's epoch, rotated (a new epoch, sequence restarting at 0) when the log's
// history is gone: no epoch yet (a new or emptied Redis), or the stream deleted
// after entries were appended. A stale position is then never trusted: ids of the
// old epoch get `reset` and every node's tail sees the epoch change.
const EPOCH = `
local function rotate(meta, candidate)
  redis.call('DEL', meta)
  redis.call('HSET', meta, 'epoch', candidate, 'seq', 0)
  return candidate
end
local function current_epoch(stream, meta, candidate)
  local epoch = redis.call('HGET', meta, 'epoch')
  if not epoch then return rotate(meta, candidate) end
  if tonumber(redis.call('HGET', meta, 'seq') or '0') > 0 and redis.call('EXISTS', stream) == 0 then
    return rotate(meta, candidate)
  end
  return epoch
end
`;

// Now on Redis's own clock, in ms: deadlines are judged by the clock of the one
// server every node shares, never by a node's.
const CLOCK = `
local function redis_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`;

/**
 * Appends a batch. ARGV: candidate epoch, maxlen, cutoff ms, publisher-id TTL ms,
 * publisher-id key prefix, count, deadline (ms on Redis's clock), append-token
 * key, append-token TTL ms, then five values per event: publisher id ('' for
 * none), topic, type, data JSON, timestamp.
 *
 * Past the deadline it appends nothing and returns {'late'}: a publish the hub
 * already gave up waiting for must never land later (503 means nothing was
 * published). Otherwise each new entry carries the epoch (`e`) and the log
 * sequence number (`n`, one more than the previous entry's, kept in meta
 * `seq`), so a tail can tell exactly when it missed entries. Returns the epoch
 * followed by a stream id and a duplicate flag per event, and stores the same
 * reply, space-separated, under the append token, so a hub that lost the reply
 * can learn the outcome.
 */
export const APPEND_SCRIPT = `${TRIM}${EPOCH}${CLOCK}
local stream, meta = KEYS[1], KEYS[2]
if redis_ms() > tonumber(ARGV[7]) then return { 'late' } end
local epoch = current_epoch(stream, meta, ARGV[1])
local maxlen, cutoff, ttl, pids, n = tonumber(ARGV[2]), ARGV[3], ARGV[4], ARGV[5], tonumber(ARGV[6])
local out = { epoch }
for i = 0, n - 1 do
  local base = 10 + i * 5
  local pid = ARGV[base]
  local existing = false
  if pid ~= '' then existing = redis.call('GET', pids .. pid) end
  if existing then
    out[#out + 1] = existing
    out[#out + 1] = 1
  else
    local seq = redis.call('HINCRBY', meta, 'seq', 1)
    local id
    if pid == '' then
      id = redis.call('XADD', stream, '*', 'e', epoch, 'n', seq, 't', ARGV[base + 1], 'y', ARGV[base + 2], 'd', ARGV[base + 3], 's', ARGV[base + 4])
    else
      id = redis.call('XADD', stream, '*', 'e', epoch, 'n', seq, 't', ARGV[base + 1], 'y', ARGV[base + 2], 'd', ARGV[base + 3], 's', ARGV[base + 4], 'p', pid)
      redis.call('SET', pids .. pid, id, 'PX', ttl)
    end
    out[#out + 1] = id
    out[#out + 1] = 0
  end
end
trim(stream, meta, maxlen, cutoff)
redis.call('SET', ARGV[8], table.concat(out, ' '), 'PX', ARGV[9])
return out
`;

/**
 * What became of an append whose reply was lost. KEYS[1]: its append token;
 * ARGV[1]: its deadline (ms on Redis's clock). Returns {'done', reply} when it was
 * appended, {'none'} when it was not and never can be (Redis's clock is past the
 * deadline, so the append script refuses it if it still runs), or {'pending'}.
 */
export const OUTCOME_SCRIPT = `${CLOCK}
local reply = redis.call('GET', KEYS[1])
if reply then return { 'done', reply } end
if redis_ms() > tonumber(ARGV[1]) then return { 'none' } end
return { 'pending' }
`;

/**
 * The state of the log, for a tail that was cut off (and at start). ARGV:
 * candidate epoch, the epoch the node knows ('' for none), the last sequence
 * number it knows ('' for none). Rotates the epoch when history is gone (see
 * EPOCH), including when the known epoch's sequence went backwards (Redis came
 * back from an older snapshot: positions would be issued twice). Returns Redis's
 * time (seconds, microseconds), the epoch, the last sequence number, the first
 * retained entry's `n` ('' when empty or unnumbered), the last entry's id and
 * `n` ('' when none).
 */
export const STATE_SCRIPT = `${EPOCH}
local stream, meta = KEYS[1], KEYS[2]
local t = redis.call('TIME')
local epoch = current_epoch(stream, meta, ARGV[1])
local seq = tonumber(redis.call('HGET', meta, 'seq') or '0')
if ARGV[2] == epoch and ARGV[3] ~= '' and seq < tonumber(ARGV[3]) then
  epoch = rotate(meta, ARGV[1])
  seq = 0
end
local function number_of(entries)
  if #entries == 0 then return '', '' end
  local fields = entries[1][2]
  for i = 1, #fields, 2 do
    if fields[i] == 'n' then return entries[1][1], fields[i + 1] end
  end
  return entries[1][1], ''
end
local _, first = number_of(redis.call('XRANGE', stream, '-', '+', 'COUNT', 1))
local last_id, last = number_of(redis.call('XREVRANGE', stream, '+', '-', 'COUNT', 1))
return { t[1], t[2], epoch, tostring(seq), first, last_id, last, redis.call('HGET', meta, 'trimmed') or '' }
`;

/** Trims by count and age without appending. ARGV: maxlen, cutoff ms. */
export const TRIM_SCRIPT = `${TRIM}
trim(KEYS[1], KEYS[2], tonumber(ARGV[1]), ARGV[2])
return 1
`;

/**
 * Reads what follows a resume id, checking in the same step that nothing after it
 * was trimmed. ARGV: kind ('gen' or 'pid'), the id's epoch (gen) or publisher id
 * (pid), its stream id (gen), the stream id to read up to, publisher-id key
 * prefix. Returns {'unknown_id'}, {'expired'} or {'ok', after stream id, entries}.
 * A generated id names a stream position; `0-0` (the position of an empty stream)
 * holds only while nothing was ever trimmed, since any removed entry came after it.
 */
export const READ_SCRIPT = `
local stream, meta = KEYS[1], KEYS[2]
local kind, key, sid, upto, pids = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local function parse(id)
  local dash = string.find(id, '-', 1, true)
  return tonumber(string.sub(id, 1, dash - 1)), tonumber(string.sub(id, dash + 1))
end
local function before(a, b)
  local ams, aseq = parse(a)
  local bms, bseq = parse(b)
  return ams < bms or (ams == bms and aseq < bseq)
end
if kind == 'gen' then
  if redis.call('HGET', meta, 'epoch') ~= key then return { 'unknown_id' } end
else
  sid = redis.call('GET', pids .. key)
  if not sid then return { 'unknown_id' } end
end
if sid == '0-0' then
  if redis.call('HEXISTS', meta, 'trimmed') == 1 then return { 'expired' } end
  if upto == '0-0' then return { 'ok', sid, {} } end
  return { 'ok', sid, redis.call('XRANGE', stream, '-', upto) }
end
local found = redis.call('XRANGE', stream, sid, sid)
if #found == 0 and redis.call('HGET', meta, 'trimmed') ~= sid then
  local first = redis.call('XRANGE', stream, '-', '+', 'COUNT', 1)
  local trimmed = redis.call('HGET', meta, 'trimmed')
  if (#first > 0 and before(sid, first[1][1])) or (#first == 0 and trimmed and before(sid, trimmed)) then
    return { 'expired' }
  end
  return { 'unknown_id' }
end
if upto == '0-0' or not before(sid, upto) then return { 'ok', sid, {} } end
return { 'ok', sid, redis.call('XRANGE', stream, '(' .. sid, upto) }
`;
