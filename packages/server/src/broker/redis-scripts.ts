/**
 * Lua run inside Redis, so each step is atomic across every hub node.
 *
 * Keys: KEYS[1] the stream (the log), KEYS[2] a hash holding `epoch` and `trimmed`
 * (the id of the newest entry retention removed, so the entry right before the
 * oldest retained one still counts as a safe resume point).
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

/**
 * Appends a batch. ARGV: candidate epoch, maxlen, cutoff ms, publisher-id TTL ms,
 * publisher-id key prefix, count, then five values per event: publisher id (''
 * for none), topic, type, data JSON, timestamp. Returns the epoch followed by a
 * stream id and a duplicate flag per event.
 */
export const APPEND_SCRIPT = `${TRIM}
local stream, meta = KEYS[1], KEYS[2]
local epoch = redis.call('HGET', meta, 'epoch')
if not epoch then
  epoch = ARGV[1]
  redis.call('HSET', meta, 'epoch', epoch)
end
local maxlen, cutoff, ttl, pids, n = tonumber(ARGV[2]), ARGV[3], ARGV[4], ARGV[5], tonumber(ARGV[6])
local out = { epoch }
for i = 0, n - 1 do
  local base = 7 + i * 5
  local pid = ARGV[base]
  local existing = false
  if pid ~= '' then existing = redis.call('GET', pids .. pid) end
  if existing then
    out[#out + 1] = existing
    out[#out + 1] = 1
  else
    local id
    if pid == '' then
      id = redis.call('XADD', stream, '*', 'e', epoch, 't', ARGV[base + 1], 'y', ARGV[base + 2], 'd', ARGV[base + 3], 's', ARGV[base + 4])
    else
      id = redis.call('XADD', stream, '*', 'e', epoch, 't', ARGV[base + 1], 'y', ARGV[base + 2], 'd', ARGV[base + 3], 's', ARGV[base + 4], 'p', pid)
      redis.call('SET', pids .. pid, id, 'PX', ttl)
    end
    out[#out + 1] = id
    out[#out + 1] = 0
  end
end
trim(stream, meta, maxlen, cutoff)
return out
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
