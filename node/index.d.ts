/// <reference types="node" />
// First-party types for fusewire: opossum 10's API as it runs (including what
// @types/opossum lags on: coalescing, getSignal, correct defaults), plus
// fusewire's extras. Code written against @types/opossum compiles unchanged.
import { EventEmitter } from 'events';

declare class CircuitBreaker<TI extends unknown[] = unknown[], TR = unknown> extends EventEmitter {
  /** True for the errors a breaker makes (EOPENBREAKER, ETIMEDOUT, ESEMLOCKED, ESHUTDOWN). */
  static isOurError(error: any): boolean;
  /** A Status with its own window (rollingCountBuckets, rollingCountTimeout, ...). */
  static newStatus(options: CircuitBreaker.StatusOptions): CircuitBreaker.Status;

  constructor(action: ((...args: TI) => Promise<TR> | TR) | TR, options?: CircuitBreaker.Options<TI>);

  /** The options passed in, filled with the defaults. */
  options: CircuitBreaker.Options<TI>;
  /** opossum's semaphore: `capacity` concurrent calls. */
  semaphore: CircuitBreaker.Semaphore;
  /** The action the breaker calls. */
  action: (...args: TI) => Promise<TR> | TR;
  /** fusewire extra: the chaos wrapper around the action (its switch), when `options.chaos` is given; else null. */
  readonly chaos: CircuitBreaker.ChaosWrapped<TI, TR> | null;

  readonly name: string;
  readonly group: string;
  readonly enabled: boolean;
  /** Half-open and the trial call not yet taken. */
  readonly pendingClose: boolean;
  /** fusewire extra: half-open probe calls in flight (0 unless half-open). */
  readonly halfOpenProbesInFlight: number;
  readonly closed: boolean;
  readonly opened: boolean;
  readonly halfOpen: boolean;
  readonly isShutdown: boolean;
  readonly status: CircuitBreaker.Status;
  readonly stats: CircuitBreaker.Stats;
  readonly warmUp: boolean;
  readonly volumeThreshold: number;

  /** Calls the action with `this = context`. */
  call(context: any, ...args: TI): Promise<TR>;
  /** Calls the action. */
  fire(...args: TI): Promise<TR>;
  /** A function `(...args, error)` or another breaker fired with the args. */
  fallback(func: ((...args: any[]) => any) | CircuitBreaker<any, any>): this;
  open(): void;
  close(): void;
  /** Emits 'shutdown', disables, removes listeners, clears timers and the cache. */
  shutdown(): void;
  enable(): void;
  disable(): void;
  clearCache(): void;
  /** Runs `func` every `interval` ms (default 5000); a rejection emits 'healthCheckFailed' and opens. */
  healthCheck(func: () => Promise<any>, interval?: number): void;
  getSignal(): AbortSignal | undefined;
  getAbortController(): AbortController | undefined;
  toJSON(): { state: CircuitBreaker.State; status: CircuitBreaker.Stats };
  /** fusewire: change options at run time; the window, counters and state are kept. */
  configure(changes: Partial<CircuitBreaker.Options<TI>>): this;

  on(event: 'halfOpen', listener: (resetTimeout: number) => void): this;
  on(event: 'close' | 'open' | 'shutdown', listener: () => void): this;
  on(event: 'fire', listener: (args: TI) => void): this;
  on(event: 'cacheHit' | 'cacheMiss' | 'coalesceCacheHit' | 'coalesceCacheMiss', listener: () => void): this;
  on(event: 'reject', listener: (err: Error) => void): this;
  on(event: 'timeout', listener: (err: Error, latencyMs: number, args: TI) => void): this;
  on(event: 'success', listener: (result: TR, latencyMs: number) => void): this;
  on(event: 'semaphoreLocked', listener: (err: Error, latencyMs: number) => void): this;
  on(event: 'healthCheckFailed', listener: (err: Error) => void): this;
  on(event: 'fallback', listener: (result: unknown, err: Error) => void): this;
  on(event: 'failure', listener: (err: Error, latencyMs: number, args: TI) => void): this;
  on(event: string | symbol, listener: (...args: any[]) => void): this;
}

declare namespace CircuitBreaker {
  interface Options<TI extends unknown[] = unknown[]> {
    /** A Status (from newStatus) or a plain stats object to prime the window. */
    status?: Status | Partial<Stats> | undefined;
    /** ms before a call fails with ETIMEDOUT; false disables. @default 10000 */
    timeout?: number | false | undefined;
    /** @deprecated only prints a deprecation message */
    maxFailures?: number | undefined;
    /** ms open before half-open. @default 30000 */
    resetTimeout?: number | undefined;
    /** ms of the rolling window. @default 10000 */
    rollingCountTimeout?: number | undefined;
    /** Buckets in the window (fusewire: at most 1024). @default 10 */
    rollingCountBuckets?: number | undefined;
    /** @default options.name, action.name, or a random uuid */
    name?: string | undefined;
    /** @default the name */
    group?: string | undefined;
    /** When false, latencyMean and percentiles are -1. @default true */
    rollingPercentilesEnabled?: boolean | undefined;
    /** Concurrent calls (integers only); over it, ESEMLOCKED. @default Number.MAX_SAFE_INTEGER */
    capacity?: number | undefined;
    /** Opens when failures/fires*100 is above this. @default 50 */
    errorThresholdPercentage?: number | undefined;
    /** @default true */
    enabled?: boolean | undefined;
    /** No opening during the first rollingCountTimeout. @default false */
    allowWarmUp?: boolean | undefined;
    /** fusewire extra: wrap the action in chaos() so the breaker reacts to injected faults and delays. */
    chaos?: ChaosOptions<TI> | undefined;
    /** No opening below this many fires in the window (integers only). @default 0 */
    volumeThreshold?: number | undefined;
    /** Truthy: the error counts as a success (the call still rejects, no fallback). */
    errorFilter?: ((err: any, ...args: any[]) => boolean) | undefined;
    /** Cache the first successful result per key. @default false */
    cache?: boolean | undefined;
    /** ms; 0 keeps entries forever. @default 0 */
    cacheTTL?: number | undefined;
    /** Entries of the in-memory cache. @default 2^24 - 1 */
    cacheSize?: number | undefined;
    /** @default (...args) => JSON.stringify(args) */
    cacheGetKey?: ((...args: TI) => string) | ((...args: any[]) => string) | undefined;
    cacheTransport?: CacheTransport | undefined;
    /** Concurrent calls with the same key share one in-flight promise. @default false */
    coalesce?: boolean | undefined;
    /** ms. @default the timeout */
    coalesceTTL?: number | undefined;
    /** @default 2^24 - 1 */
    coalesceSize?: number | undefined;
    /** @default [] */
    coalesceResetOn?: Array<'error' | 'success' | 'timeout'> | undefined;
    /** Its abort() is called on timeout. */
    abortController?: AbortController | undefined;
    /** A fresh controller on half-open / close if the old one was aborted. @default false */
    autoRenewAbortController?: boolean | undefined;
    /** Status emits 'snapshot' every bucket interval while listened to. @default true */
    enableSnapshots?: boolean | undefined;
    /** An EventEmitter whose 'rotate' event rotates the buckets. */
    rotateBucketController?: EventEmitter | undefined;
    /** A saved toJSON().state to restore. */
    state?: Partial<State> | undefined;

    // ---- fusewire extras (opossum ignores them) ----
    /** Probe calls let through per half-open period (1 to 65535); all must succeed to close. @default 1 */
    halfOpenProbes?: number | undefined;
    /** Grow the open duration (from resetTimeout) on each reopening without a close. */
    resetBackoff?: { factor?: number; max?: number; jitter?: 'none' | 'full' | 'equal' | 'decorrelated' } | undefined;
    /** Also open after this many failures in a row. */
    consecutiveFailures?: number | undefined;
    /** Judge errorThresholdPercentage (and volumeThreshold) over the last this-many calls
     *  (a count-based window) instead of the rolling time window. Stats stay time-based. */
    slidingWindowSize?: number | undefined;
    /**
     * fusewire extra: share this breaker's decisions with every process bound
     * to `name` in `store` (a HostStore: cluster/PM2 workers). Needs
     * `slidingWindowSize` (5, 10, 20, 25, 50, 100, 200, 250, 500 or 1000) and a
     * `name`; events and `stats` stay this process's own view.
     */
    store?: Store | null | undefined;
    /**
     * fusewire extra, with `store`: ms a half-open period may last before it
     * reopens (the lease of a probe whose process died). @default resetTimeout
     */
    halfOpenMaxDwell?: number | undefined;
    /** Pass a per-call AbortSignal as the action's last argument, aborted on timeout. @default false */
    perCallSignal?: boolean | undefined;

    /** Set by the constructor when `coalesce` is on: the in-flight promises by key. */
    coalesceCache?: CacheTransport | undefined;
  }

  interface Semaphore {
    take(timeout?: number): Promise<() => void>;
    release(): void;
    test(): boolean;
    readonly count: number;
  }

  interface Status extends EventEmitter {
    readonly stats: Stats;
    readonly window: Window;
    rollingPercentilesEnabled: boolean;
    enableSnapshots: boolean;
    rotateBucketController?: EventEmitter | undefined;
    rotateBucket: () => void;
    increment(property: keyof Bucket, latencyRunTime?: number): void;
    open(): void;
    close(): void;
    shutdown(): void;
    removeRotateBucketControllerListener(): void;
    startListeneningForRotateEvent(): void;
    on(event: 'snapshot', listener: (snapshot: Stats) => void): this;
    on(event: string | symbol, listener: (...args: any[]) => void): this;
  }

  interface StatusOptions extends Pick<Options,
    'rollingCountBuckets' | 'rollingCountTimeout' | 'rollingPercentilesEnabled' | 'enableSnapshots' | 'rotateBucketController'> {
    stats?: Partial<Stats> | undefined;
  }

  interface Bucket {
    failures: number;
    fallbacks: number;
    successes: number;
    rejects: number;
    fires: number;
    timeouts: number;
    cacheHits: number;
    cacheMisses: number;
    coalesceCacheHits: number;
    coalesceCacheMisses: number;
    semaphoreRejections: number;
    percentiles: { [percentile: number]: number };
    /** In fusewire, rebuilt from the latency histogram (quarter-octave bins, exact below 8 ms). */
    latencyTimes: number[];
    isCircuitBreakerOpen?: boolean;
  }

  type Window = Bucket[];

  interface Stats extends Bucket {
    latencyMean: number;
  }

  interface State {
    name: string;
    enabled: boolean;
    closed: boolean;
    open: boolean;
    halfOpen: boolean;
    warmUp: boolean;
    shutdown: boolean;
    lastTimerAt: number | undefined;
  }

  interface MemoryCache {
    get(key: string): unknown | undefined;
    set(key: string, value: any, ttl: number): void;
    delete?(key: string): void;
    flush(): void;
  }

  type CacheTransport = MemoryCache;

  // ---- fusewire's other policies ----
  interface BackoffOptions {
    /** @default 'exponential' */
    kind?: 'constant' | 'linear' | 'exponential';
    /** First delay, ms. @default 100 */
    base?: number;
    /** Linear growth per attempt, ms. */
    step?: number;
    /** Exponential growth per attempt. @default 2 */
    factor?: number;
    /** Longest delay, ms. */
    max?: number;
    jitter?: 'none' | 'full' | 'equal' | 'decorrelated' | 'proportional';
    /** Spread of proportional jitter, 1..100. */
    jitterPercent?: number;
  }

  interface RetryOptions {
    /** Attempts including the first. @default 3 */
    maxAttempts?: number;
    /** Retries after the first attempt (maxAttempts = retries + 1). */
    retries?: number;
    /** ms after the start past which no retry begins. */
    maxElapsed?: number;
    backoff?: BackoffOptions;
    /** Seed of this operation's jitter. @default drawn from crypto entropy per operation */
    seed?: number;
    /** A budget shared by the operations that guard one backend: each failure spends it, a retry needs it (one in a RedisStore is awaited). */
    budget?: RetryBudget<Store | null | undefined>;
    retryOn?: (error: any, attempt: number) => boolean;
    /** A server's retry-after hint in ms, honoured as a minimum; longer than the retry may wait: give up. */
    retryAfter?: (error: any) => number | undefined;
    onRetry?: (error: any, attempt: number, delayMs: number) => void;
    signal?: AbortSignal;
  }

  interface Retry {
    <T>(fn: (attempt: number, signal?: AbortSignal) => Promise<T> | T, options?: RetryOptions): Promise<T>;
    /** The delays the schedule gives for `count` failed attempts, without waiting. */
    delays(options?: RetryOptions, count?: number): number[];
  }

  const retry: Retry;

  type RetryDecision =
    | { decision: 'retryAfter'; delay: number }
    | { decision: 'giveUp'; reason: 'maxAttempts' | 'deadline' | 'waitTooLong' | 'budget' };

  class RetrySchedule {
    constructor(options?: RetryOptions);
    start(now?: number): void;
    /** The wait before the next attempt (ms), or null to give up. */
    next(now?: number, retryAfter?: number): number | null;
    /** next(), saying why it gives up. */
    decide(now?: number, retryAfter?: number): RetryDecision;
    /** decide() for any budget; with a budget in a RedisStore, one awaited round trip (decide() throws there). */
    decideAsync(now?: number, retryAfter?: number): Promise<RetryDecision>;
    /** The operation succeeded: its budget earns its share of a token (a promise for a budget in a RedisStore). */
    succeeded(): void | Promise<void>;
    readonly budget: RetryBudget<Store | null | undefined> | undefined;
    readonly attempts: number;
  }

  type BucketResult =
    | { result: 'granted' }
    /** ms until the tokens are there (Infinity: never). */
    | { result: 'denied'; retryAfter: number }
    /** More tokens than the bucket holds were asked for. */
    | { result: 'exceedsBurst'; burst: number };

  /**
   * Where a policy's state lives when several processes share it
   * (`HostStore`: one machine; `RedisStore`: a fleet). A policy given
   * `{ store, name }` calls `store._bind(kind, name, config, what, local)` once and sends
   * its decisions to the backend it returns (store/README.md, "Doors").
   */
  interface Store {
    _bind(kind: 'breaker' | 'bucket' | 'bulkhead' | 'budget', name: string, config: Record<string, number | string | null>, what?: string, local?: () => object): object;
  }

  /** `store` and `name`: share the policy with every process bound to `name` in `store`. */
  interface StoreOptions {
    /** The store; without it the policy is this process's own. */
    store?: Store | null;
    /** The key in the store (a non-empty string); required with `store`. */
    name?: string;
  }

  /**
   * Named shared memory for the processes of one machine (Node `cluster`
   * or PM2 workers, Python workers too): every policy given `{ store, name }`
   * with the same name shares one state, decided lock-free in the region.
   * Create one in each worker: `new HostStore('myapp')`.
   */
  class HostStore implements Store {
    /** Maps `/dev/shm/fusewire.<name>`, made `size` bytes (default 1 MiB) by the first process. */
    constructor(name: string, options?: { size?: number });
    readonly name: string;
    readonly size: number;
    /** Policies bound in the region so far, by every process. */
    readonly entries: number;
    /** Removes a region's name (processes that have it mapped keep it). */
    static unlink(name: string): void;
    _bind(kind: 'breaker' | 'bucket' | 'bulkhead' | 'budget', name: string, config: Record<string, number | string | null>, what?: string, local?: () => object): object;
  }

  /** `RedisStore` options: `timeout` and `ttl` in ms. */
  interface RedisStoreOptions {
    /** Key prefix (default 'fusewire'): keys are `prefix:kind:name`. */
    prefix?: string;
    /** Longest a decision waits for Redis, in ms (default 50); then `onError` answers. */
    timeout?: number;
    /** What a decision is when Redis is down or slow (default 'fail_open'). */
    onError?: 'fail_open' | 'fail_closed' | 'local';
    /** A key no one used for this many ms expires (default one hour). */
    ttl?: number;
    /**
     * Lease mode for buckets: tokens taken this many at a time (a whole
     * number of at least 2) and spent locally, about `lease` times fewer
     * round trips; over-admission at most `lease` per process, within
     * `leaseTime` of their taking. Default null: off.
     */
    lease?: number | null;
    /** Leased tokens held longer than this (ms, default 1000) go back to Redis. */
    leaseTime?: number;
  }

  /**
   * State in Redis for a fleet: each decision is one atomic script on the
   * Redis server's clock. Every policy takes it: `TokenBucket` (`await
   * take()`, and `tryTake`/`tryAcquire` as promises), `Bulkhead` (`await
   * run()`), opossum's `CircuitBreaker` (`fire()` awaits the admission),
   * the core `Breaker` and `RetryBudget` (their methods return promises;
   * `retry()` awaits the budget); sync getters give the last state Redis
   * answered. `ioredis` is an optional peer dependency.
   */
  class RedisStore implements Store {
    /** A `redis://` URL or an ioredis client. */
    constructor(urlOrClient: string | object, options?: RedisStoreOptions);
    _bind(kind: 'breaker' | 'bucket' | 'bulkhead' | 'budget', name: string, config: Record<string, number | string | null>, what?: string, local?: () => object): object;
    /** Decisions `onError` answered. */
    readonly errors: number;
    /** Scripts this store sent to Redis (lease mode cuts them). */
    readonly roundTrips: number;
    /** Hands leased tokens back, then closes the connection this store opened. */
    close(): Promise<void>;
  }

  /** Redis refused the store (a password it needs), or a sync call on a Redis-backed bucket. */
  class RedisStoreError extends Error {
    readonly code: 'ERR_FUSEWIRE_REDIS';
  }

  /**
   * A token bucket (GCRA). In a `RedisStore` (`S` inferred from
   * `options.store`) `tryTake` and `tryAcquire` return promises (one round
   * trip, `now` not used: the server's clock decides) and `available` is
   * the last answer's.
   */
  class TokenBucket<S extends Store | null | undefined = undefined> {
    /** Up to `burst` tokens at once, `tokens` more every `period` ms (default 1000); starts full. */
    constructor(options: { burst: number; tokens?: number; period?: number; store?: S; name?: string });
    /** Most tokens at once. */
    readonly burst: number;
    readonly available: number;
    /** Takes `n` tokens if there are enough; never waits. */
    tryTake(n?: number): Answer<S, boolean>;
    /** Takes `n` tokens at `now` (default Date.now()) if there are enough; never waits. */
    tryAcquire(n?: number, now?: number): Answer<S, BucketResult>;
    take(n?: number, options?: { signal?: AbortSignal }): Promise<void>;
    wrap<A extends unknown[], R>(fn: (...args: A) => R | Promise<R>): (...args: A) => Promise<R>;
    refund(n?: number, now?: number): void;
    setRate(tokens: number, period?: number, now?: number): void;
  }

  type Priority = 'critical' | 'normal' | 'sheddable';

  class Bulkhead {
    /** `lease`: a slot never released is free again within `lease` ms (after more than half of it; default 60000): set it to at least twice your longest call. */
    constructor(options: { limit: number; reserveCritical?: number; reserveNormal?: number; lease?: number } & StoreOptions);
    readonly limit: number;
    readonly inUse: number;
    available(priority?: Priority): number;
    tryAcquire(priority?: Priority): (() => void) | null;
    run<T>(fn: () => Promise<T> | T, options?: { priority?: Priority }): Promise<T>;
    /** Free slots, reserved ones included (limit - inUse). */
    readonly free: number;
    /** Releases refused because the slot was not held (twice, or made up). */
    readonly extraReleases: number;
    /** Releases refused because the slot's lease had run out. */
    readonly expiredReleases: number;
    /** Slots freed because their lease ran out. */
    readonly reclaimed: number;
    /** ms a slot may be held. */
    readonly lease: number;
    /** Takes a slot (the core's slots): its number, or null when none is free. */
    acquireSlot(priority?: Priority, now?: number): number | null;
    /** Gives a slot back: null when released, else why it was refused (counted). */
    releaseSlot(slot: number, now?: number): null | 'notHeld' | 'expired';
    /** Frees the slots whose lease ran out by `now`; returns how many. */
    expire(now?: number): number;
  }

  /** Turns a wrapping 32-bit ms tick (firmware's HAL_GetTick) into a monotonic time for `now`. */
  class TickWidener {
    constructor();
    /** Call at least once per wrap (49.7 days). Never less than the last answer. */
    widen(raw: number): number;
  }

  // ---- the core's own types, driven by the caller (opt-in, for custom integrations) ----
  // Times are ms; every `now` defaults to Date.now(). The core's u64::MAX
  // ("never") comes out as Infinity. Bad options and arguments throw a
  // ConfigError (a TypeError) whose `field` names them.

  type BreakerState = 'closed' | 'open' | 'halfOpen' | 'forcedOpen' | 'disabled';
  type TransitionReason =
    | 'failureRate' | 'slowCallRate' | 'consecutiveFailures' | 'openElapsed'
    | 'probesPassed' | 'probesFailed' | 'dwellExpired' | 'host';

  interface Transition {
    from: BreakerState;
    to: BreakerState;
    reason: TransitionReason;
  }

  type Outcome = 'success' | 'failure' | 'timeout' | 'ignored';

  interface ConfigError extends TypeError {
    code: 'ERR_FUSEWIRE_CONFIG';
    /** The option at fault, e.g. 'openBackoff.max' or 'window.span'. */
    field: string;
    /** Set when the core rejected the value (absent for a wrong type). */
    problem?: 'zero' | 'outOfRange' | 'notANumber' | 'inconsistent';
  }

  /**
   * What a policy's decision method returns: the answer itself, or a
   * promise of it when the policy lives in a `RedisStore` (a round trip).
   */
  type Answer<S, T> = S extends RedisStore ? Promise<T> : T;

  /** A permit of `Breaker<S>`: a number, or a string in a `RedisStore`. */
  type Permit<S> = S extends RedisStore ? string | -1 : number;

  interface BreakerOptions<S extends Store | null | undefined = Store | null | undefined> extends StoreOptions {
    /** The store; without it the breaker is this process's own (a `RedisStore` makes every method a promise). */
    store?: S;
    /** Trip at this failure percentage (0..100); null turns the rule off. @default 50 */
    failureRate?: number | null;
    /** Trip at this slow-call percentage; needs slowCallDuration. @default null */
    slowCallRate?: number | null;
    /** ms from which a call is slow. @default 0 */
    slowCallDuration?: number;
    /** Also trip after this many failures in a row. @default null */
    consecutiveFailures?: number | null;
    /** No rate is judged before the window holds this many calls. @default 10 */
    minCalls?: number;
    /** @default 'atLeast' */
    comparison?: 'atLeast' | 'above';
    /** What the rates are a share of; 'allCalls' adds ignored and rejected calls. @default 'outcomes' */
    rateBasis?: 'outcomes' | 'allCalls';
    /** Probe permits per half-open period (1 to 65535). @default 1 */
    halfOpenProbes?: number;
    /** @default 'allSucceed' */
    halfOpenRule?: 'allSucceed' | 'rates';
    /** ms a half-open period may last; 0 waits for the probes. @default 0 */
    halfOpenMaxDwell?: number;
    /** @default 'reopen' */
    dwellExpiry?: 'reopen' | 'close';
    /** How long the breaker stays open (n: consecutive openings). @default a constant 1000 ms */
    openBackoff?: BackoffOptions;
    /** @default true */
    resetWindowOnClose?: boolean;
    /** Seed of openBackoff's jitter. @default 0 */
    seed?: number;
    /** The last `count` calls (1..2^20), or `span` ms in `buckets` buckets (1..64, default 10). @default { count: 100 } */
    window?: { count: number } | { span: number; buckets?: number };
  }

  type Acquired<P = number> =
    | { admitted: true; permit: P; probe: boolean; transition: Transition | null }
    | { admitted: false; retryAfter: number; state: BreakerState; transition: Transition | null };

  interface BreakerSnapshot {
    state: BreakerState;
    generation: number;
    counts: { successes: number; failures: number; timeouts: number; slow: number; ignored: number; rejected: number };
    consecutiveFailures: number;
    probesInFlight: number;
    openUntil: number;
    reopens: number;
    clockRegressions: number;
    since: number;
  }

  /**
   * The core circuit breaker: the caller asks, runs the call, and reports.
   * In a `RedisStore` (`S` inferred from `options.store`) every method
   * returns a promise of the same answer, decided by the Redis script on
   * the server's clock (`now` is not used), permits are strings (-1: let
   * through by `onError: 'fail_open'` without one), and `state` /
   * `generation` are the last answer's.
   */
  class Breaker<S extends Store | null | undefined = undefined> {
    constructor(options?: BreakerOptions<S>);
    /** A permit (hand it back exactly once) or a rejection with retryAfter. */
    tryAcquire(now?: number): Answer<S, Acquired<Permit<S>>>;
    /** How the call under `permit` ended, after `duration` ms. */
    record(permit: Permit<S>, outcome: Outcome, duration?: number, now?: number): Answer<S, Transition | null>;
    /** As record(), but the outcome cannot trip a closed breaker (opossum's warm-up). */
    recordUntripped(permit: Permit<S>, outcome: Outcome, duration?: number, now?: number): Answer<S, Transition | null>;
    /** A permit whose call never ran. */
    release(permit: Permit<S>, now?: number): Answer<S, Transition | null>;
    /** Lets time pass (an open period ends, a dwell expires). */
    poll(now?: number): Answer<S, Transition | null>;
    trip(now?: number): Answer<S, Transition | null>;
    close(now?: number): Answer<S, Transition | null>;
    halfOpen(now?: number): Answer<S, Transition | null>;
    forceOpen(now?: number): Answer<S, Transition | null>;
    disable(now?: number): Answer<S, Transition | null>;
    reset(now?: number): Answer<S, Transition | null>;
    /** In a RedisStore: times in ms of the Redis server's clock (null when Redis is away and onError is not 'local'). */
    snapshot(now?: number): Answer<S, S extends RedisStore ? BreakerSnapshot | null : BreakerSnapshot>;
    /** As of the last call (reads no clock). */
    readonly state: BreakerState;
    readonly generation: number;
  }

  /** A backoff schedule with its own seeded random numbers. */
  class Backoff {
    constructor(options?: BackoffOptions & { seed?: number });
    /** The un-jittered delay before attempt n (0 first), capped. */
    raw(n: number): number;
    /** The jittered delay before attempt n, given the previous delay (decorrelated jitter uses it). */
    delay(n: number, prev?: number): number;
    /** The cap (Infinity when none). */
    readonly max: number;
  }

  /**
   * gRPC-style retry throttling: a failure costs a token, a success earns
   * tokenRatio; retry while more than half is left. In a `RedisStore` the
   * three methods return promises and the getters give the last answer;
   * `retry(fn, { budget })` awaits them for you (one round trip per failure).
   */
  class RetryBudget<S extends Store | null | undefined = undefined> {
    constructor(options?: { maxTokens?: number; tokenRatio?: number; store?: S; name?: string });
    recordSuccess(): Answer<S, void>;
    recordFailure(): Answer<S, void>;
    /** canRetry, counting a refusal in throttled. */
    tryRetry(): Answer<S, boolean>;
    readonly canRetry: boolean;
    readonly tokens: number;
    readonly tokensMilli: number;
    readonly maxTokens: number;
    readonly throttled: number;
  }

  /** A seed: a safe integer, or a BigInt below 2^64 (a seed logged by another door). */
  type Seed = number | bigint;

  /** The core's chaos policy: what to inject, decided from (seed, call index). */
  interface ChaosPolicyOptions {
    /** Percentage (0..100) of calls that fail with the injected error. @default 0 */
    faultRate?: number | undefined;
    /** Percentage (0..100) of calls delayed before they run. @default 0 */
    latencyRate?: number | undefined;
    /** Shortest injected delay (whole ms). @default 0 */
    latencyMin?: number | undefined;
    /** Longest injected delay (whole ms, at most 2^31 - 1); required (non-zero) when latencyRate is set. @default 0 */
    latencyMax?: number | undefined;
    /** Percentage (0..100) of calls answered with `substitute` without running. @default 0 */
    substituteRate?: number | undefined;
    /** Percentage (0..100) of calls before which `behavior` runs. @default 0 */
    behaviorRate?: number | undefined;
    /** The seed every decision is drawn from (log it to replay a run). @default 53 bits of crypto entropy */
    seed?: Seed | undefined;
    /** Whether injection starts on (chaos is turned on on purpose). @default false */
    enabled?: boolean | undefined;
  }

  interface ChaosOptions<TI extends unknown[] = unknown[], TR = unknown> extends ChaosPolicyOptions {
    /** The error an injected fault rejects with (or a function of the call's arguments building it). @default a ChaosError */
    error?: Error | ((...args: TI) => Error) | undefined;
    /** The value a substituted call resolves with (a function is called with the arguments). Required when substituteRate is set. */
    substitute?: TR | ((...args: TI) => TR | Promise<TR>) | undefined;
    /** A hook run before the call when the core says so (drop a connection, fill a disk). Required when behaviorRate is set. */
    behavior?: ((...args: TI) => unknown) | undefined;
  }

  /** One call's injection. */
  interface Injection {
    /** ms to wait before the call (0: none). */
    delay: number;
    outcome: 'pass' | 'fault' | 'substitute';
    /** Whether the behaviour hook runs. */
    behavior: boolean;
  }

  /** The function chaos() returns: the action, plus its switch. */
  interface ChaosWrapped<TI extends unknown[] = unknown[], TR = unknown> {
    (...args: TI): Promise<TR> | TR;
    enable(): void;
    disable(): void;
    readonly enabled: boolean;
    readonly seed: Seed;
    /** Calls decided while on (the next call's index). */
    readonly calls: number;
    /** Call `index`'s injection (for replay). */
    decide(index: number): Injection;
    /** Changes rates, latencies or seed at run time (the rest, the switch and the call index are kept). */
    configure(changes: ChaosRates): void;
    /** The rates, latencies and seed in force. */
    readonly options: ChaosRates;
  }

  /** What configure() may change. */
  type ChaosRates = Pick<ChaosPolicyOptions, 'faultRate' | 'latencyRate' | 'latencyMin' | 'latencyMax' | 'substituteRate' | 'behaviorRate' | 'seed'>;

  /** Wraps any function so each call first asks the core what to inject. */
  function chaos<TI extends unknown[], TR>(action: (...args: TI) => Promise<TR> | TR, options?: ChaosOptions<TI, TR>): ChaosWrapped<TI, TR>;

  /** The core's chaos policy for hosts that apply injections themselves. */
  class Chaos {
    constructor(options?: ChaosPolicyOptions);
    /** The next call's injection (counts the call while on). */
    inject(): Injection;
    /** Call `index`'s injection, if on. */
    decide(index: number): Injection;
    enable(): void;
    disable(): void;
    readonly enabled: boolean;
    readonly calls: number;
    readonly seed: Seed;
    /** Changes rates, latencies or seed at run time (the rest, the switch and the call index are kept). */
    configure(changes: ChaosRates): void;
    readonly options: ChaosRates;
  }

  /** What an injected fault rejects with by default (code ECHAOS). */
  class ChaosError extends Error {
    readonly code: 'ECHAOS';
  }

  /** How a call on an endpoint ended: an HTTP status, a word, or the error it threw. */
  type PoolResult = number | 'success' | 'failure' | 'gatewayFailure' | Error | { status?: number; statusCode?: number; response?: { status?: number } } | undefined;

  interface PoolOptions {
    /** Failures in a row that eject (0: off). @default 5 */
    consecutiveFailures?: number | undefined;
    /** 502/503/504 in a row that eject (0: off). @default 5 */
    consecutiveGatewayFailures?: number | undefined;
    /** ms between success-rate checks. @default 10000 */
    interval?: number | undefined;
    /** ms of the first ejection (times the ejection count after). @default 30000 */
    baseEjectionTime?: number | undefined;
    /** Longest ejection (ms). @default 300000 */
    maxEjectionTime?: number | undefined;
    /** Up to this many ms added to each ejection. @default 0 */
    ejectionJitter?: number | undefined;
    /** Most endpoints ejected at once, percent of the pool (at least one, never all). @default 10 */
    maxEjectionPercent?: number | undefined;
    /** Endpoints with enough calls needed to compare success rates (0: off). @default 5 */
    successRateMinimumHosts?: number | undefined;
    /** Calls an endpoint needs in an interval to be judged. @default 100 */
    successRateRequestVolume?: number | undefined;
    /** Ejected below mean - stdev * this. @default 1.9 */
    successRateStdevFactor?: number | undefined;
    /** Seed of the picks and the jitter. @default 53 bits of crypto entropy */
    seed?: Seed | undefined;
    /** Fail-overs per call(). @default 2 */
    retries?: number | undefined;
    /** The budget fail-overs spend (a RetryBudget or its options). @default a RetryBudget per pool */
    budget?: RetryBudget | { maxTokens?: number; tokenRatio?: number } | undefined;
    /** CircuitBreaker options: one breaker per endpoint runs its calls. */
    breaker?: Options<[(url: string, pick: PoolPick) => unknown, string, PoolPick]> | undefined;
    /** The clock (ms). @default Date.now */
    now?: (() => number) | undefined;
    /** Poll the core on an unref'd timer (eject/return events). @default true */
    timers?: boolean | undefined;
    /** ms between polls. @default min(interval, 1000) */
    pollInterval?: number | undefined;
  }

  interface PoolPick<U = string> {
    readonly endpoint: number;
    readonly url: U;
    /** No endpoint was healthy: every one was a candidate. */
    readonly panic: boolean;
    /** Settles the pick with how the call ended (once). */
    record(result?: PoolResult): void;
    /** Hands the pick back without counting (the call never ran). */
    release(): void;
  }

  interface EndpointStats<U = string> {
    endpoint: number;
    url: U;
    outstanding: number;
    consecutiveFailures: number;
    consecutiveGatewayFailures: number;
    successes: number;
    calls: number;
    ejections: number;
    /** When its ejection ends (ms); 0 when not ejected. */
    ejectedUntil: number;
    picked: number;
    ejected: boolean;
  }

  interface PoolEject<U = string> { endpoint: number; url: U; reason: 'consecutiveFailures' | 'consecutiveGatewayFailures' | 'successRate'; until: number }
  interface PoolReturn<U = string> { endpoint: number; url: U }

  /** A pool of endpoints: P2C picks, Envoy's outlier ejection, failover under a retry budget. Events: 'eject', 'return'. */
  class Pool<U = string> extends EventEmitter {
    constructor(endpoints: readonly U[], options?: PoolOptions);
    readonly endpoints: readonly U[];
    readonly seed: Seed;
    readonly retries: number;
    readonly budget: RetryBudget;
    readonly breakers: CircuitBreaker[] | null;
    readonly maxEjected: number;
    pick(avoid?: number): PoolPick<U>;
    failover(previous: number): PoolPick<U> | null;
    record(endpoint: number, result?: PoolResult): void;
    release(endpoint: number): void;
    poll(): Array<{ event: 'eject'; endpoint: number; reason: PoolEject['reason']; until: number } | { event: 'return'; endpoint: number }>;
    stats(): EndpointStats<U>[];
    stats(endpoint: number): EndpointStats<U>;
    call<T>(fn: (url: U, pick: PoolPick<U>) => Promise<T> | T, options?: { retries?: number }): Promise<T>;
    close(): void;
    on(event: 'eject', listener: (e: PoolEject<U>) => void): this;
    on(event: 'return', listener: (e: PoolReturn<U>) => void): this;
    on(event: string | symbol, listener: (...args: any[]) => void): this;
  }

  const version: string;
}

export = CircuitBreaker;
