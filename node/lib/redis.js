'use strict';

// RedisStore: a TokenBucket shared by a fleet through Redis (the fleet tier,
// store/README.md "Fleet tier"). Each decision is one EVALSHA of a script in
// store/redis/ (ioredis' defineCommand: EVALSHA, and EVAL again after a
// restarted Redis answers NOSCRIPT) applying the core's rules on the Redis
// server's clock (microsecond ticks). This file only translates: the config
// into the fingerprint kept beside the state, milliseconds into server ticks
// and back, Redis errors into typed ones, an unreachable Redis into the
// onError policy's answer.
//
// A Redis answer is a promise: TokenBucket's `await bucket.take()`,
// Bulkhead's `await run()`, opossum's CircuitBreaker (`fire()` awaits the
// admission) and `retry()` with a RetryBudget await it; the core Breaker's
// and the RetryBudget's decision methods return promises in a RedisStore.
// With onError 'local' the policy's own in-process object (built from the
// same options) decides while Redis is away.

const { native } = require('./native');
const { storeError } = require('./store');
const { Backoff, known } = require('./core');

const POLICIES = ['fail_open', 'fail_closed', 'local'];
const COMMANDS = { bucket: 'fusewireBucket', breaker: 'fusewireBreaker', bulkhead: 'fusewireBulkhead', budget: 'fusewireBudget' };

/** The config as the scripts keep it (the same string Python's RedisStore makes). */
function fingerprint (kind, config) {
  // computed once, in Rust (fusewire_store::config::redis_fingerprint)
  const fields = Object.entries(config).map(([field, v]) => ({
    field,
    int: typeof v === 'number' ? v : null,
    word: typeof v === 'string' ? v : null
  }));
  try {
    return native.redisFingerprint(kind, fields);
  } catch (e) {
    const [, field, message] = /^config\|([^|]*)\|([\s\S]*)$/.exec(e.message) ?? [null, 'config', e.message];
    throw storeError('RedisStore', field, message);
  }
}

function configError (field, message) {
  return storeError('RedisStore', field, message);
}

class RedisStoreError extends Error {
  constructor (message) {
    super(`fusewire: ${message}`);
    this.name = 'RedisStoreError';
    this.code = 'ERR_FUSEWIRE_REDIS';
  }
}

class Down extends Error {}

/**
 * `new RedisStore(urlOrClient, { prefix, timeout, onError, ttl, lease, leaseTime })`:
 * `urlOrClient` a `redis://` URL or an ioredis client you built;
 * `timeout` (ms, default 50) bounds each decision when Redis is down or
 * slow, then `onError` answers: `'fail_open'` grants, `'fail_closed'`
 * refuses, `'local'` decides with the policy's in-process twin. After a
 * failure Redis is not asked again until fusewire's own backoff (10 ms
 * doubling to 5 s) has passed. `ttl` (ms, default one hour): an unused key
 * expires. `lease` (tokens, default off): lease mode for buckets, tokens
 * taken `lease` at a time and spent locally, handed back when held longer
 * than `leaseTime` ms (default 1000) and at `close()` (Python's `lease` and
 * `lease_time`).
 */
class RedisStore {
  constructor (urlOrClient, options = {}) {
    if (options === null || typeof options !== 'object') throw configError('options', `must be an object, got ${String(options)}`);
    known('RedisStore', options, ['prefix', 'timeout', 'onError', 'ttl', 'lease', 'leaseTime']);
    const { prefix = 'fusewire', timeout = 50, onError = 'fail_open', ttl = 3600000, lease = null, leaseTime = 1000 } = options;
    if (!POLICIES.includes(onError)) throw configError('onError', `must be one of ${POLICIES.join(', ')}, got ${String(onError)}`);
    if (typeof timeout !== 'number' || !Number.isFinite(timeout) || !(timeout > 0)) {
      throw configError('timeout', `must be a positive finite number of ms, got ${String(timeout)}`);
    }
    if (typeof ttl !== 'number' || !Number.isFinite(ttl) || !(ttl >= 1000)) {
      throw configError('ttl', `must be a number of ms of at least 1000, got ${String(ttl)}`);
    }
    if (typeof prefix !== 'string' || prefix === '') throw configError('prefix', 'must be a non-empty string');
    if (lease !== null && lease !== undefined && !(Number.isSafeInteger(lease) && lease >= 2)) {
      throw configError('lease', `must be a whole number of tokens of at least 2 (null: off), got ${String(lease)}`);
    }
    if (typeof leaseTime !== 'number' || !Number.isFinite(leaseTime) || !(leaseTime > 0)) {
      throw configError('leaseTime', `must be a positive finite number of ms, got ${String(leaseTime)}`);
    }
    let Redis;
    try {
      Redis = require('ioredis');
    } catch {
      throw new RedisStoreError('RedisStore needs the ioredis package: npm install ioredis');
    }
    Object.assign(this, { prefix, timeout, onError, ttl: Math.round(ttl), lease: lease ?? null, leaseTime });
    this._leased = [];
    /** Scripts this store sent to Redis (lease mode cuts them). */
    this.roundTrips = 0;
    this._backoff = new Backoff({ kind: 'exponential', base: 10, factor: 2, max: 5000 });
    this._failures = 0;
    this._downUntil = 0;
    this.errors = 0;
    if (typeof urlOrClient === 'string') {
      if (!/^rediss?:\/\//.test(urlOrClient)) throw configError('url', `must be a redis:// or rediss:// URL, got ${urlOrClient}`);
      this.client = new Redis(urlOrClient, {
        commandTimeout: timeout,
        connectTimeout: Math.max(timeout, 10),
        // close() with Redis down: ioredis waits this long for a socket that
        // will never close before destroying it, keeping the process alive
        // (2 s by default: a graceful shutdown that hung on a dead Redis)
        disconnectTimeout: Math.max(timeout, 10),
        // no retry or queue inside the client: a script that timed out may
        // have run, and running it again would count twice
        maxRetriesPerRequest: 0,
        enableOfflineQueue: false,
        // reconnection paced by fusewire's backoff
        retryStrategy: (times) => this._backoff.raw(Math.min(times - 1, 30))
      });
      // each call reports through onError; an authentication error is kept,
      // and a URL that cannot work is kept as the error every call gets
      this.client.on('error', (e) => {
        this._lastError = e;
        if (this._fatal === undefined) {
          this._fatal = this._misconfigured(e);
          // no use reconnecting to it: close() or a new store
          if (this._fatal !== undefined) this.client.disconnect();
        }
      });
      this._own = true;
    } else if (urlOrClient !== null && typeof urlOrClient === 'object' && typeof urlOrClient.defineCommand === 'function') {
      this.client = urlOrClient;
      this._own = false;
      // a client without a command timeout would wait for a stalled Redis
      // forever: the store bounds each decision by its own timeout then
      this._race = !(urlOrClient.options && urlOrClient.options.commandTimeout > 0);
    } else {
      throw configError('url', 'must be a redis:// URL or an ioredis client');
    }
    for (const { kind, lua } of native.redisScripts()) {
      this.client.defineCommand(COMMANDS[kind], { numberOfKeys: 1, lua });
    }
  }

  /**
   * Hands the tokens held in lease mode back to Redis (tokens not handed
   * back are only lost to the fleet, never extra), then closes the
   * connection this store opened (not a client you passed).
   */
  async close () {
    await Promise.all(this._leased.map((b) => b.giveBack()));
    if (this._own) this.client.disconnect();
  }

  async _eval (kind, key, fp, op, ...args) {
    if (this._fatal) throw this._fatal;
    if (Date.now() < this._downUntil) {
      this.errors++;
      throw new Down();
    }
    try {
      if (this.client.status !== 'ready') await this._ready();
      this.roundTrips++;
      const call = this.client[COMMANDS[kind]](key, fp, '', this.ttl, op, ...args);
      const r = this._race ? await this._bounded(call) : await call;
      // a SELECT that failed on connect is answered before this script,
      // which then ran on database 0
      if (this._fatal) throw this._fatal;
      this._failures = 0;
      return r;
    } catch (e) {
      if (e instanceof RedisStoreError) throw e;
      if (this._fatal) throw this._fatal;
      const text = String(e && e.message);
      if (text.startsWith('FUSEWIRE_CONFIG')) {
        const [, field, had, given] = text.split(' ');
        throw storeError('RedisStore', field,
          `differs: ${key} is already in Redis with ${field}=${had}, this process has ${given}; every process sharing a name needs the same config`);
      }
      if (/NOAUTH|WRONGPASS|AUTH/.test(text)) throw new RedisStoreError(`Redis needs a password (give it in the URL: redis://:PASSWORD@host): ${text}`);
      if (text.startsWith('ERR') || text.startsWith('NOSCRIPT')) throw new RedisStoreError(`Redis refused the script: ${text}`);
      if (e instanceof Down && this._failures > 0 && Date.now() < this._downUntil) throw e;
      this._failures++;
      this._downUntil = Date.now() + this._backoff.raw(Math.min(this._failures - 1, 30));
      this.errors++;
      throw new Down();
    }
  }

  /**
   * The error for a URL that cannot work however long one waits, from the
   * client's error events, else undefined (an outage: onError answers).
   * ioredis reports both as events and goes on: a database the server does
   * not have leaves the connection on database 0, another service on the
   * port (HTTP, a proxy) is reconnected to forever.
   */
  _misconfigured (e) {
    const text = String(e && e.message);
    const where = `${this.client.options.host}:${this.client.options.port}/${this.client.options.db ?? 0}`;
    if (/DB index|invalid DB/i.test(text)) return new RedisStoreError(`Redis at ${where} has no such database: ${text}`);
    if (e && e.name === 'ParserError') {
      return new RedisStoreError(`the server at ${where} did not answer as Redis (is the URL's port a Redis one?): ${text}`);
    }
    return undefined;
  }

  /** `call`, or a Down after `timeout` ms (its late answer is dropped). */
  async _bounded (call) {
    let timer;
    const late = new Promise((resolve, reject) => {
      timer = setTimeout(() => reject(new Down()), this.timeout);
    });
    call.catch(() => {}); // an answer after the timeout is nobody's
    try {
      return await Promise.race([call, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Waits for the connection, at most `timeout` ms (no offline queue). */
  async _ready () {
    let timer, onReady;
    await new Promise((resolve) => {
      onReady = resolve;
      this.client.once('ready', onReady);
      timer = setTimeout(resolve, this.timeout);
    });
    clearTimeout(timer);
    this.client.off('ready', onReady);
    if (this.client.status !== 'ready') {
      const text = String(this._lastError && this._lastError.message);
      if (/NOAUTH|WRONGPASS/.test(text)) throw new RedisStoreError(`Redis needs a password (give it in the URL: redis://:PASSWORD@host): ${text}`);
      throw new Down();
    }
  }

  _bind (kind, name, config, what, local) {
    const key = `${this.prefix}:${kind}:${name}`;
    const fp = fingerprint(kind, config);
    // the in-process stand-in for onError 'local' (made only then)
    const own = this.onError === 'local' && typeof local === 'function' ? local() : null;
    if (kind === 'breaker') return new RedisBreaker(this, key, fp, config, own);
    if (kind === 'bulkhead') return new RedisBulkhead(this, key, fp, config, own);
    if (kind === 'budget') return new RedisBudget(this, key, fp, config, own);
    const bucket = new RedisBucket(this, key, fp, config);
    if (this.lease !== null) this._leased.push(bucket);
    return bucket;
  }
}

/**
 * A bucket in Redis (store/redis/bucket.lua): `take(n)` is one script, the
 * core's GCRA on the server's clock. In lease mode (`RedisStore({ lease })`)
 * tokens come `lease` at a time (`grab`: as many as the bucket has, up to
 * `lease`) and are spent here, so most decisions make no round trip; tokens
 * held longer than `leaseTime` are handed back (`refund`), as the unused
 * ones are at `store.close()`. What it allows: every token spent was taken
 * from the shared bucket, so since the start the fleet never spends more
 * than `burst + rate x elapsed`; over a shorter interval tokens taken
 * before it and spent in it come on top, at most `lease` per process and
 * only within `leaseTime` of their taking. A process that dies loses what
 * it held (the fleet admits less, never more).
 */
class RedisBucket {
  constructor (store, key, fp, config) {
    Object.assign(this, { store, key, fp, burst: config.burst, async: true, last: config.burst });
    this.held = 0;
    this.takenAt = 0;
    this.local = null;
    if (store.onError === 'local') {
      this.local = new native.TokenBucket(config.burst, config.tokens, config.period / 1e6);
    }
  }

  available () { return Math.min(this.last + this.held, this.burst); }

  /** ms to wait (0: granted, -1: more than the burst). */
  async take (n) {
    if (n > this.burst) return -1;
    if (this.store.lease !== null) return this._leasedTake(n);
    try {
      const [code, value, available] = await this.store._eval('bucket', this.key, this.fp, 'take', n);
      this.last = available;
      if (code === 0) return 0;
      return Math.max(value / 1000, 0.001);
    } catch (e) {
      if (!(e instanceof Down)) throw e;
      return this._down(n);
    }
  }

  _down (n) {
    if (this.local !== null) return this.local.take(n, Date.now());
    if (this.store.onError === 'fail_open') return 0;
    return Math.max(this.store._downUntil - Date.now(), 1);
  }

  async _leasedTake (n) {
    if (this.held > 0 && Date.now() - this.takenAt > this.store.leaseTime) {
      // held too long: handed back rather than spent
      await this.giveBack();
    }
    if (this.held >= n) {
      this.held -= n;
      return 0;
    }
    let got, wait, available;
    try {
      [got, wait, available] = (await this.store._eval('bucket', this.key, this.fp, 'grab', Math.max(this.store.lease, n))).map(Number);
    } catch (e) {
      if (!(e instanceof Down)) throw e;
      return this._down(n); // the onError answer, as without a lease
    }
    this.last = available;
    if (got > 0) {
      if (this.held === 0) this.takenAt = Date.now();
      this.held += got;
    }
    if (this.held >= n) {
      this.held -= n;
      return 0;
    }
    return Math.max(wait / 1000, 0.001);
  }

  /** Hands the tokens held in lease mode back to Redis. */
  async giveBack () {
    const held = this.held;
    this.held = 0;
    if (held === 0) return;
    try {
      [this.last] = (await this.store._eval('bucket', this.key, this.fp, 'refund', held)).map(Number);
    } catch (e) {
      if (!(e instanceof Down)) throw e;
    }
  }

  refund (n) {
    this.store._eval('bucket', this.key, this.fp, 'refund', n).catch(() => {});
  }
}

/**
 * A bulkhead in Redis (store/redis/bulkhead.lua): the core's slots with
 * lease epochs on the server's clock. `tryAcquire(priority)` and
 * `release(slot)` return promises (`async === true`), used by
 * `Bulkhead.run()`; the counters are the last answer's. Redis down or too
 * slow: `fail_open` runs the call without a slot, `fail_closed` refuses.
 */
class RedisBulkhead {
  constructor (store, key, fp, config, local) {
    Object.assign(this, { store, key, fp, async: true, local });
    this.lease = Number(config.lease) / 1e6; // ms
    // in use, available, available for critical/normal/sheddable, extra,
    // expired releases, reclaimed: as the script answers them
    this._last = [0, 0, 0, 0, 0, 0, 0, 0, 0];
  }

  async _state (op, ...args) {
    try {
      const r = (await this.store._eval('bulkhead', this.key, this.fp, op, ...args)).map(Number);
      this._last = r;
      return r[0];
    } catch (e) {
      if (!(e instanceof Down)) throw e;
      return null;
    }
  }

  /**
   * A slot (>= 0), -1 when full; without Redis, -2 (fail_open: run without
   * one), -1 (fail_closed) or the in-process bulkhead's slot as `'L<n>'`
   * (local).
   */
  async tryAcquire (priority) {
    const r = await this._state('acquire', priority);
    if (r !== null) return r;
    if (this.local !== null) {
      const slot = this.local.tryAcquire(priority, Date.now());
      return slot < 0 ? -1 : `L${slot}`;
    }
    return this.store.onError === 'fail_open' ? -2 : -1;
  }

  /** null when released, 'notHeld' or 'expired' as the core says; null without Redis. */
  async release (slot) {
    if (typeof slot === 'string') return this.local.release(Number(slot.slice(1)), Date.now()) ?? null;
    if (slot < 0) return null;
    const r = await this._state('release', slot);
    return r === 1 ? 'notHeld' : r === 2 ? 'expired' : null;
  }

  get inUse () { return this._last[1]; }
  get available () { return this._last[2]; }
  availableFor (p) { return this._last[3 + p]; }
  get extraReleases () { return this._last[6]; }
  get expiredReleases () { return this._last[7]; }
  get reclaimed () { return this._last[8]; }
}

// The script's state names, as the breakers name them in Node.
const STATE_NAMES = { closed: 'closed', open: 'open', half_open: 'halfOpen', forced_open: 'forcedOpen', disabled: 'disabled' };
const REASONS = {
  failure_rate: 'failureRate', slow_call_rate: 'slowCallRate', consecutive_failures: 'consecutiveFailures',
  open_elapsed: 'openElapsed', probes_passed: 'probesPassed', probes_failed: 'probesFailed', dwell_expired: 'dwellExpired'
};
const HOST_OPS = { poll: 'poll', trip: 'trip', close: 'close', halfOpen: 'half_open', forceOpen: 'force_open', disable: 'disable', reset: 'reset' };

function moved (f, t, why) {
  f = String(f);
  if (f === '') return null;
  const w = String(why);
  return { from: STATE_NAMES[f] ?? f, to: STATE_NAMES[String(t)] ?? String(t), reason: REASONS[w] ?? w };
}

/**
 * A circuit breaker in Redis (store/redis/breaker.lua): the core breaker's
 * rules on the server's clock, one script per decision. Its methods are the
 * HostStore breaker's (`tryAcquire`, `record`, `release`, `poll`, `trip`,
 * `close`, `halfOpen`) returning promises (`async === true`); `state` and
 * `snapshot()` give what the last answer said. opossum's CircuitBreaker
 * awaits the admission and sends the outcome inside `fire()`. Redis down or
 * too slow (`timeout`): `fail_open` admits without a permit (the outcome is
 * not sent), `fail_closed` refuses until Redis answers again.
 */
class RedisBreaker {
  constructor (store, key, fp, config, local) {
    Object.assign(this, { store, key, fp, local, async: true });
    // the open period (ms), for when an answer moved the breaker to open
    // without saying for how long
    this._openMs = Math.max(Number(config.open_backoff_base) / 1e6 || 0, 1);
    this.state = 'closed';
    this.generation = 0;
    this._retryUntil = 0;
    this._probes = 0;
    // the core's seeded generator (Rng, seeded with the config's seed) in
    // two 32-bit halves: its next draw goes with every call, and it
    // advances when a call opened the breaker (store/README.md "Randomness")
    const seed = Number(config.seed) || 0;
    this._rng = [Math.floor(seed / 2 ** 32) >>> 0, seed >>> 0];
  }

  async _call (op, ...args) {
    const rng = this._rng;
    const [hi, lo, nextHi, nextLo] = native.rngNext(rng[0], rng[1]);
    const r = await this.store._eval('breaker', this.key, this.fp, op, `${hi}:${lo}`, ...args);
    if (op !== 'snapshot' && String(op === 'acquire' ? r[5] : r[1]) === 'open' && this._rng === rng) {
      this._rng = [nextHi, nextLo];
    }
    return r;
  }

  _seen (state) {
    this.state = STATE_NAMES[String(state)] ?? this.state;
    if (this.state !== 'halfOpen') this._probes = 0;
  }

  async tryAcquire () {
    let answer;
    try {
      answer = await this._call('acquire');
    } catch (e) {
      if (!(e instanceof Down)) throw e;
      if (this.local !== null) {
        // the in-process breaker decides while Redis is away; its permits
        // are marked so that they go back to it
        const a = this.local.tryAcquire(Date.now());
        this.state = this.local.state;
        return a.admitted ? { ...a, permit: `L${a.permit}` } : a;
      }
      if (this.store.onError === 'fail_open') return { admitted: true, permit: -1, probe: false, transition: null };
      const wait = Math.max(this.store._downUntil - Date.now(), 1);
      return { admitted: false, retryAfter: wait, state: 'open', transition: null };
    }
    const [adm, value, state, probe, f, t, why] = answer;
    this._seen(state);
    const transition = moved(f, t, why);
    if (Number(adm) === 1) {
      if (Number(probe) === 1) this._probes++;
      return { admitted: true, permit: String(value), probe: Number(probe) === 1, transition };
    }
    const wait = String(value) === 'max' ? Infinity : Math.max(Number(value) / 1000, 0.001);
    if (this.state === 'open' || this.state === 'forcedOpen') this._retryUntil = Date.now() + wait;
    return { admitted: false, retryAfter: wait, state: this.state, transition };
  }

  async _settle (op, ...args) {
    try {
      const [f, t, why, state] = await this._call(op, ...args);
      this._seen(state);
      const transition = moved(f, t, why);
      if (transition !== null && transition.to === 'open') this._retryUntil = Date.now() + this._openMs;
      return transition;
    } catch (e) {
      if (!(e instanceof Down)) throw e;
      return null;
    }
  }

  /**
   * Sends a call's outcome (`success`, `failure`, `timeout`, `ignored`);
   * `duration` in ms. A permit handed out without Redis (-1, fail_open) is
   * not sent; one of the in-process stand-in (`'L<n>'`) goes back to it.
   */
  record (permit, outcome, duration, mayTrip = true) {
    if (permit === -1) return Promise.resolve(null);
    if (this._probes > 0) this._probes--;
    if (isLocal(permit)) {
      const method = mayTrip ? 'record' : 'recordUntripped';
      return Promise.resolve(this.local[method](Number(permit.slice(1)), outcome, duration, Date.now()));
    }
    return this._settle('record', String(permit), outcome, Math.max(0, Math.ceil(duration * 1000)), mayTrip ? 1 : 0);
  }

  /** As record(), but the outcome cannot trip a closed breaker. */
  recordUntripped (permit, outcome, duration) {
    return this.record(permit, outcome, duration, false);
  }

  /** Hands a permit back without an outcome. */
  release (permit) {
    if (permit === -1) return Promise.resolve(null);
    if (this._probes > 0) this._probes--;
    if (isLocal(permit)) return Promise.resolve(this.local.release(Number(permit.slice(1)), Date.now()));
    return this._settle('release', String(permit));
  }

  /**
   * The whole snapshot, from Redis (a round trip): the core Breaker's
   * fields, times in ms of the Redis server's clock; the in-process
   * stand-in's (or the last known state) when Redis is away.
   */
  async fullSnapshot () {
    let r;
    try {
      r = await this._call('snapshot');
    } catch (e) {
      if (!(e instanceof Down)) throw e;
      if (this.local !== null) return this.local.snapshot(Date.now());
      return null;
    }
    const m = {};
    for (let i = 0; i < r.length; i += 2) m[String(r[i])] = String(r[i + 1]);
    const n = (k) => Number(m[k]);
    const ms = (k) => n(k) / 1000;
    this._seen(m.state);
    this.generation = n('generation');
    return {
      state: this.state,
      generation: this.generation,
      counts: {
        successes: n('successes'), failures: n('failures'), timeouts: n('timeouts'),
        slow: n('slow'), ignored: n('ignored'), rejected: n('rejected')
      },
      consecutiveFailures: n('consecutive_failures'),
      probesInFlight: n('probes_in_flight'),
      openUntil: ms('open_until'),
      reopens: n('reopens'),
      clockRegressions: n('clock_regressions'),
      since: ms('since'),
      now: ms('now')
    };
  }

  /** The last known state, and when the open period ends (ms from now, by the last answer). */
  snapshot () {
    return {
      state: this.state,
      probesInFlight: this._probes,
      // past the end the last answer gave: ask again in 50 ms (a poll is a
      // round trip; another process may be the one to move it)
      retryAfter: this._retryUntil > Date.now() ? this._retryUntil - Date.now() : 50
    };
  }

}
for (const [method, op] of Object.entries(HOST_OPS)) {
  RedisBreaker.prototype[method] = function () { return this._settle(op); };
}

function isLocal (permit) {
  return typeof permit === 'string' && permit.charCodeAt(0) === 76; // 'L'
}

/**
 * A retry budget in Redis (store/redis/budget.lua): the core's rules,
 * gRPC's retry throttling. `recordSuccess()`, `recordFailure()`,
 * `tryRetry()` and `failureRetry()` (the failure counted and a retry asked,
 * one round trip: what `retry()` sends after a failed attempt) return
 * promises; the getters give the last answer. Redis away: `fail_open`
 * allows retries, `fail_closed` refuses them, `local` asks the in-process
 * budget.
 */
class RedisBudget {
  constructor (store, key, fp, config, local) {
    Object.assign(this, { store, key, fp, local, async: true });
    this.maxTokens = Number(config.max_tokens);
    // can retry, milli-tokens, throttled: as the script answers them
    this._last = [1, this.maxTokens * 1000, 0];
  }

  async _op (op) {
    try {
      this._last = (await this.store._eval('budget', this.key, this.fp, op)).map(Number);
    } catch (e) {
      if (!(e instanceof Down)) throw e;
      return this._down(op);
    }
    return this._last[0] === 1;
  }

  _down (op) {
    const b = this.local;
    if (b === null) return this.store.onError === 'fail_open';
    let ok;
    if (op === 'success') b.recordSuccess();
    if (op === 'failure' || op === 'failure_retry') b.recordFailure();
    if (op === 'try_retry' || op === 'failure_retry') ok = b.tryRetry();
    this._last = [b.canRetry ? 1 : 0, b.tokensMilli, b.throttled];
    return ok ?? b.canRetry;
  }

  async recordSuccess () { await this._op('success'); }
  async recordFailure () { await this._op('failure'); }
  tryRetry () { return this._op('try_retry'); }
  failureRetry () { return this._op('failure_retry'); }
  get canRetry () { return this._last[0] === 1; }
  get tokensMilli () { return this._last[1]; }
  get tokens () { return Math.floor(this._last[1] / 1000); }
  get throttled () { return this._last[2]; }
}

module.exports = { RedisStore, RedisStoreError, fingerprint };
