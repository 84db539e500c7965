-- Retry budget: core/src/budget.rs's rules (gRPC's retry throttling).
-- ops: success | failure | can_retry | try_retry | failure_retry
--      -> {ok, tokens_milli, throttled}
--      (ok: 1 when a retry may go; for failure_retry, the failure counted
--      then try_retry's answer: Retry::next_with_budget's two budget calls
--      in one round trip; for the others, can_retry's answer after the op)
local s, cfg = fw_load({ 'max_tokens', 'token_ratio_milli' })
if not s then return redis.error_reply(cfg) end
local max_milli = cfg.max_tokens * 1000
local tokens = s.tokens and tonumber(s.tokens) or max_milli
local throttled = fw_num(s, 'throttled')
local ok = 1
local changed = true
if fw_op == 'success' then
  tokens = math.min(tokens + cfg.token_ratio_milli, max_milli)
elseif fw_op == 'failure' then
  tokens = math.max(tokens - 1000, 0)
elseif fw_op == 'can_retry' then
  changed = false
elseif fw_op == 'try_retry' or fw_op == 'failure_retry' then
  if fw_op == 'failure_retry' then tokens = math.max(tokens - 1000, 0) end
  if tokens * 2 <= max_milli then
    throttled = throttled + 1
    ok = 0
  end
else
  return redis.error_reply('FUSEWIRE_OP ' .. fw_op)
end
if fw_op ~= 'try_retry' and fw_op ~= 'failure_retry' then ok = (tokens * 2 > max_milli) and 1 or 0 end
if changed then
  s.tokens = tokens
  s.throttled = throttled
  fw_save(s)
end
return { ok, tokens, throttled }
