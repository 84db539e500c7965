'use strict';

// opossum 10's CircuitBreaker, on fusewire's native core.
//
// What stays in JavaScript is what opossum's users touch: events, promises,
// the cache, coalescing, the semaphore object, the timers. What decides
// (state transitions, the rolling window, latency) is the core's Breaker,
// reached through the Status's engine (lib/port.js is the whole interface).
// The closed path never crosses into Rust: the breaker's state is mirrored
// here from every native answer (transitions only ever come back from a call
// this file or its Status makes), each call holds a slot number for the
// permit Rust keeps, and the fire and the outcome are appended to the shared
// io buffer that Rust drains in order on its next call. A failure crosses
// once, to learn whether it tripped the breaker.

const EventEmitter = require('events');
const Status = require('./status');
const semaphore = require('./semaphore');
const MemoryCache = require('./cache');
const N = require('./native');
const { ATTACH, RECORD, FLUSH, ASK, ANSWER, MOVED } = require('./port');
const { engineRules, checkExtras, windowShape, timerDelay, optionError, TIMER_MAX } = require('./options');
const { chaos } = require('./chaos');
const { bindStore } = require('./store');

// A store's names for a breaker's window (the core Breaker's options) as
// this breaker's options.
const WINDOW_FIELDS = {
  window: 'slidingWindowSize',
  'window.count': 'slidingWindowSize',
  'window.span': 'rollingCountTimeout',
  'window.buckets': 'rollingCountBuckets'
};

const CLOSED = 0;
const OPEN = 1;
const HALF_OPEN = 2;
const SHUTDOWN = 9;

const OUR_ERROR = Symbol('our-error');
const R_FIRE = N.R_FIRE;
const R_SUCCESS = N.R_SUCCESS;

// opossum registers its own listeners for these at construction, so they
// are what `eventNames()` lists on a new breaker (opossum-prometheus reads
// it). fusewire counts in Rust and needs no listener; eventNames() reports
// them all the same.
const BUILTIN_EVENTS = [
  'success', 'failure', 'fallback', 'timeout', 'fire', 'reject',
  'cacheHit', 'cacheMiss', 'coalesceCacheHit', 'coalesceCacheMiss',
  'open', 'close', 'semaphoreLocked'
];

const NO_EVENTS = [];

// The options a breaker in a store shares with every process (its config).
const SHARED_RULES = ['errorThresholdPercentage', 'volumeThreshold', 'resetTimeout', 'halfOpenProbes',
  'consecutiveFailures', 'resetBackoff', 'slidingWindowSize', 'halfOpenMaxDwell'];

function dropIdleTimer (breaker) {
  breaker._idleQueued = false;
  if (breaker._head === null && breaker._deadlineTimer !== null) {
    clearTimeout(breaker._deadlineTimer);
    breaker._deadlineTimer = null;
  }
}

const deprecation = 'options.maxFailures is deprecated. ' +
  'Please use options.errorThresholdPercentage';

class CircuitBreaker extends EventEmitter {
  static isOurError (error) {
    return !!error[OUR_ERROR];
  }

  static newStatus (options) {
    return new Status(options);
  }

  constructor (action, options = {}) {
    super();
    this.options = options;
    options.timeout = options.timeout ?? 10000;
    options.resetTimeout = options.resetTimeout ?? 30000;
    options.errorThresholdPercentage = options.errorThresholdPercentage ?? 50;
    options.rollingCountTimeout = options.rollingCountTimeout ?? 10000;
    options.rollingCountBuckets = options.rollingCountBuckets ?? 10;
    options.rollingPercentilesEnabled = options.rollingPercentilesEnabled !== false;
    options.capacity = Number.isInteger(options.capacity)
      ? options.capacity
      : Number.MAX_SAFE_INTEGER;
    options.errorFilter = options.errorFilter || (_ => false);
    options.cacheTTL = options.cacheTTL ?? 0;
    options.cacheGetKey = options.cacheGetKey ?? ((...args) => JSON.stringify(args));
    options.enableSnapshots = options.enableSnapshots !== false;
    options.rotateBucketController = options.rotateBucketController; // eslint-disable-line no-self-assign
    options.coalesce = !!options.coalesce;
    options.coalesceTTL = options.coalesceTTL ?? options.timeout;
    options.coalesceResetOn = options.coalesceResetOn?.filter(
      o => ['error', 'success', 'timeout'].includes(o)) || [];

    if (options.cache) {
      if (options.cacheTransport === undefined) {
        options.cacheTransport = new MemoryCache(options.cacheSize);
      } else if (typeof options.cacheTransport !== 'object' ||
        !options.cacheTransport.get ||
        !options.cacheTransport.set ||
        !options.cacheTransport.flush) {
        throw new TypeError(
          'options.cacheTransport should be an object with `get`, `set` and `flush` methods');
      }
    }
    if (options.coalesce) options.coalesceCache = new MemoryCache(options.coalesceSize);

    this.semaphore = semaphore(options.capacity);

    if (!action) {
      throw new TypeError(
        'No action provided. Cannot construct a CircuitBreaker without an invocable action.');
    }
    if (options.autoRenewAbortController && !options.abortController) {
      options.abortController = new AbortController();
    }
    if (options.abortController && typeof options.abortController.abort !== 'function') {
      throw new TypeError('AbortController does not contain `abort()` method');
    }
    checkExtras(options);
    // fusewire extra: { store, name } shares the breaker's decisions with
    // every process bound to `name` (lib/store.js); see _bindShared.
    this._shared = null;

    this._volumeThreshold = Number.isInteger(options.volumeThreshold) ? options.volumeThreshold : 0;
    this._warmUntil = 0;
    if (options.allowWarmUp === true) this._startWarmUp();

    if (options.status) {
      this._status = options.status instanceof Status
        ? options.status
        : new Status({ stats: options.status });
    } else {
      this._status = new Status(options);
    }
    this._status[ATTACH](this);
    if (options.store !== undefined && options.store !== null) this._bindShared(options);
    this._ruledThreshold = undefined;
    this._ruledReset = undefined;
    this._warned = null;
    this._configure();

    this._state = CLOSED;
    this._pendingClose = false;
    this._shut = false;
    this._slots = 0;
    this._freeSlots = [];
    this._enabled = true;
    this._fallback = null;
    this._resetTimer = null;
    this._lastTimerAt = undefined;
    this._healthTimers = [];
    // Pending calls with a timeout, in deadline order, under one timer.
    this._head = null;
    this._tail = null;
    this._deadlineTimer = null;
    this._timerDue = 0;
    this._idleQueued = false;
    this._builtinEvents = BUILTIN_EVENTS;

    this._name = options.name || action.name || nextName();
    this._group = options.group || this._name;
    this.action = typeof action !== 'function' ? _ => Promise.resolve(action) : action;
    // fusewire's chaos extra: the action wrapped in a chaos policy, so the
    // breaker counts injected faults and delays like real ones.
    this.chaos = null;
    if (options.chaos !== undefined) {
      try {
        this.chaos = chaos(this.action, options.chaos);
      } catch (e) {
        // Name the option as the breaker's user wrote it: options.chaos.faultRate.
        if (typeof e.field === 'string') {
          e.field = `chaos.${e.field}`;
          e.message = e.message.replace(/^fusewire: \w+ options\./, 'fusewire: CircuitBreaker options.chaos.');
        }
        throw e;
      }
      this.action = this.chaos;
    }
    if (options.maxFailures) console.error(deprecation);

    const state = options.state;
    if (state && this._shared !== null) {
      throw optionError(TypeError, 'state', 'cannot be combined with store: the shared state is the store\'s');
    }
    if (state) {
      this._enabled = state.enabled !== false;
      if (state.warmUp && !this.warmUp) this._startWarmUp();
      const closed = state.closed !== false;
      const halfOpen = state.halfOpen || false;
      if (state.shutdown) {
        this.shutdown();
      } else if (closed) {
        this.close();
      } else if (halfOpen) {
        this._native('halfOpen');
        this._pendingClose = true;
      } else if (state.lastTimerAt !== undefined &&
        (Date.now() - state.lastTimerAt) > options.resetTimeout) {
        this._native('halfOpen');
      } else {
        this.open();
      }
    } else {
      this._enabled = options.enabled !== false;
    }
  }

  // ---- getters ----
  get isShutdown () { return this._state === SHUTDOWN; }
  get name () { return this._name; }
  get group () { return this._group; }
  get pendingClose () { return this._pendingClose; }
  get closed () { this._sync(); return this._state === CLOSED; }
  get opened () { this._sync(); return this._state === OPEN; }
  get halfOpen () { this._sync(); return this._state === HALF_OPEN; }
  /** fusewire extra: half-open probe calls in flight (0 unless half-open). */
  get halfOpenProbesInFlight () {
    if (this._shared !== null) return this._shared.snapshot().probesInFlight;
    this._status[FLUSH]();
    return this._status[ANSWER].probesInFlight;
  }
  get status () { return this._status; }
  get stats () { return this._status.stats; }
  get enabled () { return this._enabled; }
  get volumeThreshold () { return this._volumeThreshold; }
  get warmUp () {
    if (this._warmUntil !== 0 && Date.now() >= this._warmUntil) this._warmUntil = 0;
    return this._warmUntil !== 0;
  }

  toJSON () {
    return {
      state: {
        name: this.name,
        enabled: this.enabled,
        closed: this.closed,
        open: this.opened,
        halfOpen: this.halfOpen,
        warmUp: this.warmUp,
        shutdown: this.isShutdown,
        lastTimerAt: this._lastTimerAt
      },
      status: this.status.stats
    };
  }

  // ---- EventEmitter: opossum's own listeners, as eventNames() shows them ----
  eventNames () {
    const real = super.eventNames();
    if (this._builtinEvents.length === 0) return real;
    const out = this._builtinEvents.slice();
    for (const name of real) if (!out.includes(name)) out.push(name);
    return out;
  }

  removeAllListeners (type) {
    if (type === undefined) this._builtinEvents = NO_EVENTS;
    else this._builtinEvents = this._builtinEvents.filter(n => n !== type);
    return super.removeAllListeners(...arguments);
  }

  // ---- control ----
  close () {
    this._sync();
    if (this._state !== CLOSED && this._state !== SHUTDOWN) this._native('close');
  }

  open () {
    this._sync();
    if (this._state !== OPEN && this._state !== SHUTDOWN) this._native('trip');
  }

  shutdown () {
    this.emit('shutdown');
    this.disable();
    this.removeAllListeners();
    this._clearResetTimer();
    this._warmUntil = 0;
    for (const t of this._healthTimers) clearInterval(t);
    this._healthTimers = [];
    // Calls in flight keep their deadlines (opossum's timers keep running):
    // a graceful shutdown must not wait forever on a hung upstream.
    this.status.shutdown();
    this._state = SHUTDOWN;
    this._shut = true;
    this._pendingClose = false;
    this.clearCache();
  }

  enable () {
    this._enabled = true;
    this.status.startListeneningForRotateEvent();
  }

  disable () {
    this._enabled = false;
    this.status.removeRotateBucketControllerListener();
  }

  fallback (func) {
    let fb = func;
    if (func instanceof CircuitBreaker) {
      fb = (...args) => func.fire(...args);
    }
    this._fallback = fb;
    return this;
  }

  clearCache () {
    if (this.options.cache) this.options.cacheTransport.flush();
    if (this.options.coalesceCache) this.options.coalesceCache.flush();
  }

  healthCheck (func, interval) {
    interval = interval || 5000;
    if (typeof func !== 'function') {
      throw new TypeError('Health check function must be a function');
    }
    if (isNaN(interval)) {
      throw new TypeError('Health check interval must be a number');
    }
    const check = _ => {
      func.apply(this).catch(e => {
        this.emit('healthCheckFailed', e);
        this.open();
      });
    };
    const timer = setInterval(check, interval);
    timer.unref();
    this._healthTimers.push(timer);
    check();
  }

  getSignal () {
    if (this.options.abortController && this.options.abortController.signal) {
      return this.options.abortController.signal;
    }
    return undefined;
  }

  getAbortController () {
    return this.options.abortController;
  }

  /**
   * fusewire: changes options while running (errorThresholdPercentage,
   * volumeThreshold, resetTimeout, timeout, capacity-free options, and the
   * fusewire extras). The window, counters and state are kept.
   */
  configure (changes = {}) {
    if (changes === null || typeof changes !== 'object') {
      throw new TypeError('fusewire: configure() takes an object of options');
    }
    const next = { ...this.options, ...changes };
    if (this._shared !== null) {
      for (const field of SHARED_RULES) {
        if (field in changes && changes[field] !== this.options[field]) {
          throw optionError(TypeError, field,
            'is shared with every process bound to this name in the store; configure() cannot change it');
        }
      }
    }
    checkExtras(next);
    engineRules(next); // validate before touching anything
    for (const field of ['rollingCountTimeout', 'rollingCountBuckets']) {
      if (field in changes) {
        const now = windowShape(this.options);
        const asked = windowShape(next);
        if (now.span !== asked.span || now.buckets !== asked.buckets) {
          throw optionError(TypeError, field,
            'sizes the rolling window and is set at construction; configure() cannot change it');
        }
      }
    }
    Object.assign(this.options, changes);
    if ('volumeThreshold' in changes) {
      this._volumeThreshold = Number.isInteger(changes.volumeThreshold) ? changes.volumeThreshold : 0;
    }
    if ('timeout' in changes && !('coalesceTTL' in changes)) {
      this.options.coalesceTTL = this.options.timeout;
    }
    this._configure();
    return this;
  }

  // ---- calls ----
  fire (...args) {
    // opossum's fire() is call(this.action, ...args): the action runs with
    // itself as `this`. The rest array is fresh, so it is the args array.
    return this._call(this.action, args);
  }

  call (context, ...rest) {
    return this._call(context, rest);
  }

  _call (context, args) {
    if (this._state === SHUTDOWN) {
      return Promise.reject(buildError('The circuit has been shutdown.', 'ESHUTDOWN'));
    }
    // `args` is the fresh rest array of fire()/call(): no copy needed.
    const rest = args;
    const status = this._status;
    let now = Date.now();
    const fired = now;
    // emit() with no listener still allocates its rest arguments.
    if (this._events.fire !== undefined) this.emit('fire', args);

    // Every fire counts as a started call (opossum's `fires`); one that
    // does not run the action here (disabled, cached, refused) takes no slot.
    if (!this._enabled) {
      status[RECORD](R_FIRE, fired, 0, -1);
      const result = this.action.apply(context, args);
      return (typeof result.then === 'function') ? result : Promise.resolve(result);
    }

    const options = this.options;
    const cacheKey = options.cache || options.coalesce ? options.cacheGetKey.apply(this, rest) : '';
    if (options.cache || options.coalesce) now = -1;
    if (options.cache) {
      const cached = options.cacheTransport.get(cacheKey);
      if (cached) {
        status[RECORD](R_FIRE, fired, 0, -1);
        status[RECORD](N.R_CACHE_HIT, Date.now(), 0, 0);
        this.emit('cacheHit');
        return cached;
      }
      status[RECORD](N.R_CACHE_MISS, Date.now(), 0, 0);
      this.emit('cacheMiss');
    }
    if (options.coalesce) {
      const cachedCall = options.coalesceCache.get(cacheKey);
      if (cachedCall) {
        status[RECORD](R_FIRE, fired, 0, -1);
        status[RECORD](N.R_COALESCE_HIT, Date.now(), 0, 0);
        this.emit('coalesceCacheHit');
        return cachedCall;
      }
      status[RECORD](N.R_COALESCE_MISS, Date.now(), 0, 0);
      this.emit('coalesceCacheMiss');
    }

    // In a store: the shared breaker decides; the local engine only counts
    // (its rules never trip, see _configure) for this process's stats.
    if (this._shared !== null && this._shared.async) {
      // a store across the network (RedisStore): the admission is a promise
      const promise = this._shared.tryAcquire().then(a => this._admitted(a, context, args, cacheKey, fired));
      if (options.coalesce) {
        options.coalesceCache.set(cacheKey, promise,
          options.coalesceTTL > 0 ? Date.now() + options.coalesceTTL : 0);
      }
      return promise;
    }
    return this._admitted(this._shared === null ? null : this._shared.tryAcquire(), context, args, cacheKey, fired, now);
  }

  // The rest of a fire() once the shared breaker (if any) answered `a`.
  _admitted (a, context, args, cacheKey, fired, now = -1) {
    if (this._state === SHUTDOWN) {
      // shut down while the admission was on its way: the permit goes back
      if (a !== null && a.admitted && a.permit !== -1) Promise.resolve(this._shared.release(a.permit)).catch(() => {});
      return Promise.reject(buildError('The circuit has been shutdown.', 'ESHUTDOWN'));
    }
    const status = this._status;
    const options = this.options;
    let permit = -1;
    if (a !== null) {
      this._moved(a.transition);
      this._sync();
      if (!a.admitted) {
        status[RECORD](R_FIRE, fired, 0, -1);
        status[RECORD](N.R_REJECT, Date.now(), 0, 0);
        const error = buildError('Breaker is open', 'EOPENBREAKER');
        this.emit('reject', error);
        return fallback(this, error, args) || Promise.reject(error);
      }
      if (a.probe) this._pendingClose = false;
      permit = a.permit;
    }

    // The call's permit stays in Rust, in a slot this breaker numbers.
    const slot = this._freeSlots.length > 0 ? this._freeSlots.pop() : this._slots++;
    if (this._shared !== null || this._state === CLOSED) {
      status[RECORD](R_FIRE, fired, 0, slot);
    } else {
      let admitted = false;
      if (this._state === HALF_OPEN) {
        admitted = status[ASK]('acquire', slot);
        this._pendingClose = false;
      } else {
        status[RECORD](R_FIRE, fired, 0, -1);
        status[RECORD](N.R_REJECT, Date.now(), 0, 0);
      }
      if (!admitted) {
        this._freeSlots.push(slot);
        const error = buildError('Breaker is open', 'EOPENBREAKER');
        this.emit('reject', error);
        return fallback(this, error, args) || Promise.reject(error);
      }
    }

    const call = new Call(this, context, args, slot, cacheKey);
    call.permit = permit;
    const promise = new Promise((resolve, reject) => {
      call.resolve = resolve;
      call.reject = reject;
      this._run(call, now);
    });
    if (options.coalesce && (this._shared === null || !this._shared.async)) {
      options.coalesceCache.set(cacheKey, promise,
        options.coalesceTTL > 0 ? Date.now() + options.coalesceTTL : 0);
    }
    return promise;
  }

  _run (call, now) {
    const start = call.start = now >= 0 ? now : Date.now();
    if (!this.semaphore.test()) {
      const latency = Date.now() - start;
      const err = buildError('Semaphore locked', 'ESEMLOCKED');
      this._status[RECORD](N.R_SEMAPHORE_LOCKED, start, latency, 0);
      this.emit('semaphoreLocked', err, latency);
      handleError(this, call, err, latency);
      resetCoalesce(this, call.cacheKey);
      return;
    }
    // opossum: `if (options.timeout) setTimeout(..., options.timeout)`, read
    // per call, with setTimeout's coercion.
    const timeout = this.options.timeout;
    if (timeout) {
      this._arm(call, start + (typeof timeout === 'number' && timeout >= 1 && timeout <= TIMER_MAX
        ? timeout
        : timerDelay(timeout, this._warner('timeout'))));
    }
    let args = call.args;
    if (this.options.perCallSignal) {
      call.controller = new AbortController();
      args = args.concat(call.controller.signal);
    }
    try {
      const result = this.action.apply(call.context, args);
      const promise = (typeof result.then === 'function') ? result : Promise.resolve(result);
      promise.then(value => call.succeed(value, promise), error => call.fail(error));
    } catch (error) {
      call.fail(error);
    }
  }

  // A call's action settled (or timed out): the outcome, as opossum emits it.
  _succeeded (call, value, latency, end) {
    if (call.permit !== -1) {
      this._movedLater(this._shared.record(call.permit, 'success', latency));
      call.permit = -1;
    }
    if (!this._shut) {
      this._status[RECORD](R_SUCCESS, end, latency, call.slot);
      this._freeSlots.push(call.slot);
    }
    // A half-open probe (or an outcome arriving while not closed) may move
    // the breaker: ask now, so 'close' comes before 'success' as in opossum.
    if (this._state !== CLOSED) this._status[FLUSH]();
    if (this._events.success !== undefined) this.emit('success', value, latency);
  }

  _failed (call, error, latency, timedOut) {
    if (call.permit !== -1) {
      this._movedLater(this._shared.record(call.permit, timedOut ? 'timeout' : 'failure', latency));
      call.permit = -1;
    }
    if (this._shut) return this._failedAfterShutdown();
    // opossum reads these options when it judges a failure: options
    // assigned since the last failure apply to this one.
    const o = this.options;
    if (this._shared === null &&
      (o.errorThresholdPercentage !== this._ruledThreshold || o.resetTimeout !== this._ruledReset)) this._configure();
    // During opossum's warm-up a failure is counted but cannot trip.
    const code = (timedOut ? N.R_FAILURE_TIMEOUT : N.R_FAILURE) + (this.warmUp ? N.R_WARM : 0);
    this._status[RECORD](code, Date.now(), latency, call.slot);
    this._freeSlots.push(call.slot);
    if (this._events.failure !== undefined) this.emit('failure', error, latency, call.args);
    this._status[FLUSH]();
  }

  // opossum counts through its own listeners, which shutdown() removes: an
  // outcome arriving afterwards is not counted, but a failure still checks
  // the counts so far and may open() the breaker, which leaves the
  // shutdown state (opossum's test/volume-threshold-test.js relies on it).
  _failedAfterShutdown () {
    if (this.warmUp) return;
    const stats = this.stats;
    if (stats.fires < this._volumeThreshold) return;
    if (stats.failures / stats.fires * 100 > this.options.errorThresholdPercentage) {
      this._state = OPEN;
      this._pendingClose = false;
    }
  }

  // ---- the shared timeout timer ----
  // Pending calls with a timeout sit in a list in deadline order under one
  // timer, due at `_timerDue`. The timer never waits longer than setTimeout
  // allows; when the list empties the timer is cleared (after the current
  // macrotask), so an idle breaker holds no timer and can be collected.

  _arm (call, deadline) {
    call.deadline = deadline;
    const tail = this._tail;
    if (tail === null) {
      this._head = this._tail = call;
    } else {
      // Deadlines arrive in order unless options.timeout changed at run time.
      let after = tail;
      while (after !== null && after.deadline > deadline) after = after.prev;
      if (after === null) {
        call.next = this._head;
        this._head.prev = call;
        this._head = call;
      } else {
        call.prev = after;
        call.next = after.next;
        if (after.next !== null) after.next.prev = call;
        else this._tail = call;
        after.next = call;
        return;
      }
    }
    // The new call is first in line: the timer must be due by its deadline.
    if (this._deadlineTimer === null || this._timerDue > deadline) this._schedule(deadline, call.start);
  }

  _schedule (due, now) {
    if (this._deadlineTimer !== null) clearTimeout(this._deadlineTimer);
    const wait = Math.min(TIMER_MAX, Math.max(1, due - now));
    this._timerDue = now + wait;
    this._deadlineTimer = setTimeout(this._expire.bind(this), wait);
  }

  _disarm (call) {
    if (call.deadline === 0) return;
    call.deadline = 0;
    if (call.prev !== null) call.prev.next = call.next;
    else this._head = call.next;
    if (call.next !== null) call.next.prev = call.prev;
    else this._tail = call.prev;
    call.prev = call.next = null;
    // Nothing pending: drop the timer, but once the current macrotask is
    // done rather than on every call that empties the list (the next call
    // would arm it again).
    if (this._head === null && !this._idleQueued) {
      this._idleQueued = true;
      setImmediate(dropIdleTimer, this);
    }
  }

  _expire () {
    this._deadlineTimer = null;
    const now = Date.now();
    let call = this._head;
    while (call !== null && call.deadline <= now) {
      this._disarm(call);
      call.expire();
      call = this._head;
    }
    if (this._head !== null && this._deadlineTimer === null) this._schedule(this._head.deadline, now);
  }

  // A function that warns (once per option) the way setTimeout does for a
  // delay past its limit.
  _warner (option) {
    return after => {
      if (this._warned === null) this._warned = new Set();
      if (this._warned.has(option)) return;
      this._warned.add(option);
      process.emitWarning(`${after} does not fit into a 32-bit signed integer.\n` +
        `Timeout duration was set to 1. (fusewire: options.${option})`, 'TimeoutOverflowWarning');
    };
  }

  // ---- native ----
  _configure () {
    const o = this.options;
    this._ruledThreshold = o.errorThresholdPercentage;
    this._ruledReset = o.resetTimeout;
    // In a store the local engine only counts: rules that never trip.
    const ruled = this._shared === null ? o : { ...o, errorThresholdPercentage: 100, consecutiveFailures: undefined };
    // opossum reads volumeThreshold once, at construction (the getter);
    // configure() changes it, assigning options.volumeThreshold does not.
    this._status[ASK]('configure', engineRules(ruled, this._warner('resetTimeout'), this._volumeThreshold));
  }

  _native (method) {
    if (this._shared === null) {
      this._status[ASK](method);
      return;
    }
    this._movedLater(this._shared[method]());
    this._sync();
  }

  // ---- in a store (fusewire extra: { store, name }) ----

  // Binds the shared breaker: the core config this breaker's engine would
  // use (opossum's rules), over its window (the rolling window of
  // rollingCountTimeout in rollingCountBuckets buckets, counting calls
  // started, or a count window of slidingWindowSize calls), with a
  // half-open period that ends after halfOpenMaxDwell ms (default
  // resetTimeout), so a process killed while holding a probe loses it for
  // at most that long.
  _bindShared (o) {
    const dwell = o.halfOpenMaxDwell ?? timerDelay(o.resetTimeout);
    if (!(typeof dwell === 'number' && dwell >= 1 && dwell <= Number.MAX_SAFE_INTEGER)) {
      throw optionError(TypeError, 'halfOpenMaxDwell', `must be a number of milliseconds of at least 1, got ${String(dwell)}`);
    }
    const rules = engineRules(o, this._warner('resetTimeout'), this._volumeThreshold);
    const shape = o.slidingWindowSize === undefined ? windowShape(o) : null;
    try {
      this._shared = bindStore('CircuitBreaker', 'breaker', o,
        () => N.native.plainEngine(rules, dwell, shape && shape.span, shape && shape.buckets),
        () => N.native.engineBreaker(rules, dwell, shape && shape.span, shape && shape.buckets));
    } catch (e) {
      // A store names the core Breaker's window options; this breaker's are
      // opossum's.
      const field = WINDOW_FIELDS[e && e.field];
      if (field !== undefined) {
        e.message = e.message.replace(e.field, field);
        e.field = field;
      }
      throw e;
    }
  }

  // Applies a state change the shared breaker reported ({ from, to } or null).
  _moved (t) {
    if (t === null || t === undefined || this._shut) return;
    this._follow(t.to);
  }

  // The same for a store that answers with a promise (RedisStore): applied
  // when the answer comes; an error there has no caller to go to, so it is
  // counted in the store's `errors` and the state is left as last known.
  _movedLater (t) {
    if (t !== null && t !== undefined && typeof t.then === 'function') {
      t.then(x => this._moved(x), () => { this._shared.store.errors++; });
    } else {
      this._moved(t);
    }
  }

  // Catches up with the shared state (another process may have moved it),
  // emitting opossum's events for the change.
  _sync () {
    if (this._shared === null || this._shut) return;
    this._follow(this._shared.state);
  }

  _follow (to) {
    if (to === 'open' || to === 'forcedOpen') {
      if (this._state !== OPEN) this._toOpen(this._sharedRetryAfter());
    } else if (to === 'halfOpen') {
      this._toHalfOpen();
    } else {
      this._toClosed();
    }
  }

  // ms until the shared breaker's open period ends: the snapshot's
  // `retryAfter` when the backend gives one (a store on another clock),
  // else its `openUntil` in ms of the host's monotonic clock (HostStore).
  _sharedRetryAfter () {
    const s = this._shared.snapshot();
    if (typeof s.retryAfter === 'number') return Math.max(1, Math.ceil(s.retryAfter));
    const host = Number(process.hrtime.bigint() / 1000000n);
    return Math.max(1, Math.ceil(s.openUntil - host));
  }

  // Applies the transitions a native call reported (new states, in order),
  // emitting opossum's events for them.
  [MOVED] (tos) {
    const status = this._status;
    const retryAfter = status[ANSWER].retryAfter;
    for (const to of tos) {
      if (this._shut) return;
      if (to === N.S_OPEN || to === N.S_FORCED_OPEN) {
        this._toOpen(retryAfter);
      } else if (to === N.S_HALF_OPEN) {
        this._toHalfOpen();
      } else if (to === N.S_CLOSED) {
        this._toClosed();
      }
    }
  }

  _toOpen (retryAfter) {
    if (this._state === OPEN) return;
    this._state = OPEN;
    this._pendingClose = false;
    this._lastTimerAt = Date.now();
    this._clearResetTimer();
    this._armReset(retryAfter > 0 ? retryAfter : timerDelay(this.options.resetTimeout));
    this.emit('open');
  }

  _toHalfOpen () {
    if (this._state === HALF_OPEN) return;
    this._clearResetTimer();
    this._state = HALF_OPEN;
    this._pendingClose = true;
    this._renewAbortControllerIfNeeded();
    this.emit('halfOpen', this.options.resetTimeout);
  }

  _toClosed () {
    if (this._state === CLOSED) return;
    this._clearResetTimer();
    this._state = CLOSED;
    this._pendingClose = false;
    this._renewAbortControllerIfNeeded();
    this.emit('close');
  }

  // The open period's end, at most setTimeout's limit away: past it the
  // timer fires, the engine says how long is left, and it is armed again.
  _armReset (delay) {
    const timer = this._resetTimer = setTimeout(() => {
      this._resetTimer = null;
      this._native('poll');
      if (this._state === OPEN && this._resetTimer === null) {
        this._armReset(this._shared !== null
          ? this._sharedRetryAfter()
          : Math.max(1, this._status[ANSWER].retryAfter));
      }
    }, Math.min(TIMER_MAX, delay));
    timer.unref();
  }

  _clearResetTimer () {
    if (this._resetTimer !== null) {
      clearTimeout(this._resetTimer);
      this._resetTimer = null;
    }
  }

  _startWarmUp () {
    this._warmUntil = Date.now() + (this.options.rollingCountTimeout || 10000);
  }

  _renewAbortControllerIfNeeded () {
    if (this.options.autoRenewAbortController &&
      this.options.abortController &&
      this.options.abortController.signal.aborted) {
      this.options.abortController = new AbortController();
    }
  }
}

// One call in flight: its promise's settle functions and its place in the
// deadline list.
class Call {
  constructor (breaker, context, args, slot, cacheKey) {
    this.breaker = breaker;
    this.context = context;
    this.args = args;
    this.slot = slot;
    this.cacheKey = cacheKey;
    this.resolve = null;
    this.reject = null;
    this.start = 0;
    this.deadline = 0;
    this.prev = null;
    this.next = null;
    this.done = false;
    this.controller = null;
    // The shared breaker's permit (in a store), -1 once settled or none.
    this.permit = -1;
  }

  succeed (value, promise) {
    if (this.done) return;
    this.done = true;
    const b = this.breaker;
    if (this.deadline !== 0) b._disarm(this);
    const end = Date.now();
    b._succeeded(this, value, end - this.start, end);
    const options = b.options;
    if (options.coalesce) resetCoalesce(b, this.cacheKey, 'success');
    b.semaphore.release();
    this.resolve(value);
    if (options.cache) {
      options.cacheTransport.set(this.cacheKey, promise,
        options.cacheTTL > 0 ? Date.now() + options.cacheTTL : 0);
    }
  }

  fail (error) {
    if (this.done) return;
    this.done = true;
    const b = this.breaker;
    b._disarm(this);
    b.semaphore.release();
    handleError(b, this, error, Date.now() - this.start);
    resetCoalesce(b, this.cacheKey, 'error');
  }

  expire () {
    if (this.done) return;
    this.done = true;
    const b = this.breaker;
    const error = buildError(`Timed out after ${b.options.timeout}ms`, 'ETIMEDOUT');
    const latency = Date.now() - this.start;
    b.semaphore.release();
    if (!b._shut) b._status[RECORD](N.R_TIMEOUT, Date.now(), latency, 0);
    b.emit('timeout', error, latency, this.args);
    handleError(b, this, error, latency, true);
    resetCoalesce(b, this.cacheKey, 'timeout');
    if (this.controller !== null) this.controller.abort(error);
    if (b.options.abortController) b.options.abortController.abort();
  }
}

function handleError (breaker, call, error, latency, timedOut = false) {
  if (breaker.options.errorFilter(error, ...call.args)) {
    breaker._succeeded(call, error, latency, Date.now());
  } else {
    breaker._failed(call, error, latency, timedOut);
    const fb = fallback(breaker, error, call.args);
    if (fb) return call.resolve(fb);
  }
  call.reject(error);
}

function fallback (breaker, err, args) {
  const fn = breaker._fallback;
  if (fn) {
    try {
      const result = fn.apply(fn, [...args, err]);
      if (!breaker._shut) breaker._status[RECORD](N.R_FALLBACK, Date.now(), 0, 0);
      breaker.emit('fallback', result, err);
      if (result instanceof Promise) return result;
      return Promise.resolve(result);
    } catch (e) {
      return Promise.reject(e);
    }
  }
}

function resetCoalesce (breaker, cacheKey, event) {
  if (!event || breaker.options.coalesceResetOn.includes(event)) {
    breaker.options.coalesceCache?.delete(cacheKey);
  }
}

function buildError (msg, code) {
  const error = new Error(msg);
  error.code = code;
  error[OUR_ERROR] = true;
  return error;
}

const nextName = () =>
  'xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx'.replace(/[xy]/g, c => {
    const r = Math.random() * 16 | 0;
    const v = c === 'x' ? r : (r & 0x3 | 0x8);
    return v.toString(16);
  });

module.exports = CircuitBreaker;
