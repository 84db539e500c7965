'use strict';

// require('fusewire/cockatiel'): cockatiel 4's API (names, signatures,
// defaults, errors, events) on fusewire's core. What the core decides:
// the breakers' windows and trip rules and the circuit breaker policy's
// states (closed, open for halfOpenAfter or a user backoff's delay,
// half-open with halfOpenSampling probes, isolated): one core Breaker per
// breaker (src/cockatiel.rs); the exponential backoff and its no/full/half
// jitter (a core Backoff); the bulkhead's slots (a core Bulkhead); retry
// budgets (RetryBudget). What stays here: events, user-supplied backoffs
// and filters, the retry loop, the timers and the promise plumbing.
// Differences are listed in NOTES.md.

const { native } = require('./native');
const { Backoff: CoreBackoff } = require('./core');
const CoreBulkhead = require('./bulkhead');

// ---------------------------------------------------------------- events

const noopDisposable = Object.freeze({ dispose () {} });

/** cockatiel's EventEmitter: `addListener` is the Event<T> function, returning an IDisposable. */
class EventEmitter {
  constructor () {
    this.listeners = undefined;
    this.addListener = (listener) => this.addListenerInner(listener);
  }

  /** The number of listeners. */
  get size () {
    const l = this.listeners;
    return l === undefined ? 0 : typeof l === 'function' ? 1 : l.length;
  }

  emit (value) {
    const l = this.listeners;
    if (l === undefined) return;
    if (typeof l === 'function') { l(value); return; }
    for (const f of l) f(value);
  }

  addListenerInner (listener) {
    const l = this.listeners;
    if (l === undefined) this.listeners = listener;
    else if (typeof l === 'function') this.listeners = [l, listener];
    else l.push(listener);
    return { dispose: () => this.removeListener(listener) };
  }

  removeListener (listener) {
    const l = this.listeners;
    if (l === undefined) return;
    if (typeof l === 'function') {
      if (l === listener) this.listeners = undefined;
      return;
    }
    const i = l.indexOf(listener);
    if (i === -1) return;
    if (l.length === 2) this.listeners = l[1 - i];
    else this.listeners = l.slice(0, i).concat(l.slice(i + 1));
  }
}

/** Re-emits its last value to each listener added later. */
class MemorizingEventEmitter extends EventEmitter {
  constructor () {
    super();
    this.lastValue = undefined;
    this.addListener = (listener) => {
      const d = this.addListenerInner(listener);
      if (this.lastValue) listener(this.lastValue.value);
      return d;
    };
  }

  get hasEmitted () { return !!this.lastValue; }

  emit (value) {
    this.lastValue = { value };
    super.emit(value);
  }
}

/** Fires once; a listener added afterwards is called at once. */
class OneShotEvent extends EventEmitter {
  constructor () {
    super();
    this.lastValue = undefined;
    this.addListener = (listener) => {
      if (this.lastValue) { listener(this.lastValue.value); return noopDisposable; }
      return this.addListenerInner(listener);
    };
  }

  emit (value) {
    this.lastValue = { value };
    super.emit(value);
    this.listeners = undefined;
  }
}

/** An Event that fires when `signal` aborts (at once if it has). */
function onAbort (signal) {
  const evt = new OneShotEvent();
  if (signal.aborted) {
    evt.emit(signal.reason);
    return { event: evt.addListener, dispose: () => {} };
  }
  const l = () => { evt.emit(signal.reason); dispose(); };
  const dispose = () => signal.removeEventListener('abort', l);
  signal.addEventListener('abort', l);
  return { event: evt.addListener, dispose };
}

const Event = {
  /** Listens for one firing of `event`. */
  once (event, listener) {
    let syncDispose = false;
    let disposable;
    disposable = event((value) => {
      listener(value);
      if (disposable) disposable.dispose();
      else syncDispose = true;
    });
    if (syncDispose) { disposable.dispose(); return noopDisposable; }
    return disposable;
  },
  /** A promise of the next firing, rejected with TaskCancelledError if `signal` aborts first. */
  toPromise (event, signal) {
    if (!signal) return new Promise(resolve => Event.once(event, resolve));
    if (signal.aborted) return Promise.reject(new TaskCancelledError());
    const toDispose = [];
    return new Promise((resolve, reject) => {
      const abortEvt = onAbort(signal);
      toDispose.push(abortEvt);
      toDispose.push(abortEvt.event(() => reject(new TaskCancelledError())));
      toDispose.push(Event.once(event, resolve));
    }).finally(() => { for (const d of toDispose) d.dispose(); });
  }
};

// ---------------------------------------------------------------- errors

class BrokenCircuitError extends Error {
  constructor (message = 'Execution prevented because the circuit breaker is open') {
    super(message);
    this.isBrokenCircuitError = true;
  }
}

class IsolatedCircuitError extends BrokenCircuitError {
  constructor () {
    super('Execution prevented because the circuit breaker is open');
    this.isIsolatedCircuitError = true;
  }
}

class HydratingCircuitError extends Error {
  constructor (message = 'Execution prevented because the circuit breaker is open') {
    super(message);
    this.isHydratingCircuitError = true;
  }
}

class TaskCancelledError extends Error {
  constructor (message = 'Operation cancelled') {
    super(message);
    this.message = message;
    this.isTaskCancelledError = true;
  }
}

class BulkheadRejectedError extends Error {
  constructor (executionSlots, queueSlots) {
    super(`Bulkhead capacity exceeded (0/${executionSlots} execution slots, 0/${queueSlots} available)`);
    this.isBulkheadRejectedError = true;
  }
}

const isError = (flag) => (e) => !!e && e instanceof Error && flag in e;
const isBrokenCircuitError = isError('isBrokenCircuitError');
const isBulkheadRejectedError = isError('isBulkheadRejectedError');
const isIsolatedCircuitError = isError('isIsolatedCircuitError');
const isTaskCancelledError = isError('isTaskCancelledError');
const isHydratingCircuitError = isError('isHydratingCircuitError');

// ---------------------------------------------------------------- signals

const neverAbortedSignal = new AbortController().signal;

function delay (ms, unref) {
  return new Promise(resolve => {
    const t = setTimeout(resolve, ms);
    if (unref) t.unref();
  });
}

function defer () {
  let resolve, reject;
  const promise = new Promise((res, rej) => { resolve = res; reject = rej; });
  return { resolve, reject, promise };
}

// ---------------------------------------------------------------- executor

const always = () => true;
const never = () => false;

const returnOrThrow = (r) => {
  if ('error' in r) throw r.error;
  if ('success' in r) return r.success;
  return r.value;
};

const stopwatch = () => { const t0 = performance.now(); return () => performance.now() - t0; };

/** Runs a function through a policy's filters: `{ success }`, `{ value }` (a handled result) or `{ error }` (a handled error). */
class ExecuteWrapper {
  constructor (errorFilter = never, resultFilter = never) {
    this.errorFilter = errorFilter;
    this.resultFilter = resultFilter;
    this.successEmitter = new EventEmitter();
    this.failureEmitter = new EventEmitter();
    this.onSuccess = this.successEmitter.addListener;
    this.onFailure = this.failureEmitter.addListener;
  }

  clone () { return new ExecuteWrapper(this.errorFilter, this.resultFilter); }

  /** No onSuccess / onFailure listener: the policies run the call inline (one async frame less). */
  get quiet () { return this.successEmitter.listeners === undefined && this.failureEmitter.listeners === undefined; }

  async invoke (fn, a, b) {
    const watch = this.successEmitter.listeners !== undefined || this.failureEmitter.listeners !== undefined ? stopwatch() : null;
    try {
      const value = await fn(a, b);
      if (!this.resultFilter(value)) {
        if (watch) this.successEmitter.emit({ duration: watch() });
        return { success: value };
      }
      if (watch) this.failureEmitter.emit({ duration: watch(), handled: true, reason: { value } });
      return { value };
    } catch (error) {
      const handled = this.errorFilter(error);
      if (watch) this.failureEmitter.emit({ duration: watch(), handled, reason: { error } });
      if (!handled) throw error;
      return { error };
    }
  }
}

// ---------------------------------------------------------------- backoffs

/** A backoff that waits `interval` ms every time. */
class ConstantBackoff {
  constructor (interval) { this.interval = interval; }
  next () { return constantInstance(this.interval); }
}
const constantInstance = (interval) => ({ duration: interval, next () { return this; } });

/** A backoff taking its durations from an array (the last one repeats). */
class IterableBackoff {
  constructor (durations) { this.durations = durations; }
  next (_context) { return iterableInstance(this.durations, 0); }
}
const iterableInstance = (durations, index) => ({
  duration: durations[index],
  next () { return index === durations.length - 1 ? this : iterableInstance(durations, index + 1); }
});

/** A backoff computed by `fn(context, state)`: a delay, or `{ delay, state }`. */
class DelegateBackoff {
  constructor (fn) { this.fn = fn; }
  next (context) { return delegateInstance(this.fn).next(context); }
}
const delegateInstance = (fn, state, current = 0) => ({
  duration: current,
  next (context) {
    const r = fn(context, state);
    return typeof r === 'number' ? delegateInstance(fn, state, r) : delegateInstance(fn, r.state, r.delay);
  }
});

// The core Backoff behind each options object and jitter (a seeded random
// stream of its own, seeded from Math.random), or null when the core refuses
// the numbers (initialDelay 0, fractions of a ms): those cases use
// cockatiel's formula as it is.
const coreBackoffs = new WeakMap();
function coreBackoff (options, jitter) {
  let byJitter = coreBackoffs.get(options);
  if (byJitter === undefined) coreBackoffs.set(options, byJitter = {});
  let b = byJitter[jitter];
  if (b === undefined) {
    // The core counts whole ms: fractional delays keep cockatiel's arithmetic.
    const whole = Number.isInteger(options.initialDelay) && (Number.isInteger(options.maxDelay) || options.maxDelay === Infinity);
    try {
      if (!whole) throw new RangeError('fractional');
      b = new CoreBackoff({
        kind: 'exponential',
        base: options.initialDelay,
        factor: 2,
        max: options.maxDelay,
        jitter,
        seed: Math.floor(Math.random() * Number.MAX_SAFE_INTEGER)
      });
    } catch {
      b = null;
    }
    byJitter[jitter] = b;
  }
  return b;
}

const attemptOf = (a) => (Number.isInteger(a) && a >= 0 && a <= 0xffffffff ? a : -1);

/** min(maxDelay, initialDelay * 2^attempts): the core's exponential schedule. */
const noJitterGenerator = (attempts = 0, options) => {
  const b = coreBackoff(options, 'none');
  const n = attemptOf(attempts);
  const d = b !== null && n >= 0 ? b.raw(n) : Math.min(options.maxDelay, options.initialDelay * 2 ** attempts);
  return [d, attempts + 1];
};

/** A random delay in [0, exponential delay]: the core's full jitter. */
const fullJitterGenerator = (attempts = 0, options) => {
  const b = coreBackoff(options, 'full');
  const n = attemptOf(attempts);
  if (b === null || n < 0) {
    const [d, next] = noJitterGenerator(attempts, options);
    return [Math.floor(Math.random() * d), next];
  }
  return [b.delay(n), attempts + 1];
};

/** A random delay in [delay / 2, delay]: the core's equal jitter. */
const halfJitterGenerator = (attempts = 0, options) => {
  const b = coreBackoff(options, 'equal');
  const n = attemptOf(attempts);
  if (b === null || n < 0) {
    const [d, next] = noJitterGenerator(attempts, options);
    return [Math.floor((d + Math.random() * d) / 2), next];
  }
  return [b.delay(n), attempts + 1];
};

// Polly's decorrelated jitter (V2), as cockatiel has it: the core's
// decorrelated jitter is AWS's (random between base and 3x the last delay),
// a different distribution, so this formula stays here (NOTES.md).
const P_FACTOR = 4.0;
const RP_SCALING = 1 / 1.4;
const decorrelatedJitterGenerator = (state, options) => {
  const [attempt, prev] = state || [0, 0];
  const t = attempt + Math.random();
  const next = Math.pow(options.exponent, t) * Math.tanh(Math.sqrt(P_FACTOR * t));
  const intrinsic = isFinite(next) ? Math.max(0, next - prev) : Infinity;
  return [Math.min(intrinsic * RP_SCALING * options.initialDelay, options.maxDelay), [attempt + 1, next]];
};

const exponentialDefaults = Object.freeze({
  generator: decorrelatedJitterGenerator,
  maxDelay: 30000,
  exponent: 2,
  initialDelay: 128
});

/** Exponential backoff; the generator picks the jitter (decorrelated by default). */
class ExponentialBackoff {
  constructor (options) {
    this.options = options ? { ...exponentialDefaults, ...options } : exponentialDefaults;
  }

  next () { return exponentialInstance(this.options).next(undefined); }
}
const exponentialInstance = (options, state, d = 0, attempt = -1) => ({
  duration: d,
  next () {
    const [nextDelay, nextState] = options.generator(state, options);
    return exponentialInstance(options, nextState, nextDelay, attempt + 1);
  }
});

// ---------------------------------------------------------------- breakers

const CircuitState = Object.freeze({
  Closed: 0,
  Open: 1,
  HalfOpen: 2,
  Isolated: 3,
  0: 'Closed',
  1: 'Open',
  2: 'HalfOpen',
  3: 'Isolated'
});

const COUNTED = 0;
const TRIPPED = 1;
const NOT_CLOSED = 2;
const U32 = 0xffffffff;

function coreBreaker (options) {
  options = { resetWindowOnClose: false, ...options };
  // cockatiel takes a NaN threshold and never trips on it (NaN compares
  // false): the core's manual breaker, which only the host opens.
  if (Number.isNaN(options.failureRate)) options = { ...options, failureRate: undefined, failureRateOff: true, manual: true };
  const b = native.coreBreaker(options);
  if ('problem' in b && typeof b.problem === 'string') {
    throw new RangeError(`fusewire: the core refused the breaker: ${b.field} ${b.problem}`);
  }
  return b;
}

/**
 * A cockatiel IBreaker whose window and trip rule are a core Breaker. The
 * policy asks success(state) / failure(state) -> "open now?". Successes
 * cannot trip, so those of one millisecond are counted in one native call,
 * before the next failure or in the next millisecond.
 */
class CoreCountedBreaker {
  constructor (options) {
    this._core = coreBreaker(options);
    this._pending = 0;
    this._at = 0;
    // A count window does not care when a success happened: no clock read.
    this._timed = options.span !== undefined;
    // Set by the CircuitBreakerPolicy that runs its states on this core.
    this._policy = false;
    // Policy mode: failures counted here that the core said cannot trip
    // (handed over, before the pending successes, with the next crossing),
    // and how many more may be.
    this._failed = 0;
    this._room = 0;
  }

  _flush () {
    if (this._policy) {
      if (this._pending !== 0 || this._failed !== 0) this._run(false, this._timed ? this._at : Date.now());
      return;
    }
    const n = this._pending;
    if (n === 0) return;
    this._pending = 0;
    if (!this._timed) this._at = Date.now();
    if (this._core.countSuccesses(n, this._at) === NOT_CLOSED) {
      this._core.close(this._at);
      this._core.countSuccesses(n, this._at);
    }
  }

  // ---- policy mode (the policy's states are this core's)

  /** Hands over what is pending (and one failure if `failure`); the core's state code. */
  _run (failure, now) {
    const r = this._core.run(this._failed, this._pending, failure, now);
    this._failed = 0;
    this._pending = 0;
    const room = Math.floor(r / 16);
    this._room = room;
    return r - room * 16;
  }

  /** A time window's outcomes are counted in their millisecond. */
  _tick () {
    const now = Date.now();
    if (now !== this._at) {
      if (this._pending !== 0 || this._failed !== 0) this._run(false, this._at);
      this._room = 0;
      this._at = now;
    }
  }

  /** A success while closed: counted with the next crossing (successes never trip). */
  _ok () {
    if (this._timed) this._tick();
    else if (this._pending === 0x3fffffff) this._run(false, Date.now());
    this._pending++;
  }

  /** A failure while closed: -1 if the core said it cannot trip, else the core's state code. */
  _fail () {
    if (this._timed) this._tick();
    if (this._room !== 0 && this._pending === 0) {
      this._room--;
      this._failed++;
      return -1;
    }
    return this._run(true, this._timed ? this._at : Date.now());
  }

  // ---- on its own (an IBreaker answering "open now?")

  _success () {
    if (!this._timed) {
      if (++this._pending === 1 << 20) this._flush();
      return;
    }
    const now = Date.now();
    if (this._pending !== 0 && now !== this._at) this._flush();
    this._at = now;
    this._pending++;
  }

  /**
   * Counts a failure; true when the core opened on it. The core is closed
   * again at once, keeping its window (resetWindowOnClose: false): in
   * cockatiel the breaker only answers "open now?", the policy holds the
   * state, and the window goes on counting.
   */
  _failure (untripped = false) {
    this._flush();
    const now = Date.now();
    let r = this._core.count(true, untripped, now);
    if (r === NOT_CLOSED) {
      this._core.close(now);
      r = this._core.count(true, untripped, now);
    }
    if (r === TRIPPED) this._core.close(now);
    return r === TRIPPED;
  }

  _reset () {
    this._pending = 0;
    this._failed = 0;
    this._room = 0;
    this._core.reset(Date.now());
  }

  /** The core window as it is (src/cockatiel.rs `ring`). */
  _ring () {
    this._flush();
    return this._core.ring();
  }

  _counts () {
    this._flush();
    const s = this._core.snapshot(Date.now());
    return s;
  }

  /** Counts `successes` and `failures` without tripping (a restored state). */
  _replay (outcomes, cursor) {
    this._reset();
    if (cursor !== undefined) this._core.clearAt(cursor);
    const now = Date.now();
    for (const failed of outcomes) {
      if (this._core.count(failed, true, now) === NOT_CLOSED) {
        this._core.close(now);
        this._core.count(failed, true, now);
      }
    }
  }
}

/**
 * Opens after `threshold` failures in a row (the core's consecutive-failures
 * rule). Once it has tripped, every further failure answers true until a
 * success, as cockatiel's count stays at or above the threshold.
 */
class ConsecutiveBreaker extends CoreCountedBreaker {
  constructor (threshold) {
    const t = Math.ceil(threshold);
    super(t >= 1 && t <= U32
      ? { failureRateOff: true, consecutiveFailures: t, minCalls: 1, count: 1 }
      : t < 1
        ? { failureRateOff: true, consecutiveFailures: 1, minCalls: 1, count: 1 }
        : { failureRateOff: true, manual: true, minCalls: 1, count: 1 });
    this.threshold = threshold;
    this._over = 0;
  }

  /**
   * Failures in a row. Under a policy, while it is not closed: cockatiel's
   * count, which goes on from the threshold by one per failed half-open
   * period (the core's reopens), as the core starts a new run on opening.
   */
  get state () {
    if (this._policy) {
      const s = this._counts();
      return s.state !== 'closed' && s.reopens > 0 ? Math.max(Math.ceil(this.threshold), 1) + s.reopens - 1 : s.consecutiveFailures;
    }
    return this._over > 0 ? Math.max(Math.ceil(this.threshold), 1) + this._over - 1 : this._counts().consecutiveFailures;
  }

  set state (n) {
    const t = Math.max(Math.ceil(this.threshold), 1);
    const v = Math.min(Number(n) || 0, U32);
    this._over = v >= t ? v - t + 1 : 0;
    this._replay(Array.from({ length: this._over > 0 ? 0 : v }, () => true));
  }

  success () {
    this._over = 0;
    this._success();
  }

  failure () {
    if (this._over > 0) {
      this._over++;
      return true;
    }
    if (this._failure()) {
      this._over = 1;
      return true;
    }
    return false;
  }
}

function checkThreshold (what, threshold) {
  if (threshold <= 0 || threshold >= 1) {
    throw new RangeError(`${what} threshold should be between (0, 1), got ${threshold}`);
  }
}

/**
 * Opens when more than `threshold` of the last `size` calls failed, once
 * `minimumNumberOfCalls` calls are in the window (the core's count window,
 * failure rate, comparison 'above', min calls).
 */
class CountBreaker extends CoreCountedBreaker {
  constructor ({ threshold, size, minimumNumberOfCalls = size }) {
    checkThreshold('CountBreaker', threshold);
    if (!Number.isSafeInteger(size) || size < 1) {
      throw new RangeError(`CountBreaker size should be a positive integer, got ${size}`);
    }
    if (!Number.isSafeInteger(minimumNumberOfCalls) || minimumNumberOfCalls < 1 || minimumNumberOfCalls > size) {
      throw new RangeError(`CountBreaker size should be an integer between (1, size), got ${minimumNumberOfCalls}`);
    }
    if (size > 1 << 20) {
      throw new RangeError(`CountBreaker size should be at most ${1 << 20} (fusewire's largest count window), got ${size}`);
    }
    super({ failureRate: threshold * 100, failureRateOff: false, comparison: 'above', minCalls: minimumNumberOfCalls, count: size });
    this.threshold = threshold;
    this.minimumNumberOfCalls = minimumNumberOfCalls;
    this.size = size;
  }

  /** cockatiel's shape, read from the core's ring (slot by slot, as cockatiel keeps it). */
  get state () {
    const ring = this._ring();
    const currentSample = ring.pop();
    let failures = 0;
    let successes = 0;
    const samples = ring.map(x => {
      if (x === 1) { successes++; return true; }
      if (x === 0) { failures++; return false; }
      return null;
    });
    return { samples, currentSample, failures, successes };
  }

  /**
   * Restores cockatiel's shape slot by slot: the calls are replayed oldest
   * first (from `currentSample` on) into a ring whose next slot is where
   * the oldest was.
   */
  set state (value) {
    const v = structuredClone(value);
    const outcomes = [];
    let cursor = 0;
    if (Array.isArray(v.samples) && v.samples.length > 0) {
      const n = v.samples.length;
      const from = Number.isInteger(v.currentSample) ? ((v.currentSample % n) + n) % n : 0;
      for (let i = 0; i < n; i++) {
        const s = v.samples[(from + i) % n];
        if (s === true) outcomes.push(false);
        else if (s === false) outcomes.push(true);
      }
      cursor = (((from - outcomes.length) % this.size) + this.size) % this.size;
    }
    this._replay(outcomes, cursor);
  }

  // cockatiel's fields, as read-only views of the core's window.
  /** The ring, slot by slot: true a success, false a failure, null unused. */
  get samples () { return this.state.samples; }
  /** The slot the next call goes into. */
  get currentSample () { return this._ring().pop(); }
  /** Successes in the window. */
  get successes () { return this._counts().counts.successes; }
  /** Failures in the window. */
  get failures () { return this._counts().counts.failures; }

  /** cockatiel's reset: an empty window, the next call in the same slot. */
  _reset () {
    const cursor = this._policy ? undefined : this._core.ring().pop();
    super._reset();
    if (cursor !== undefined) this._core.clearAt(cursor);
  }

  success (state) {
    if (state === CircuitState.HalfOpen) this._reset();
    this._success();
  }

  failure (state) {
    if (state !== CircuitState.Closed) {
      this._failure(true);
      return true;
    }
    return this._failure();
  }
}

/**
 * Opens when more than `threshold` of the calls in the last `duration` ms
 * failed, with at least `minimumRps` calls a second (the core's time
 * window: cockatiel's max(5, duration / 1 s) buckets, at most 64).
 */
class SamplingBreaker extends CoreCountedBreaker {
  constructor ({ threshold, duration: samplingDuration, minimumRps }) {
    checkThreshold('SamplingBreaker', threshold);
    const windowCount = Math.max(5, Math.ceil(samplingDuration / 1000));
    const windowSize = Math.round(samplingDuration / windowCount);
    const duration = windowSize * windowCount;
    const minimumRpms = minimumRps ? minimumRps / 1000 : 5 / (threshold * 1000);
    const minCalls = Math.min(Math.max(1, Math.ceil(duration * minimumRpms)), U32);
    super({
      failureRate: threshold * 100,
      failureRateOff: false,
      comparison: 'above',
      minCalls,
      span: Math.max(duration, 1),
      buckets: Math.min(windowCount, 64)
    });
    this.threshold = threshold;
    this.duration = duration;
    this.windowSize = windowSize;
    this.minimumRpms = minimumRpms;
  }

  /**
   * cockatiel's shape, read from the core's buckets as of the last call
   * (as cockatiel reads its own): `windows` slot by slot, `currentWindow`
   * the newest one's slot.
   */
  get state () {
    const r = this._ring();
    const len = r.pop();
    const head = r.pop();
    const n = r.length / 2;
    // Each bucket in the slot of its time (its start / its length, round
    // the ring): where cockatiel's windows sit when calls come every
    // window from its epoch, and the same after a save and restore.
    const at = Math.floor(head / len);
    const windows = new Array(n);
    let currentFailures = 0;
    let currentSuccesses = 0;
    for (let i = 0; i < n; i++) {
      const failures = r[2 * i];
      const successes = r[2 * i + 1];
      currentFailures += failures;
      currentSuccesses += successes;
      // A bucket no call reached reads as cockatiel's unused window.
      const startedAt = failures + successes === 0 ? 0 : Math.max(0, head - (n - 1 - i) * len);
      windows[(((at - (n - 1 - i)) % n) + n) % n] = { startedAt, failures, successes };
    }
    return { windows, currentWindow: at % n, currentFailures, currentSuccesses };
  }

  /**
   * Restores cockatiel's shape: each window's calls are counted at its
   * `startedAt`, oldest first, so they land in the core's bucket of that
   * time and leave the window when it does (a state without windows: its
   * calls counted now).
   */
  set state (value) {
    const v = structuredClone(value);
    if (!Array.isArray(v.windows)) {
      const outcomes = [];
      for (let i = 0; i < (v.currentFailures | 0); i++) outcomes.push(true);
      for (let i = 0; i < (v.currentSuccesses | 0); i++) outcomes.push(false);
      this._replay(outcomes);
      return;
    }
    // Reset at tick 0, not now: the core takes no time earlier than one it
    // has seen (into a breaker that already counted, the calls land now).
    this._pending = 0;
    this._failed = 0;
    this._room = 0;
    this._core.reset(0);
    const windows = v.windows.filter(w => w && (w.failures > 0 || w.successes > 0)).sort((a, b) => a.startedAt - b.startedAt);
    for (const w of windows) {
      const at = Number(w.startedAt) || 0;
      for (let i = 0; i < (w.failures | 0); i++) this._core.count(true, true, at);
      if (w.successes > 0) this._core.countSuccesses(w.successes | 0, at);
    }
  }

  // cockatiel's fields, as read-only views of the core's window.
  /** The buckets, slot by slot: `{ startedAt, failures, successes }`. */
  get windows () { return this.state.windows; }
  /** The newest bucket's slot in `windows`. */
  get currentWindow () { return this.state.currentWindow; }
  /** Failures in the window (as of the last call). */
  get currentFailures () { return this.state.currentFailures; }
  /** Successes in the window (as of the last call). */
  get currentSuccesses () { return this.state.currentSuccesses; }

  success (state) {
    if (state === CircuitState.HalfOpen) this._reset();
    this._success();
  }

  failure (state) {
    if (state !== CircuitState.Closed) {
      this._failure(true);
      return true;
    }
    return this._failure();
  }
}

// ---------------------------------------------------------------- policies

class NoopPolicy {
  constructor () {
    this.executor = new ExecuteWrapper();
    this.onSuccess = this.executor.onSuccess;
    this.onFailure = this.executor.onFailure;
  }

  async execute (fn, signal = neverAbortedSignal) {
    return returnOrThrow(await this.executor.invoke(fn, { signal }));
  }
}

class RetryPolicy {
  constructor (options, executor) {
    this.options = options;
    this.executor = executor;
    this.onGiveUpEmitter = new EventEmitter();
    this.onRetryEmitter = new EventEmitter();
    /** Fires when a call is retried, before the backoff. */
    this.onRetry = this.onRetryEmitter.addListener;
    /** Fires when the policy stops retrying. */
    this.onGiveUp = this.onGiveUpEmitter.addListener;
    /** The last attempt failed: calls take the path with the cheaper failure. */
    this.failing = false;
  }

  get onSuccess () { return this.executor.onSuccess; }
  get onFailure () { return this.executor.onFailure; }

  /** The retry timer no longer keeps the process alive. */
  dangerouslyUnref () {
    return new RetryPolicy({ ...this.options, unref: true }, this.executor.clone());
  }

  execute (fn, signal = neverAbortedSignal) {
    const ex = this.executor;
    if (!ex.quiet) return this.executeSlow(fn, signal);
    // Nobody listening to onSuccess/onFailure: the first attempt is one
    // reaction on the call's own promise, no async frame of ours; a
    // failure goes on in retryFrom (async) or gives up at once.
    let r;
    try {
      r = fn({ attempt: 0, signal });
    } catch (error) {
      r = Promise.reject(error);
    }
    if (!(r instanceof Promise)) r = Promise.resolve(r);
    if (!this.failing) {
      // The cheapest success; a failure that gives up is rethrown from
      // the reaction (dear in V8), so after one the calls take the path below.
      return r.then(
        (value) => ex.resultFilter(value) ? this.failed({ value }, fn, signal) : this.succeeded(value),
        (error) => {
          if (!ex.errorFilter(error)) throw error;
          return this.failed({ error }, fn, signal);
        }
      );
    }
    // After a failure: settled through the promise's own resolve/reject.
    return new Promise((resolve, reject) => {
      r.then((value) => {
        try {
          resolve(ex.resultFilter(value) ? this.failed({ value }, fn, signal) : this.succeeded(value));
        } catch (e) {
          reject(e);
        }
      }, (error) => {
        if (!ex.errorFilter(error)) {
          reject(error);
          return;
        }
        let retried;
        try {
          retried = this.willRetry({ error }, 0, signal, true);
        } catch (e) {
          reject(e);
          return;
        }
        if (retried) resolve(this.retryFrom(fn, signal, 0, { error }));
        else reject(error);
      });
    });
  }

  succeeded (value) {
    this.failing = false;
    if (this.options.budget) this.options.budget.recordSuccess();
    return value;
  }

  /** The first attempt failed with `result` (handled): retry, or give up. */
  failed (result, fn, signal) {
    if (this.willRetry(result, 0, signal, true)) return this.retryFrom(fn, signal, 0, result);
    return returnOrThrow(result);
  }

  /**
   * Attempt `retries` failed with `result`: counts it in the budget and
   * says whether to retry (taking the budget's retry); giving up emits
   * onGiveUp (when `emit`).
   */
  willRetry (result, retries, signal, emit) {
    this.failing = true;
    const { maxAttempts, budget } = this.options;
    if (budget) budget.recordFailure();
    if (!signal.aborted && retries < maxAttempts && (!budget || budget.tryRetry())) return true;
    if (emit) this.onGiveUpEmitter.emit(result);
    return false;
  }

  /** Attempt `retries` failed with `result` and is retried: the backoff, then the next attempts. */
  async retryFrom (fn, signal, retries, result) {
    const factory = this.options.backoff || new ConstantBackoff(0);
    let backoff;
    for (;;) {
      const context = { attempt: retries + 1, signal, result };
      backoff = backoff ? backoff.next(context) : factory.next(context);
      const wait = backoff.duration;
      const waiting = delay(wait, !!this.options.unref);
      this.onRetryEmitter.emit({ ...result, delay: wait, attempt: retries + 1 });
      await waiting;
      retries++;
      result = await this.attempt(fn, signal, retries);
      if ('success' in result) return this.succeeded(result.success);
      if (!this.willRetry(result, retries, signal, true)) return returnOrThrow(result);
    }
  }

  /** One attempt: `{ success }`, or a handled `{ error }` / `{ value }`; an unhandled error throws. */
  async attempt (fn, signal, n) {
    const ex = this.executor;
    if (!ex.quiet) return ex.invoke(fn, { attempt: n, signal });
    let value;
    try {
      value = await fn({ attempt: n, signal });
    } catch (error) {
      if (!ex.errorFilter(error)) throw error;
      return { error };
    }
    return ex.resultFilter(value) ? { value } : { success: value };
  }

  async executeSlow (fn, signal) {
    const result = await this.attempt(fn, signal, 0);
    if ('success' in result) return this.succeeded(result.success);
    if (this.willRetry(result, 0, signal, true)) return this.retryFrom(fn, signal, 0, result);
    return returnOrThrow(result);
  }
}

function samplingOptions (o) {
  const s = o ?? { calls: 1, threshold: 0 };
  if (!Number.isSafeInteger(s.calls) || s.calls < 1) {
    throw new RangeError(`CircuitBreaker halfOpenSampling.calls should be a positive integer, got ${s.calls}`);
  }
  if (!Number.isFinite(s.threshold) || s.threshold < 0 || s.threshold >= 1) {
    throw new RangeError(`CircuitBreaker halfOpenSampling.threshold should be between [0, 1), got ${s.threshold}`);
  }
  return { calls: s.calls, threshold: s.threshold };
}

// The core's states as codes (src/cockatiel.rs): the same numbers as
// CircuitState (Isolated is the core's forced open); MOVED is added when the
// call that answered moved the breaker; ROOM x n: n failures JS may count.
const CLOSED = 0;
const OPEN = 1;
const HALF_OPEN = 2;
const FORCED = 3;
const STATE = 7;
const MOVED = 8;

/** A core breaker only the policy opens: for an IBreaker that is not one of ours. */
const hostCore = () => coreBreaker({ failureRateOff: true, manual: true, minCalls: 1, count: 1 });

/**
 * cockatiel's CircuitBreakerPolicy. Its states (closed; open for
 * `halfOpenAfter` or a user backoff's delay; half-open on the next call,
 * with `halfOpenSampling` probes; isolated) are the core Breaker's, the
 * same one that holds the breaker's window (src/cockatiel.rs). This class
 * keeps what is JavaScript's: the events, the user's backoff objects, the
 * promise that callers waiting on a half-open period await, and the count
 * of isolate() handles. `this.st` is the core's state as its last answer
 * gave it (every move goes through a core call that answers it).
 */
class CircuitBreakerPolicy {
  constructor (options, executor) {
    this.options = options;
    this.executor = executor;
    this.breakEmitter = new EventEmitter();
    this.resetEmitter = new EventEmitter();
    this.halfOpenEmitter = new EventEmitter();
    this.stateChangeEmitter = new EventEmitter();
    this.innerLastFailure = undefined;
    /** Fires when the breaker opens (with the failure, or `{ isolated: true }`). */
    this.onBreak = this.breakEmitter.addListener;
    /** Fires when the breaker closes. */
    this.onReset = this.resetEmitter.addListener;
    /** Fires when the breaker lets a test call through. */
    this.onHalfOpen = this.halfOpenEmitter.addListener;
    /** Fires on every state change. */
    this.onStateChange = this.stateChangeEmitter.addListener;
    this.halfOpenAfterBackoffFactory = typeof options.halfOpenAfter === 'number'
      ? new ConstantBackoff(options.halfOpenAfter)
      : options.halfOpenAfter;
    this.halfOpenSampling = samplingOptions(options.halfOpenSampling);
    const breaker = options.breaker;
    // One of ours: its core holds the window and the states. Any other
    // IBreaker judges, and a manual core holds the states.
    this.counted = breaker instanceof CoreCountedBreaker ? breaker : null;
    if (options.initialState) breaker.state = options.initialState.breakerState;
    this.core = this.counted ? breaker._core : hostCore();
    if (this.counted) breaker._policy = true;
    // A number: the core's own open period. A backoff, or a number the
    // core's constant backoff does not take (0, negative, NaN: half-open
    // on the next call): each period is set after the core opens
    // (core.openFor).
    this.periods = typeof options.halfOpenAfter !== 'number' || !(options.halfOpenAfter > 0);
    const { calls, threshold } = this.halfOpenSampling;
    this.core.policy(this.periods ? Infinity : options.halfOpenAfter, calls, Math.floor(threshold * calls));
    this.st = CLOSED;
    /** The core's "not before" for an open breaker (its retry_after), so refusals need no crossing. */
    this.retryAt = 0;
    /** The user backoff of the current run of openings. */
    this.backoff = undefined;
    /** Settled when a half-open period ends; callers beyond its probes wait for it. */
    this.decision = null;
    this.isolations = 0;
    /** The last closed call failed: calls take the path with the cheaper failure. */
    this.failing = false;
    this.onOk = (value) => this.resolved(value);
    this.onErr = (error) => this.rejected(error, neverAbortedSignal);
    if (options.initialState) this.restore(options.initialState.ownState);
  }

  restore (own) {
    const v = own.value;
    if (v === CircuitState.Open || v === CircuitState.HalfOpen) {
      this.innerLastFailure = { error: new HydratingCircuitError() };
      let backoff = this.halfOpenAfterBackoffFactory.next({ attempt: 1, result: this.innerLastFailure, signal: neverAbortedSignal });
      for (let i = 2; i <= own.attemptNo; i++) {
        backoff = backoff.next({ attempt: i, result: this.innerLastFailure, signal: neverAbortedSignal });
      }
      this.backoff = backoff;
      const attempt = Math.min(Math.max(Number(own.attemptNo) || 1, 1), U32);
      this.st = this.core.restoreOpen(Date.now(), Number(own.openedAt) || 0, backoff.duration, attempt) & STATE;
    } else if (v === CircuitState.Isolated) {
      this.core.forceOpen(Date.now());
      this.st = FORCED;
      this.isolations = own.counters | 0;
    }
  }

  get onSuccess () { return this.executor.onSuccess; }
  get onFailure () { return this.executor.onFailure; }
  get state () { return this.st; }
  get lastFailure () { return this.innerLastFailure; }

  /** Holds the breaker open until every handle is disposed. */
  isolate () {
    if (this.st !== FORCED) {
      if (this.counted) this.counted._flush();
      this.core.forceOpen(Date.now());
      this.isolations = 0;
      this.moved(FORCED | MOVED, { isolated: true }, neverAbortedSignal);
    }
    this.isolations++;
    let disposed = false;
    return {
      dispose: () => {
        if (disposed) return;
        disposed = true;
        if (this.st === FORCED && !--this.isolations) {
          this.core.close(Date.now());
          this.moved(CLOSED | MOVED, undefined, neverAbortedSignal);
        }
      }
    };
  }

  /** Applies a core answer: the state it gives, and the events of a move. */
  moved (code, reason, signal) {
    const from = this.st;
    const to = code & STATE;
    this.st = to;
    if (!(code & MOVED) || to === from) return;
    const decision = from === HALF_OPEN ? this.decision : null;
    if (decision !== null) this.decision = null;
    const judge = this.counted ? null : this.options.breaker;
    switch (to) {
      case OPEN: {
        if (from === HALF_OPEN && judge) judge.failure(CircuitState.HalfOpen);
        this.retryAt = 0;
        if (this.periods) {
          const attempt = from === HALF_OPEN ? this.core.snapshot(Date.now()).reopens : 1;
          const context = { attempt, result: reason, signal };
          try {
            this.backoff = from === HALF_OPEN && this.backoff ? this.backoff.next(context) : this.halfOpenAfterBackoffFactory.next(context);
          } catch (e) {
            // No period (a halfOpenAfter that is no backoff): cockatiel
            // throws before it opens, so the breaker stays closed.
            this.core.close(Date.now());
            this.st = CLOSED;
            throw e;
          }
          this.core.openFor(this.backoff.duration);
        }
        if (decision) decision.resolve();
        this.breakEmitter.emit(reason);
        this.stateChangeEmitter.emit(CircuitState.Open);
        return;
      }
      case HALF_OPEN:
        this.decision = defer();
        this.halfOpenEmitter.emit();
        this.stateChangeEmitter.emit(CircuitState.HalfOpen);
        return;
      case CLOSED:
        if (from === HALF_OPEN && judge) judge.success(CircuitState.HalfOpen);
        if (decision) decision.resolve();
        this.resetEmitter.emit();
        this.stateChangeEmitter.emit(CircuitState.Closed);
        return;
      case FORCED:
        if (decision) decision.resolve();
        this.breakEmitter.emit({ isolated: true });
        this.stateChangeEmitter.emit(CircuitState.Isolated);
    }
  }

  /** A call that began closed succeeded (one that ends after a move is not counted). */
  success () {
    if (this.st !== CLOSED) return;
    if (this.counted) this.counted._ok();
    else this.options.breaker.success(CircuitState.Closed);
  }

  /** A call that began closed failed (`result`: its handled error or value). */
  failure (result, signal) {
    this.innerLastFailure = result;
    if (this.st !== CLOSED) return;
    let code;
    if (this.counted) {
      code = this.counted._fail();
      if (code === -1) return;
    } else {
      if (!this.options.breaker.failure(CircuitState.Closed)) return;
      this.core.trip(Date.now());
      code = this.core.stateCode | MOVED;
    }
    this.moved(code, result, signal);
  }

  execute (fn, signal = neverAbortedSignal) {
    if (this.st !== CLOSED) {
      // Refused: a rejected promise, not a throw from an async function
      // (the error's stack is the dear part either way), made here, one
      // frame up (the stack it captures is one frame shorter).
      if (this.st === FORCED) return Promise.reject(new IsolatedCircuitError());
      if (this.st === OPEN && Date.now() < this.retryAt) return Promise.reject(new BrokenCircuitError());
      return this.executeAsking(fn, signal);
    }
    if (!this.executor.quiet) return this.executeSlow(fn, signal);
    // Closed, nobody listening to onSuccess/onFailure: no async frame of
    // ours, one reaction on the call's own promise (an error thrown
    // synchronously becomes the rejection, as in an async function).
    let r;
    try {
      r = fn({ signal });
    } catch (error) {
      r = Promise.reject(error);
    }
    if (!(r instanceof Promise)) r = Promise.resolve(r);
    if (!this.failing) {
      // The cheapest success: a reaction whose value passes through. A
      // handled error is rethrown from it, which V8 makes dear (about a
      // microsecond), so after one the calls take the path below.
      return r.then(this.onOk, signal === neverAbortedSignal ? this.onErr : (error) => this.rejected(error, signal));
    }
    // After a failure: the promise's own reject, no throw (the cheapest
    // failure), until a success. Both paths settle in the same tick.
    return new Promise((resolve, reject) => {
      r.then((value) => {
        try {
          this.resolved(value);
        } catch (e) {
          reject(e);
          return;
        }
        resolve(value);
      }, (error) => {
        try {
          if (this.executor.errorFilter(error)) this.failure({ error }, signal);
        } catch (e) {
          reject(e);
          return;
        }
        reject(error);
      });
    });
  }

  resolved (value) {
    this.failing = false;
    if (!this.executor.resultFilter(value)) this.success();
    else this.failure({ value }, neverAbortedSignal);
    return value;
  }

  rejected (error, signal) {
    this.failing = true;
    if (this.executor.errorFilter(error)) this.failure({ error }, signal);
    throw error;
  }

  async executeSlow (fn, signal) {
    if (this.st !== CLOSED) return this.execute(fn, signal);
    const result = await this.executor.invoke(fn, { signal });
    if ('success' in result) this.success();
    else this.failure(result, signal);
    return returnOrThrow(result);
  }

  async executeAsking (fn, signal) {
    const now = Date.now();
    const permit = this.core.acquire(now);
    if (permit < 0) {
      if (permit === -0.5) {
        // Half-open with every probe out: wait for the verdict, then go again.
        if (this.decision) await this.decision.promise;
        if (this.st === CLOSED && signal.aborted) throw new TaskCancelledError();
        return this.execute(fn, signal);
      }
      if (permit !== -Infinity) this.retryAt = now - 1 - permit;
      throw new BrokenCircuitError();
    }
    this.moved(this.core.stateCode | MOVED, undefined, signal);
    if (this.st === CLOSED) {
      this.core.settle(permit, 2, now);
      return this.execute(fn, signal);
    }
    let result;
    try {
      result = await this.executor.invoke(fn, { signal });
    } catch (err) {
      // An error this breaker does not handle counts as a success here.
      this.moved(this.core.settle(permit, 0, Date.now()), undefined, signal);
      throw err;
    }
    if ('success' in result) this.moved(this.core.settle(permit, 0, Date.now()), undefined, signal);
    else {
      this.innerLastFailure = result;
      this.moved(this.core.settle(permit, 1, Date.now()), result, signal);
    }
    return returnOrThrow(result);
  }

  /** The state to pass back as `initialState` (JSON-serialisable). */
  toJSON () {
    const st = this.st;
    let ownState;
    if (st === CLOSED) ownState = { value: CircuitState.Closed };
    else if (st === FORCED) ownState = { value: CircuitState.Isolated, counters: this.isolations };
    else {
      const s = this.core.snapshot(Date.now());
      ownState = st === HALF_OPEN
        ? { value: CircuitState.Open, openedAt: 0, attemptNo: s.reopens + 1 }
        : { value: CircuitState.Open, openedAt: s.since, attemptNo: s.reopens };
    }
    return { ownState, breakerState: this.options.breaker.state };
  }
}

const TimeoutStrategy = Object.freeze({ Cooperative: 'optimistic', Aggressive: 'aggressive' });

/**
 * The calls of one TimeoutPolicy waiting for their deadline, oldest first:
 * every call has the same duration, so deadlines come in order and one
 * timer (armed for the oldest) serves them all. A call that ends leaves
 * the list at once; the timer is cleared when the list is empty.
 */
class Deadlines {
  constructor (duration, unref) {
    // setTimeout's reading of a delay: a number from 1 to 2^31 - 1, else 1.
    const d = Number(duration);
    this.duration = d >= 1 && d <= 0x7fffffff ? d : 1;
    this.unref = unref;
    this.head = null;
    this.tail = null;
    this.timer = null;
    this.armedFor = null;
    this.idle = false;
    this.onTimer = () => this.expire();
  }

  add (call) {
    call.at = Date.now() + this.duration;
    call.prev = this.tail;
    if (this.tail === null) this.head = call; else this.tail.next = call;
    this.tail = call;
    if (this.timer === null) this.arm(call, this.duration);
    else if (this.idle) {
      // The timer armed for an earlier call (now gone) fires first and re-arms.
      this.idle = false;
      if (!this.unref) this.timer.ref();
    }
  }

  remove (call) {
    if (call.at === -1) return;
    call.at = -1;
    if (call.prev === null) this.head = call.next; else call.prev.next = call.next;
    if (call.next === null) this.tail = call.prev; else call.next.prev = call.prev;
    call.prev = call.next = null;
    if (this.head === null && this.timer !== null && !this.idle) {
      // Nothing waits: the timer no longer keeps the process alive, and is
      // not re-armed when it fires (a new call refs it again: cheaper than
      // clearTimeout and setTimeout per call).
      this.idle = true;
      this.timer.unref();
    }
  }

  arm (call, wait) {
    this.idle = false;
    this.armedFor = call;
    this.timer = setTimeout(this.onTimer, wait);
    if (this.unref) this.timer.unref();
  }

  expire () {
    this.timer = null;
    this.idle = false;
    const armed = this.armedFor;
    this.armedFor = null;
    const now = Date.now();
    // The call the timer was armed for is due (setTimeout's clock, not
    // Date.now(), decides, as a timer per call would); later ones by `at`.
    while (this.head !== null && (this.head === armed || this.head.at <= now)) {
      const c = this.head;
      this.remove(c);
      c.fire();
    }
    if (this.head !== null && this.timer === null) this.arm(this.head, Math.max(0, this.head.at - now));
  }
}

/** One call under a timeout: its AbortController is made when the function reads `signal`. */
class TimeoutCall {
  constructor (policy, parent) {
    this.policy = policy;
    this.parent = parent;
    this.ctrl = undefined;
    this.aborted = false;
    this.reason = undefined;
    this.listening = true;
    this.cancel = undefined;
    this.at = -1;
    this.prev = null;
    this.next = null;
    this.onParentAbort = undefined;
    const call = this;
    this.context = { get signal () { return call.signal; } };
  }

  get signal () {
    if (this.ctrl === undefined) {
      this.ctrl = new AbortController();
      if (this.aborted) this.ctrl.abort(this.reason);
    }
    return this.ctrl.signal;
  }

  /** The deadline passed (or the parent signal aborted). */
  fire (reason) {
    if (this.aborted || !this.listening) return;
    this.aborted = true;
    this.reason = reason === undefined ? new DOMException('This operation was aborted', 'AbortError') : reason;
    if (this.listening) this.policy.timeoutEmitter.emit();
    if (this.ctrl !== undefined) this.ctrl.abort(this.reason);
    if (this.cancel !== undefined) this.cancel();
  }
}

class TimeoutPolicy {
  constructor (duration, options, executor = new ExecuteWrapper(), unref = false) {
    this.duration = duration;
    this.options = options;
    this.executor = executor;
    this.unref = unref;
    this.timeoutEmitter = new EventEmitter();
    /** Fires when a call times out (or its signal aborts). */
    this.onTimeout = this.timeoutEmitter.addListener;
    this.deadlines = new Deadlines(duration, unref);
  }

  get onFailure () { return this.executor.onFailure; }
  get onSuccess () { return this.executor.onSuccess; }

  /** The timeout timer no longer keeps the process alive. */
  dangerouslyUnref () {
    return new TimeoutPolicy(this.duration, this.options, this.executor, true);
  }

  async execute (fn, signal) {
    const call = new TimeoutCall(this, signal);
    if (signal !== undefined && signal !== neverAbortedSignal) {
      if (signal.aborted) call.fire(signal.reason);
      else {
        call.onParentAbort = () => call.fire(signal.reason);
        signal.addEventListener('abort', call.onParentAbort, { once: true });
      }
    }
    if (!call.aborted) this.deadlines.add(call);
    try {
      // The signal is made when the function can see it: its context's
      // `signal` read, or a second parameter declared (fn.length > 1).
      if (this.options.strategy === TimeoutStrategy.Cooperative) {
        if (this.executor.quiet) return await fn(call.context, fn.length > 1 ? call.signal : undefined);
        return returnOrThrow(await this.executor.invoke(fn, call.context, fn.length > 1 ? call.signal : undefined));
      }
      if (this.executor.quiet) return await this.race(fn, call);
      return returnOrThrow(await this.executor.invoke(() => this.race(fn, call)));
    } finally {
      call.listening = false;
      this.deadlines.remove(call);
      if (call.onParentAbort !== undefined) signal.removeEventListener('abort', call.onParentAbort);
      if (this.options.abortOnReturn !== false) {
        if (call.ctrl === undefined) call.aborted = true;
        else if (!call.ctrl.signal.aborted) call.ctrl.abort();
      }
    }
  }

  race (fn, call) {
    const timedOut = () => new TaskCancelledError(`Operation timed out after ${this.duration}ms`);
    if (call.aborted) {
      // Aborted before it started: cockatiel still runs the function and
      // races it against the (already fired) abort.
      let r;
      try { r = fn(call.context, fn.length > 1 ? call.signal : undefined); } catch (e) { r = Promise.reject(e); }
      return Promise.race([Promise.resolve(r), Promise.resolve().then(() => { throw timedOut(); })]);
    }
    return new Promise((resolve, reject) => {
      call.cancel = () => reject(timedOut());
      let r;
      try {
        r = fn(call.context, fn.length > 1 ? call.signal : undefined);
      } catch (e) {
        reject(e);
        return;
      }
      Promise.resolve(r).then(resolve, reject);
    });
  }
}

class BulkheadPolicy {
  constructor (capacity, queueCapacity) {
    this.capacity = capacity;
    this.queueCapacity = queueCapacity;
    this.queue = [];
    this.onRejectEmitter = new EventEmitter();
    this.executor = new ExecuteWrapper();
    this.onSuccess = this.executor.onSuccess;
    this.onFailure = this.executor.onFailure;
    /** Fires when a call is refused. */
    this.onReject = this.onRejectEmitter.addListener;
    // The slots are a core Bulkhead (no lease: a slot is held until the
    // call settles, as in cockatiel); a capacity it cannot hold (0, NaN,
    // fractions) counts in JS as cockatiel does.
    this.core = Number.isInteger(capacity) && capacity >= 1 && capacity <= U32
      ? new CoreBulkhead({ limit: capacity, lease: Number.MAX_SAFE_INTEGER })
      : null;
    this.jsActive = 0;
  }

  get active () { return this.core === null ? this.jsActive : this.core.inUse; }
  get executionSlots () { return this.capacity - this.active; }
  get queueSlots () { return this.queueCapacity - this.queue.length; }

  _acquire () {
    if (this.core === null) {
      if (this.jsActive < this.capacity) { this.jsActive++; return -2; }
      return -1;
    }
    const slot = this.core.acquireSlot('normal', 0);
    return slot === null ? -1 : slot;
  }

  _release (slot) {
    if (slot === -2) this.jsActive--;
    else this.core.releaseSlot(slot, 0);
  }

  async execute (fn, signal = neverAbortedSignal) {
    if (signal.aborted) throw new TaskCancelledError();
    const slot = this._acquire();
    if (slot !== -1) {
      try {
        return await fn({ signal });
      } finally {
        this._release(slot);
        this.dequeue();
      }
    }
    if (this.queue.length < this.queueCapacity) {
      const { resolve, reject, promise } = defer();
      this.queue.push({ signal, fn, resolve, reject });
      return promise;
    }
    this.onRejectEmitter.emit();
    throw new BulkheadRejectedError(this.capacity, this.queueCapacity);
  }

  dequeue () {
    const item = this.queue.shift();
    if (!item) return;
    Promise.resolve().then(() => {
      if (item.signal.aborted) {
        item.reject(new TaskCancelledError());
        this.dequeue();
        return;
      }
      this.execute(item.fn, item.signal).then(item.resolve, item.reject);
    });
  }
}

class FallbackPolicy {
  constructor (executor, value) {
    this.executor = executor;
    this.value = value;
  }

  get onSuccess () { return this.executor.onSuccess; }
  get onFailure () { return this.executor.onFailure; }

  async execute (fn, signal = neverAbortedSignal) {
    const result = await this.executor.invoke(fn, { signal });
    if ('success' in result) return result.success;
    return this.value();
  }
}

// ---------------------------------------------------------------- builders

const typeFilter = (cls, predicate) => predicate
  ? (v) => v instanceof cls && predicate(v)
  : (v) => v instanceof cls;

class Policy {
  constructor (options) { this.options = options; }

  orType (cls, predicate) {
    const filter = typeFilter(cls, predicate);
    return new Policy({ ...this.options, errorFilter: e => this.options.errorFilter(e) || filter(e) });
  }

  orWhen (predicate) {
    return new Policy({ ...this.options, errorFilter: e => this.options.errorFilter(e) || predicate(e) });
  }

  orWhenResult (predicate) {
    return new Policy({ ...this.options, resultFilter: r => this.options.resultFilter(r) || predicate(r) });
  }

  orResultType (cls, predicate) {
    const filter = typeFilter(cls, predicate);
    return new Policy({ ...this.options, resultFilter: r => this.options.resultFilter(r) || filter(r) });
  }
}

const noop = new NoopPolicy();
const handleAll = new Policy({ errorFilter: always, resultFilter: never });
const handleType = (cls, predicate) => new Policy({ errorFilter: typeFilter(cls, predicate), resultFilter: never });
const handleWhen = (predicate) => new Policy({ errorFilter: predicate, resultFilter: never });
const handleResultType = (cls, predicate) => new Policy({ errorFilter: never, resultFilter: typeFilter(cls, predicate) });
const handleWhenResult = (predicate) => new Policy({ errorFilter: never, resultFilter: predicate });

const bulkhead = (limit, queue = 0) => new BulkheadPolicy(limit, queue);

function usePolicy (policy) {
  return (_target, _key, descriptor) => {
    const inner = descriptor.value;
    if (typeof inner !== 'function') {
      throw new Error(`Can only decorate functions with @cockatiel, got ${typeof inner}`);
    }
    descriptor.value = function (...args) {
      const signal = args[args.length - 1] instanceof AbortSignal ? args.pop() : undefined;
      return policy.execute(context => inner.apply(this, [...args, context]), signal);
    };
  };
}

function timeout (duration, strategyOrOpts) {
  return new TimeoutPolicy(duration, typeof strategyOrOpts === 'string' ? { strategy: strategyOrOpts } : strategyOrOpts);
}

// wrap()'s contexts merge as cockatiel's spread does, except that a lazy
// `signal` (a timeout's) stays lazy.
function merge (a, b) {
  const out = {};
  for (const o of [a, b]) {
    for (const k in o) {
      const d = Object.getOwnPropertyDescriptor(o, k);
      if (d !== undefined && d.get !== undefined) Object.defineProperty(out, k, { get: d.get, enumerable: true, configurable: true });
      else out[k] = o[k];
    }
  }
  return out;
}

function wrap (...p) {
  return {
    _altReturn: undefined,
    onFailure: p[0].onFailure,
    onSuccess: p[0].onSuccess,
    wrapped: p,
    execute (fn, signal) {
      const run = (context, i) => i === p.length
        ? fn(context)
        : p[i].execute(next => run(merge(context, next), i + 1), context.signal);
      return Promise.resolve(run({ signal }, 0));
    }
  };
}

/** Retries with `backoff` (default none) up to `maxAttempts` (default Infinity); `budget`: a fusewire RetryBudget. */
function retry (policy, opts) {
  if (opts.budget !== undefined && !(opts.budget && typeof opts.budget.tryRetry === 'function')) {
    throw new TypeError('fusewire: retry budget must be a fusewire RetryBudget');
  }
  return new RetryPolicy(
    { backoff: opts.backoff || new ConstantBackoff(0), maxAttempts: opts.maxAttempts ?? Infinity, budget: opts.budget },
    new ExecuteWrapper(policy.options.errorFilter, policy.options.resultFilter)
  );
}

function circuitBreaker (policy, opts) {
  return new CircuitBreakerPolicy(opts, new ExecuteWrapper(policy.options.errorFilter, policy.options.resultFilter));
}

function fallback (policy, valueOrFactory) {
  return new FallbackPolicy(
    new ExecuteWrapper(policy.options.errorFilter, policy.options.resultFilter),
    typeof valueOrFactory === 'function' ? valueOrFactory : () => valueOrFactory
  );
}

// ---------------------------------------------------------------- mixing

class TokenBucketRejectedError extends Error {
  constructor (retryAfter) {
    super(`Rate limit exceeded: a token is there in ${retryAfter} ms`);
    this.isTokenBucketRejectedError = true;
    this.retryAfter = retryAfter;
  }
}

/**
 * A fusewire TokenBucket as a cockatiel policy for wrap(): each execution
 * takes `cost` tokens; without `wait` a call with none left is refused
 * with TokenBucketRejectedError (its `retryAfter` is the core's exact
 * wait), with `wait: true` it waits for them (cancelled by the signal).
 */
function tokenBucket (bucket, { cost = 1, wait = false } = {}) {
  if (!bucket || typeof bucket.tryAcquire !== 'function') throw new TypeError('fusewire: tokenBucket() takes a fusewire TokenBucket');
  const executor = new ExecuteWrapper();
  return {
    onSuccess: executor.onSuccess,
    onFailure: executor.onFailure,
    async execute (fn, signal = neverAbortedSignal) {
      if (wait) {
        try {
          await bucket.take(cost, { signal });
        } catch (e) {
          if (signal.aborted) throw new TaskCancelledError();
          throw e;
        }
      } else {
        const r = bucket.tryAcquire(cost);
        if (r.result !== 'granted') throw new TokenBucketRejectedError(r.result === 'denied' ? r.retryAfter : Infinity);
      }
      return returnOrThrow(await executor.invoke(fn, { signal }));
    }
  };
}

const isTokenBucketRejectedError = isError('isTokenBucketRejectedError');

/**
 * A fusewire Pool as a cockatiel policy for wrap(): each execution picks an
 * endpoint (the core's pick, ejections and fail-overs: `Pool#call`), and
 * the function gets it in its context as `endpoint` (and the `pick`).
 * `retries` caps the fail-overs of one execution (default: the pool's).
 * An aborted signal stops further fail-overs: the next one is not started.
 */
function pool (endpoints, { retries } = {}) {
  if (!endpoints || typeof endpoints.call !== 'function' || typeof endpoints.pick !== 'function') {
    throw new TypeError('fusewire: pool() takes a fusewire Pool');
  }
  const executor = new ExecuteWrapper();
  const options = retries === undefined ? undefined : { retries };
  return {
    _altReturn: undefined,
    onSuccess: executor.onSuccess,
    onFailure: executor.onFailure,
    async execute (fn, signal = neverAbortedSignal) {
      if (signal.aborted) throw new TaskCancelledError();
      return returnOrThrow(await executor.invoke(() => endpoints.call((endpoint, pick) => {
        if (signal.aborted) throw new TaskCancelledError();
        return fn({ signal, endpoint, pick });
      }, options)));
    }
  };
}

module.exports = {
  // builders
  Policy,
  noop,
  handleAll,
  handleType,
  handleWhen,
  handleResultType,
  handleWhenResult,
  retry,
  circuitBreaker,
  timeout,
  bulkhead,
  fallback,
  wrap,
  usePolicy,
  // policies
  NoopPolicy,
  RetryPolicy,
  CircuitBreakerPolicy,
  TimeoutPolicy,
  BulkheadPolicy,
  FallbackPolicy,
  CircuitState,
  TimeoutStrategy,
  // breakers
  ConsecutiveBreaker,
  CountBreaker,
  SamplingBreaker,
  // backoffs
  ConstantBackoff,
  ExponentialBackoff,
  IterableBackoff,
  DelegateBackoff,
  noJitterGenerator,
  fullJitterGenerator,
  halfJitterGenerator,
  decorrelatedJitterGenerator,
  // events
  Event,
  EventEmitter,
  // errors
  BrokenCircuitError,
  IsolatedCircuitError,
  HydratingCircuitError,
  TaskCancelledError,
  BulkheadRejectedError,
  isBrokenCircuitError,
  isBulkheadRejectedError,
  isIsolatedCircuitError,
  isTaskCancelledError,
  isHydratingCircuitError,
  // fusewire extras
  tokenBucket,
  pool,
  TokenBucketRejectedError,
  isTokenBucketRejectedError,
  MemorizingEventEmitter,
  onAbort,
  noopDisposable
};
