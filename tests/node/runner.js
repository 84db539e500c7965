'use strict';
// The Node runner of the conformance vectors, through the public API of the
// `fusewire` npm package (node/): the core types it exports (Breaker, Backoff,
// RetryBudget) and the policies (RetrySchedule, TokenBucket, Bulkhead). Steps
// pass their `now` where the API takes one; Date.now is also set to each
// step's tick (ms), for the calls that read the clock. Ticks must be below
// 2^53 (a JS number). The door's names (camelCase options and states) are
// mapped to the vectors' here, so the mapping is checked too. Prints every
// scenario it cannot express and every result field the API does not show;
// fails on a difference.

const fs = require('node:fs');
const path = require('node:path');

const fusewire = require(process.env.FUSEWIRE_NODE || path.join(__dirname, '..', '..', 'node'));
const { RetrySchedule, TokenBucket, Bulkhead, TickWidener, Breaker, Backoff, RetryBudget, Chaos, Pool } = fusewire;

class Skip extends Error {}
let now = 0;
Date.now = () => now;

const U64_MAX = '18446744073709551615';
// The door gives the core's u64::MAX ("never": a forced-open wait, a
// saturated delay) as Infinity and takes Infinity for an absent cap; every
// other tick must be below 2^53.
const AS_INFINITY = new Set(['retry_after', 'open_until', 'since', 'value', 'delay', 'cap']);
const big = (v) => typeof v === 'string' && /^[0-9]+$/.test(v);
function fits (v, key) {
  if (Array.isArray(v)) return v.every((x) => fits(x));
  if (v && typeof v === 'object') return Object.entries(v).every(([k, x]) => fits(x, k));
  if (v === U64_MAX && AS_INFINITY.has(key)) return true;
  return !big(v) && !(typeof v === 'number' && v > Number.MAX_SAFE_INTEGER);
}
function infinite (v, key) {
  if (Array.isArray(v)) return v.map((x) => infinite(x));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, infinite(x, k)]));
  return v === U64_MAX && AS_INFINITY.has(key) ? Infinity : v;
}

function backoffSpec (c) {
  const spec = { kind: c.schedule, max: c.cap, jitter: c.jitter || 'none' };
  if (c.schedule === 'constant') spec.base = c.delay;
  else spec.base = c.base;
  if (c.schedule === 'linear') spec.step = c.step;
  if (c.schedule === 'exponential') spec.factor = c.factor_milli / 1000;
  if (c.jitter === 'proportional') spec.jitterPercent = c.percent;
  return spec;
}

// The door's names back to the vectors' (snake case).
const snake = (v) => v.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase());
const camel = (v) => v.replace(/_([a-z])/g, (_, c) => c.toUpperCase());

// A core config error's field as the Node door names it (checked exactly).
const FIELD = {
  failure_rate: 'failureRate',
  slow_call_rate: 'slowCallRate',
  slow_call_duration: 'slowCallDuration',
  consecutive_failures: 'consecutiveFailures',
  half_open_probes: 'halfOpenProbes',
  'schedule.delay': 'base',
  'schedule.base': 'base',
  'schedule.factor_milli': 'factor',
  cap: 'max',
  'jitter.percent': 'jitterPercent',
  span: 'window.span',
  buckets: 'window.buckets',
  max_tokens: 'maxTokens',
  token_ratio_milli: 'tokenRatio',
  fault_rate: 'faultRate',
  latency_rate: 'latencyRate',
  latency_min: 'latencyMin',
  latency_max: 'latencyMax',
  substitute_rate: 'substituteRate',
  behavior_rate: 'behaviorRate',
  base_ejection_time: 'baseEjectionTime',
  max_ejection_time: 'maxEjectionTime',
  max_ejection_percent: 'maxEjectionPercent'
};
const doorField = (f) => f.startsWith('open_backoff.') ? 'openBackoff.' + doorField(f.slice(13)) : (FIELD[f] ?? camel(f));

/** A construction error: `{ field, problem }` in the vectors' words when the door names them. */
function configError (e) {
  if (!(e instanceof TypeError) && !(e instanceof Error)) throw e;
  if (typeof e.field === 'string' && typeof e.problem === 'string') {
    return { config_error: { field: e.field, problem: snake(e.problem) } };
  }
  return { config_error: 'raised' };
}

function transition (t) {
  return t === null ? null : { from: snake(t.from), to: snake(t.to), reason: snake(t.reason) };
}

const rate = (v) => (v === 'nan' ? NaN : v);

function breakerOptions (c) {
  const o = {};
  for (const [k, v] of Object.entries(c)) {
    if (k === 'window' || k === 'open_backoff') continue;
    if (k === 'failure_rate' || k === 'slow_call_rate') o[camel(k)] = rate(v);
    else if (['comparison', 'rate_basis', 'half_open_rule', 'dwell_expiry'].includes(k)) o[camel(k)] = camel(v);
    else o[camel(k)] = v;
  }
  if (c.open_backoff) o.openBackoff = backoffSpec(c.open_backoff);
  const w = c.window || { count: 16 };
  o.window = w.time ? { span: w.time.span, buckets: w.time.buckets } : { count: w.count };
  return o;
}

function runBreaker (sc) {
  let b;
  try {
    b = new Breaker(breakerOptions(sc.config));
  } catch (e) {
    return configError(e);
  }
  const permits = new Map();
  return sc.steps.map((st) => {
    const permit = () => st.permit_raw !== undefined ? st.permit_raw : permits.get(st.permit);
    const out = {};
    switch (st.op) {
      case 'acquire': {
        const r = b.tryAcquire(st.now);
        out.admitted = r.admitted;
        if (r.admitted) {
          out.probe = r.probe;
          if (st.as !== undefined) permits.set(st.as, r.permit);
        } else {
          out.retry_after = r.retryAfter;
          if (snake(r.state) !== snake(b.state)) out.refused_in = r.state;
        }
        out.transition = transition(r.transition);
        break;
      }
      case 'record':
        out.transition = transition(b.record(permit(), st.outcome, st.duration ?? 0, st.now));
        break;
      case 'record_untripped':
        out.transition = transition(b.recordUntripped(permit(), st.outcome, st.duration ?? 0, st.now));
        break;
      case 'release':
        out.transition = transition(b.release(permit(), st.now));
        break;
      case 'poll': case 'trip': case 'close': case 'force_open': case 'disable': case 'reset':
        out.transition = transition(b[camel(st.op)](st.now));
        break;
      case 'snapshot': {
        const s = b.snapshot(st.now);
        for (const [k, v] of Object.entries(s)) {
          if (k !== 'state') out[snake(k)] = v;
        }
        if (s.state !== b.state) out.snapshot_state = s.state;
        break;
      }
      default:
        throw new Error(`unknown breaker op ${st.op}`);
    }
    out.state = snake(b.state);
    return out;
  });
}

function runBackoff (sc) {
  const c = sc.config;
  let b;
  try {
    b = new Backoff({ ...backoffSpec(c), seed: c.seed });
  } catch (e) {
    return configError(e);
  }
  return sc.steps.map((st) => st.op === 'raw' ? { value: b.raw(st.n) } : { delay: b.delay(st.n, st.prev ?? 0) });
}

function runBudget (sc) {
  const c = sc.config;
  let b;
  try {
    b = new RetryBudget({ maxTokens: c.max_tokens, tokenRatio: c.token_ratio_milli / 1000 });
  } catch (e) {
    return configError(e);
  }
  return sc.steps.map((st) => {
    const out = {};
    if (st.op === 'success') b.recordSuccess();
    else if (st.op === 'failure') b.recordFailure();
    else if (st.op === 'try_retry') out.ok = b.tryRetry();
    out.can_retry = b.canRetry;
    out.tokens_milli = b.tokensMilli;
    out.throttled = b.throttled;
    return out;
  });
}

function runRetry (sc) {
  const c = sc.config;
  let r;
  let budget;
  try {
    if (c.budget) budget = new RetryBudget({ maxTokens: c.budget.max_tokens, tokenRatio: c.budget.token_ratio_milli / 1000 });
    // The vectors' seed, or the core's default 0 (the door's own default draws from entropy).
    r = new RetrySchedule({ backoff: backoffSpec(c.backoff), maxAttempts: c.max_attempts, maxElapsed: c.max_elapsed ?? undefined, seed: c.seed ?? 0, budget });
  } catch (e) {
    return configError(e);
  }
  return sc.steps.map((st) => {
    now = st.now;
    const out = {};
    if (st.op === 'start') {
      r.start(now);
    } else if (st.op === 'success') {
      r.succeeded();
    } else {
      const d = r.decide(now, st.server_retry_after);
      out.decision = snake(d.decision);
      if (d.decision === 'giveUp') out.reason = snake(d.reason);
      else out.delay = d.delay;
    }
    out.attempts = r.attempts;
    if (budget) {
      out.tokens_milli = budget.tokensMilli;
      out.throttled = budget.throttled;
    }
    return out;
  });
}

function runBucket (sc) {
  const c = sc.config;
  let b;
  try {
    b = new TokenBucket({ burst: c.burst, tokens: c.tokens, period: c.period });
  } catch (e) {
    return configError(e);
  }
  return sc.steps.map((st) => {
    now = st.now;
    const out = {};
    if (st.op === 'acquire' || st.op === 'acquire_one') {
      const r = b.tryAcquire(st.op === 'acquire' ? st.n : 1, now);
      out.result = snake(r.result);
      if (r.result === 'denied') out.retry_after = r.retryAfter;
      if (r.result === 'exceedsBurst') out.burst = r.burst;
    } else if (st.op === 'refund') {
      b.refund(st.n);
    } else if (st.op === 'set_rate') {
      try { b.setRate(st.tokens, st.period); } catch (e) { out.error = 'raised'; }
    }
    out.available = b.available;
    return out;
  });
}

function runBulkhead (sc) {
  const c = sc.config;
  let b;
  try {
    b = new Bulkhead({ limit: c.limit, reserveCritical: c.reserve_critical ?? 0, reserveNormal: c.reserve_normal ?? 0, lease: c.lease });
  } catch (e) {
    return configError(e);
  }
  const slots = new Map();
  let at = 0;
  return sc.steps.map((st) => {
    if (st.now !== undefined) at = st.now;
    const out = {};
    if (st.op === 'acquire') {
      const slot = b.acquireSlot(st.priority, at);
      out.admitted = slot !== null;
      if (slot !== null && st.as !== undefined) slots.set(st.as, slot);
    } else if (st.op === 'expire') {
      out.freed = b.expire(at);
    } else {
      const slot = st.slot_raw !== undefined ? Number(st.slot_raw) : slots.get(st.slot);
      const refused = b.releaseSlot(slot, at);
      out.released = refused === null;
      if (refused !== null) out.refused = snake(refused);
    }
    out.in_use = b.inUse;
    out.available = b.free;
    out.available_for = ['critical', 'normal', 'sheddable'].map((p) => b.available(p));
    out.extra_releases = b.extraReleases;
    out.expired_releases = b.expiredReleases;
    out.reclaimed = b.reclaimed;
    return out;
  });
}

// Seeds: a JS number when exact, else a BigInt (the door takes both).
const seed = (v) => (v === undefined ? 0 : big(v) ? BigInt(v) : v);

function runChaos (sc) {
  const c = sc.config;
  let ch;
  try {
    ch = new Chaos({
      faultRate: c.fault_rate,
      latencyRate: c.latency_rate,
      latencyMin: c.latency_min,
      latencyMax: c.latency_max,
      substituteRate: c.substitute_rate,
      behaviorRate: c.behavior_rate,
      seed: seed(c.seed),
      enabled: c.enabled ?? false
    });
  } catch (e) {
    return configError(e);
  }
  return sc.steps.map((st) => {
    let out = {};
    if (st.op === 'set_enabled') {
      if (st.on) ch.enable(); else ch.disable();
    } else {
      out = st.op === 'inject' ? ch.inject() : ch.decide(st.index);
    }
    out.calls = ch.calls;
    return out;
  });
}

function runPool (sc) {
  const { endpoints, ...c } = sc.config;
  const options = { seed: seed(c.seed), timers: false, now: () => now };
  for (const [k, v] of Object.entries(c)) {
    if (k === 'seed') continue;
    if (k === 'success_rate_stdev_factor_milli') options.successRateStdevFactor = v / 1000;
    else options[camel(k)] = v;
  }
  let p;
  try {
    p = new Pool(Array.from({ length: endpoints }, (_, i) => `http://e${i}`), options);
  } catch (e) {
    return configError(e);
  }
  const picks = new Map();
  const eventOf = (e) => e.event === 'eject'
    ? { ejected: e.endpoint, reason: snake(e.reason), until: e.until }
    : { returned: e.endpoint };
  let ejection = null;
  p.on('eject', (e) => { ejection = { event: 'eject', ...e }; });
  return sc.steps.map((st) => {
    if (st.now !== undefined) now = st.now;
    const out = {};
    if (st.op === 'pick') {
      const k = p.pick(st.avoid ?? undefined);
      if (st.as !== undefined) picks.set(st.as, k);
      out.endpoint = k.endpoint;
      out.panic = k.panic;
    } else if (st.op === 'record') {
      ejection = null;
      // A pick settles once in the door; the vectors may settle a name again.
      if (st.pick !== undefined) p.record(picks.get(st.pick).endpoint, camel(st.result));
      else p.record(st.endpoint, camel(st.result));
      out.event = ejection && eventOf(ejection);
    } else if (st.op === 'release') {
      p.release(picks.get(st.pick).endpoint);
    } else if (st.op === 'poll') {
      out.events = p.poll().map(eventOf);
    } else if (st.op === 'stats') {
      const s = p.stats(st.endpoint);
      for (const k of ['outstanding', 'consecutiveFailures', 'consecutiveGatewayFailures', 'successes', 'calls', 'ejections', 'ejectedUntil', 'picked', 'ejected']) {
        out[snake(k)] = s[k];
      }
    }
    return out;
  });
}

const RUNNERS = { breaker: runBreaker, backoff: runBackoff, budget: runBudget, retry: runRetry, bucket: runBucket, bulkhead: runBulkhead, chaos: runChaos, pool: runPool };
// Components the door cannot run at all, each with why (none today).
const NOT_EXPRESSIBLE = {};
// Result fields the public API does not show, so they are not compared (none today).
const UNCHECKED = {};
// Known differences from the core, reported instead of failing the run.
// Differences the Node door has on purpose (none today); each entry names why.
const KNOWN = {};

// Steps that give a wrapping 32-bit tick (`tick32`, firmware's HAL_GetTick)
// get their `now` from the door's TickWidener, as firmware would.
function widened (sc) {
  if (!sc.steps || !sc.steps.some((st) => st.tick32 !== undefined)) return sc;
  const w = new TickWidener();
  const steps = sc.steps.map(({ tick32, ...st }) => tick32 === undefined ? st : { ...st, now: w.widen(tick32) });
  return { ...sc, steps };
}

function project (want, comp) {
  const w = {};
  for (const [k, v] of Object.entries(want)) {
    if ((UNCHECKED[comp] || []).includes(k)) continue;
    w[k] = k === 'error' ? 'raised' : v;
  }
  return w;
}

const show = (o) => JSON.stringify(o, (k, v) => v === Infinity ? 'Infinity' : v);
const same = (a, b) => show(a) === show(b);

function main (files) {
  let passed = 0; let failed = 0;
  const skipped = []; const known = []; const unnamed = new Set();
  for (const file of files) {
    const doc = JSON.parse(fs.readFileSync(file, 'utf8'));
    const comp = doc.component;
    for (let sc of doc.scenarios) {
      const label = `${comp}/${sc.name}`;
      if (NOT_EXPRESSIBLE[comp]) { skipped.push([label, NOT_EXPRESSIBLE[comp]]); continue; }
      if (!fits(sc)) { skipped.push([label, 'ticks above 2^53 (other than u64::MAX as Infinity) are not exact as JS numbers']); continue; }
      sc = widened(infinite(sc));
      let got;
      try {
        got = RUNNERS[comp](sc);
      } catch (e) {
        if (e instanceof Skip) { skipped.push([label, e.message]); continue; }
        throw e;
      }
      let ok = true; let why = '';
      const gotError = Array.isArray(got) ? undefined : got.config_error;
      if (sc.config_error || gotError) {
        let want = sc.config_error;
        if (want && gotError === 'raised') {
          // The door threw without naming the field: only the error itself is checked.
          unnamed.add(comp);
          want = 'raised';
        } else if (want) {
          want = { field: doorField(want.field), problem: want.problem };
        }
        ok = same(want, gotError);
        why = `config error expected ${JSON.stringify(want)}, got ${JSON.stringify(gotError ?? 'none')}`;
      } else {
        for (let i = 0; i < sc.steps.length; i++) {
          const want = project(sc.steps[i].expect, comp);
          // Key order differs between the two; compare sorted.
          const norm = (o) => Object.fromEntries(Object.entries(o).sort());
          if (!same(norm(want), norm(got[i]))) {
            ok = false;
            why = `step ${i} ${sc.steps[i].op}\n  expected ${show(norm(want))}\n  got      ${show(norm(got[i]))}`;
            break;
          }
        }
      }
      if (ok) passed++;
      else if (KNOWN[label]) known.push([label, KNOWN[label], why]);
      else { failed++; console.error(`node: ${label}: ${why}`); }
    }
  }
  for (const [label, why] of skipped) console.log(`node: skipped ${label}: ${why}`);
  for (const [label, why, diff] of known) console.log(`node: KNOWN DIFFERENCE ${label}: ${why}\n  ${diff}`);
  const unchecked = [
    ...Object.entries(UNCHECKED).map(([c, f]) => `${c} ${f.join(', ')}`),
    ...[...unnamed].sort().map((c) => `${c} config_error field and problem (the door's error does not name them)`)
  ].join('; ') || 'none';
  console.log(`node: ${passed} scenarios passed, ${failed} failed, ${known.length} known differences, ${skipped.length} skipped (listed above); unchecked fields: ${unchecked}`);
  return failed ? 1 : 0;
}

const dir = path.join(__dirname, '..', 'vectors');
const files = process.argv.slice(2).length ? process.argv.slice(2) : fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort().map((f) => path.join(dir, f));
process.exitCode = main(files);
