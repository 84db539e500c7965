-- Bulkhead with leases: core/src/bulkhead.rs's rules. Slots are counted per
-- epoch of half a lease (span = floor(lease / 2), at least 1; epoch =
-- floor(now / span)), two epochs kept: a slot whose holder never releases it
-- (a process killed mid-call) is reclaimed when its epoch is two behind, so
-- after more than half a lease and at most one. The core's
-- epochs, not a per-slot expiry: the state stays O(1) (a dozen integers in
-- one hash) however many processes hold slots, and the answers are the
-- core's, step for step (the conformance vectors check it).
-- Slot raw form as Slot::into_raw: priority in bits 0..2, epoch in 2..50.
-- ops: acquire p (0 critical, 1 normal, 2 sheddable) -> {slot or -1, state...}
--      release raw -> {0 released | 1 not held | 2 expired, state...}
--      expire -> {freed, state...}; state -> {0, state...}
-- state... = in_use, available, avail critical, normal, sheddable,
--            extra_releases, expired_releases, reclaimed
local s, cfg = fw_load({ 'limit', 'reserve_critical', 'reserve_normal', 'lease' })
if not s then return redis.error_reply(cfg) end
local now = fw_now()
local limit, lease = cfg.limit, cfg.lease
if lease == 'max' then lease = math.huge end -- slots never expire
-- the ticks of one epoch (core: span_of)
local span = lease == math.huge and lease or math.max(math.floor(lease / 2), 1)
local normal_limit = limit - cfg.reserve_critical
local thresholds = { [0] = limit, [1] = normal_limit, [2] = normal_limit - cfg.reserve_normal }
local EPOCH_MOD = 281474976710656 -- 2^48

local epoch = fw_num(s, 'epoch')
local epoch_last = s.epoch_last and tonumber(s.epoch_last) or span - 1
local in_use = fw_num(s, 'in_use')
local changed = false
local function held(parity, p) return fw_num(s, 'h' .. parity .. p) end
local function set_held(parity, p, v) s['h' .. parity .. p] = v end

local function expire()
  if now <= epoch_last then return 0 end
  local nxt = fw_div(now, span)
  local freed = 0
  for _, parity in ipairs({ nxt, nxt - 1 }) do
    if parity == nxt or nxt - epoch >= 2 then
      local par = parity % 2
      for p = 0, 2 do
        freed = freed + held(par, p)
        set_held(par, p, 0)
      end
    end
  end
  epoch = nxt
  epoch_last = (nxt + 1) * span - 1
  in_use = in_use - freed
  s.reclaimed = fw_num(s, 'reclaimed') + freed
  changed = true
  return freed
end

local function reply(first)
  if changed then
    s.epoch, s.epoch_last, s.in_use = epoch, epoch_last, in_use
    fw_save(s)
  end
  local function avail(t) return math.max(t - in_use, 0) end
  return { first, in_use, avail(limit), avail(thresholds[0]), avail(thresholds[1]), avail(thresholds[2]),
    fw_num(s, 'extra'), fw_num(s, 'expired'), fw_num(s, 'reclaimed') }
end

if fw_op == 'acquire' then
  local p = tonumber(ARGV[5])
  expire()
  if in_use < thresholds[p] then
    in_use = in_use + 1
    local par = epoch % 2
    set_held(par, p, held(par, p) + 1)
    changed = true
    return reply((epoch % EPOCH_MOD) * 4 + p)
  end
  return reply(-1)
elseif fw_op == 'release' then
  local raw = tonumber(ARGV[5])
  expire()
  local p = raw % 4
  if p == 3 or raw >= 1125899906842624 or raw < 0 then -- 2^50
    s.extra = fw_num(s, 'extra') + 1
    changed = true
    return reply(1)
  end
  local stamp = fw_div(raw, 4)
  if (epoch - stamp) % EPOCH_MOD > 1 then
    s.expired = fw_num(s, 'expired') + 1
    changed = true
    return reply(2)
  end
  local par = stamp % 2
  if held(par, p) == 0 then
    s.extra = fw_num(s, 'extra') + 1
    changed = true
    return reply(1)
  end
  set_held(par, p, held(par, p) - 1)
  in_use = in_use - 1
  changed = true
  return reply(0)
elseif fw_op == 'expire' then
  return reply(expire())
elseif fw_op == 'state' then
  return reply(0)
end
return redis.error_reply('FUSEWIRE_OP ' .. fw_op)
