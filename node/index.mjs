// ESM entry: `import CircuitBreaker from 'fusewire'`, plus named exports.
import CircuitBreaker from './index.js';

export default CircuitBreaker;
export const { retry, RetrySchedule, TokenBucket, Bulkhead, TickWidener, Breaker, Backoff, RetryBudget, chaos, Chaos, ChaosError, Pool, HostStore, RedisStore, RedisStoreError, version } = CircuitBreaker;
export { CircuitBreaker };
