--[[
  Shared by the scripts of one account's live state (included at load time).

  The live state mirrors ActiveUsersEngine (src/engine/) in four hashes of one account, all under
  the account's hash tag and all given one expiry deadline by every script that touches them:
    meta    clock (latest time seen, epoch seconds), slots (next slot id), cursor (users sweep)
    users   user -> struct '<I4I4i4' and one I2 per dimension: first-seen, latest, minute mask,
            the value slot of each dimension
    counts  counters, absent when zero:
              a<second>:<slot>  users whose latest activity is that second: one number per field,
                                as a batch changes a few slots of many seconds
              A<minute>  the sums of the a-fields of that minute, one packed row (see decodeRow),
                         as a query reads every slot of a few minutes
              D<decade>  the same for the ten seconds from decade * 10, so that a query reads at
                         most 5 seconds field by field
              t          the sums of every live a-field (for the value cap), one packed row
              n<second>:<slot>, N<minute>, E<decade>  the same for new users, by first-seen second
              m<minute>  distinct users active in that minute (timeline)
    slots   v<d>|<value> -> slot, n<slot> -> <d>|<value>, d = 1..DIMENSIONS in DIMENSIONS order
  Slot 0 counts all users; slots 2d-1 and 2d are Unknown and Other of dimension d.
]]

-- The dimensions of src/protocol/dimensions.ts (at most 9: a dimension is one digit in names).
local DIMENSIONS = 7
local FIRST_NAMED_SLOT = 2 * DIMENSIONS + 1
local USER_RECORD = '<I4I4i4' .. string.rep('I2', DIMENSIONS)
-- Minutes whose timeline counts are kept: the 30 shown and room for late activity.
local TRACKED_MINUTES = 32
-- Arguments passed at once to one command: well under Lua's C stack limit for unpack().
local CHUNK = 4000

local floor = math.floor

local function hmget(key, fields)
  local values = {}
  for from = 1, #fields, CHUNK do
    local part = redis.call('HMGET', key, unpack(fields, from, math.min(from + CHUNK - 1, #fields)))
    for k = 1, #part do values[from + k - 1] = part[k] end
  end
  return values
end

local function hset(key, pairsList)
  for from = 1, #pairsList, CHUNK do
    redis.call('HSET', key, unpack(pairsList, from, math.min(from + CHUNK - 1, #pairsList)))
  end
end

local function hdel(key, fields)
  for from = 1, #fields, CHUNK do
    redis.call('HDEL', key, unpack(fields, from, math.min(from + CHUNK - 1, #fields)))
  end
end

-- A packed counter row is little-endian (uint16 slot, int32 count) pairs, so that reading a row of
-- any width is one field and one struct call, not one field per slot.
local rowFormats = {}
local function rowFormat(pairCount)
  local format = rowFormats[pairCount]
  if format == nil then
    format = '<' .. string.rep('Hi4', pairCount)
    rowFormats[pairCount] = format
  end
  return format
end

-- slot -> count of a packed row (`text` false or nil for an empty row).
local function decodeRow(text)
  local row = {}
  if text and #text > 0 then
    local pairCount = #text / 6
    local values = { struct.unpack(rowFormat(pairCount), text) }
    for k = 1, 2 * pairCount, 2 do row[values[k]] = values[k + 1] end
  end
  return row
end

-- The packed form of slot -> count, zero counts left out; nil when nothing is left.
local function encodeRow(row)
  local values = {}
  for slot, count in pairs(row) do
    if count ~= 0 then
      values[#values + 1] = slot
      values[#values + 1] = count
    end
  end
  if #values == 0 then return nil end
  return struct.pack(rowFormat(#values / 2), unpack(values))
end

-- Adds each delta of `pending` (field -> delta) to its counter; counters reaching zero are removed.
local function addToCounters(countsKey, pending)
  local fields, deltas = {}, {}
  for field, delta in pairs(pending) do
    if delta ~= 0 then
      fields[#fields + 1] = field
      deltas[#deltas + 1] = delta
    end
  end
  if #fields == 0 then return end
  local current = hmget(countsKey, fields)
  local sets, dels = {}, {}
  for k = 1, #fields do
    local value = (tonumber(current[k]) or 0) + deltas[k]
    if value == 0 then
      dels[#dels + 1] = fields[k]
    else
      sets[#sets + 1] = fields[k]
      sets[#sets + 1] = value
    end
  end
  hset(countsKey, sets)
  hdel(countsKey, dels)
end

-- Adds `deltas` (field -> slot -> delta) to the packed rows of the counts hash; empty rows go.
local function addToRows(countsKey, deltas)
  local fields = {}
  for field in pairs(deltas) do fields[#fields + 1] = field end
  if #fields == 0 then return end
  local texts = hmget(countsKey, fields)
  local sets, dels = {}, {}
  for k = 1, #fields do
    local row = decodeRow(texts[k])
    for slot, delta in pairs(deltas[fields[k]]) do row[slot] = (row[slot] or 0) + delta end
    local text = encodeRow(row)
    if text then
      sets[#sets + 1] = fields[k]
      sets[#sets + 1] = text
    else
      dels[#dels + 1] = fields[k]
    end
  end
  hset(countsKey, sets)
  hdel(countsKey, dels)
end

-- Adds `row` (slot -> count) times `sign` into deltas[field].
local function addRowInto(deltas, field, row, sign)
  local target = deltas[field]
  if target == nil then
    target = {}
    deltas[field] = target
  end
  for slot, count in pairs(row) do target[slot] = (target[slot] or 0) + sign * count end
end

--[[
  Moves the account clock to `at` (never backwards) and expires the seconds that leave the horizon
  (the twin of WindowCounters.advance). Returns the clock and the next slot id.
]]
local function advanceClock(metaKey, countsKey, at, horizon)
  local meta = redis.call('HMGET', metaKey, 'clock', 'slots')
  local clock = tonumber(meta[1]) or 0
  local slotCount = tonumber(meta[2]) or FIRST_NAMED_SLOT
  if at <= clock then return clock, slotCount end
  if at - clock >= horizon then
    -- Every live second expires, and every timeline minute still tracked is older than those shown.
    redis.call('UNLINK', countsKey)
  else
    -- Only slots with live users can have counts, and only seconds with a user (slot 0) need reading.
    local liveSlots = {}
    for slot in pairs(decodeRow(redis.call('HGET', countsKey, 't'))) do liveSlots[#liveSlots + 1] = slot end
    local seconds, probes = {}, {}
    for second = clock + 1 - horizon, at - horizon do
      seconds[#seconds + 1] = second
      probes[#probes + 1] = 'a' .. second .. ':0'
      probes[#probes + 1] = 'n' .. second .. ':0'
    end
    local present = hmget(countsKey, probes)
    local deltas, gone = {}, {}
    for k = 1, #seconds do
      if present[2 * k - 1] or present[2 * k] then
        local second = seconds[k]
        local minute = floor(second / 60)
        local fields = {}
        for j = 1, #liveSlots do
          fields[j] = 'a' .. second .. ':' .. liveSlots[j]
          fields[#liveSlots + j] = 'n' .. second .. ':' .. liveSlots[j]
        end
        local values = hmget(countsKey, fields)
        local users, newcomers = {}, {}
        for j = 1, #liveSlots do
          users[liveSlots[j]] = tonumber(values[j])
          newcomers[liveSlots[j]] = tonumber(values[#liveSlots + j])
          if values[j] then gone[#gone + 1] = fields[j] end
          if values[#liveSlots + j] then gone[#gone + 1] = fields[#liveSlots + j] end
        end
        local decade = floor(second / 10)
        addRowInto(deltas, 'A' .. minute, users, -1)
        addRowInto(deltas, 'D' .. decade, users, -1)
        addRowInto(deltas, 't', users, -1)
        addRowInto(deltas, 'N' .. minute, newcomers, -1)
        addRowInto(deltas, 'E' .. decade, newcomers, -1)
      end
    end
    for minute = floor(clock / 60) - TRACKED_MINUTES + 1, floor(at / 60) - TRACKED_MINUTES do
      gone[#gone + 1] = 'm' .. minute
    end
    hdel(countsKey, gone)
    addToRows(countsKey, deltas)
  end
  redis.call('HSET', metaKey, 'clock', at)
  return at, slotCount
end

-- Gives every key of the live state the same deadline, so they expire together when idle.
local function extendLife(keys, lifeSeconds)
  for k = 1, #keys do redis.call('EXPIRE', keys[k], lifeSeconds) end
end
