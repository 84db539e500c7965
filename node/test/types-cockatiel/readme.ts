// cockatiel 4's README snippets, typed against fusewire/cockatiel (the
// import line is the only change; two README typos are fixed and marked).
import {
  BrokenCircuitError,
  BulkheadRejectedError,
  CircuitState,
  ConsecutiveBreaker,
  ConstantBackoff,
  CountBreaker,
  DelegateBackoff,
  Event,
  ExponentialBackoff,
  IterableBackoff,
  SamplingBreaker,
  TaskCancelledError,
  TimeoutStrategy,
  bulkhead,
  circuitBreaker,
  fallback,
  handleAll,
  handleResultType,
  handleType,
  handleWhen,
  handleWhenResult,
  isBrokenCircuitError,
  noJitterGenerator,
  noop,
  retry,
  timeout,
  usePolicy,
  wrap,
  tokenBucket,
  pool,
  type IPolicy,
  type IDefaultPolicyContext,
  type IBackoffFactory,
  type IRetryBackoffContext,
  type IBreaker,
  type IDisposable
} from 'fusewire/cockatiel';
import { Pool, RetryBudget, TokenBucket } from 'fusewire';

declare const database: { getInfo(id: string): Promise<{ id: string }> };
declare function getJson(url: string): Promise<unknown>;
declare function getData(signal: AbortSignal): Promise<number>;
declare function getInfoFromDatabase(signal?: AbortSignal): Promise<string>;
declare function getStaleData(): Promise<string>;
class NetworkError extends Error {}
class HttpError extends Error { statusCode = 503; }
class ReturnedNetworkError {}
class HttpResult { statusCode = 200; }
class DatabaseError extends Error {}

// intro
const retryPolicy = retry(handleAll, { maxAttempts: 3, backoff: new ExponentialBackoff() });
const circuitBreakerPolicy = circuitBreaker(handleAll, { halfOpenAfter: 10 * 1000, breaker: new ConsecutiveBreaker(5) });
const retryWithBreaker = wrap(retryPolicy, circuitBreakerPolicy);
export const handleRequest = async (req: { params: { id: string } }, res: { json(v: unknown): unknown }) => {
  const data = await retryWithBreaker.execute(() => database.getInfo(req.params.id));
  const id: string = data.id;
  return res.json(id);
};

// policies and filters
retry(handleAll, {});
handleType(NetworkError).orType(HttpError, err => err.statusCode === 503);
handleWhen(err => err instanceof NetworkError).orWhen(err => (err as { shouldRetry?: boolean }).shouldRetry === true);
handleResultType(ReturnedNetworkError).orResultType(HttpResult, res => res.statusCode === 503);
handleWhenResult(res => (res as HttpResult).statusCode === 503).orWhenResult(res => (res as HttpResult).statusCode === 429);

const breaker = circuitBreaker(handleAll, { halfOpenAfter: 1000, breaker: new ConsecutiveBreaker(3) });
const timeoutPolicy = timeout(2000, TimeoutStrategy.Aggressive);
export async function nesting () {
  const a: number = await retryPolicy.execute(() => breaker.execute(() => timeoutPolicy.execute(({ signal }) => getData(signal))));
  const b: number = await wrap(retryPolicy, breaker, timeoutPolicy).execute(({ signal }) => getData(signal));
  await wrap(retryPolicy, breaker, timeoutPolicy).execute(context => {
    const attempt: number = context.attempt;
    const signal: AbortSignal = context.signal;
    return [attempt, signal];
  });
  return a + b;
}

// usePolicy (README: `const retry = retry(...)` shadows the import; renamed)
const dbRetry = retry(handleAll, { maxAttempts: 3 });
export class Database {
  @usePolicy(dbRetry)
  public getUserInfo (userId: number, context?: { attempt: number }) {
    console.log('Retry attempt number', userId, context?.attempt);
  }
}

// noop
declare const isProduction: boolean;
const maybe = isProduction ? retry(handleAll, { maxAttempts: 3 }) : noop;
export async function viaNoop () { return maybe.execute(() => getInfoFromDatabase()); }

// events
const listener: IDisposable = retryPolicy.onFailure(error => { console.log(error.duration, error.handled, error.reason); });
listener.dispose();
export async function waitForFailure (policy: IPolicy) {
  await Event.toPromise(policy.onFailure);
  Event.once(policy.onFailure, () => console.log('a failure happened!'));
}

// backoffs
const foreverBackoff = new ConstantBackoff(50);
const defaultBackoff = new ExponentialBackoff();
const limitedBackoff = new ExponentialBackoff({ maxDelay: 1000, initialDelay: 4 });
const noJitter = new ExponentialBackoff({ generator: noJitterGenerator });
const iterable = new IterableBackoff([100, 200, 500]);
// README has an extra ')' here
const delegate = new DelegateBackoff(_context => Math.random() * 500);
const myDelegateBackoff = new DelegateBackoff<IRetryBackoffContext<unknown>, unknown>((context, lastError) => {
  if ('error' in context.result && context.result.error === lastError) throw context.result.error;
  return { delay: 100 * Math.pow(2, context.attempt), state: 'error' in context.result ? context.result.error : undefined };
});
const factories: IBackoffFactory<IRetryBackoffContext<unknown>>[] = [foreverBackoff, defaultBackoff, limitedBackoff, noJitter, iterable, delegate, myDelegateBackoff];
export const withBackoffs = factories.map(backoff => retry(handleType(NetworkError), { maxAttempts: 3, backoff }));
export const unref = retry(handleAll, { maxAttempts: 3 }).dangerouslyUnref().execute(() => getJson('https://example.com'));
retryPolicy.onRetry(reason => console.log('retrying a function call:', reason.delay, reason.attempt));
retryPolicy.onSuccess(({ duration }) => console.log(`retry call ran in ${duration}ms`));
retryPolicy.onGiveUp(reason => console.log('giving up:', reason));

// circuit breakers
const breakers: IBreaker[] = [
  new SamplingBreaker({ threshold: 0.2, duration: 30 * 1000 }),
  new SamplingBreaker({ threshold: 0.2, duration: 30 * 1000, minimumRps: 10 }),
  new CountBreaker({ threshold: 0.2, size: 100 }),
  new CountBreaker({ threshold: 0.2, size: 100, minimumNumberOfCalls: 50 }),
  new ConsecutiveBreaker(5)
];
const sampled = circuitBreaker(handleAll, { halfOpenAfter: 10 * 1000, breaker: breakers[0], halfOpenSampling: { calls: 10, threshold: 0.3 } });
circuitBreaker(handleAll, { halfOpenAfter: new ExponentialBackoff(), breaker: new ConsecutiveBreaker(5) });
export async function unavailable () {
  try {
    return await sampled.execute(() => getInfoFromDatabase());
  } catch (e) {
    if (e instanceof BrokenCircuitError || isBrokenCircuitError(e)) return 'service unavailable';
    throw e;
  }
}
if (sampled.state === CircuitState.Open) console.log('the circuit is open right now');
sampled.onBreak(() => console.log('circuit is open')).dispose();
sampled.onReset(() => console.log('circuit is closed')).dispose();
sampled.onHalfOpen(() => console.log('circuit is testing a request')).dispose();
sampled.onStateChange(state => { if (state === CircuitState.Closed) console.log('closed again'); }).dispose();
const handle = sampled.isolate();
handle.dispose();
const breakerState = sampled.toJSON();
circuitBreaker(handleAll, { halfOpenAfter: 1000, breaker: new ConsecutiveBreaker(3), initialState: breakerState });

// timeout
export async function timedRequest () {
  try {
    return await timeoutPolicy.execute((_ctx, signal) => getInfoFromDatabase(signal));
  } catch (e) {
    if (e instanceof TaskCancelledError) return 'database timed out';
    throw e;
  }
}
timeoutPolicy.onTimeout(() => console.log('timeout was reached')).dispose();
timeout(100, { strategy: TimeoutStrategy.Cooperative, abortOnReturn: false });

// bulkhead
const bh = bulkhead(12, 4);
export async function limited () {
  try {
    return await bh.execute(({ signal }) => getInfoFromDatabase(signal));
  } catch (e) {
    if (e instanceof BulkheadRejectedError) return 'too much load, try again later';
    throw e;
  }
}
bh.onReject(() => console.log('bulkhead call was rejected')).dispose();
const slots: number = bh.executionSlots + bh.queueSlots;

// fallback
const fb = fallback(handleType(DatabaseError), () => getStaleData());
export async function withFallback (): Promise<string> { return fb.execute(() => getInfoFromDatabase()); }

// fusewire extras compose into wrap()
const budget = new RetryBudget({ maxTokens: 10, tokenRatio: 0.1 });
const bucket = new TokenBucket({ burst: 10, tokens: 10, period: 1000 });
const mixed = wrap(tokenBucket(bucket), retry(handleAll, { maxAttempts: 3, budget }), breaker, timeoutPolicy);
export const mixedResult: Promise<number> = mixed.execute(({ signal }) => getData(signal));
const endpoints = new Pool(['https://a.example', 'https://b.example']);
export const pooled: Promise<string> = wrap(breaker, pool(endpoints)).execute(({ endpoint, signal }) => getInfoFromDatabase(signal).then(r => endpoint + r));

// mistakes are caught
// @ts-expect-error maxAttempts is a number
retry(handleAll, { maxAttempts: '3' });
// @ts-expect-error a breaker is required
circuitBreaker(handleAll, { halfOpenAfter: 10 });
// @ts-expect-error bulkhead takes numbers
bulkhead('12');
const ctx: IDefaultPolicyContext = { signal: new AbortController().signal };
export { slots, ctx };
