'use strict';

// The conformance vectors (tests/vectors/breaker-*.json) through
// CircuitBreaker as users call it: fire() an action, settle its promise,
// watch the events and the state. Time is node:test's mock clock (Date and
// setTimeout), so `now` in a step is the time of the fire or the outcome.
//
// Only the scenarios opossum's options can express run here: opossum's rule
// is `rate > threshold` (comparison 'above'), over the calls started in a
// time window (rate_basis 'started', rollingCountTimeout/Buckets) or, with
// fusewire's slidingWindowSize, over the outcomes of the last calls; the
// open duration is resetTimeout. The rest run through the low-level Breaker
// (tests/node/runner.js). The list of what ran is asserted, so a vector
// file that changes shape cannot silently empty this test.

const { describe, it, mock } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const CircuitBreaker = require('..');

const DIR = path.join(__dirname, '..', '..', 'tests', 'vectors');
const KEYS = ['failure_rate', 'min_calls', 'comparison', 'rate_basis', 'window', 'open_backoff', 'consecutive_failures', 'half_open_probes', 'seed'];
const OPS = ['acquire', 'record', 'snapshot'];
// The core's defaults the vectors assume (BreakerConfig::new(TickUnit::MILLIS)).
const DEFAULTS = { failure_rate: 50, min_calls: 10, open: 1000, window: { count: 16 } };

function expressible (sc) {
  const c = sc.config || {};
  if (sc.config_error || c.comparison !== 'above') return false;
  if (Object.keys(c).some(k => !KEYS.includes(k))) return false;
  const w = c.window || DEFAULTS.window;
  if (w.time ? c.rate_basis !== 'started' : (c.rate_basis ?? 'outcomes') !== 'outcomes') return false;
  if (c.open_backoff && (c.open_backoff.schedule !== 'constant' || (c.open_backoff.jitter ?? 'none') !== 'none')) return false;
  return sc.steps.every(st => OPS.includes(st.op) && st.permit_raw === undefined);
}

function optionsOf (c) {
  const w = c.window || DEFAULTS.window;
  const o = {
    timeout: false,
    enableSnapshots: false,
    errorThresholdPercentage: c.failure_rate ?? DEFAULTS.failure_rate,
    volumeThreshold: c.min_calls ?? DEFAULTS.min_calls,
    resetTimeout: c.open_backoff ? c.open_backoff.delay : DEFAULTS.open
  };
  if (w.time) {
    o.rollingCountTimeout = w.time.span;
    o.rollingCountBuckets = w.time.buckets;
  } else {
    o.slidingWindowSize = w.count;
  }
  if (c.consecutive_failures) o.consecutiveFailures = c.consecutive_failures;
  if (c.half_open_probes) o.halfOpenProbes = c.half_open_probes;
  return o;
}

const stateOf = b => b.opened ? 'open' : b.halfOpen ? 'half_open' : 'closed';
const turn = () => new Promise(resolve => setImmediate(resolve));

async function run (sc) {
  mock.timers.enable({ apis: ['Date', 'setTimeout'], now: 0 });
  try {
    let next = null;
    let called = false;
    const b = new CircuitBreaker(() => { called = true; return next; }, optionsOf(sc.config));
    const moves = [];
    for (const [event, to] of [['open', 'open'], ['close', 'closed'], ['halfOpen', 'half_open']]) {
      b.on(event, () => moves.push(to));
    }
    const calls = new Map();
    let at = 0;
    const got = [];
    for (const st of sc.steps) {
      if (st.now > at) mock.timers.tick(st.now - at);
      at = Math.max(at, st.now);
      moves.length = 0;
      const out = {};
      if (st.op === 'acquire') {
        let settle;
        next = new Promise((resolve, reject) => { settle = { resolve, reject }; });
        next.catch(() => {});
        called = false;
        b.fire().catch(() => {});
        out.admitted = called;
        if (called && st.as !== undefined) calls.set(st.as, settle);
      } else if (st.op === 'record') {
        const settle = calls.get(st.permit);
        if (st.outcome === 'success') settle.resolve('ok');
        else settle.reject(new Error(st.outcome));
      }
      await turn();
      out.to = moves.length ? moves[moves.length - 1] : null;
      out.state = stateOf(b);
      got.push(out);
    }
    b.shutdown();
    return got;
  } finally {
    mock.timers.reset();
  }
}

// What CircuitBreaker shows of a step: admitted, the state it moved to, the state.
function expected (sc) {
  return sc.steps.map(st => {
    const e = st.expect || {};
    const out = {};
    if (st.op === 'acquire') out.admitted = e.admitted;
    out.to = e.transition ? e.transition.to : null;
    out.state = e.state ?? e.snapshot_state;
    return out;
  });
}

const scenarios = [];
for (const file of fs.readdirSync(DIR).filter(f => /^breaker.*\.json$/.test(f)).sort()) {
  const doc = JSON.parse(fs.readFileSync(path.join(DIR, file), 'utf8'));
  for (const sc of doc.scenarios) if (expressible(sc)) scenarios.push([`${doc.component}/${sc.name}`, sc]);
}

describe('conformance vectors through CircuitBreaker', () => {
  it('runs the scenarios opossum\'s options can express', () => {
    assert.deepEqual(scenarios.map(([name]) => name).sort(), [
      'breaker/above-needs-strictly-more',
      'breaker/fractional-threshold-above',
      'breaker/started-basis-counts-calls-in-flight'
    ]);
  });

  for (const [name, sc] of scenarios) {
    it(name, async () => {
      const got = await run(sc);
      const want = expected(sc);
      for (let i = 0; i < want.length; i++) {
        // A snapshot step shows only the state.
        if (sc.steps[i].op === 'snapshot') want[i].to = got[i].to = null;
        assert.deepEqual(got[i], want[i], `step ${i} (${sc.steps[i].op} at ${sc.steps[i].now})`);
      }
    });
  }
});
