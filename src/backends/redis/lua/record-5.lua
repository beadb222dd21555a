--[[
  Records one batch of activities of one account, whole or not at all: the twin of
  ActiveUsersEngine.record, with the same rules (see includes/account-state.lua for the keys).

  KEYS[1] meta, KEYS[2] users, KEYS[3] first (user -> first-ever activity, kept for the account's
          life), KEYS[4] counts, KEYS[5] slots
  ARGV[1] at: receive time, epoch seconds
  ARGV[2] horizon seconds; ARGV[3] distinct values per dimension before Other
  ARGV[4] users the sweep of expired users looks at, besides two per user the batch adds
  ARGV[5] seconds the live state outlives the account's last call
  ARGV[6..] 2 + DIMENSIONS per activity: user, ts, then each dimension's value in DIMENSIONS order
           ('' when absent)
  Returns the account clock.
]]

--- @include "includes/account-state"

local metaKey, usersKey, firstKey, countsKey, slotsKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local horizon = tonumber(ARGV[2])
local cap = tonumber(ARGV[3])
local sweepBudget = tonumber(ARGV[4])
-- Sweeping twice as many users as are added keeps the users hash within twice the live users.
local SWEEP_PER_ADDED_USER = 2
local FIELDS = 2 + DIMENSIONS
local FIRST_ACTIVITY = 6
local activities = (#ARGV - FIRST_ACTIVITY + 1) / FIELDS

local clock, slotCount = advanceClock(metaKey, countsKey, tonumber(ARGV[1]), horizon)
local liveAfter = clock - horizon
local nowMinute = floor(clock / 60)

-- Users of the batch: their record if they have one, else their first-seen time if any.
local state, firstOf, firstChanged = {}, {}, {}
do
  local ids, listed = {}, {}
  for i = 0, activities - 1 do
    local user = ARGV[FIRST_ACTIVITY + FIELDS * i]
    if not listed[user] then
      listed[user] = true
      ids[#ids + 1] = user
    end
  end
  local records = hmget(usersKey, ids)
  local absent = {}
  for k = 1, #ids do
    local record = records[k]
    if record then
      local fields = { struct.unpack(USER_RECORD, record) }
      local st = { f = fields[1], l = fields[2], m = fields[3] }
      for d = 1, DIMENSIONS do st[d] = fields[3 + d] end
      state[ids[k]] = st
    else
      absent[#absent + 1] = ids[k]
    end
  end
  local firsts = hmget(firstKey, absent)
  for k = 1, #absent do firstOf[absent[k]] = tonumber(firsts[k]) end
end

-- The first-seen registry: the earliest time ever seen of a user.
local function observe(user, ts)
  local first = firstOf[user]
  if first == nil or ts < first then
    firstOf[user] = ts
    firstChanged[user] = true
    return ts
  end
  return first
end

-- Counter deltas of this batch: second -> slot -> delta, and live totals per slot.
local activeRows, newcomerRows, totalDeltas, timelineDeltas = {}, {}, {}, {}
local totals = decodeRow(redis.call('HGET', countsKey, 't'))
local added = 0

local function liveUsers(slot)
  return (totals[slot] or 0) + (totalDeltas[slot] or 0)
end

-- Adds `delta` at `second` to slot 0 and to each of `slots` (slots[d] for dimension d).
local function addUser(rows, second, slots, delta, live)
  local row = rows[second]
  if row == nil then
    row = {}
    rows[second] = row
  end
  row[0] = (row[0] or 0) + delta
  for d = 1, DIMENSIONS do
    local slot = slots[d]
    row[slot] = (row[slot] or 0) + delta
  end
  if live then
    totalDeltas[0] = (totalDeltas[0] or 0) + delta
    for d = 1, DIMENSIONS do
      local slot = slots[d]
      totalDeltas[slot] = (totalDeltas[slot] or 0) + delta
    end
  end
end

-- Value slots with the distinct-value cap (the twin of DimensionSlots.resolve).
local slotOfValue = {}
for d = 1, DIMENSIONS do slotOfValue[d] = {} end
local namedSlots, nameOfSlot

local function loadNamedSlots()
  namedSlots, nameOfSlot = {}, {}
  for d = 1, DIMENSIONS do namedSlots[d] = {} end
  local fields = {}
  for slot = FIRST_NAMED_SLOT, slotCount - 1 do fields[#fields + 1] = 'n' .. slot end
  local names = hmget(slotsKey, fields)
  for k = 1, #fields do
    local name = names[k]
    if name then
      local slot = FIRST_NAMED_SLOT + k - 1
      local list = namedSlots[tonumber(string.sub(name, 1, 1))]
      list[#list + 1] = slot
      nameOfSlot[slot] = string.sub(name, 3)
    end
  end
end

local function nameSlot(d, slot, value)
  redis.call('HSET', slotsKey, 'v' .. d .. '|' .. value, slot, 'n' .. slot, d .. '|' .. value)
  slotOfValue[d][value] = slot
  nameOfSlot[slot] = value
end

local function resolve(d, value)
  if value == '' or value == 'Unknown' then return 2 * d - 1 end
  if value == 'Other' then return 2 * d end
  local known = slotOfValue[d][value]
  if known == nil then
    known = tonumber(redis.call('HGET', slotsKey, 'v' .. d .. '|' .. value)) or false
    slotOfValue[d][value] = known
  end
  if known and liveUsers(known) > 0 then return known end
  if namedSlots == nil then loadNamedSlots() end
  local named = namedSlots[d]
  local live, reusable = 0, nil
  for k = 1, #named do
    if liveUsers(named[k]) > 0 then
      live = live + 1
    elseif reusable == nil then
      reusable = named[k]
    end
  end
  if live >= cap then return 2 * d end
  if known then return known end
  if #named < cap then
    local slot = slotCount
    slotCount = slotCount + 1
    redis.call('HSET', metaKey, 'slots', slotCount)
    named[#named + 1] = slot
    nameSlot(d, slot, value)
    return slot
  end
  -- At the cap with a new value: it takes over a slot no live user holds (all its counts are 0).
  local old = nameOfSlot[reusable]
  redis.call('HDEL', slotsKey, 'v' .. d .. '|' .. old)
  slotOfValue[d][old] = false
  nameSlot(d, reusable, value)
  return reusable
end

-- Notes an activity in `minute` in the user's minute mask (the twin of MinuteTimeline.record).
local function countMinute(minute)
  if minute > nowMinute - TRACKED_MINUTES then timelineDeltas[minute] = (timelineDeltas[minute] or 0) + 1 end
end

local function markMinute(mask, latestMinute, minute)
  if minute >= latestMinute then
    local shift = minute - latestMinute
    local shifted = 0
    if shift < 32 then shifted = bit.lshift(mask, shift) end
    if bit.band(shifted, 1) == 0 then countMinute(minute) end
    return bit.bor(shifted, 1)
  end
  local distance = latestMinute - minute
  if distance >= 32 or bit.band(mask, bit.lshift(1, distance)) ~= 0 then return mask end
  countMinute(minute)
  return bit.bor(mask, bit.lshift(1, distance))
end

-- The slots of the values of the activity whose arguments start at ARGV[arg].
local function resolveAll(arg)
  local slots = {}
  for d = 1, DIMENSIONS do slots[d] = resolve(d, ARGV[arg + 1 + d]) end
  return slots
end

-- Starts the live state of a user with no activity in the horizon (its first-seen is set), from
-- the activity whose arguments start at ARGV[arg].
local function enter(user, arg, ts)
  local r = resolveAll(arg)
  local minute = floor(ts / 60)
  local st = state[user]
  st.l, st.m, st.dirty = ts, markMinute(0, minute, minute), true
  for d = 1, DIMENSIONS do st[d] = r[d] end
  addUser(activeRows, ts, r, 1, true)
  if st.f > liveAfter then addUser(newcomerRows, st.f, r, 1, false) end
end

for i = 0, activities - 1 do
  local arg = FIRST_ACTIVITY + FIELDS * i
  local user = ARGV[arg]
  local ts = tonumber(ARGV[arg + 1])
  if ts > clock then ts = clock end
  local st = state[user]
  if st == nil then
    local first = observe(user, ts)
    if ts > liveAfter then
      state[user] = { f = first }
      added = added + 1
      enter(user, arg, ts)
    end
  elseif st.l <= liveAfter then
    -- Expired but not swept yet: its first-seen is still right, the rest starts over.
    if ts < st.f then
      st.f, st.dirty = observe(user, ts), true
    end
    if ts > liveAfter then enter(user, arg, ts) end
  else
    local o = {}
    for d = 1, DIMENSIONS do o[d] = st[d] end
    if ts < st.f then
      observe(user, ts)
      if st.f > liveAfter then addUser(newcomerRows, st.f, o, -1, false) end
      if ts > liveAfter then addUser(newcomerRows, ts, o, 1, false) end
      st.f, st.dirty = ts, true
    end
    if ts > liveAfter then
      local mask = markMinute(st.m, floor(st.l / 60), floor(ts / 60))
      if mask ~= st.m then
        st.m, st.dirty = mask, true
      end
      if ts >= st.l then
        local r = resolveAll(arg)
        local same = true
        for d = 1, DIMENSIONS do
          if r[d] ~= o[d] then same = false end
        end
        if ts > st.l or not same then
          -- Live totals change only with the values: a move in time keeps them.
          addUser(activeRows, st.l, o, -1, not same)
          addUser(activeRows, ts, r, 1, not same)
          if not same and st.f > liveAfter then
            addUser(newcomerRows, st.f, o, -1, false)
            addUser(newcomerRows, st.f, r, 1, false)
          end
          st.l, st.dirty = ts, true
          for d = 1, DIMENSIONS do st[d] = r[d] end
        end
      end
    end
  end
end

-- Write back: user records, first-seen times, then counters.
do
  local records = {}
  for user, st in pairs(state) do
    if st.dirty then
      records[#records + 1] = user
      records[#records + 1] = struct.pack(USER_RECORD, st.f, st.l, st.m, unpack(st, 1, DIMENSIONS))
    end
  end
  hset(usersKey, records)
  local firsts = {}
  for user in pairs(firstChanged) do
    firsts[#firsts + 1] = user
    firsts[#firsts + 1] = firstOf[user]
  end
  hset(firstKey, firsts)

  local pending, deltas = {}, {}
  -- Numbers are formatted once each: Lua 5.1 is slow at turning numbers into strings.
  local slotText = setmetatable({}, {
    __index = function(texts, slot)
      local text = tostring(slot)
      texts[slot] = text
      return text
    end,
  })
  local function addRows(rows, secondPrefix, minutePrefix, decadePrefix)
    for second, row in pairs(rows) do
      local prefix = secondPrefix .. second .. ':'
      for slot, delta in pairs(row) do
        if delta ~= 0 then pending[prefix .. slotText[slot]] = delta end
      end
      addRowInto(deltas, minutePrefix .. floor(second / 60), row, 1)
      addRowInto(deltas, decadePrefix .. floor(second / 10), row, 1)
    end
  end
  addRows(activeRows, 'a', 'A', 'D')
  addRows(newcomerRows, 'n', 'N', 'E')
  deltas.t = totalDeltas
  addToCounters(countsKey, pending)
  addToRows(countsKey, deltas)
  for minute, users in pairs(timelineDeltas) do redis.call('HINCRBY', countsKey, 'm' .. minute, users) end
end

-- Forget some users that left the horizon (their first-seen stays in `first`).
do
  local cursor = redis.call('HGET', metaKey, 'cursor') or '0'
  local scan = redis.call('HSCAN', usersKey, cursor, 'COUNT', sweepBudget + SWEEP_PER_ADDED_USER * added)
  local expired = {}
  local entries = scan[2]
  for k = 1, #entries, 2 do
    local _, latest = struct.unpack('<I4I4', entries[k + 1])
    if latest <= liveAfter then expired[#expired + 1] = entries[k] end
  end
  hdel(usersKey, expired)
  redis.call('HSET', metaKey, 'cursor', scan[1])
end

extendLife({ metaKey, usersKey, countsKey, slotsKey }, tonumber(ARGV[5]))
return clock
