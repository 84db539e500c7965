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
// Node's Breaker, Bulkhead and RetryBudget decide synchronously and a Redis
// answer is a promise, so only the promise API of the TokenBucket
// (`await bucket.take()`) is served; binding another kind is a typed error.

const { native } = require('./native');
const { storeError } = require('./store');
const { Backoff } = require('./core');

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
 * `new RedisStore(urlOrClient, { prefix, timeout, onError, ttl })`:
 * `urlOrClient` a `redis://` URL or an ioredis client you built;
 * `timeout` (ms, default 50) bounds each decision when Redis is down or
 * slow, then `onError` answers: `'fail_open'` grants, `'fail_closed'`
 * refuses, `'local'` decides with an in-process bucket. After a failure
 * Redis is not asked again until fusewire's own backoff (10 ms doubling to
 * 5 s) has passed. `ttl` (ms, default one hour): an unused key expires.
 */
class RedisStore {
  constructor (urlOrClient, options = {}) {
    const { prefix = 'fusewire', timeout = 50, onError = 'fail_open', ttl = 3600000 } = options;
    if (!POLICIES.includes(onError)) throw configError('onError', `must be one of ${POLICIES.join(', ')}, got ${String(onError)}`);
    if (typeof timeout !== 'number' || !Number.isFinite(timeout) || !(timeout > 0)) {
      throw configError('timeout', `must be a positive finite number of ms, got ${String(timeout)}`);
    }
    if (typeof ttl !== 'number' || !Number.isFinite(ttl) || !(ttl >= 1000)) {
      throw configError('ttl', `must be a number of ms of at least 1000, got ${String(ttl)}`);
    }
    if (typeof prefix !== 'string' || prefix === '') throw configError('prefix', 'must be a non-empty string');
    let Redis;
    try {
      Redis = require('ioredis');
    } catch {
      throw new RedisStoreError('RedisStore needs the ioredis package: npm install ioredis');
    }
    Object.assign(this, { prefix, timeout, onError, ttl: Math.round(ttl) });
    this._backoff = new Backoff({ kind: 'exponential', base: 10, factor: 2, max: 5000 });
    this._failures = 0;
    this._downUntil = 0;
    this.errors = 0;
    if (typeof urlOrClient === 'string') {
      if (!/^rediss?:\/\//.test(urlOrClient)) throw configError('url', `must be a redis:// or rediss:// URL, got ${urlOrClient}`);
      this.client = new Redis(urlOrClient, {
        commandTimeout: timeout,
        connectTimeout: Math.max(timeout, 10),
        // no retry or queue inside the client: a script that timed out may
        // have run, and running it again would count twice
        maxRetriesPerRequest: 0,
        enableOfflineQueue: false,
        // reconnection paced by fusewire's backoff
        retryStrategy: (times) => this._backoff.raw(Math.min(times - 1, 30))
      });
      // each call reports through onError; an authentication error is kept
      this.client.on('error', (e) => { this._lastError = e; });
      this._own = true;
    } else if (urlOrClient !== null && typeof urlOrClient === 'object' && typeof urlOrClient.defineCommand === 'function') {
      this.client = urlOrClient;
      this._own = false;
    } else {
      throw configError('url', 'must be a redis:// URL or an ioredis client');
    }
    for (const { kind, lua } of native.redisScripts()) {
      this.client.defineCommand(COMMANDS[kind], { numberOfKeys: 1, lua });
    }
  }

  /** Closes the connection this store opened (not a client you passed). */
  async close () {
    if (this._own) this.client.disconnect();
  }

  async _eval (kind, key, fp, op, ...args) {
    if (Date.now() < this._downUntil) {
      this.errors++;
      throw new Down();
    }
    try {
      if (this.client.status !== 'ready') await this._ready();
      const r = await this.client[COMMANDS[kind]](key, fp, '', this.ttl, op, ...args);
      this._failures = 0;
      return r;
    } catch (e) {
      if (e instanceof RedisStoreError) throw e;
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

  _bind (kind, name, config) {
    if (kind !== 'bucket') {
      throw storeError('RedisStore', 'store',
        `cannot hold a ${kind} in Node yet: Node's Breaker, Bulkhead and RetryBudget decide synchronously and Redis answers with a promise (only TokenBucket's await take() is served)`);
    }
    return new RedisBucket(this, `${this.prefix}:${kind}:${name}`, fingerprint(kind, config), config);
  }
}

class RedisBucket {
  constructor (store, key, fp, config) {
    Object.assign(this, { store, key, fp, burst: config.burst, async: true, last: config.burst });
    this.local = null;
    if (store.onError === 'local') {
      this.local = new native.TokenBucket(config.burst, config.tokens, config.period / 1e6);
    }
  }

  _sync () {
    throw new RedisStoreError('a TokenBucket in a RedisStore answers through `await bucket.take()` (a Redis round trip cannot be synchronous)');
  }

  tryAcquire () { this._sync(); }
  available () { return this.last; }

  /** ms to wait (0: granted, -1: more than the burst). */
  async take (n) {
    if (n > this.burst) return -1;
    try {
      const [code, value, available] = await this.store._eval('bucket', this.key, this.fp, 'take', n);
      this.last = available;
      if (code === 0) return 0;
      return Math.max(value / 1000, 0.001);
    } catch (e) {
      if (!(e instanceof Down)) throw e;
      if (this.local !== null) return this.local.take(n, Date.now());
      if (this.store.onError === 'fail_open') return 0;
      return Math.max(this.store._downUntil - Date.now(), 1);
    }
  }

  refund (n) {
    this.store._eval('bucket', this.key, this.fp, 'refund', n).catch(() => {});
  }
}

module.exports = { RedisStore, RedisStoreError, fingerprint };
