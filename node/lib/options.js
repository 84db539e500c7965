'use strict';

// The options fusewire adds to opossum's, checked with clear TypeErrors, and
// the translation of a breaker's options into the native engine's rules.

const JITTERS = ['none', 'full', 'equal', 'decorrelated'];
// setTimeout's limit: a longer delay fires after 1 ms.
const TIMER_MAX = 2 ** 31 - 1;
// The native window's largest size class (src/ring.rs).
const MAX_BUCKETS = 1024;

// A TypeError or RangeError naming the opossum option, with `field` set to it.
function optionError (Kind, field, message) {
  const error = new Kind(`fusewire: options.${field} ${message}`);
  error.field = field;
  return error;
}

// A number option as opossum's arithmetic reads it: numbers as they are,
// numeric strings (an environment variable) as their number; anything else
// (a word, an object, a boolean) is a TypeError naming the option.
function numberOption (o, field) {
  const v = o[field];
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v))) return Number(v);
  throw optionError(TypeError, field,
    `must be a number (or a numeric string), got ${describe(v)}`);
}

function describe (v) {
  if (typeof v === 'string') return `'${v}'`;
  if (v === null || typeof v !== 'object') return String(v);
  return Array.isArray(v) ? 'an array' : 'an object';
}

// opossum's rolling window (Status): `rollingCountBuckets || 10` buckets of
// `Math.floor(rollingCountTimeout / buckets)` ms, rotated by a setInterval,
// so a bucket shorter than 1 ms lasts 1 ms.
function windowShape (o) {
  let buckets = 10;
  if (o.rollingCountBuckets) {
    buckets = numberOption(o, 'rollingCountBuckets');
    if (!(Number.isInteger(buckets) && buckets >= 1 && buckets <= MAX_BUCKETS)) {
      throw optionError(RangeError, 'rollingCountBuckets',
        `must be a whole number from 1 to ${MAX_BUCKETS}, got ${describe(o.rollingCountBuckets)}`);
    }
  }
  let span = 10000;
  if (o.rollingCountTimeout) {
    span = numberOption(o, 'rollingCountTimeout');
    if (!(Number.isFinite(span) && span > 0)) {
      throw optionError(RangeError, 'rollingCountTimeout',
        `must be a positive number of milliseconds, got ${describe(o.rollingCountTimeout)}`);
    }
  }
  return { span: buckets * Math.max(1, Math.floor(span / buckets)), buckets };
}

// The delay setTimeout would use for `v` (and so opossum, which passes its
// options straight to it): coerced to a number, 1 ms unless 1..2^31-1.
// `warn` is called for values past the limit, as Node warns.
function timerDelay (v, warn) {
  const after = v * 1;
  if (after >= 1 && after <= TIMER_MAX) return after;
  if (after > TIMER_MAX && warn) warn(after);
  return 1;
}
// One byte of native memory per call in the window.
const MAX_SLIDING_WINDOW = 1 << 20;

function positiveInteger (v) {
  return Number.isInteger(v) && v >= 1;
}

function checkExtras (o) {
  if (o.halfOpenProbes !== undefined && !positiveInteger(o.halfOpenProbes)) {
    throw optionError(TypeError, 'halfOpenProbes',
      `must be an integer of at least 1, got ${String(o.halfOpenProbes)}`);
  }
  if (o.consecutiveFailures !== undefined && !positiveInteger(o.consecutiveFailures)) {
    throw optionError(TypeError, 'consecutiveFailures',
      `must be an integer of at least 1, got ${String(o.consecutiveFailures)}`);
  }
  if (o.slidingWindowSize !== undefined &&
      !(positiveInteger(o.slidingWindowSize) && o.slidingWindowSize <= MAX_SLIDING_WINDOW)) {
    throw optionError(TypeError, 'slidingWindowSize',
      `must be an integer from 1 to ${MAX_SLIDING_WINDOW}, got ${String(o.slidingWindowSize)}`);
  }
  if (o.perCallSignal !== undefined && typeof o.perCallSignal !== 'boolean') {
    throw optionError(TypeError, 'perCallSignal', 'must be a boolean');
  }
  const b = o.resetBackoff;
  if (b !== undefined) {
    if (b === null || typeof b !== 'object') {
      throw optionError(TypeError, 'resetBackoff',
        'must be an object like { factor: 2, max: 300000, jitter: "full" }');
    }
    if (b.factor !== undefined && !(typeof b.factor === 'number' && b.factor >= 1)) {
      throw optionError(TypeError, 'resetBackoff.factor',
        `must be a number of at least 1, got ${String(b.factor)}`);
    }
    if (b.max !== undefined && !(typeof b.max === 'number' && b.max > 0)) {
      throw optionError(TypeError, 'resetBackoff.max',
        `must be a positive number of milliseconds, got ${String(b.max)}`);
    }
    if (b.jitter !== undefined && !JITTERS.includes(b.jitter)) {
      throw optionError(TypeError, 'resetBackoff.jitter',
        `must be one of ${JITTERS.join(', ')}, got ${String(b.jitter)}`);
    }
  }
}

// opossum's numbers are used as JavaScript compares them; the engine gets
// plain numbers, NaN standing for "never".
function engineRules (o, warn, volumeThreshold = Number.isInteger(o.volumeThreshold) ? o.volumeThreshold : 0) {
  const b = o.resetBackoff || {};
  return {
    errorThresholdPercentage: o.errorThresholdPercentage == null
      ? 50
      : numberOption(o, 'errorThresholdPercentage'),
    volumeThreshold,
    resetTimeout: timerDelay(o.resetTimeout, warn),
    halfOpenProbes: o.halfOpenProbes,
    consecutiveFailures: o.consecutiveFailures,
    backoffFactor: o.resetBackoff ? (b.factor ?? 2) : undefined,
    backoffMax: b.max,
    backoffJitter: b.jitter,
    seed: undefined,
    slidingWindowSize: o.slidingWindowSize
  };
}

module.exports = { checkExtras, engineRules, windowShape, timerDelay, optionError, TIMER_MAX };
