'use strict';

// The core's own types, for custom integrations: Breaker (the core breaker:
// permits as numbers, `now` passed in), Backoff and RetryBudget. Nothing is
// decided here: this file checks types (TypeErrors naming the field), fills
// `now` from Date.now(), and maps the core's config errors to the options'
// names. The native half is src/direct.rs.

const { native } = require('./native');
const { bindStore } = require('./store');

const U32 = 0xffffffff;
const MAX_COUNT = 1 << 20;

// The core's field names (ConfigError.field) as the options spell them.
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
  slots: 'window.count',
  max_tokens: 'maxTokens',
  token_ratio_milli: 'tokenRatio'
};
const PROBLEM = {
  zero: ['zero', 'must not be zero'],
  out_of_range: ['outOfRange', 'is out of range'],
  not_a_number: ['notANumber', 'is NaN'],
  inconsistent: ['inconsistent', 'contradicts another option']
};

function fieldName (core) {
  if (core.startsWith('open_backoff.')) return `openBackoff.${fieldName(core.slice(13))}`;
  // the rest are the options' camelCase (min_calls: minCalls)
  return FIELD[core] ?? core.replace(/_([a-z])/g, (_, c) => c.toUpperCase());
}

function typeError (message, field, extra) {
  const e = new TypeError(`fusewire: ${message}`);
  e.code = 'ERR_FUSEWIRE_CONFIG';
  e.field = field;
  return Object.assign(e, extra);
}

/** The native object, or a TypeError for the core's { field, problem }. */
function built (what, r) {
  if (!('problem' in r) || typeof r.problem !== 'string' || typeof r.field !== 'string') return r;
  const field = fieldName(r.field);
  const [problem, text] = PROBLEM[r.problem] ?? [r.problem, 'is invalid'];
  throw typeError(`${what} ${field} ${text}`, field, { problem });
}

const REASON = Object.fromEntries(Object.values(PROBLEM).map(([problem, text]) => [text, problem]));
REASON['contradicts another field'] = 'inconsistent';

/**
 * A native constructor's config error (napi InvalidArg, "`field` reason")
 * as the typed error the JS-built objects throw: TypeError,
 * ERR_FUSEWIRE_CONFIG, `field` in the options' words, `problem`.
 */
function nativeBuilt (what, make) {
  try {
    return make();
  } catch (e) {
    const m = /`([a-z_.]+)` (.+)$/.exec(String(e && e.message));
    if (m === null || e.code !== 'InvalidArg') throw e;
    const field = fieldName(m[1]);
    throw typeError(`${what} ${field} ${m[2]}`, field, { problem: REASON[m[2]] ?? 'invalid' });
  }
}

/** A count option that must not be zero: the vectors' `zero` problem, typed. */
function nonZero (what, field, v) {
  if (v === 0) throw typeError(`${what} ${field} must not be zero`, field, { problem: 'zero' });
  return v;
}

function bad (what, field, must, v) {
  let shown;
  try { shown = typeof v === 'string' ? `'${v}'` : String(v); } catch { shown = typeof v; }
  return typeError(`${what} ${field} must be ${must}, got ${shown}`, field);
}

function int (what, field, v, min = 0, max = U32) {
  if (!Number.isInteger(v) || v < min || v > max) throw bad(what, field, `an integer from ${min} to ${max}`, v);
  return v;
}

function ms (what, field, v, { infinite = false } = {}) {
  if (typeof v !== 'number' || !(v >= 0) || (!infinite && v === Infinity)) {
    throw bad(what, field, `a non-negative ${infinite ? '' : 'finite '}number of milliseconds`, v);
  }
  return v;
}

function oneOf (what, field, v, names) {
  if (!names.includes(v)) throw bad(what, field, `one of ${names.map(n => `'${n}'`).join(', ')}`, v);
  return v;
}

function object (what, field, v) {
  if (v === null || typeof v !== 'object') throw bad(what, field, 'an object', v);
  return v;
}

// Edit distance, for suggesting the option a misspelled one meant.
function distance (a, b) {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length];
}

/**
 * Refuses an option `what` does not have (a misspelled `stroe` would
 * otherwise leave the policy in-process, or `leese` give the default
 * lease): a TypeError naming it, with the option it was likely meant to be.
 * Keys whose value is `undefined` are let through (spread defaults).
 */
function known (what, options, names) {
  for (const k of Object.keys(options)) {
    if (options[k] === undefined || names.includes(k)) continue;
    const near = names.find((n) => n.toLowerCase() === k.toLowerCase()) ??
      names.find((n) => distance(n.toLowerCase(), k.toLowerCase()) <= 2);
    throw typeError(`${what} has no option ${k}${near ? ` (did you mean ${near}?)` : ''}; its options are ${names.join(', ')}`, k);
  }
  return options;
}

const now = (v) => ms('', 'now', v);
const opt = (v, f) => (v === undefined ? undefined : f(v));

/** A backoff's options (the same shape as retry's `backoff`), for the native BackoffSpec. */
const BACKOFF_OPTIONS = ['kind', 'base', 'step', 'factor', 'max', 'jitter', 'jitterPercent'];
const BREAKER_OPTIONS = ['failureRate', 'slowCallRate', 'slowCallDuration', 'consecutiveFailures',
  'minCalls', 'comparison', 'rateBasis', 'manual', 'halfOpenProbes', 'halfOpenRule', 'halfOpenMaxDwell',
  'dwellExpiry', 'openBackoff', 'resetWindowOnClose', 'seed', 'window', 'store', 'name'];

function backoffSpec (what, prefix, b) {
  object(what, prefix || 'options', b);
  if (prefix) known(`${what} ${prefix}`, b, BACKOFF_OPTIONS);
  else known(what, b, [...BACKOFF_OPTIONS, 'seed']);
  const f = (k) => prefix ? `${prefix}.${k}` : k;
  const spec = {
    kind: oneOf(what, f('kind'), b.kind ?? 'exponential', ['constant', 'linear', 'exponential']),
    base: ms(what, f('base'), b.base ?? 100),
    step: opt(b.step, v => ms(what, f('step'), v)),
    factor: opt(b.factor, v => {
      if (typeof v !== 'number' || !(v >= 0) || v === Infinity) throw bad(what, f('factor'), 'a non-negative finite number', v);
      return v;
    }),
    max: opt(b.max, v => ms(what, f('max'), v, { infinite: true })),
    jitter: opt(b.jitter, v => oneOf(what, f('jitter'), v, ['none', 'full', 'equal', 'decorrelated', 'proportional'])),
    jitterPercent: opt(b.jitterPercent, v => int(what, f('jitterPercent'), v))
  };
  return spec;
}

function seedOf (what, v) {
  return opt(v, s => int(what, 'seed', s, 0, Number.MAX_SAFE_INTEGER));
}

function breakerOptions (o) {
  const W = 'Breaker';
  object(W, 'options', o);
  known(W, o, BREAKER_OPTIONS);
  const rate = (k) => {
    const v = o[k];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number') throw bad(W, k, 'a percentage (number) or null', v);
    return v;
  };
  const pickEnum = (k, names) => opt(o[k], v => oneOf(W, k, v, names));
  const out = {
    failureRate: rate('failureRate'),
    failureRateOff: o.failureRate === null,
    slowCallRate: rate('slowCallRate'),
    slowCallDuration: opt(o.slowCallDuration, v => ms(W, 'slowCallDuration', v)),
    consecutiveFailures: o.consecutiveFailures === null ? undefined : opt(o.consecutiveFailures, v => int(W, 'consecutiveFailures', v)),
    minCalls: opt(o.minCalls, v => int(W, 'minCalls', v)),
    comparison: pickEnum('comparison', ['atLeast', 'above']),
    rateBasis: pickEnum('rateBasis', ['outcomes', 'allCalls', 'started']),
    manual: opt(o.manual, v => {
      if (typeof v !== 'boolean') throw bad(W, 'manual', 'a boolean', v);
      return v;
    }),
    halfOpenProbes: opt(o.halfOpenProbes, v => int(W, 'halfOpenProbes', v)),
    halfOpenRule: pickEnum('halfOpenRule', ['allSucceed', 'rates']),
    halfOpenMaxDwell: opt(o.halfOpenMaxDwell, v => ms(W, 'halfOpenMaxDwell', v)),
    dwellExpiry: pickEnum('dwellExpiry', ['reopen', 'close']),
    openBackoff: opt(o.openBackoff, v => backoffSpec(W, 'openBackoff', v)),
    resetWindowOnClose: opt(o.resetWindowOnClose, v => {
      if (typeof v !== 'boolean') throw bad(W, 'resetWindowOnClose', 'a boolean', v);
      return v;
    }),
    seed: seedOf(W, o.seed)
  };
  const w = o.window === undefined ? { count: 100 } : object(W, 'window', o.window);
  known(`${W} window`, w, ['count', 'span', 'buckets']);
  if (w.span !== undefined) {
    if (w.count !== undefined) throw typeError('Breaker window is either { count } or { span, buckets }, not both', 'window');
    out.span = ms(W, 'window.span', w.span);
    out.buckets = int(W, 'window.buckets', w.buckets ?? 10);
  } else {
    out.count = int(W, 'window.count', w.count, 0, MAX_COUNT);
  }
  return out;
}

function permitOf (p) {
  if (!Number.isInteger(p) || p < 0 || p > Number.MAX_SAFE_INTEGER) {
    throw bad('Breaker', 'permit', 'a permit number from tryAcquire()', p);
  }
  return p;
}

// A permit of a breaker in a RedisStore: the string tryAcquire() gave
// (the raw permit in decimal, 'L<n>' from the in-process stand-in), or -1
// (admitted by onError 'fail_open' without one).
function remotePermitOf (p) {
  if (p === -1 || (typeof p === 'string' && /^L?\d{1,20}$/.test(p))) return p;
  throw bad('Breaker', 'permit', 'the permit string tryAcquire() gave (a breaker in a RedisStore)', p);
}

const OUTCOMES = ['success', 'failure', 'timeout', 'ignored'];

/**
 * The core circuit breaker, driven by the caller: ask with tryAcquire(),
 * hand the permit back with record() or release(). Every method takes an
 * optional `now` (ms, default Date.now()) and returns the state change it
 * caused, `{ from, to, reason }`, or null.
 *
 * In a RedisStore every method returns a promise of the same answer
 * (decided by the Redis script on the server's clock, so `now` is not
 * used), permits are strings, and `state` / `generation` are the last
 * answer's.
 */
class Breaker {
  #b;
  #remote = false;

  constructor (options = {}) {
    const o = breakerOptions(options);
    const own = built('Breaker', native.coreBreaker(o));
    this.#b = own;
    // { store, name }: one breaker shared by every process bound to that
    // name (lib/store.js); the backend answers as the core breaker does.
    const backend = bindStore('Breaker', 'breaker', options, () => native.plainBreaker(o), () => own);
    if (backend !== null) {
      this.#b = backend;
      this.#remote = backend.async === true;
    }
  }

  #permit (p) { return this.#remote ? remotePermitOf(p) : permitOf(p); }

  /** `{ admitted: true, permit, probe, transition }` or `{ admitted: false, retryAfter, state, transition }`. */
  tryAcquire (at = Date.now()) { return this.#b.tryAcquire(now(at)); }

  record (permit, outcome, duration = 0, at = Date.now()) {
    oneOf('Breaker', 'outcome', outcome, OUTCOMES);
    return this.#b.record(this.#permit(permit), outcome, ms('Breaker', 'duration', duration), now(at));
  }

  /** As record(), but the outcome cannot trip a closed breaker (opossum's warm-up). */
  recordUntripped (permit, outcome, duration = 0, at = Date.now()) {
    oneOf('Breaker', 'outcome', outcome, OUTCOMES);
    return this.#b.recordUntripped(this.#permit(permit), outcome, ms('Breaker', 'duration', duration), now(at));
  }

  release (permit, at = Date.now()) { return this.#b.release(this.#permit(permit), now(at)); }
  poll (at = Date.now()) { return this.#b.poll(now(at)); }
  trip (at = Date.now()) { return this.#b.trip(now(at)); }
  close (at = Date.now()) { return this.#b.close(now(at)); }
  halfOpen (at = Date.now()) { return this.#b.halfOpen(now(at)); }
  forceOpen (at = Date.now()) { return this.#b.forceOpen(now(at)); }
  disable (at = Date.now()) { return this.#b.disable(now(at)); }
  reset (at = Date.now()) { return this.#b.reset(now(at)); }
  snapshot (at = Date.now()) { return this.#remote ? this.#b.fullSnapshot() : this.#b.snapshot(now(at)); }

  /** The state as of the last call (no clock read: poll() to let time pass). */
  get state () { return this.#b.state; }
  get generation () { return this.#b.generation; }
}

/** A backoff schedule: raw(n) and delay(n, prev), jittered from its own seeded random numbers. */
class Backoff {
  #b;

  constructor (options = {}) {
    this.#b = built('Backoff', native.coreBackoff(backoffSpec('Backoff', '', options), seedOf('Backoff', options.seed)));
  }

  raw (n) { return this.#b.raw(int('Backoff', 'n', n)); }
  delay (n, prev = 0) { return this.#b.delay(int('Backoff', 'n', n), ms('Backoff', 'prev', prev)); }
  get max () { return this.#b.cap; }
}

/** gRPC's retry throttling: failures cost a token, successes earn tokenRatio; retry while more than half is left. */
class RetryBudget {
  #b;

  constructor (options = {}) {
    const W = 'RetryBudget';
    object(W, 'options', options);
    known(W, options, ['maxTokens', 'tokenRatio', 'store', 'name']);
    const maxTokens = int(W, 'maxTokens', options.maxTokens ?? 10);
    const ratio = options.tokenRatio ?? 0.1;
    if (typeof ratio !== 'number' || !(ratio >= 0) || ratio === Infinity) throw bad(W, 'tokenRatio', 'a non-negative finite number', ratio);
    const milli = Math.min(Math.round(ratio * 1000), U32);
    const own = built(W, native.coreBudget(maxTokens, milli));
    this.#b = own;
    // { store, name }: one budget shared by every process bound to that
    // name. In a RedisStore the three methods return promises and the
    // getters give the last answer.
    const backend = bindStore(W, 'budget', options, () => native.plainBudget(maxTokens, milli), () => own);
    if (backend !== null) this.#b = backend;
  }

  recordSuccess () { return this.#b.recordSuccess(); }
  recordFailure () { return this.#b.recordFailure(); }
  /** canRetry, counting a refusal in `throttled`. */
  tryRetry () { return this.#b.tryRetry(); }
  get canRetry () { return this.#b.canRetry; }
  get tokens () { return this.#b.tokens; }
  get tokensMilli () { return this.#b.tokensMilli; }
  get maxTokens () { return this.#b.maxTokens; }
  get throttled () { return this.#b.throttled; }

  // For retry(): the native budget a schedule spends (the core decides
  // retry and budget as one: Retry::next_with_budget).
  static native (budget) { return budget.#b; }
}

module.exports = { Breaker, Backoff, RetryBudget, int, ms, bad, oneOf, known, typeError, nativeBuilt, nonZero, U32, BACKOFF_OPTIONS };
