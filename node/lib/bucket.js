'use strict';

// A token bucket on the core's GCRA Bucket, with promise waits.

const { native } = require('./native');
const { int, ms, bad, known, nativeBuilt, nonZero, U32 } = require('./core');
const { bindStore } = require('./store');

const W = 'TokenBucket';
const TIMER_MAX = 2 ** 31 - 1;
const OPTIONS = ['burst', 'tokens', 'period', 'store', 'name'];
// ms, at least 1; Infinity is a bucket that never refills (Python's
// per=math.inf): the burst is all it ever gives
function period (v) {
  nonZero(W, 'period', v);
  if (typeof v !== 'number' || !(v >= 1)) throw bad(W, 'period', 'a number of milliseconds of at least 1 (or Infinity)', v);
  return v;
}

function buildError (msg, code) {
  const e = new Error(msg);
  e.code = code;
  return e;
}

class TokenBucket {
  /**
   * { burst, tokens = burst, period = 1000 }: up to `burst` tokens at once,
   * `tokens` more every `period` ms; starts full. The core's names, as in
   * the C door (`fusewire_bucket_config`). With { store, name } the tokens
   * are shared by every process bound to that name (lib/store.js).
   */
  constructor (options = {}) {
    if (options === null || typeof options !== 'object') throw bad(W, 'options', 'an object like { burst: 10 }', options);
    known(W, options, OPTIONS);
    // whole numbers the native u32 holds (2 ** 32 + 5 is not 5)
    const burst = int(W, 'burst', nonZero(W, 'burst', options.burst), 1, U32);
    const tokens = int(W, 'tokens', nonZero(W, 'tokens', options.tokens ?? burst), 1, U32);
    const every = period(options.period ?? 1000);
    this.burst = burst;
    this._native = nativeBuilt(W, () => new native.TokenBucket(burst, tokens, every));
    const backend = bindStore(W, 'bucket', options, () => native.plainBucket(burst, tokens, every));
    if (backend !== null) {
      this._native = backend;
      this._async = backend.async === true;
    }
  }

  /**
   * Takes `n` tokens now if there are enough; never waits. In a RedisStore,
   * a promise (one round trip).
   */
  tryTake (n = 1) {
    int(W, 'n', n);
    if (this._async) return this._native.take(n, Date.now()).then((wait) => wait === 0);
    return this._native.take(n, Date.now()) === 0;
  }

  /** Resolves once `n` tokens are taken; rejects for more than the burst or on abort. */
  async take (n = 1, { signal } = {}) {
    int(W, 'n', n);
    for (;;) {
      if (signal?.aborted) throw signal.reason;
      const wait = this._async ? await this._native.take(n, Date.now()) : this._native.take(n, Date.now());
      if (wait === 0) return;
      if (wait < 0) {
        throw buildError(`fusewire: cannot take ${n} tokens from a bucket of burst ${this.burst}`, 'ERANGE');
      }
      await new Promise((resolve, reject) => {
        // setTimeout fires a longer delay after 1 ms (a spin): wait at
        // most its limit, then ask again
        const t = setTimeout(resolve, Math.min(wait, TIMER_MAX));
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
    if (this._async) {
      // in a RedisStore: the script's one decision, as a promise
      const count = int(W, 'n', n);
      ms(W, 'now', now);
      return this._native.take(count, now).then((wait) => {
        if (wait === 0) return { result: 'granted' };
        if (wait < 0) return { result: 'exceedsBurst', burst: this.burst };
        return { result: 'denied', retryAfter: wait };
      });
    }
    const r = this._native.tryAcquire(int(W, 'n', n), ms(W, 'now', now));
    if (r === null) return { result: 'granted' };
    if (r.retryAfter !== undefined) return { result: 'denied', retryAfter: r.retryAfter };
    return { result: 'exceedsBurst', burst: r.burst };
  }

  get available () { return this._native.available(Date.now()); }

  refund (n = 1, now = Date.now()) { this._native.refund(int(W, 'n', n), ms(W, 'now', now)); }

  /** `tokens` every `period` ms from now on, keeping the tokens there are. */
  setRate (tokens, every = 1000, now = Date.now()) {
    if (this._native.setRate === undefined) {
      const e = new TypeError('fusewire: TokenBucket rate cannot change on a bucket in a store: every process shares its config');
      e.code = 'ERR_FUSEWIRE_CONFIG';
      e.field = 'tokens';
      throw e;
    }
    const t = int(W, 'tokens', nonZero(W, 'tokens', tokens), 1, U32);
    const p = period(every);
    nativeBuilt(W, () => this._native.setRate(t, p, ms(W, 'now', now)));
  }
}

module.exports = TokenBucket;
