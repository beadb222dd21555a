--[[
  Deletes an account and its passcodes.
  KEYS[1] the set of account ids, KEYS[2] the account's hash
  ARGV[1] the account id
  Returns 1 when deleted, 0 when there was no such account.
]]
redis.call('SREM', KEYS[1], ARGV[1])
return redis.call('DEL', KEYS[2])
