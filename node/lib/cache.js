'use strict';

// opossum's in-memory cache (a Map with TTL and first-in eviction), kept
// identical: user code and cacheTransport implementations rely on it.
class MemoryCache {
  constructor (maxEntries) {
    this.cache = new Map();
    this.maxEntries = maxEntries ?? 2 ** 24 - 1;
  }

  get (key) {
    const cached = this.cache.get(key);
    if (cached) {
      if (cached.expiresAt > Date.now() || cached.expiresAt === 0) {
        return cached.value;
      }
      this.cache.delete(key);
    }
    return undefined;
  }

  set (key, value, ttl) {
    if (this.cache.size === this.maxEntries && this.get(key) === undefined) {
      this.cache.delete(this.cache.keys().next().value);
    }
    this.cache.set(key, { expiresAt: ttl, value });
  }

  delete (key) {
    this.cache.delete(key);
  }

  flush () {
    this.cache.clear();
  }
}

module.exports = MemoryCache;
