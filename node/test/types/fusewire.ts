// What @types/opossum lacks, and fusewire's extras.
import CircuitBreaker, { retry, TokenBucket, Bulkhead, TickWidener } from 'fusewire';

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
const bucket = new TokenBucket({ burst: 5, tokens: 5, period: 1000 });
const ok: boolean = bucket.tryTake();
const bh = new Bulkhead({ limit: 4, reserveCritical: 1 });
const v: Promise<number> = bh.run(async () => 1, { priority: 'critical' });
console.log(signal, n, r, delays, ok, v, CircuitBreaker.version);
// The core's own types.
import { Breaker, Backoff, RetryBudget, RetrySchedule } from 'fusewire';
const core = new Breaker({ failureRate: null, consecutiveFailures: 3, window: { span: 10000, buckets: 10 }, openBackoff: { kind: 'exponential', base: 1000, max: 60000 } });
const got = core.tryAcquire(0);
if (got.admitted) {
  const t: CircuitBreaker.Transition | null = core.record(got.permit, 'failure', 12, 5);
  console.log(t?.reason);
} else {
  const wait: number = got.retryAfter;
  console.log(wait, got.state);
}
const snap: CircuitBreaker.BreakerSnapshot = core.snapshot();
const state: CircuitBreaker.BreakerState = core.state;
const d: number = new Backoff({ kind: 'constant', base: 10, jitter: 'full', seed: 1 }).delay(0);
const budget = new RetryBudget({ maxTokens: 10, tokenRatio: 0.1 });
const can: boolean = budget.tryRetry();
const dec = new RetrySchedule({ maxAttempts: 2 }).decide(0);
if (dec.decision === 'giveUp') console.log(dec.reason);
const br = bucket.tryAcquire(1, 0);
if (br.result === 'denied') console.log(br.retryAfter);
console.log(snap.counts.failures, state, d, can, bh.free, bh.extraReleases, bh.releaseSlot(bh.acquireSlot('normal') ?? 0), new TickWidener().widen(5));
// Chaos and Pool (issue 18).
import { chaos, Chaos, ChaosError, Pool } from 'fusewire';
const flaky = chaos(async (id: number) => `user ${id}`, { faultRate: 10, latencyRate: 5, latencyMax: 200, substituteRate: 1, substitute: 'cached user', seed: 42, enabled: true });
flaky.disable();
flaky.configure({ faultRate: 50, latencyRate: 0 });
const rates: CircuitBreaker.ChaosRates = flaky.options;
console.log(rates.faultRate);
const u: Promise<string> | string = flaky(7);
const inj: CircuitBreaker.Injection = new Chaos({ faultRate: 50, seed: 1n }).inject();
const withChaos = new CircuitBreaker(async () => 'x', { chaos: { faultRate: 50 } });
withChaos.chaos?.enable();
const pool = new Pool(['http://a', 'http://b'], { consecutiveGatewayFailures: 3, breaker: { timeout: 1000 } });
pool.on('eject', (e) => console.log(e.url, e.reason, e.until));
const body: Promise<number> = pool.call(async (url) => url.length);
const p = pool.pick();
p.record(503);
console.log(u, inj.outcome, body, new ChaosError().code, pool.stats(0).ejected);

// Many processes, one host: the same name in every cluster worker.
{
  const store = new CircuitBreaker.HostStore('myapp', { size: 1 << 20 });
  const bucket = new CircuitBreaker.TokenBucket({ burst: 100, tokens: 100, period: 1000, store, name: 'api' });
  const bulkhead = new CircuitBreaker.Bulkhead({ limit: 8, lease: 30000, store, name: 'pool' });
  const breaker = new CircuitBreaker.Breaker({ store, name: 'db', window: { count: 100 }, halfOpenMaxDwell: 5000 });
  const budget = new CircuitBreaker.RetryBudget({ maxTokens: 10, store, name: 'retries' });
  const n: number = store.entries + bucket.available + bulkhead.inUse + budget.tokens;
  const acquired = breaker.tryAcquire();
  if (acquired.admitted) breaker.record(acquired.permit, 'success', n);
  CircuitBreaker.HostStore.unlink(store.name);
  // @ts-expect-error a store needs a string name
  new CircuitBreaker.HostStore(3);
}

// opossum's breaker shared by cluster workers.
{
  const shared = new CircuitBreaker(async (x: number) => x * 2, {
    store: new CircuitBreaker.HostStore('myapp'),
    name: 'db',
    slidingWindowSize: 100,
    halfOpenMaxDwell: 10000,
  });
  const doubled: Promise<number> = shared.fire(2);
  void doubled;
}
// Many hosts: a bucket shared through Redis (README "many processes, many hosts").
import { RedisStore } from 'fusewire';
const fleet = new RedisStore('redis://127.0.0.1:6379', { timeout: 50, onError: 'fail_closed' });
const shared = new TokenBucket({ burst: 20, tokens: 100, period: 1000, store: fleet, name: 'api' });
const taken: Promise<void> = shared.take();
const closed: Promise<void> = fleet.close();
// @ts-expect-error onError is one of three words
new RedisStore('redis://127.0.0.1:6379', { onError: 'open' });

// The core Breaker and a RetryBudget in a RedisStore: the same methods,
// answered with promises (the type follows the store given).
async function fleetCore (): Promise<void> {
  const store = new CircuitBreaker.RedisStore('redis://127.0.0.1:6379', { onError: 'local' });
  const breaker = new Breaker({ store, name: 'db', minCalls: 5 });
  const got = await breaker.tryAcquire();
  if (got.admitted) {
    const permit: string | -1 = got.permit;
    const moved: CircuitBreaker.Transition | null = await breaker.record(permit, 'success', 3);
    console.log(moved);
  }
  const snap: CircuitBreaker.BreakerSnapshot | null = await breaker.snapshot();
  const budget = new RetryBudget({ maxTokens: 10, store, name: 'retries' });
  const ok: boolean = await budget.tryRetry();
  await budget.recordSuccess();
  const n: number = await retry(async () => 1, { budget });
  const decision: CircuitBreaker.RetryDecision = await new RetrySchedule({ budget }).decideAsync();
  // the in-process forms stay synchronous
  const local = new Breaker({ minCalls: 5 });
  const a = local.tryAcquire();
  if (a.admitted) { const p: number = a.permit; local.record(p, 'failure'); }
  const sync: boolean = new RetryBudget().tryRetry();
  console.log(snap, ok, n, decision, sync, breaker.state);
  await store.close();
}
console.log(fleetCore);

// A bucket in a RedisStore: tryTake/tryAcquire answer with promises; lease mode.
async function fleetBucket (): Promise<void> {
  const store = new CircuitBreaker.RedisStore('redis://127.0.0.1:6379', { lease: 100, leaseTime: 500 });
  const bucket = new TokenBucket({ burst: 100, tokens: 100, store, name: 'api' });
  const ok: boolean = await bucket.tryTake();
  const r: CircuitBreaker.BucketResult = await bucket.tryAcquire(2);
  const sync: boolean = new TokenBucket({ burst: 1 }).tryTake();
  console.log(ok, r, sync, store.roundTrips);
  await store.close();
}
console.log(fleetBucket);
