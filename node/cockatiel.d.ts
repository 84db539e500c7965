// Types of `fusewire/cockatiel`: cockatiel 4's public API (the same names
// and shapes, so code typed against cockatiel compiles unchanged), plus
// fusewire's extras at the end (retry `budget`, `tokenBucket`).

import type { Pool, PoolPick, RetryBudget, TokenBucket } from './index';

type Constructor<T> = new (...args: any) => T;

// ---- events

export interface IDisposable {
  dispose(): void;
}

export declare const noopDisposable: IDisposable;

/** Subscribes a listener; dispose() the result to unsubscribe. */
export type Event<T> = (listener: (data: T) => void) => IDisposable;

export declare namespace Event {
  /** Listens for one firing. */
  const once: <T>(event: Event<T>, listener: (data: T) => void) => IDisposable;
  /** The next firing as a promise; rejects with TaskCancelledError if `signal` aborts first. */
  const toPromise: <T>(event: Event<T>, signal?: AbortSignal) => Promise<T>;
}

export declare class EventEmitter<T> {
  protected listeners?: Array<(data: T) => void> | ((data: T) => void);
  readonly addListener: Event<T>;
  /** Number of listeners. */
  get size(): number;
  emit(value: T): void;
  protected addListenerInner(listener: (data: T) => void): IDisposable;
}

export declare class MemorizingEventEmitter<T> extends EventEmitter<T> {
  get hasEmitted(): boolean;
  readonly addListener: Event<T>;
  emit(value: T): void;
}

// ---- policies

export interface IBasePolicyOptions {
  errorFilter: (error: unknown) => boolean;
  resultFilter: (result: unknown) => boolean;
}

export type FailureReason<ReturnType> = { error: unknown } | { value: ReturnType };

export interface IFailureEvent {
  /** ms the call ran. */
  duration: number;
  /** Whether the policy's filters handle the error or result. */
  handled: boolean;
  reason: FailureReason<unknown>;
}

export interface ISuccessEvent {
  /** ms the call ran. */
  duration: number;
}

export interface IDefaultPolicyContext {
  signal: AbortSignal;
}

export interface IPolicy<ContextType extends IDefaultPolicyContext = IDefaultPolicyContext, AltReturn = never> {
  readonly _altReturn: AltReturn;
  readonly onSuccess: Event<ISuccessEvent>;
  readonly onFailure: Event<IFailureEvent>;
  execute<T>(fn: (context: ContextType) => PromiseLike<T> | T, signal?: AbortSignal): Promise<T | AltReturn>;
}

export interface IMergedPolicy<A extends IDefaultPolicyContext, B, W extends IPolicy<any, any>[]> extends IPolicy<A, B> {
  readonly wrapped: W;
}

type MergePolicies<A, B> = A extends IPolicy<infer A1, any>
  ? B extends IPolicy<infer B1, any>
    ? IMergedPolicy<A1 & B1, A['_altReturn'] | B['_altReturn'], B extends IMergedPolicy<any, any, infer W> ? [A, ...W] : [A, B]>
    : never
  : never;

/** Which errors and results a policy handles. */
export declare class Policy {
  readonly options: Readonly<IBasePolicyOptions>;
  constructor(options: Readonly<IBasePolicyOptions>);
  orType<T>(cls: Constructor<T>, predicate?: (error: T) => boolean): Policy;
  orWhen(predicate: (error: unknown) => boolean): Policy;
  orWhenResult(predicate: (r: unknown) => boolean): Policy;
  orResultType<T>(cls: Constructor<T>, predicate?: (error: T) => boolean): Policy;
}

export declare const noop: NoopPolicy;
export declare const handleAll: Policy;
export declare function handleType<T>(cls: Constructor<T>, predicate?: (error: T) => boolean): Policy;
export declare function handleWhen(predicate: (error: unknown) => boolean): Policy;
export declare function handleResultType<T>(cls: Constructor<T>, predicate?: (error: T) => boolean): Policy;
export declare function handleWhenResult(predicate: (error: unknown) => boolean): Policy;
/** At most `limit` calls at once (a fusewire core Bulkhead), `queue` more waiting. */
export declare function bulkhead(limit: number, queue?: number): BulkheadPolicy;
export declare function usePolicy(policy: IPolicy<IDefaultPolicyContext, never>): (_target: unknown, _key: string, descriptor: PropertyDescriptor) => void;
export declare function timeout(duration: number, strategyOrOpts: TimeoutStrategy | { strategy: TimeoutStrategy; abortOnReturn: boolean }): TimeoutPolicy;

export declare function wrap<A extends IPolicy<IDefaultPolicyContext, unknown>>(p1: A): A;
export declare function wrap<A extends IPolicy<IDefaultPolicyContext, unknown>, B extends IPolicy<IDefaultPolicyContext, unknown>>(p1: A, p2: B): MergePolicies<A, B>;
export declare function wrap<A extends IPolicy<IDefaultPolicyContext, unknown>, B extends IPolicy<IDefaultPolicyContext, unknown>, C extends IPolicy<IDefaultPolicyContext, unknown>>(p1: A, p2: B, p3: C): MergePolicies<C, MergePolicies<A, B>>;
export declare function wrap<A extends IPolicy<IDefaultPolicyContext, unknown>, B extends IPolicy<IDefaultPolicyContext, unknown>, C extends IPolicy<IDefaultPolicyContext, unknown>, D extends IPolicy<IDefaultPolicyContext, unknown>>(p1: A, p2: B, p3: C, p4: D): MergePolicies<D, MergePolicies<C, MergePolicies<A, B>>>;
export declare function wrap<A extends IPolicy<IDefaultPolicyContext, unknown>, B extends IPolicy<IDefaultPolicyContext, unknown>, C extends IPolicy<IDefaultPolicyContext, unknown>, D extends IPolicy<IDefaultPolicyContext, unknown>, E extends IPolicy<IDefaultPolicyContext, unknown>>(p1: A, p2: B, p3: C, p4: D, p5: E): MergePolicies<E, MergePolicies<D, MergePolicies<C, MergePolicies<A, B>>>>;
export declare function wrap<C extends IDefaultPolicyContext, A>(...p: Array<IPolicy<C, A>>): IPolicy<C, A>;

/** Retries up to `maxAttempts` (default Infinity) after `backoff` (default none); `budget` (fusewire): a shared RetryBudget that may refuse a retry. */
export declare function retry(policy: Policy, opts: {
  maxAttempts?: number;
  backoff?: IBackoffFactory<IRetryBackoffContext<unknown>>;
  budget?: RetryBudget;
}): RetryPolicy;
export declare function circuitBreaker(policy: Policy, opts: ICircuitBreakerOptions): CircuitBreakerPolicy;
export declare function fallback<R>(policy: Policy, valueOrFactory: (() => Promise<R> | R) | R): FallbackPolicy<R>;

export declare class NoopPolicy implements IPolicy {
  readonly _altReturn: never;
  readonly onSuccess: Event<ISuccessEvent>;
  readonly onFailure: Event<IFailureEvent>;
  execute<T>(fn: (context: IDefaultPolicyContext) => PromiseLike<T> | T, signal?: AbortSignal): Promise<T>;
}

export interface IRetryContext extends IDefaultPolicyContext {
  /** 0 for the first call. */
  attempt: number;
}

export interface IRetryBackoffContext<R> extends IRetryContext {
  result: FailureReason<R>;
}

export interface IRetryPolicyConfig {
  backoff: IBackoffFactory<IRetryBackoffContext<unknown>>;
  maxAttempts: number;
  unref?: boolean;
  budget?: RetryBudget;
}

export declare class RetryPolicy implements IPolicy<IRetryContext> {
  readonly _altReturn: never;
  get onSuccess(): Event<ISuccessEvent>;
  get onFailure(): Event<IFailureEvent>;
  /** Before each retry's backoff. */
  readonly onRetry: Event<FailureReason<unknown> & { delay: number; attempt: number }>;
  /** When the policy stops retrying. */
  readonly onGiveUp: Event<FailureReason<unknown>>;
  constructor(options: Readonly<IRetryPolicyConfig>, executor: unknown);
  /** The backoff timer no longer keeps the process alive. */
  dangerouslyUnref(): RetryPolicy;
  execute<T>(fn: (context: IRetryContext) => PromiseLike<T> | T, signal?: AbortSignal): Promise<T>;
}

export declare enum CircuitState {
  Closed = 0,
  Open = 1,
  HalfOpen = 2,
  Isolated = 3
}

export interface IHalfOpenAfterBackoffContext extends IDefaultPolicyContext {
  attempt: number;
  result: FailureReason<unknown>;
}

export interface IHalfOpenSamplingOptions {
  /** Test calls let through when half-open. @default 1 */
  calls: number;
  /** Share of them that may fail and still close it. @default 0 */
  threshold: number;
}

export interface ICircuitBreakerOptions {
  breaker: IBreaker;
  /** ms (or a backoff) before a test call is let through. */
  halfOpenAfter: number | IBackoffFactory<IHalfOpenAfterBackoffContext>;
  halfOpenSampling?: IHalfOpenSamplingOptions;
  /** A previous toJSON(). */
  initialState?: unknown;
}

export declare class CircuitBreakerPolicy implements IPolicy {
  readonly _altReturn: never;
  readonly onBreak: Event<FailureReason<unknown> | { isolated: true }>;
  readonly onReset: Event<void>;
  readonly onHalfOpen: Event<void>;
  readonly onStateChange: Event<CircuitState>;
  get onSuccess(): Event<ISuccessEvent>;
  get onFailure(): Event<IFailureEvent>;
  get state(): CircuitState;
  get lastFailure(): FailureReason<unknown> | undefined;
  constructor(options: ICircuitBreakerOptions, executor: unknown);
  /** Holds the breaker open until dispose(). */
  isolate(): { dispose: () => void };
  execute<T>(fn: (context: IDefaultPolicyContext) => PromiseLike<T> | T, signal?: AbortSignal): Promise<T>;
  /** The state for a later `initialState`. */
  toJSON(): unknown;
}

export declare enum TimeoutStrategy {
  Cooperative = 'optimistic',
  Aggressive = 'aggressive'
}

export interface ICancellationContext {
  signal: AbortSignal;
}

export interface ITimeoutOptions {
  strategy: TimeoutStrategy;
  abortOnReturn?: boolean;
}

export declare class TimeoutPolicy implements IPolicy<ICancellationContext> {
  readonly _altReturn: never;
  readonly onTimeout: Event<void>;
  get onFailure(): Event<IFailureEvent>;
  get onSuccess(): Event<ISuccessEvent>;
  constructor(duration: number, options: ITimeoutOptions, executor?: unknown, unref?: boolean);
  dangerouslyUnref(): TimeoutPolicy;
  execute<T>(fn: (context: ICancellationContext, signal: AbortSignal) => PromiseLike<T> | T, signal?: AbortSignal): Promise<T>;
}

export declare class BulkheadPolicy implements IPolicy {
  readonly _altReturn: never;
  readonly onSuccess: Event<ISuccessEvent>;
  readonly onFailure: Event<IFailureEvent>;
  readonly onReject: Event<void>;
  /** Calls that may start now. */
  get executionSlots(): number;
  /** Calls that may still queue. */
  get queueSlots(): number;
  constructor(capacity: number, queueCapacity: number);
  execute<T>(fn: (context: IDefaultPolicyContext) => PromiseLike<T> | T, signal?: AbortSignal): Promise<T>;
}

export declare class FallbackPolicy<AltReturn> implements IPolicy<IDefaultPolicyContext, AltReturn> {
  readonly _altReturn: AltReturn;
  get onSuccess(): Event<ISuccessEvent>;
  get onFailure(): Event<IFailureEvent>;
  constructor(executor: unknown, value: () => AltReturn);
  execute<T>(fn: (context: IDefaultPolicyContext) => PromiseLike<T> | T, signal?: AbortSignal): Promise<T | AltReturn>;
}

// ---- breakers

export interface IBreaker {
  /** Serialisable state, restored through `initialState`. */
  state: unknown;
  success(state: CircuitState): void;
  /** true: open the circuit. */
  failure(state: CircuitState): boolean;
}

/** Opens after `threshold` failures in a row. */
export declare class ConsecutiveBreaker implements IBreaker {
  state: number;
  constructor(threshold: number);
  success(): void;
  failure(): boolean;
}

export interface ICountBreakerOptions {
  /** Share (0, 1) of failed calls above which it opens. */
  threshold: number;
  /** Calls in the sliding window. */
  size: number;
  /** Calls needed before it may open. @default size */
  minimumNumberOfCalls?: number;
}

export declare class CountBreaker implements IBreaker {
  get state(): unknown;
  set state(value: unknown);
  constructor(options: ICountBreakerOptions);
  success(state: CircuitState): void;
  failure(state: CircuitState): boolean;
}

export interface ISamplingBreakerOptions {
  /** Share (0, 1) of failed calls above which it opens. */
  threshold: number;
  /** ms of the sliding window. */
  duration: number;
  /** Calls a second needed before it may open. @default 5 / threshold */
  minimumRps?: number;
}

export declare class SamplingBreaker implements IBreaker {
  get state(): unknown;
  set state(value: unknown);
  constructor(options: ISamplingBreakerOptions);
  success(state: CircuitState): void;
  failure(state: CircuitState): boolean;
}

// ---- backoffs

export interface IBackoffFactory<T> {
  next(context: T): IBackoff<T>;
}

export interface IBackoff<T> extends IBackoffFactory<T> {
  /** ms to wait. */
  readonly duration: number;
}

export declare class ConstantBackoff implements IBackoffFactory<unknown> {
  constructor(interval: number);
  next(): IBackoff<unknown>;
}

export declare class IterableBackoff implements IBackoffFactory<unknown> {
  constructor(durations: ReadonlyArray<number>);
  next(_context: unknown): IBackoff<unknown>;
}

export type DelegateBackoffFn<T, S = void> = (context: T, state?: S) => { delay: number; state: S } | number;

export declare class DelegateBackoff<T, S = void> implements IBackoffFactory<T> {
  constructor(fn: DelegateBackoffFn<T, S>);
  next(context: T): IBackoff<T>;
}

export type GeneratorFn<S> = (state: S | undefined, options: IExponentialBackoffOptions<S>) => [number, S];

export interface IExponentialBackoffOptions<S> {
  /** @default decorrelatedJitterGenerator */
  generator: GeneratorFn<S>;
  /** @default 30000 */
  maxDelay: number;
  /** @default 2 */
  exponent: number;
  /** @default 128 */
  initialDelay: number;
}

export declare class ExponentialBackoff<S> implements IBackoffFactory<unknown> {
  constructor(options?: Partial<IExponentialBackoffOptions<S>>);
  next(): IBackoff<unknown>;
}

export declare const noJitterGenerator: GeneratorFn<number>;
export declare const fullJitterGenerator: GeneratorFn<number>;
export declare const halfJitterGenerator: GeneratorFn<number>;
export declare const decorrelatedJitterGenerator: GeneratorFn<[number, number]>;

// ---- errors

export declare class BrokenCircuitError extends Error {
  readonly isBrokenCircuitError = true;
  constructor(message?: string);
}

export declare class IsolatedCircuitError extends BrokenCircuitError {
  readonly isIsolatedCircuitError = true;
  constructor();
}

export declare class HydratingCircuitError extends Error {
  readonly isHydratingCircuitError = true;
  constructor(message?: string);
}

export declare class TaskCancelledError extends Error {
  readonly message: string;
  readonly isTaskCancelledError = true;
  constructor(message?: string);
}

export declare class BulkheadRejectedError extends Error {
  readonly isBulkheadRejectedError = true;
  constructor(executionSlots: number, queueSlots: number);
}

export declare const isBrokenCircuitError: (e: unknown) => e is BrokenCircuitError;
export declare const isBulkheadRejectedError: (e: unknown) => e is BulkheadRejectedError;
export declare const isIsolatedCircuitError: (e: unknown) => e is IsolatedCircuitError;
export declare const isTaskCancelledError: (e: unknown) => e is TaskCancelledError;
export declare const isHydratingCircuitError: (e: unknown) => e is HydratingCircuitError;

// ---- fusewire extras

/** Thrown by a tokenBucket() policy with no token left; `retryAfter` is the core's exact wait (ms). */
export declare class TokenBucketRejectedError extends Error {
  readonly isTokenBucketRejectedError = true;
  readonly retryAfter: number;
  constructor(retryAfter: number);
}
export declare const isTokenBucketRejectedError: (e: unknown) => e is TokenBucketRejectedError;

/** A fusewire TokenBucket as a policy for wrap(): each call takes `cost` tokens, refused (or, with `wait`, waiting) when there are none. */
export declare function tokenBucket(bucket: TokenBucket, options?: { cost?: number; wait?: boolean }): IPolicy<IDefaultPolicyContext, never>;

/** A fusewire Pool as a policy for wrap(): the function gets the picked endpoint (and the pick); failed endpoints fail over. */
export declare function pool<U>(endpoints: Pool<U>, options?: { retries?: number }): IPolicy<IDefaultPolicyContext & { endpoint: U; pick: PoolPick<U> }, never>;
