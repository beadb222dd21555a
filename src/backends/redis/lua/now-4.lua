--[[
  Answers /1/now.json for one account: the twin of ActiveUsersEngine.query. Moves the account
  clock to `at` like a record does, so both backends read later activity the same way.

  KEYS[1] meta, KEYS[2] users, KEYS[3] counts, KEYS[4] slots (see includes/account-state.lua)
  ARGV[1] at: epoch seconds; ARGV[2] horizon seconds; ARGV[3] seconds the live state outlives
          the account's last call; ARGV[4] window seconds (1..horizon)
  ARGV[5] '1' to count new users; ARGV[6] '1' for the timeline
  ARGV[7] dimensions to split by, as digits 1..DIMENSIONS in DIMENSIONS order ('' for none)
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

local asked = {}
for k = 1, #ARGV[7] do asked[tonumber(string.sub(ARGV[7], k, k))] = true end

-- Sums per slot over (clock - window, clock] (the twin of WindowCounters.sumWindow, with one more
-- level): whole minutes from their packed rows, then the whole ten-second decades of the first
-- minute, then the partial first decade from whichever reads fewer seconds. Seconds are read for
-- the slots of their decade's row, the only ones they can hold.
local function sumWindow(secondPrefix, minutePrefix, decadePrefix)
  local first = clock - window + 1
  local firstMinute = floor(first / 60)
  local firstDecade = floor(first / 10)
  local fields = { decadePrefix .. firstDecade }
  for minute = firstMinute + 1, floor(clock / 60) do fields[#fields + 1] = minutePrefix .. minute end
  for decade = firstDecade + 1, math.min(firstMinute * 6 + 5, floor(clock / 10)) do
    fields[#fields + 1] = decadePrefix .. decade
  end
  local texts = hmget(countsKey, fields)
  local sums = { sum = {} }
  for k = 2, #fields do
    if texts[k] then addRowInto(sums, 'sum', decodeRow(texts[k]), 1) end
  end
  local decadeRow = decodeRow(texts[1])
  local decadeStart = firstDecade * 10
  local decadeEnd = math.min(decadeStart + 9, clock)
  local liveStart = math.max(decadeStart, clock - horizon + 1)
  local from, to, sign = first, decadeEnd, 1
  if decadeEnd - first + 1 > first - liveStart then
    addRowInto(sums, 'sum', decadeRow, 1)
    from, to, sign = liveStart, first - 1, -1
  end
  local slots = {}
  for slot in pairs(decadeRow) do slots[#slots + 1] = slot end
  local secondFields = {}
  for second = from, to do
    local prefix = secondPrefix .. second .. ':'
    for k = 1, #slots do secondFields[#secondFields + 1] = prefix .. slots[k] end
  end
  local values = hmget(countsKey, secondFields)
  local seconds = {}
  for k = 1, #secondFields do
    local users = tonumber(values[k])
    if users then
      local slot = slots[(k - 1) % #slots + 1]
      seconds[slot] = (seconds[slot] or 0) + users
    end
  end
  addRowInto(sums, 'sum', seconds, sign)
  return sums.sum
end

local active = sumWindow('a', 'A', 'D')
local newcomers = wantNew and sumWindow('n', 'N', 'E') or {}

local timeline = {}
if wantTimeline then
  local last = floor(clock / 60)
  local fields = {}
  for minute = last - TIMELINE_MINUTES + 1, last do fields[#fields + 1] = 'm' .. minute end
  local counts = hmget(countsKey, fields)
  for k = 1, #fields do timeline[k] = tonumber(counts[k]) or 0 end
end

-- Every value of the asked dimensions with a user: Unknown and Other, then named slots by name.
local rows = {}
local function addValue(slot, d, name)
  local users, fresh = active[slot] or 0, newcomers[slot] or 0
  if users > 0 or fresh > 0 then
    rows[#rows + 1] = d
    rows[#rows + 1] = name
    rows[#rows + 1] = users
    rows[#rows + 1] = fresh
  end
end
for d = 1, DIMENSIONS do
  if asked[d] then
    addValue(2 * d - 1, d, 'Unknown')
    addValue(2 * d, d, 'Other')
  end
end
if next(asked) then
  local named, fields = {}, {}
  for slot, users in pairs(active) do
    if slot >= FIRST_NAMED_SLOT and users > 0 then named[slot] = true end
  end
  for slot, users in pairs(newcomers) do
    if slot >= FIRST_NAMED_SLOT and users > 0 then named[slot] = true end
  end
  local slots = {}
  for slot in pairs(named) do
    slots[#slots + 1] = slot
    fields[#fields + 1] = 'n' .. slot
  end
  local names = hmget(slotsKey, fields)
  for k = 1, #slots do
    local d = tonumber(string.sub(names[k], 1, 1))
    if asked[d] then addValue(slots[k], d, string.sub(names[k], 3)) end
  end
end

extendLife({ metaKey, usersKey, countsKey, slotsKey }, tonumber(ARGV[3]))
return { clock, active[0] or 0, wantNew and (newcomers[0] or 0) or -1, timeline, rows }
