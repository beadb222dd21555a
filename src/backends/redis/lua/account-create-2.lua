--[[
  Creates an account unless its id is taken.
  KEYS[1] the set of account ids, KEYS[2] the account's hash
  ARGV[1] the account id, then field, value pairs of the account's hash
  Returns 1 when created, 0 when the id is taken.
]]
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
redis.call('HSET', KEYS[2], unpack(ARGV, 2))
redis.call('SADD', KEYS[1], ARGV[1])
return 1
