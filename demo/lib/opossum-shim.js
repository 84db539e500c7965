'use strict';

// Development stand-in, used only with DEMO_BREAKER_MODULE=opossum: opossum's
// breaker plus small JavaScript versions of fusewire's `retry` and
// `TokenBucket`, so the demo can be compared against the original library.
// The default, and every test, runs on the real fusewire package.

const CircuitBreaker = require('opossum');

const sleep = ms => new Promise(resolve => setTimeout(resolve, ms));

function delayFor (attempt, { base = 100, factor = 2, max = 10000, jitter = 'none' } = {}) {
  // Exponential only: enough for the demo's schedule.
  const raw = base * Math.pow(factor, attempt - 1);
  const capped = Math.min(max, raw);
  return jitter === 'full' ? Math.random() * capped : capped;
}

async function retry (fn, { maxAttempts = 3, backoff = {}, retryOn = () => true, onRetry } = {}) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (attempt >= maxAttempts || !retryOn(err, attempt)) throw err;
      const delay = delayFor(attempt, backoff);
      if (onRetry) onRetry(err, attempt, delay);
      await sleep(delay);
    }
  }
}

class TokenBucket {
  // fusewire's names: { burst, tokens = burst, period = 1000 }.
  constructor ({ burst, tokens = burst, period = 1000 }) {
    this.burst = burst;
    this.capacity = burst;
    this.rate = (tokens * 1000) / period;
    this.level = burst;
    this.at = Date.now();
  }

  get available () {
    const now = Date.now();
    this.level = Math.min(this.capacity, this.level + (now - this.at) * this.rate / 1000);
    this.at = now;
    return Math.floor(this.level);
  }

  tryTake (n = 1) {
    if (this.available < n) return false;
    this.level -= n;
    return true;
  }
}

module.exports = CircuitBreaker;
module.exports.retry = retry;
module.exports.TokenBucket = TokenBucket;
