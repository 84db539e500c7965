'use strict';

// A token bucket on the core's GCRA Bucket, with promise waits.

const { native } = require('./native');
const { int, ms } = require('./core');

function buildError (msg, code) {
  const e = new Error(msg);
  e.code = code;
  return e;
}

class TokenBucket {
  /** { capacity, refill = capacity, interval = 1000 }: capacity tokens, refill per interval ms; starts full. */
  constructor (options = {}) {
    const { capacity } = options;
    const refill = options.refill ?? capacity;
    const interval = options.interval ?? 1000;
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new TypeError(`fusewire: TokenBucket capacity must be an integer of at least 1, got ${String(capacity)}`);
    }
    if (!Number.isInteger(refill) || refill < 1) {
      throw new TypeError(`fusewire: TokenBucket refill must be an integer of at least 1, got ${String(refill)}`);
    }
    if (typeof interval !== 'number' || !(interval >= 1)) {
      throw new TypeError(`fusewire: TokenBucket interval must be a number of milliseconds, at least 1, got ${String(interval)}`);
    }
    this.capacity = capacity;
    this._native = new native.TokenBucket(capacity, refill, interval);
  }

  /** Takes `n` tokens now if there are enough; never waits. */
  tryTake (n = 1) {
    return this._native.take(n, Date.now()) === 0;
  }

  /** Resolves once `n` tokens are taken; rejects for more than the capacity or on abort. */
  async take (n = 1, { signal } = {}) {
    for (;;) {
      if (signal?.aborted) throw signal.reason;
      const wait = this._native.take(n, Date.now());
      if (wait === 0) return;
      if (wait < 0) {
        throw buildError(`fusewire: cannot take ${n} tokens from a bucket of ${this.capacity}`, 'ERANGE');
      }
      await new Promise((resolve, reject) => {
        const t = setTimeout(resolve, wait);
        signal?.addEventListener('abort', () => { clearTimeout(t); reject(signal.reason); }, { once: true });
      });
    }
  }

  /** Wraps `fn` so each call first takes a token (waiting for it). */
  wrap (fn) {
    return async (...args) => {
      await this.take(1);
      return fn(...args);
    };
  }

  /**
   * Takes `n` tokens at `now` (ms, default Date.now()) if there are enough;
   * never waits. `{ result: 'granted' }`, `{ result: 'denied', retryAfter }`
   * (ms until they are there) or `{ result: 'exceedsBurst', burst }`.
   */
  tryAcquire (n = 1, now = Date.now()) {
    const r = this._native.tryAcquire(int('TokenBucket', 'n', n), ms('TokenBucket', 'now', now));
    if (r === null) return { result: 'granted' };
    if (r.retryAfter !== undefined) return { result: 'denied', retryAfter: r.retryAfter };
    return { result: 'exceedsBurst', burst: r.burst };
  }

  /** The capacity (the core's burst). */
  get burst () { return this.capacity; }

  get available () { return this._native.available(Date.now()); }

  refund (n = 1, now = Date.now()) { this._native.refund(n, now); }

  setRate (refill, interval = 1000, now = Date.now()) { this._native.setRate(refill, interval, now); }
}

module.exports = TokenBucket;
