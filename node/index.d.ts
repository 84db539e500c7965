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
    /** Buckets in the window (fusewire: at most 64). @default 10 */
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
    /** Probe calls let through per half-open period; all must succeed to close. @default 1 */
    halfOpenProbes?: number | undefined;
    /** Grow the open duration (from resetTimeout) on each reopening without a close. */
    resetBackoff?: { factor?: number; max?: number; jitter?: 'none' | 'full' | 'equal' | 'decorrelated' } | undefined;
    /** Also open after this many failures in a row. */
    consecutiveFailures?: number | undefined;
    /** Judge errorThresholdPercentage (and volumeThreshold) over the last this-many calls
     *  (a count-based window) instead of the rolling time window. Stats stay time-based. */
    slidingWindowSize?: number | undefined;
    /** Pass a per-call AbortSignal as the action's last argument, aborted on timeout. @default false */
    perCallSignal?: boolean | undefined;

    [key: string]: any;
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
    seed?: number;
    retryOn?: (error: any, attempt: number) => boolean;
    /** A server's retry-after hint in ms, honoured as a minimum. */
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

  class RetrySchedule {
    constructor(options?: RetryOptions);
    start(now?: number): void;
    /** The wait before the next attempt (ms), or null to give up. */
    next(now?: number, retryAfter?: number): number | null;
    readonly attempts: number;
  }

  class TokenBucket {
    constructor(options: { capacity: number; refill?: number; interval?: number });
    readonly capacity: number;
    readonly available: number;
    tryTake(n?: number): boolean;
    take(n?: number, options?: { signal?: AbortSignal }): Promise<void>;
    wrap<A extends unknown[], R>(fn: (...args: A) => R | Promise<R>): (...args: A) => Promise<R>;
    refund(n?: number): void;
    setRate(refill: number, interval?: number): void;
  }

  type Priority = 'critical' | 'normal' | 'sheddable';

  class Bulkhead {
    constructor(options: { limit: number; reserveCritical?: number; reserveNormal?: number });
    readonly limit: number;
    readonly inUse: number;
    available(priority?: Priority): number;
    tryAcquire(priority?: Priority): (() => void) | null;
    run<T>(fn: () => Promise<T> | T, options?: { priority?: Priority }): Promise<T>;
  }

  const version: string;
}

export = CircuitBreaker;
