'use strict';

// The options fusewire adds to opossum's, checked with clear TypeErrors, and
// the translation of a breaker's options into the native engine's rules.

const JITTERS = ['none', 'full', 'equal', 'decorrelated'];
// One byte of native memory per call in the window.
const MAX_SLIDING_WINDOW = 1 << 20;

function positiveInteger (v) {
  return Number.isInteger(v) && v >= 1;
}

function checkExtras (o) {
  if (o.halfOpenProbes !== undefined && !positiveInteger(o.halfOpenProbes)) {
    throw new TypeError(
      `fusewire: options.halfOpenProbes must be an integer of at least 1, got ${String(o.halfOpenProbes)}`);
  }
  if (o.consecutiveFailures !== undefined && !positiveInteger(o.consecutiveFailures)) {
    throw new TypeError(
      `fusewire: options.consecutiveFailures must be an integer of at least 1, got ${String(o.consecutiveFailures)}`);
  }
  if (o.slidingWindowSize !== undefined &&
      !(positiveInteger(o.slidingWindowSize) && o.slidingWindowSize <= MAX_SLIDING_WINDOW)) {
    throw new TypeError(
      `fusewire: options.slidingWindowSize must be an integer from 1 to ${MAX_SLIDING_WINDOW}, got ${String(o.slidingWindowSize)}`);
  }
  if (o.perCallSignal !== undefined && typeof o.perCallSignal !== 'boolean') {
    throw new TypeError('fusewire: options.perCallSignal must be a boolean');
  }
  const b = o.resetBackoff;
  if (b !== undefined) {
    if (b === null || typeof b !== 'object') {
      throw new TypeError('fusewire: options.resetBackoff must be an object like { factor: 2, max: 300000, jitter: "full" }');
    }
    if (b.factor !== undefined && !(typeof b.factor === 'number' && b.factor >= 1)) {
      throw new TypeError(`fusewire: options.resetBackoff.factor must be a number of at least 1, got ${String(b.factor)}`);
    }
    if (b.max !== undefined && !(typeof b.max === 'number' && b.max > 0)) {
      throw new TypeError(`fusewire: options.resetBackoff.max must be a positive number of milliseconds, got ${String(b.max)}`);
    }
    if (b.jitter !== undefined && !JITTERS.includes(b.jitter)) {
      throw new TypeError(`fusewire: options.resetBackoff.jitter must be one of ${JITTERS.join(', ')}, got ${String(b.jitter)}`);
    }
  }
}

// opossum's numbers are used as JavaScript compares them; the engine gets
// plain numbers, NaN standing for "never".
function engineRules (o) {
  const b = o.resetBackoff || {};
  return {
    errorThresholdPercentage: Number(o.errorThresholdPercentage),
    volumeThreshold: Number.isInteger(o.volumeThreshold) ? o.volumeThreshold : 0,
    resetTimeout: Number(o.resetTimeout) || 1,
    halfOpenProbes: o.halfOpenProbes,
    consecutiveFailures: o.consecutiveFailures,
    backoffFactor: o.resetBackoff ? (b.factor ?? 2) : undefined,
    backoffMax: b.max,
    backoffJitter: b.jitter,
    seed: undefined,
    slidingWindowSize: o.slidingWindowSize
  };
}

module.exports = { checkExtras, engineRules };
