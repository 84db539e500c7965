'use strict';

// require('fusewire') is the CircuitBreaker class, as require('opossum') is.
// fusewire's other policies hang off it as named exports.
const CircuitBreaker = require('./lib/circuit');
const { retry, RetrySchedule } = require('./lib/retry');
const TokenBucket = require('./lib/bucket');
const Bulkhead = require('./lib/bulkhead');
const { Breaker, Backoff, RetryBudget } = require('./lib/core');
const { TickWidener } = require('./lib/native').native;
const { chaos, Chaos, ChaosError } = require('./lib/chaos');
const { Pool } = require('./lib/pool');
const { HostStore } = require('./lib/host');
const { RedisStore, RedisStoreError } = require('./lib/redis');

module.exports = exports = CircuitBreaker;
Object.defineProperties(CircuitBreaker, {
  CircuitBreaker: { value: CircuitBreaker },
  default: { value: CircuitBreaker },
  retry: { value: retry },
  RetrySchedule: { value: RetrySchedule },
  TokenBucket: { value: TokenBucket },
  Bulkhead: { value: Bulkhead },
  TickWidener: { value: TickWidener },
  Breaker: { value: Breaker },
  Backoff: { value: Backoff },
  RetryBudget: { value: RetryBudget },
  chaos: { value: chaos },
  Chaos: { value: Chaos },
  ChaosError: { value: ChaosError },
  Pool: { value: Pool },
  HostStore: { value: HostStore },
  RedisStore: { value: RedisStore },
  RedisStoreError: { value: RedisStoreError },
  version: { value: require('./package.json').version }
});
