// What @types/opossum lacks, and fusewire's extras.
import CircuitBreaker, { retry, TokenBucket, Bulkhead } from 'fusewire';

const b = new CircuitBreaker(async (x: string) => x.length, {
  coalesce: true,
  coalesceTTL: 100,
  coalesceResetOn: ['error', 'timeout'],
  halfOpenProbes: 3,
  resetBackoff: { factor: 2, max: 60000, jitter: 'full' },
  consecutiveFailures: 5,
  perCallSignal: true,
  timeout: false,
});
const signal: AbortSignal | undefined = b.getSignal();
b.configure({ errorThresholdPercentage: 20 });
const n: Promise<number> = b.fire('abc');
const r: Promise<string> = retry(async attempt => `try ${attempt}`, { maxAttempts: 3, backoff: { kind: 'exponential', base: 10 } });
const delays: number[] = retry.delays({ maxAttempts: 4 });
const bucket = new TokenBucket({ capacity: 5, refill: 5, interval: 1000 });
const ok: boolean = bucket.tryTake();
const bh = new Bulkhead({ limit: 4, reserveCritical: 1 });
const v: Promise<number> = bh.run(async () => 1, { priority: 'critical' });
console.log(signal, n, r, delays, ok, v, CircuitBreaker.version);
