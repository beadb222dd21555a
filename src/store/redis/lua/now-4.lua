--[[
  Answers /1/now.json for one account: the twin of ActiveUsersEngine.query. Moves the account
  clock to `at` like a record does, so both backends read later activity the same way.

  KEYS[1] meta, KEYS[2] users, KEYS[3] counts, KEYS[4] slots (see includes/account-state.lua)
  ARGV[1] at: epoch seconds; ARGV[2] horizon seconds; ARGV[3] seconds the live state outlives
          the account's last call; ARGV[4] window seconds (1..horizon)
  ARGV[5] '1' to count new users; ARGV[6] '1' for the timeline
  ARGV[7] dimensions to split by, as digits 1-4 in DIMENSIONS order ('' for none)
  Returns { account clock, count, new users (-1 when not asked), timeline: 30 counts oldest first (empty when
  not asked), rows: flat list of dimension, value, active users, new users for every value of the
  asked dimensions with a user }
]]

--- @include "includes/account-state"

local metaKey, usersKey, countsKey, slotsKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local horizon = tonumber(ARGV[2])
local window = tonumber(ARGV[4])
local wantNew = ARGV[5] == '1'
local wantTimeline = ARGV[6] == '1'
local TIMELINE_MINUTES = 30

local clock, slotCount = advanceClock(metaKey, countsKey, tonumber(ARGV[1]), horizon)

-- The slots to read: all users, and every value of the asked dimensions.
local slots, dimensionOf, nameOf = { 0 }, {}, {}
do
  local asked = {}
  for k = 1, #ARGV[7] do
    local d = tonumber(string.sub(ARGV[7], k, k))
    asked[d] = true
    slots[#slots + 1] = 2 * d - 1
    dimensionOf[2 * d - 1], nameOf[2 * d - 1] = d, 'Unknown'
    slots[#slots + 1] = 2 * d
    dimensionOf[2 * d], nameOf[2 * d] = d, 'Other'
  end
  if #ARGV[7] > 0 then
    local fields = {}
    for slot = FIRST_NAMED_SLOT, slotCount - 1 do fields[#fields + 1] = 'n' .. slot end
    local names = hmget(slotsKey, fields)
    for k = 1, #fields do
      local name = names[k]
      local d = name and tonumber(string.sub(name, 1, 1))
      if d and asked[d] then
        local slot = FIRST_NAMED_SLOT + k - 1
        slots[#slots + 1] = slot
        dimensionOf[slot], nameOf[slot] = d, string.sub(name, 3)
      end
    end
  end
end

-- Sums per slot over (clock - window, clock] (the twin of WindowCounters.sumWindow): whole minutes
-- from their minute rows, and the partial first minute from whichever reads fewer second rows.
local function sumWindow(secondPrefix, minutePrefix)
  local fields, signs = {}, {}
  local function addRow(prefix, at, sign)
    for k = 1, #slots do
      fields[#fields + 1] = prefix .. at .. ':' .. slots[k]
      signs[#signs + 1] = sign
    end
  end
  local first = clock - window + 1
  local firstMinute = floor(first / 60)
  for minute = firstMinute + 1, floor(clock / 60) do addRow(minutePrefix, minute, 1) end
  local minuteStart = firstMinute * 60
  local minuteEnd = math.min(minuteStart + 59, clock)
  local liveStart = math.max(minuteStart, clock - horizon + 1)
  if minuteEnd - first + 1 <= first - liveStart then
    for second = first, minuteEnd do addRow(secondPrefix, second, 1) end
  else
    addRow(minutePrefix, firstMinute, 1)
    for second = liveStart, first - 1 do addRow(secondPrefix, second, -1) end
  end
  local values = hmget(countsKey, fields)
  local sums = {}
  for k = 1, #slots do sums[slots[k]] = 0 end
  for k = 1, #fields do
    local value = tonumber(values[k])
    if value then
      local slot = slots[(k - 1) % #slots + 1]
      sums[slot] = sums[slot] + signs[k] * value
    end
  end
  return sums
end

local active = sumWindow('a', 'A')
local newcomers = wantNew and sumWindow('n', 'N') or nil

local timeline = {}
if wantTimeline then
  local last = floor(clock / 60)
  local fields = {}
  for minute = last - TIMELINE_MINUTES + 1, last do fields[#fields + 1] = 'm' .. minute end
  local counts = hmget(countsKey, fields)
  for k = 1, #fields do timeline[k] = tonumber(counts[k]) or 0 end
end

local rows = {}
for k = 2, #slots do
  local slot = slots[k]
  local fresh = newcomers and newcomers[slot] or 0
  if active[slot] > 0 or fresh > 0 then
    rows[#rows + 1] = dimensionOf[slot]
    rows[#rows + 1] = nameOf[slot]
    rows[#rows + 1] = active[slot]
    rows[#rows + 1] = fresh
  end
end

extendLife({ metaKey, usersKey, countsKey, slotsKey }, tonumber(ARGV[3]))
return { clock, active[0], newcomers and newcomers[0] or -1, timeline, rows }
