-- GCRA token bucket: core/src/bucket.rs's rules, one decision per call.
-- The core keeps the theoretical arrival time `tat` in sub-ticks (now x
-- tokens, u128). Lua has doubles, so the state is kept relative instead:
-- `t` (the tick of the last write) and `d` = tat - t x tokens (the debt then,
-- in sub-ticks). The debt now is d - (now - t) x tokens; every figure that
-- decides stays below 2^53 when burst x period < 2^51 (store/README.md).
-- ops: take n -> {code, value, available}: code 0 granted, 1 denied (value =
--      ticks to wait), 2 more than the burst (value = burst);
--      grab n -> {k, 0, available}: k (1..n) tokens taken, as many as there are,
--      or {0, ticks to wait for one, available};
--      refund n -> {available}; available -> {available}
local s, cfg = fw_load({ 'burst', 'tokens', 'period' })
if not s then return redis.error_reply(cfg) end
local now = fw_now()
local burst, tok, period = cfg.burst, cfg.tokens, cfg.period
local cap = burst * period

-- ceil(x / tokens): Rate::ticks_for
local function ticks_for(x)
  local q = fw_div(x, tok)
  if q * tok < x then q = q + 1 end
  return q
end

-- tat - now x tokens (negative: the bucket has been idle, full)
local function debt_now()
  if s.t == nil then return 0 end
  return fw_num(s, 'd') - (now - fw_num(s, 't')) * tok
end

local function available(debt)
  if debt < 0 then debt = 0 end
  if debt > cap then debt = cap end
  return fw_div(cap - debt, period)
end

local function keep(debt)
  s.t = now
  s.d = debt
  fw_save(s)
end

local function take(n)
  local debt = debt_now()
  if n == 0 then return { 0, 0, available(debt) } end
  if n > burst then return { 2, burst, available(debt) } end
  local base = debt
  if debt >= 0 then
    local room = (burst - n) * period
    if debt > room then
      local over = debt - room
      if over > (burst + n) * period then
        -- the clock went back further than any wait given: re-anchor
        keep(cap)
        return { 1, ticks_for(n * period), available(cap) }
      end
      return { 1, ticks_for(over), available(debt) }
    end
  else
    base = 0
  end
  keep(base + n * period)
  return { 0, 0, available(base + n * period) }
end

if fw_op == 'take' then
  return take(tonumber(ARGV[5]))
elseif fw_op == 'grab' then
  -- lease mode: up to n tokens at once, as many as there are (at least
  -- one, else the wait for one) -> {granted count or 0, wait, available}
  local want = math.min(tonumber(ARGV[5]), burst)
  local k = math.min(want, available(debt_now()))
  if k == 0 then
    local r = take(1)
    return { 0, r[2], r[3] }
  end
  local r = take(k)
  r[1], r[2] = k, 0
  return r
elseif fw_op == 'refund' then
  local n = tonumber(ARGV[5])
  local debt = debt_now()
  if debt > 0 then
    if debt > 2 * cap then debt = cap end
    debt = debt - n * period
    if debt < 0 then debt = 0 end
    keep(debt)
  end
  return { available(debt) }
elseif fw_op == 'available' then
  return { available(debt_now()) }
end
return redis.error_reply('FUSEWIRE_OP ' .. fw_op)
