'use strict';

// retry(fn, options): promise retries on the core's Retry and Backoff. The
// schedule (attempt counting, deadline, jitter) is decided in Rust; this file
// only waits and calls.

const { getRandomValues } = require('node:crypto');
const { native } = require('./native');
const { RetryBudget, known, bad, typeError, nativeBuilt, nonZero, BACKOFF_OPTIONS } = require('./core');

const OPTIONS = ['maxAttempts', 'retries', 'maxElapsed', 'backoff', 'seed', 'budget', 'retryOn', 'retryAfter', 'onRetry', 'signal'];

const KINDS = ['constant', 'linear', 'exponential'];

function backoffSpec (b = {}) {
  if (b === null || typeof b !== 'object') {
    throw new TypeError('fusewire: retry backoff must be an object like { kind: "exponential", base: 100, factor: 2, max: 10000, jitter: "full" }');
  }
  known('retry backoff', b, BACKOFF_OPTIONS);
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

const REASONS = { '-1': 'maxAttempts', '-2': 'deadline', '-3': 'waitTooLong', '-4': 'budget' };

// A seed for one operation's jitter, from the OS's entropy: two processes
// (or two operations) never retry in lockstep unless given the same seed.
function entropySeed () {
  const [hi, lo] = getRandomValues(new Uint32Array(2));
  return (hi & 0x1fffff) * 2 ** 32 + lo;
}

class RetrySchedule {
  constructor (options = {}) {
    if (options === null || typeof options !== 'object') throw bad('retry', 'options', 'an object like { maxAttempts: 5 }', options);
    // a misspelled maxAttemps would silently retry 3 times
    known('retry', options, OPTIONS);
    const maxAttempts = options.maxAttempts ?? (options.retries !== undefined ? options.retries + 1 : 3);
    nonZero('retry', 'maxAttempts', maxAttempts);
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
      throw typeError(`retry maxAttempts must be an integer of at least 1, got ${String(maxAttempts)}`, 'maxAttempts');
    }
    if (options.maxElapsed !== undefined) nonZero('retry', 'maxElapsed', options.maxElapsed);
    if (options.maxElapsed !== undefined && !(typeof options.maxElapsed === 'number' && options.maxElapsed > 0)) {
      throw typeError(`retry maxElapsed must be a positive number of milliseconds, got ${String(options.maxElapsed)}`, 'maxElapsed');
    }
    if (options.budget !== undefined && !(options.budget instanceof RetryBudget)) {
      throw new TypeError('fusewire: retry budget must be a RetryBudget (shared by the operations it guards)');
    }
    this.budget = options.budget;
    this._budget = options.budget === undefined ? undefined : RetryBudget.native(options.budget);
    // A budget in a host store is spent through the same core decision.
    this._shared = this._budget instanceof native.HostBudget;
    // A budget in a RedisStore answers with promises: retry() awaits it.
    this._remote = this._budget !== undefined && this._budget.async === true;
    const spec = backoffSpec(options.backoff);
    this._native = nativeBuilt('retry', () => new native.RetrySchedule(spec, maxAttempts, options.maxElapsed, options.seed ?? entropySeed()));
  }

  start (now = Date.now()) { this._native.start(now); }

  /** The wait before the next attempt (ms), or null to give up. */
  next (now = Date.now(), retryAfter) {
    const d = this._decide(now, retryAfter);
    return d < 0 ? null : d;
  }

  /**
   * After a failed attempt: `{ decision: 'retryAfter', delay }` or
   * `{ decision: 'giveUp', reason }`, reason one of 'maxAttempts',
   * 'deadline', 'waitTooLong' (the advertised wait is longer than this
   * retry may wait) or 'budget' (the RetryBudget refused).
   */
  decide (now = Date.now(), retryAfter) {
    const d = this._decide(now, retryAfter);
    if (d >= 0) return { decision: 'retryAfter', delay: d };
    return { decision: 'giveUp', reason: REASONS[d] };
  }

  _decide (now, retryAfter) {
    if (this._remote) {
      const { RedisStoreError } = require('./redis');
      throw new RedisStoreError('a RetryBudget in a RedisStore is asked through promises: use retry(fn, { budget }), or await schedule.decideAsync()');
    }
    return this._shared
      ? this._native.nextShared(now, retryAfter, this._budget)
      : this._native.next(now, retryAfter, this._budget);
  }

  /**
   * `decide()` for any budget, a promise: with a budget in a RedisStore the
   * failure is counted (and, when this decision asks, a retry requested) in
   * one round trip, and the core decides with the answer (the same
   * decision the in-process budget gives; the clock is read before the
   * round trip).
   */
  async decideAsync (now = Date.now(), retryAfter) {
    if (!this._remote) return this.decide(now, retryAfter);
    const asks = this._native.plan(now, retryAfter);
    let ok = false;
    if (asks) ok = await this._budget.failureRetry();
    else await this._budget.recordFailure();
    const d = this._native.nextAnswered(now, retryAfter, ok);
    if (d >= 0) return { decision: 'retryAfter', delay: d };
    return { decision: 'giveUp', reason: REASONS[d] };
  }

  /**
   * The operation succeeded: a budget earns its share of a token (a
   * promise with a budget in a RedisStore).
   */
  succeeded () { if (this.budget) return this.budget.recordSuccess(); }

  get attempts () { return this._native.attempts; }
}

// setTimeout's limit: a longer delay fires after 1 ms, so a long wait is
// slept in turns of at most this.
const TIMER_MAX = 2 ** 31 - 1;

function sleep (ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    let t;
    const onAbort = () => {
      clearTimeout(t);
      reject(signal.reason);
    };
    const arm = (left) => {
      t = setTimeout(() => {
        if (left > TIMER_MAX) return arm(left - TIMER_MAX);
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, Math.min(left, TIMER_MAX));
    };
    arm(ms);
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
    let value;
    try {
      value = await fn(attempt, signal);
    } catch (error) {
      if (signal?.aborted || !retryOn(error, attempt)) throw error;
      const hint = options.retryAfter ? options.retryAfter(error) : undefined;
      let delay;
      if (schedule._remote) {
        const d = await schedule.decideAsync(Date.now(), hint);
        delay = d.decision === 'retryAfter' ? d.delay : null;
      } else {
        delay = schedule.next(Date.now(), hint);
      }
      if (delay === null) throw error;
      if (options.onRetry) options.onRetry(error, attempt, delay);
      await sleep(delay, signal);
      continue;
    }
    if (schedule._remote) {
      // a success the store missed costs the budget a token, never the
      // call's result (Python's rule too)
      try {
        await schedule.succeeded();
      } catch (e) {
        process.emitWarning(`fusewire: the RetryBudget's success was not counted: ${e && e.message}`, 'FusewireWarning');
      }
    } else {
      schedule.succeeded();
    }
    return value;
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
