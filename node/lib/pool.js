'use strict';

// A pool of endpoints (base URLs) on the core's Pool: power-of-two-choices
// picks, Envoy's outlier ejection, failover under a retry budget. Every
// decision (which endpoint, whether a result ejects, when an ejection ends,
// whether a retry is allowed) is the core's; this file checks options,
// classifies what a call gave (an HTTP status, an error) into the core's
// three results, runs the caller's function and emits the core's events.

const { EventEmitter } = require('node:events');
const { native } = require('./native');
const { RetryBudget } = require('./core');
const { seedOf, describe } = require('./chaos');

const CAPACITY = native.poolCapacity();
const SUCCESS = 0;
const FAILURE = 1;
const GATEWAY = 2;

const COUNTS = ['consecutiveFailures', 'consecutiveGatewayFailures', 'maxEjectionPercent',
  'successRateMinimumHosts', 'successRateRequestVolume'];
const DURATIONS = ['interval', 'baseEjectionTime', 'maxEjectionTime', 'ejectionJitter'];
const KNOWN = new Set([...COUNTS, ...DURATIONS, 'successRateStdevFactor', 'seed', 'retries',
  'budget', 'breaker', 'now', 'timers', 'pollInterval']);
const PROBLEM = {
  zero: ['zero', 'must not be zero'],
  out_of_range: ['outOfRange', 'is out of range'],
  inconsistent: ['inconsistent', 'must be at least baseEjectionTime']
};
const camel = (v) => v.replace(/_([a-z])/g, (_, c) => c.toUpperCase());

function optionError (Kind, field, message, problem) {
  const e = new Kind(`fusewire: Pool options.${field} ${message}`);
  e.code = 'ERR_FUSEWIRE_CONFIG';
  e.field = field;
  if (problem) e.problem = problem;
  return e;
}

function wholeNumber (o, k, max) {
  const v = o[k];
  if (v === undefined) return undefined;
  if (typeof v !== 'number') throw optionError(TypeError, k, `must be a number, got ${describe(v)}`);
  if (!Number.isInteger(v) || v < 0 || v > max) {
    throw optionError(RangeError, k, `must be a whole number from 0 to ${max}, got ${describe(v)}`, 'outOfRange');
  }
  return v;
}

/**
 * How a call ended, in the core's words: an HTTP status (502, 503, 504 are
 * gateway failures, other 5xx failures, the rest successes: the endpoint
 * answered), 'success' / 'failure' / 'gatewayFailure', undefined (success),
 * or an error (a failure, a gateway failure if it carries such a status as
 * `status`, `statusCode` or axios's `response.status`; an error with a
 * status below 500 is the endpoint answering, so a success for its health).
 */
function classify (result) {
  if (result === undefined || result === 'success') return SUCCESS;
  if (result === 'failure') return FAILURE;
  if (result === 'gatewayFailure') return GATEWAY;
  if (typeof result === 'number') return statusResult(result, SUCCESS);
  if (result !== null && typeof result === 'object') {
    return statusResult(statusOf(result), FAILURE);
  }
  throw new TypeError(`fusewire: a pool result is an HTTP status, 'success', 'failure', 'gatewayFailure' or an error, got ${describe(result)}`);
}

function statusOf (x) {
  const s = x.status ?? x.statusCode ?? x.response?.status;
  return typeof s === 'number' ? s : undefined;
}

function statusResult (status, otherwise) {
  if (status === undefined) return otherwise;
  if (status === 502 || status === 503 || status === 504) return GATEWAY;
  return status >= 500 ? FAILURE : SUCCESS;
}

/** One call's endpoint; settle it once, with record() or release(). */
class PoolPick {
  #hooks;
  constructor (hooks, endpoint, url, panic) {
    this.#hooks = hooks;
    this.endpoint = endpoint;
    this.url = url;
    this.panic = panic;
    this.settled = false;
  }

  /** Settles the pick with how the call ended (an HTTP status, an error, 'success', ...). */
  record (result) {
    if (this.settled) return;
    const code = classify(result);
    this.settled = true;
    this.#hooks.record(this.endpoint, code);
  }

  /** Hands the pick back without counting anything (the call never ran). */
  release () {
    if (this.settled) return;
    this.settled = true;
    this.#hooks.release(this.endpoint);
  }
}

class Pool extends EventEmitter {
  #core;
  // What a PoolPick settles through.
  #hooks = { record: (endpoint, code) => this.#record(endpoint, code), release: (endpoint) => native.poolRelease(this.#core, endpoint) };
  #now;
  #timer = null;
  #budget;

  /**
   * `endpoints`: 1 to 64 base URLs (or any values: `url` is the value).
   * Options (ms for durations; the core's defaults are Envoy's):
   * consecutiveFailures (5), consecutiveGatewayFailures (5), interval
   * (10000), baseEjectionTime (30000), maxEjectionTime (300000),
   * ejectionJitter (0), maxEjectionPercent (10), successRateMinimumHosts
   * (5), successRateRequestVolume (100), successRateStdevFactor (1.9),
   * seed (crypto entropy), retries (2: fail-overs per call()), budget (a
   * RetryBudget, or its options; one per pool by default), breaker
   * (CircuitBreaker options: one breaker per endpoint), now (a clock
   * returning ms; Date.now), timers (true: poll the core for returns and
   * success-rate ejections every pollInterval ms, unref'd).
   */
  constructor (endpoints, options = {}) {
    super();
    if (!Array.isArray(endpoints)) {
      throw optionError(TypeError, 'endpoints', `must be an array of base URLs, got ${describe(endpoints)}`);
    }
    if (endpoints.length > CAPACITY) {
      throw optionError(RangeError, 'endpoints', `holds at most ${CAPACITY} endpoints, got ${endpoints.length}`, 'outOfRange');
    }
    if (options === null || typeof options !== 'object') {
      throw new TypeError(`fusewire: Pool options must be an object, got ${describe(options)}`);
    }
    for (const k of Object.keys(options)) {
      if (!KNOWN.has(k)) throw optionError(TypeError, k, `is not a Pool option (known: ${[...KNOWN].join(', ')})`);
    }
    const spec = { endpoints: endpoints.length };
    for (const k of COUNTS) spec[k] = wholeNumber(options, k, 0xffffffff);
    for (const k of DURATIONS) spec[k] = wholeNumber(options, k, Number.MAX_SAFE_INTEGER);
    const factor = options.successRateStdevFactor;
    if (factor !== undefined) {
      if (typeof factor !== 'number') throw optionError(TypeError, 'successRateStdevFactor', `must be a number, got ${describe(factor)}`);
      if (!(factor >= 0 && factor <= 4e6)) {
        throw optionError(RangeError, 'successRateStdevFactor', `must be a number from 0 to 4000000, got ${describe(factor)}`, 'outOfRange');
      }
      spec.successRateStdevFactorMilli = Math.round(factor * 1000);
    }
    const { seed, seedHi, seedLo } = seedOf('Pool', options.seed);
    Object.assign(spec, { seedHi, seedLo });
    const r = native.corePool(spec);
    if (typeof r.problem === 'string') {
      const field = camel(r.field);
      const [problem, text] = PROBLEM[r.problem] ?? [r.problem, 'is invalid'];
      throw optionError(RangeError, field, text, problem);
    }
    this.#core = r;
    this.seed = seed;
    this.endpoints = Object.freeze([...endpoints]);

    const now = options.now ?? Date.now;
    if (typeof now !== 'function') throw optionError(TypeError, 'now', `must be a function returning milliseconds, got ${describe(now)}`);
    this.#now = now;

    const retries = options.retries ?? 2;
    if (!Number.isInteger(retries) || retries < 0) {
      throw optionError(typeof retries === 'number' ? RangeError : TypeError, 'retries', `must be a whole number from 0, got ${describe(retries)}`);
    }
    this.retries = retries;
    const budget = options.budget;
    if (budget instanceof RetryBudget && !(RetryBudget.native(budget) instanceof native.CoreBudget)) {
      throw optionError(TypeError, 'budget', "a RetryBudget in a store cannot be a Pool's budget yet: give the pool its own");
    }
    if (budget instanceof RetryBudget) this.#budget = budget;
    else if (budget === undefined || (budget !== null && typeof budget === 'object')) this.#budget = new RetryBudget(budget);
    else throw optionError(TypeError, 'budget', `must be a RetryBudget or its options, got ${describe(budget)}`);

    /** One CircuitBreaker per endpoint when `breaker` options are given, else null. */
    this.breakers = null;
    if (options.breaker !== undefined) {
      if (options.breaker === null || typeof options.breaker !== 'object') {
        throw optionError(TypeError, 'breaker', `must be CircuitBreaker options, got ${describe(options.breaker)}`);
      }
      const CircuitBreaker = require('./circuit');
      this.breakers = this.endpoints.map((url) => new CircuitBreaker(
        (fn, u, pick) => fn(u, pick), { name: String(url), ...options.breaker }));
    }

    const timers = options.timers ?? true;
    if (typeof timers !== 'boolean') throw optionError(TypeError, 'timers', `must be true or false, got ${describe(timers)}`);
    const every = options.pollInterval ?? Math.max(10, Math.min(1000, spec.interval ?? 10000));
    if (!(Number.isInteger(every) && every >= 1 && every <= 2 ** 31 - 1)) {
      throw optionError(RangeError, 'pollInterval', `must be a whole number of ms from 1 to 2^31 - 1, got ${describe(every)}`);
    }
    if (timers) {
      this.#timer = setInterval(() => this.poll(), every);
      // The timer never keeps the process alive.
      this.#timer.unref();
    }
  }

  /** The retry budget call() spends when it fails over. */
  get budget () { return this.#budget; }

  /** The most endpoints ejected at once (the core's cap). */
  get maxEjected () { return native.poolMaxEjected(this.#core); }

  #pick (v) {
    const endpoint = v % 65536;
    return new PoolPick(this.#hooks, endpoint, this.endpoints[endpoint], v >= 65536);
  }

  /**
   * Picks an endpoint for a call (other than endpoint `avoid` if another is
   * healthy): { endpoint, url, panic, record(result), release() }. Settle
   * every pick once, with record() or release().
   */
  pick (avoid) {
    if (avoid !== undefined && !(Number.isInteger(avoid) && avoid >= 0)) {
      throw new TypeError(`fusewire: Pool pick(avoid) takes an endpoint index, got ${describe(avoid)}`);
    }
    return this.#pick(native.poolPick(this.#core, this.#now(), avoid));
  }

  /**
   * A retry's endpoint, failing over from endpoint `previous`: spends one
   * retry from the budget; null when the budget refuses.
   */
  failover (previous) {
    const v = native.poolFailover(this.#core, this.#now(), previous, RetryBudget.native(this.#budget));
    return v < 0 ? null : this.#pick(v);
  }

  #record (endpoint, code) {
    const change = native.poolRecord(this.#core, endpoint, code, this.#now());
    if (change) this.#emit(change);
  }

  /** Settles a call on endpoint `endpoint` without a pick object (the core's record). */
  record (endpoint, result) {
    this.#record(endpoint, classify(result));
  }

  /** Hands back a call on endpoint `endpoint` that never ran. */
  release (endpoint) { native.poolRelease(this.#core, endpoint); }

  #emit (change) {
    const url = this.endpoints[change.endpoint];
    if (change.kind === 'eject') {
      this.emit('eject', { endpoint: change.endpoint, url, reason: change.reason, until: change.until });
    } else {
      this.emit('return', { endpoint: change.endpoint, url });
    }
  }

  /**
   * Applies what time alone changes (the interval's success-rate ejections,
   * ejections that ended), emits them, and returns them. The timer calls it;
   * tests with an injected clock call it themselves.
   */
  poll () {
    const changes = native.poolPoll(this.#core, this.#now());
    for (const c of changes) this.#emit(c);
    return changes.map((c) => c.kind === 'eject'
      ? { event: 'eject', endpoint: c.endpoint, reason: c.reason, until: c.until }
      : { event: 'return', endpoint: c.endpoint });
  }

  /** Endpoint `i`'s state, or every endpoint's: { endpoint, url, outstanding, ..., ejected }. */
  stats (i) {
    if (i === undefined) return this.endpoints.map((_, j) => this.stats(j));
    const s = native.poolStats(this.#core, i, this.#now());
    if (!s) throw new RangeError(`fusewire: Pool has no endpoint ${describe(i)}`);
    return { endpoint: i, url: this.endpoints[i], ...s };
  }

  /**
   * Runs `fn(url, pick)` on a picked endpoint and settles the pick with how
   * it ended: a rejection (classified by its HTTP status, if any) or a
   * resolved value with a 5xx `status` (a fetch Response) is a failure, and
   * the call fails over to another endpoint, up to `retries` times while
   * the budget allows. With `breaker` options, each endpoint's
   * CircuitBreaker runs the call; an open breaker hands the pick back and
   * fails over. Resolves with fn's value, or rejects with the last error.
   */
  async call (fn, { retries = this.retries } = {}) {
    if (typeof fn !== 'function') throw new TypeError(`fusewire: Pool call(fn) takes a function of the url, got ${describe(fn)}`);
    if (!Number.isInteger(retries) || retries < 0) {
      throw optionError(typeof retries === 'number' ? RangeError : TypeError, 'retries', `must be a whole number from 0, got ${describe(retries)}`);
    }
    let pick = this.pick();
    for (let attempt = 0; ; attempt++) {
      let value;
      let error;
      let code;
      let ran = true;
      try {
        value = this.breakers
          ? await this.breakers[pick.endpoint].fire(fn, pick.url, pick)
          : await fn(pick.url, pick);
        code = value !== null && typeof value === 'object' ? statusResult(statusOf(value), SUCCESS) : SUCCESS;
      } catch (e) {
        error = e;
        ran = !(e && (e.code === 'EOPENBREAKER' || e.code === 'ESEMLOCKED'));
        code = ran ? classify(e) : FAILURE;
      }
      if (!ran) {
        pick.release();
      } else {
        pick.settled = true;
        this.#record(pick.endpoint, code);
        if (code === SUCCESS) {
          this.#budget.recordSuccess();
          // An error with a status below 500: the endpoint is healthy, the call still failed.
          if (error !== undefined) throw error;
          return value;
        }
        this.#budget.recordFailure();
      }
      const next = attempt < retries ? this.failover(pick.endpoint) : null;
      if (next === null) {
        if (error !== undefined) throw error;
        return value;
      }
      pick = next;
    }
  }

  /** Stops the poll timer (and the breakers' timers). */
  close () {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    if (this.breakers) for (const b of this.breakers) b.shutdown();
  }
}

module.exports = { Pool, PoolPick, classify, CAPACITY };
