-- fusewire fleet tier: the prelude every script starts with (store/src/redis.rs
-- puts it in front of each script). Calling convention of every script:
--   KEYS[1]  the policy's state key (a hash), under the user's prefix
--   ARGV[1]  the config fingerprint: "kind|v1|v2|..." in the order of
--            fusewire_store::config::fields(kind), durations in ticks
--   ARGV[2]  now in ticks, or "" for the server's clock (TIME, microseconds)
--   ARGV[3]  idle TTL in milliseconds (the key expires when no one uses it)
--   ARGV[4]  the operation; ARGV[5..] its arguments
-- Numbers are Lua doubles: exact below 2^53 (see store/README.md, "Fleet tier").

local function fw_split(s)
  local out, i = {}, 1
  while true do
    local j = string.find(s, '|', i, true)
    if not j then out[#out + 1] = string.sub(s, i); return out end
    out[#out + 1] = string.sub(s, i, j - 1)
    i = j + 1
  end
end

local fw_key, fw_fp, fw_ttl, fw_op = KEYS[1], ARGV[1], tonumber(ARGV[3]), ARGV[4]

local function fw_now()
  if ARGV[2] ~= '' then return tonumber(ARGV[2]) end
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000000 + tonumber(t[2])
end

-- floor(a / b) for integers below 2^53 (a double division can round up).
local function fw_div(a, b)
  local q = math.floor(a / b)
  local r = a - q * b
  if r < 0 then q = q - 1 elseif r >= b then q = q + 1 end
  return q
end

-- The state hash as a table, or a config error naming the first field that
-- differs from what the key was made with. `names` are the config's fields.
local fw_orig = {}
local function fw_load(names)
  local flat = redis.call('HGETALL', fw_key)
  local s = {}
  for i = 1, #flat, 2 do s[flat[i]] = flat[i + 1]; fw_orig[flat[i]] = flat[i + 1] end
  local given = fw_split(fw_fp)
  if s.cfg and s.cfg ~= fw_fp then
    local had = fw_split(s.cfg)
    if had[1] ~= given[1] then
      return nil, 'FUSEWIRE_CONFIG kind ' .. had[1] .. ' ' .. given[1]
    end
    for i, n in ipairs(names) do
      if had[i + 1] ~= given[i + 1] then
        return nil, 'FUSEWIRE_CONFIG ' .. n .. ' ' .. tostring(had[i + 1]) .. ' ' .. tostring(given[i + 1])
      end
    end
  end
  if not s.cfg then
    -- the first process to use the key writes the config beside the state
    redis.call('HSET', fw_key, 'cfg', fw_fp)
    redis.call('PEXPIRE', fw_key, fw_ttl)
  end
  local cfg = {}
  for i, n in ipairs(names) do
    local v = given[i + 1]
    cfg[n] = tonumber(v) or v
  end
  return s, cfg
end

-- Writes back the fields that changed (numbers as integers, no exponent)
-- and refreshes the TTL.
local function fw_save(s)
  local flat = {}
  for k, v in pairs(s) do
    if k ~= 'cfg' then
      local was = fw_orig[k]
      if type(v) == 'number' then
        if was == nil or tonumber(was) ~= v then
          flat[#flat + 1] = k
          flat[#flat + 1] = string.format('%.0f', v)
        end
      elseif was ~= v then
        flat[#flat + 1] = k
        flat[#flat + 1] = v
      end
    end
  end
  if #flat > 0 then redis.call('HSET', fw_key, unpack(flat)) end
  redis.call('PEXPIRE', fw_key, fw_ttl)
end

local function fw_num(s, k) return tonumber(s[k]) or 0 end
