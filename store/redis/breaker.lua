-- Circuit breaker: core/src/breaker's rules (states, count or time window,
-- failure-rate / slow-call-rate / consecutive-failure trips, min_calls,
-- half-open probes, the half-open dwell, open backoff, permit tickets),
-- one decision per call. Half-open probe ownership has a lease: the dwell
-- (half_open_max_dwell, or the last open duration when 0). A probe holder
-- that dies never reports; when the dwell runs out the breaker leaves
-- half-open (dwell_expiry) and the probe it held is gone with the generation.
-- Permits carry the generation and a ticket (Permit::into_raw's raw form), so
-- a stale permit (another generation) is taken back without moving the state,
-- and a permit handed back twice or made up is refused (refused_permits).
-- ARGV[5] is the door's next draw of the core's seeded generator (Rng, seeded
-- with the config's `seed`), as "hi:lo" (the 64-bit next_u64() in two 32-bit
-- halves); only a jittered open duration uses it, by the core's formula
-- (Rng::between), and the door advances its generator when the call opened
-- the breaker (the one place the core draws). A plain number below 2^53 is
-- still taken (as that number x 2^11).
-- ops (ARGV[6..]): acquire | record raw outcome duration may_trip |
--   release raw | poll | trip | close | half_open | force_open | disable |
--   reset | state | snapshot
local s, cfg = fw_load({
  'window', 'window_size', 'window_duration', 'window_buckets', 'failure_rate_ppm',
  'slow_call_rate_ppm', 'slow_call_duration', 'consecutive_failures', 'min_calls',
  'comparison', 'rate_basis', 'half_open_probes', 'half_open_rule', 'half_open_max_dwell',
  'dwell_expiry', 'open_backoff', 'open_backoff_base', 'open_backoff_step',
  'open_backoff_factor_milli', 'open_backoff_cap', 'open_backoff_jitter',
  'open_backoff_jitter_percent', 'reset_window_on_close', 'manual', 'seed' })
if not s then return redis.error_reply(cfg) end
local INF = math.huge
-- "max" (u64::MAX: forever) and "off" read as infinite / off
for k, v in pairs(cfg) do if v == 'max' then cfg[k] = INF end end
-- the draw as 4 digits of 16 bits, least significant first
local draw = {}
do
  local hi, lo = string.match(ARGV[5] or '', '^(%d+):(%d+)$')
  if hi then
    hi, lo = tonumber(hi), tonumber(lo)
  else
    local x = (tonumber(ARGV[5]) or 0) * 2048
    hi = math.floor(x / 4294967296)
    lo = x - hi * 4294967296
  end
  draw = { lo % 65536, math.floor(lo / 65536), hi % 65536, math.floor(hi / 65536) }
end
local arg = function(i) return ARGV[5 + i] end

local STATES = { [0] = 'closed', 'open', 'half_open', 'forced_open', 'disabled' }
local CLOSED, OPEN, HALF, FORCED, DISABLED = 0, 1, 2, 3, 4
local timed = cfg.window == 'time'

-- the state, as numbers
local N = {}
for _, k in ipairs({ 'st', 'gen', 'since', 'lo', 'ln', 'reo', 'con', 'creg', 'refused', 'pa', 'pi', 'pp',
  'pf', 'ps', 'tn', 'to', 'tol', 'nxt', 'hs', 'head', 'started', 'c_s', 'c_f', 'c_t', 'c_slow', 'c_ig',
  'c_rej', 'c_adm' }) do N[k] = fw_num(s, k) end

---------------------------------------------------------------- the window
local COUNT_KEYS = { 'c_s', 'c_f', 'c_t', 'c_slow', 'c_ig', 'c_rej', 'c_adm' }
-- kinds: 0 success, 1 failure, 2 timeout, 3 ignored, 4 rejected, 5 admitted
local function bump(c, kind, slow, by)
  local function b(k) c[k] = math.max((c[k] or 0) + by, 0) end
  if kind == 0 then b('c_s') elseif kind == 1 then b('c_f')
  elseif kind == 2 then b('c_t'); b('c_f')
  elseif kind == 3 then b('c_ig') elseif kind == 4 then b('c_rej') else b('c_adm') end
  if slow and kind <= 2 then b('c_slow') end
end

local ring = s.ring or ''
local size = tonumber(cfg.window_size) or 1
if not timed and #ring ~= size then ring = string.rep('\0', size) end

local bucket_len, used
if timed then
  used = cfg.window_buckets
  bucket_len = fw_div(cfg.window_duration, used)
end
local function bucket_get(i)
  local c, v = {}, s['b' .. i]
  local j = 1
  if v then for x in string.gmatch(v, '[^,]+') do c[COUNT_KEYS[j]] = tonumber(x); j = j + 1 end end
  return c
end
local function bucket_set(i, c)
  local out = {}
  for j, k in ipairs(COUNT_KEYS) do out[j] = string.format('%.0f', c[k] or 0) end
  s['b' .. i] = table.concat(out, ',')
end
local function window_clear()
  for _, k in ipairs(COUNT_KEYS) do N[k] = 0 end
  if timed then
    for i = 0, used - 1 do s['b' .. i] = nil; redis.call('HDEL', fw_key, 'b' .. i) end
    N.head, N.hs, N.started = 0, 0, 0
  else
    ring = string.rep('\0', size)
    N.nxt = 0
  end
end
-- Rolling::rotate
local function rotate(now)
  local aligned = now - now % bucket_len
  if N.started == 0 then N.started = 1; N.hs = aligned; return end
  if now < N.hs then return end
  local steps = fw_div(now - N.hs, bucket_len)
  if steps == 0 then return end
  if steps >= used then
    window_clear()
    N.started = 1
    N.hs = aligned
    return
  end
  for _ = 1, steps do
    N.head = (N.head + 1) % used
    local b = bucket_get(N.head)
    for _, k in ipairs(COUNT_KEYS) do N[k] = math.max(N[k] - (b[k] or 0), 0) end
    s['b' .. N.head] = nil
    redis.call('HDEL', fw_key, 'b' .. N.head)
  end
  N.hs = aligned
end
local function window_record(now, kind, slow)
  if timed then
    rotate(now)
    local b = bucket_get(N.head)
    bump(b, kind, slow, 1)
    bucket_set(N.head, b)
    bump(N, kind, slow, 1)
    return
  end
  if kind >= 4 then bump(N, kind, slow, 1); return end
  local i = N.nxt + 1
  local old = string.byte(ring, i)
  local ok = old % 8
  if ok >= 1 and ok <= 4 then bump(N, ok - 1, old >= 8, -1) end
  ring = string.sub(ring, 1, i - 1) .. string.char(kind + 1 + (slow and 8 or 0)) .. string.sub(ring, i + 1)
  bump(N, kind, slow, 1)
  N.nxt = N.nxt + 1
  if N.nxt >= size then N.nxt = 0 end
end
local function totals(now)
  if timed then rotate(now) end
  return N
end

---------------------------------------------------------------- the rules
local function trips(part, whole, micro)
  if micro == 'off' or micro == nil or whole == 0 then return false end
  local lhs, rhs = part * 1000000, micro * whole
  if cfg.comparison == 'above' then return lhs > rhs end
  return lhs >= rhs
end
local function is_slow(d)
  return cfg.slow_call_rate_ppm ~= 'off' and d >= cfg.slow_call_duration
end

-- Backoff::raw
local function backoff_raw(n)
  local base, cap, f = cfg.open_backoff_base, cfg.open_backoff_cap, cfg.open_backoff_factor_milli
  if f == 1000 then return math.min(base + cfg.open_backoff_step * n, cap) end
  if f % 1000 == 0 then
    local k, d, i = f / 1000, base, 0
    while i < n and d < cap do d = d * k; i = i + 1 end
    return math.min(d, cap)
  end
  -- ticks and a 16-bit fraction, times factor_milli / 1000, floored (grow)
  local t, frac, i = base, 0, 0
  while i < n do
    local a = t * f
    local qa = fw_div(a, 1000)
    local m = fw_div((a - qa * 1000) * 65536 + frac * f, 1000)
    local nt = qa + fw_div(m, 65536)
    if nt >= cap then return cap end
    t, frac = nt, m % 65536
    i = i + 1
  end
  return math.min(t, cap)
end
-- Rng::between(lo, hi): lo + floor(x * (hi - lo + 1) / 2^64), x the 64-bit
-- draw, the product exact in 16-bit digits (each partial sum below 2^34)
local function between(lo, hi)
  if hi <= lo then return lo end
  local m, md = hi - lo + 1, {}
  for i = 1, 4 do
    md[i] = m % 65536
    m = math.floor(m / 65536)
  end
  local p = { 0, 0, 0, 0, 0, 0, 0, 0 }
  for i = 1, 4 do
    local carry = 0
    for j = 1, 4 do
      local v = p[i + j - 1] + draw[i] * md[j] + carry
      p[i + j - 1] = v % 65536
      carry = math.floor(v / 65536)
    end
    p[i + 4] = carry
  end
  return lo + p[5] + p[6] * 65536 + p[7] * 4294967296 + p[8] * 281474976710656
end
local function backoff_delay(n, prev)
  local c, cap, j = backoff_raw(n), cfg.open_backoff_cap, cfg.open_backoff_jitter
  local lo, hi
  if j == 'none' then return math.min(c, cap)
  elseif j == 'full' then lo, hi = 0, c
  elseif j == 'equal' then lo, hi = fw_div(c, 2), c
  elseif j == 'proportional' then
    local spread = fw_div(c, 100) * cfg.open_backoff_jitter_percent + fw_div((c % 100) * cfg.open_backoff_jitter_percent, 100)
    lo, hi = c - spread, c + spread
  else
    local b = cfg.open_backoff_base
    if prev == 0 then prev = b end
    lo, hi = b, math.max(prev * 3, b)
  end
  return math.min(between(lo, hi), cap)
end

---------------------------------------------------------------- permits
local T20, T32 = 1048576, 4294967296
local function issue()
  local t = N.tn
  N.tn = (t + 1) % T20
  N.tol = N.tol + fw_div(N.to, 2147483648)
  N.to = (N.to * 2) % T32 + 1
  return t
end
local function settle_ticket(ticket)
  if ticket == nil or ticket >= T20 then return false end
  local age = (N.tn - ticket - 1) % T20
  if age < 32 then
    local bitv = 2 ^ age
    if fw_div(N.to, bitv) % 2 == 1 then N.to = N.to - bitv; return true end
    return false
  elseif N.tol > 0 then
    N.tol = N.tol - 1
    return true
  end
  return false
end
local function outstanding()
  local c, x = 0, N.to
  while x > 0 do c = c + x % 2; x = fw_div(x, 2) end
  return c + N.tol
end
-- raw_tag: the top 16 bits of (body + 0x5851F42D) * 0x9E3779B97F4A7C15 mod 2^64,
-- in 16-bit digits (a double holds 53 bits)
local function raw_tag(body)
  local x = body + 0x5851F42D
  local a = {}
  for i = 0, 3 do a[i] = x % 65536; x = fw_div(x, 65536) end
  local b = { [0] = 0x7C15, 0x7F4A, 0x79B9, 0x9E37 }
  local carry, limb = 0, 0
  for k = 0, 3 do
    local sum = carry
    for i = 0, k do sum = sum + a[i] * b[k - i] end
    limb = sum % 65536
    carry = fw_div(sum, 65536)
  end
  return limb
end
local B37 = 137438953472
local function permit_raw(probe, ticket)
  local body = N.gen % 65536 + (probe and 65536 or 0) + ticket * 131072
  return body + raw_tag(body) * B37
end
-- Permit::from_raw: generation, probe, ticket (nil when the tag is wrong)
local function permit_of(raw)
  raw = tonumber(raw) or -1
  if raw < 0 then return 0, false, nil end
  local body = raw % B37
  local genuine = fw_div(raw, B37) == raw_tag(body)
  return body % 65536, fw_div(body, 65536) % 2 == 1, genuine and fw_div(body, 131072) % T20 or nil
end

---------------------------------------------------------------- states
local function clamp(now)
  if now < N.ln then N.creg = N.creg + 1; return N.ln end
  N.ln = now
  return now
end
local function dwell()
  local d = cfg.half_open_max_dwell
  if d == 0 then
    if N.lo > 0 then return N.lo end
    return math.max(backoff_raw(0), 1)
  end
  return d
end
local function enter(now, to, reason)
  local from = N.st
  N.st = to
  N.gen = (N.gen + 1) % T32
  N.since = now
  return { STATES[from], STATES[to], reason }
end
local function reset_probes() N.pa, N.pi, N.pp, N.pf, N.ps = 0, 0, 0, 0, 0 end
local function open_now(now, reason)
  local d = backoff_delay(N.reo, N.lo)
  N.lo = d
  N.reo = N.reo + 1
  N.con = 0
  return enter(now, OPEN, reason)
end
local function close_now(now, reason)
  N.reo, N.lo, N.con = 0, 0, 0
  if cfg.reset_window_on_close == 1 then window_clear() end
  return enter(now, CLOSED, reason)
end
local function advance(now)
  now = clamp(now)
  local due = false
  if N.st == OPEN then due = now >= N.since + N.lo
  elseif N.st == HALF then due = cfg.half_open_max_dwell ~= INF and now - N.since >= dwell() end
  if not due then return now, nil end
  if N.st == OPEN then
    reset_probes()
    return now, enter(now, HALF, 'open_elapsed')
  elseif cfg.dwell_expiry == 'reopen' then
    return now, open_now(now, 'dwell_expired')
  end
  return now, close_now(now, 'dwell_expired')
end
local function give_back()
  if N.pi > 0 then N.pi = N.pi - 1; N.pa = math.max(N.pa - 1, 0) end
end
local function verdict()
  local limit = cfg.half_open_probes
  if cfg.half_open_rule == 'all_succeed' then
    if N.pf > 0 then return 'reopen' end
    if N.pp >= limit then return 'close' end
    return 'wait'
  end
  local done = N.pp + N.pf
  if done < limit then return 'wait' end
  if trips(N.pf, done, cfg.failure_rate_ppm) or trips(N.ps, done, cfg.slow_call_rate_ppm) then return 'reopen' end
  return 'close'
end

local now = fw_now()
local result

local function with_state(moved)
  local m = moved or {}
  return { m[1] or '', m[2] or '', m[3] or '', STATES[N.st] }
end

if fw_op == 'acquire' then
  local t, moved = advance(now)
  local probe = false
  local admitted = true
  if N.st == CLOSED or N.st == DISABLED then
    probe = false
  elseif N.st == HALF and N.pa < cfg.half_open_probes then
    N.pa = N.pa + 1
    N.pi = N.pi + 1
    probe = true
  else
    admitted = false
  end
  local m = moved or {}
  if admitted then
    if timed and cfg.rate_basis == 'started' then window_record(t, 5, false) end
    local raw = permit_raw(probe, issue())
    result = { 1, string.format('%.0f', raw), STATES[N.st], probe and 1 or 0, m[1] or '', m[2] or '', m[3] or '' }
  else
    window_record(t, 4, false)
    local wait
    if N.st == OPEN then wait = math.max(N.since + N.lo - t, 0)
    elseif N.st == HALF then wait = math.max(N.since + dwell() - t, 0)
    else wait = INF end
    wait = (wait == INF) and 'max' or string.format('%.0f', wait)
    result = { 0, wait, STATES[N.st], 0, m[1] or '', m[2] or '', m[3] or '' }
  end
elseif fw_op == 'record' or fw_op == 'release' then
  local before = N.gen
  local t, moved = advance(now)
  local gen, probe, ticket = permit_of(arg(1))
  local of_gen = function(g) return (gen - g) % 65536 == 0 end
  if not settle_ticket(ticket) then
    N.refused = N.refused + 1
    result = with_state(moved)
  elseif fw_op == 'release' then
    if probe and moved == nil and of_gen(N.gen) and N.st == HALF then give_back() end
    result = with_state(moved)
  elseif N.st == DISABLED then
    result = with_state(moved)
  else
    local outcome = arg(2)
    local duration = tonumber(arg(3)) or 0
    local may_trip = arg(4) ~= '0'
    local slow = is_slow(duration)
    local kind = ({ success = 0, failure = 1, timeout = 2, ignored = 3 })[outcome] or 3
    window_record(t, kind, slow)
    if N.gen ~= before or not of_gen(before) then
      result = with_state(moved)
    else
      local failed = kind == 1 or kind == 2
      if N.st == CLOSED then
        local tr
        if kind == 0 then N.con = 0 elseif failed then N.con = N.con + 1 end
        if kind ~= 3 and may_trip and (failed or slow) then
          local cf = cfg.consecutive_failures
          if failed and cf ~= 'off' and cf ~= 0 and N.con >= cf then
            tr = open_now(t, 'consecutive_failures')
          else
            local c = totals(t)
            local whole
            if cfg.rate_basis == 'outcomes' then whole = c.c_s + c.c_f
            elseif cfg.rate_basis == 'all_calls' then whole = c.c_s + c.c_f + c.c_ig + c.c_rej
            else whole = c.c_adm + c.c_rej end
            if whole >= cfg.min_calls then
              if failed and trips(c.c_f, whole, cfg.failure_rate_ppm) then
                tr = open_now(t, 'failure_rate')
              elseif slow and trips(c.c_slow, whole, cfg.slow_call_rate_ppm) then
                tr = open_now(t, 'slow_call_rate')
              end
            end
          end
        end
        result = with_state(tr or moved)
      elseif N.st == HALF and probe then
        if kind == 3 then
          give_back()
          result = with_state(moved)
        elseif N.pi == 0 then
          result = with_state(moved)
        else
          N.pi = N.pi - 1
          if cfg.half_open_rule == 'all_succeed' then
            if failed or slow then N.pf = N.pf + 1 else N.pp = N.pp + 1 end
          else
            if failed then N.pf = N.pf + 1 else N.pp = N.pp + 1 end
            if slow then N.ps = N.ps + 1 end
          end
          local v = verdict()
          if v == 'close' then result = with_state(close_now(t, 'probes_passed'))
          elseif v == 'reopen' then result = with_state(open_now(t, 'probes_failed'))
          else result = with_state(moved) end
        end
      else
        result = with_state(moved)
      end
    end
  end
elseif fw_op == 'poll' or fw_op == 'state' then
  local _, moved = advance(now)
  result = with_state(moved)
else
  local t = clamp(now)
  local moved
  if fw_op == 'trip' then
    if N.st ~= OPEN then moved = open_now(t, 'host') end
  elseif fw_op == 'close' then
    if N.st ~= CLOSED then moved = close_now(t, 'host') end
  elseif fw_op == 'half_open' then
    if N.st ~= HALF then reset_probes(); moved = enter(t, HALF, 'host') end
  elseif fw_op == 'force_open' then
    if N.st ~= FORCED then moved = enter(t, FORCED, 'host') end
  elseif fw_op == 'disable' then
    if N.st ~= DISABLED then moved = enter(t, DISABLED, 'host') end
  elseif fw_op == 'reset' then
    if N.st ~= CLOSED then moved = close_now(t, 'host') end
    window_clear()
    N.con = 0
  elseif fw_op == 'snapshot' then
    local c = totals(t)
    result = { 'state', STATES[N.st], 'generation', N.gen, 'successes', c.c_s, 'failures', c.c_f,
      'timeouts', c.c_t, 'slow', c.c_slow, 'ignored', c.c_ig, 'rejected', c.c_rej, 'admitted', c.c_adm,
      'refused_permits', N.refused, 'permits_out', outstanding(), 'consecutive_failures', N.con,
      'probes_in_flight', N.pi, 'open_until', N.st == OPEN and N.since + N.lo or 0, 'reopens', N.reo,
      'clock_regressions', N.creg, 'since', N.since, 'now', t }
    for i = 2, #result, 2 do
      if type(result[i]) == 'number' then result[i] = string.format('%.0f', result[i]) end
    end
  else
    return redis.error_reply('FUSEWIRE_OP ' .. fw_op)
  end
  if not result then result = with_state(moved) end
end

for k, v in pairs(N) do s[k] = v end
if not timed then s.ring = ring end
fw_save(s)
return result
