'use strict';

// retry(fn, options): promise retries on the core's Retry and Backoff. The
// schedule (attempt counting, deadline, jitter) is decided in Rust; this file
// only waits and calls.

const { native } = require('./native');

const KINDS = ['constant', 'linear', 'exponential'];

function backoffSpec (b = {}) {
  if (b === null || typeof b !== 'object') {
    throw new TypeError('fusewire: retry backoff must be an object like { kind: "exponential", base: 100, factor: 2, max: 10000, jitter: "full" }');
  }
  const kind = b.kind ?? 'exponential';
  if (!KINDS.includes(kind)) {
    throw new TypeError(`fusewire: retry backoff.kind must be one of ${KINDS.join(', ')}, got ${String(kind)}`);
  }
  const base = b.base ?? 100;
  if (typeof base !== 'number' || !(base >= 1)) {
    throw new TypeError(`fusewire: retry backoff.base must be a number of milliseconds, at least 1, got ${String(base)}`);
  }
  for (const k of ['step', 'factor', 'max']) {
    if (b[k] !== undefined && (typeof b[k] !== 'number' || Number.isNaN(b[k]))) {
      throw new TypeError(`fusewire: retry backoff.${k} must be a number, got ${String(b[k])}`);
    }
  }
  return {
    kind,
    base,
    step: b.step,
    factor: b.factor,
    max: b.max,
    jitter: b.jitter,
    jitterPercent: b.jitterPercent
  };
}

class RetrySchedule {
  constructor (options = {}) {
    const maxAttempts = options.maxAttempts ?? (options.retries !== undefined ? options.retries + 1 : 3);
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
      throw new TypeError(`fusewire: retry maxAttempts must be an integer of at least 1, got ${String(maxAttempts)}`);
    }
    if (options.maxElapsed !== undefined && !(typeof options.maxElapsed === 'number' && options.maxElapsed > 0)) {
      throw new TypeError(`fusewire: retry maxElapsed must be a positive number of milliseconds, got ${String(options.maxElapsed)}`);
    }
    this._native = new native.RetrySchedule(
      backoffSpec(options.backoff), maxAttempts, options.maxElapsed, options.seed);
  }

  start (now = Date.now()) { this._native.start(now); }

  /** The wait before the next attempt (ms), or null to give up. */
  next (now = Date.now(), retryAfter) {
    const d = this._native.next(now, retryAfter);
    return d < 0 ? null : d;
  }

  /**
   * After a failed attempt: `{ decision: 'retryAfter', delay }` or
   * `{ decision: 'giveUp', reason: 'maxAttempts' | 'deadline' }`.
   */
  decide (now = Date.now(), retryAfter) {
    const d = this._native.next(now, retryAfter);
    if (d >= 0) return { decision: 'retryAfter', delay: d };
    return { decision: 'giveUp', reason: d === -1 ? 'maxAttempts' : 'deadline' };
  }

  get attempts () { return this._native.attempts; }
}

function sleep (ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal.reason);
    };
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Calls `fn(attempt, signal)` until it resolves, the schedule gives up, or
 * `retryOn(error, attempt)` says no. Rejects with the last error.
 */
async function retry (fn, options = {}) {
  if (typeof fn !== 'function') throw new TypeError('fusewire: retry() needs a function to call');
  const schedule = new RetrySchedule(options);
  const retryOn = options.retryOn ?? (() => true);
  const signal = options.signal;
  schedule.start();
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt, signal);
    } catch (error) {
      if (signal?.aborted || !retryOn(error, attempt)) throw error;
      const hint = options.retryAfter ? options.retryAfter(error) : undefined;
      const delay = schedule.next(Date.now(), hint);
      if (delay === null) throw error;
      if (options.onRetry) options.onRetry(error, attempt, delay);
      await sleep(delay, signal);
    }
  }
}

/** The delays a schedule would produce for `count` failed attempts (no waiting). */
retry.delays = function delays (options = {}, count = 10) {
  const s = new RetrySchedule(options);
  s.start(0);
  const out = [];
  for (let i = 0; i < count; i++) {
    const d = s.next(0);
    if (d === null) break;
    out.push(d);
  }
  return out;
};

module.exports = { retry, RetrySchedule };
