--[[
  Sets fields of an existing account, never creating one.
  KEYS[1] the account's hash
  ARGV field, value pairs
  Returns the account's name and region, or nil when there is no such account.
]]
if redis.call('EXISTS', KEYS[1]) == 0 then return nil end
redis.call('HSET', KEYS[1], unpack(ARGV))
return redis.call('HMGET', KEYS[1], 'name', 'region')
