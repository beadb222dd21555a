--[[
  Shared by the scripts of one account's live state (included at load time).

  The live state mirrors ActiveUsersEngine (src/engine/) in four hashes of one account, all under
  the account's hash tag and all given one expiry deadline by every script that touches them:
    meta    clock (latest time seen, epoch seconds), slots (next slot id), cursor (users sweep)
    users   user -> struct '<I4I4i4I2I2I2I2': first-seen, latest, minute mask, four value slots
    counts  counter fields, absent when zero:
              a<second>:<slot>  users whose latest activity is that second
              A<minute>:<slot>  the sum of the a-fields of that minute
              t<slot>           the sum of every live a-field of the slot (for the value cap)
              n<second>:<slot>, N<minute>:<slot>  the same for new users, by first-seen second
              m<minute>         distinct users active in that minute (timeline)
    slots   v<d>|<value> -> slot, n<slot> -> <d>|<value>, d = 1..4 in DIMENSIONS order
  Slot 0 counts all users; slots 2d-1 and 2d are Unknown and Other of dimension d.
]]

local FIRST_NAMED_SLOT = 9
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

-- Adds each delta of `pending` (field -> delta) to its counter; counters reaching zero are removed.
local function applyCounterDeltas(countsKey, pending)
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

-- Takes the rows of `second` out of the live counters (the twin of WindowCounters.expire).
local function expireSecond(countsKey, second, liveSlots, pending)
  local minute = floor(second / 60)
  local fields = {}
  for k = 1, #liveSlots do
    fields[k] = 'a' .. second .. ':' .. liveSlots[k]
    fields[#liveSlots + k] = 'n' .. second .. ':' .. liveSlots[k]
  end
  local values = hmget(countsKey, fields)
  for k = 1, #liveSlots do
    local slot = liveSlots[k]
    local users = tonumber(values[k])
    if users then
      pending[fields[k]] = -users
      local minuteField = 'A' .. minute .. ':' .. slot
      pending[minuteField] = (pending[minuteField] or 0) - users
      pending['t' .. slot] = (pending['t' .. slot] or 0) - users
    end
    local newcomers = tonumber(values[#liveSlots + k])
    if newcomers then
      pending[fields[#liveSlots + k]] = -newcomers
      local minuteField = 'N' .. minute .. ':' .. slot
      pending[minuteField] = (pending[minuteField] or 0) - newcomers
    end
  end
end

--[[
  Moves the account clock to `at` (never backwards) and expires what leaves the horizon.
  Returns the clock and the next slot id.
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
    -- Only slots with live users have rows; only seconds with a user (slot 0) need reading.
    local totalFields = {}
    for slot = 0, slotCount - 1 do totalFields[slot + 1] = 't' .. slot end
    local totals = hmget(countsKey, totalFields)
    local liveSlots = {}
    for slot = 0, slotCount - 1 do
      if tonumber(totals[slot + 1]) then liveSlots[#liveSlots + 1] = slot end
    end
    local pending = {}
    if #liveSlots > 0 then
      local seconds, probes = {}, {}
      for second = clock + 1 - horizon, at - horizon do
        seconds[#seconds + 1] = second
        probes[#probes + 1] = 'a' .. second .. ':0'
        probes[#probes + 1] = 'n' .. second .. ':0'
      end
      local present = hmget(countsKey, probes)
      for k = 1, #seconds do
        if present[2 * k - 1] or present[2 * k] then expireSecond(countsKey, seconds[k], liveSlots, pending) end
      end
    end
    applyCounterDeltas(countsKey, pending)
    local gone = {}
    for minute = floor(clock / 60) - TRACKED_MINUTES + 1, floor(at / 60) - TRACKED_MINUTES do
      gone[#gone + 1] = 'm' .. minute
    end
    hdel(countsKey, gone)
  end
  redis.call('HSET', metaKey, 'clock', at)
  return at, slotCount
end

-- Gives every key of the live state the same deadline, so they expire together when idle.
local function extendLife(keys, lifeSeconds)
  for k = 1, #keys do redis.call('EXPIRE', keys[k], lifeSeconds) end
end
