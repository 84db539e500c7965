//! The retry layer: tower's retry with every decision from the core.
//!
//! After each attempt the [`Classify`] verdict says whether it failed and
//! may be retried, and what wait the other side asked for (`Retry-After`,
//! or an inner fusewire layer's [`Rejected`](crate::Rejected) wait). The
//! core's [`fusewire::Retry`] then decides: the backoff's jittered delay or
//! the asked-for wait, whichever is longer, within `max_attempts` and
//! `max_elapsed`; and the shared [`SharedBudget`] (gRPC's retry throttle)
//! refuses retries when too many calls fail, so a failing upstream sees
//! at most a fixed share of extra load. A call that is given up on answers
//! with its last response or error.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use fusewire::clock::MonotonicClock;
use fusewire::SharedBudget;
use fusewire::{Backoff, Clock, ConfigError, Decision, Jitter, Outcome, RetryPolicy, Schedule};
use pin_project_lite::pin_project;
use tokio::time::Sleep;
use tower::{Layer, Service};

use crate::classify::{Classify, HttpClassifier};
use crate::error::BoxError;

/// How to make the request again for another attempt.
///
/// [`CloneRequest`] (the default) clones it; a closure
/// `Fn(&Req) -> Option<Req>` can rebuild requests that are not `Clone`
/// (an `http::Request` with a buffered body), `None` meaning "cannot be
/// sent again" (the first answer is then final).
///
/// ```
/// use fusewire_tower::Replay;
/// let rebuild = |r: &http::Request<String>| {
///     let mut again = http::Request::new(r.body().clone());
///     *again.uri_mut() = r.uri().clone();
///     Some(again)
/// };
/// let first = http::Request::new("hi".to_string());
/// assert_eq!(rebuild.replay(&first).unwrap().body(), "hi");
/// ```
pub trait Replay<Req> {
    /// A copy of `req` to send again, or `None` if it cannot be.
    fn replay(&self, req: &Req) -> Option<Req>;
}

/// Replays a request by cloning it.
///
/// ```
/// use fusewire_tower::{CloneRequest, Replay};
/// assert_eq!(CloneRequest.replay(&"again".to_string()).unwrap(), "again");
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CloneRequest;

impl<Req: Clone> Replay<Req> for CloneRequest {
    fn replay(&self, req: &Req) -> Option<Req> {
        Some(req.clone())
    }
}

impl<F, Req> Replay<Req> for F
where
    F: Fn(&Req) -> Option<Req>,
{
    fn replay(&self, req: &Req) -> Option<Req> {
        self(req)
    }
}

/// Options for a [`RetryLayer`].
///
/// Defaults: 3 attempts in all; exponential backoff from 100 ms doubling
/// up to 10 s with full jitter; no deadline; a budget of 10 retries that
/// earns a tenth of a retry per success (gRPC's throttle).
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use fusewire_tower::{Jitter, RetryLayer};
///
/// // Two routes to one upstream share one budget.
/// let budget = Arc::new(fusewire::SharedBudget::new(20, 100).unwrap());
/// let layer = RetryLayer::builder()
///     .max_attempts(4)
///     .first_delay(Duration::from_millis(50))
///     .max_delay(Duration::from_secs(5))        // a longer Retry-After gives up at once
///     .max_elapsed(Duration::from_secs(20))
///     .jitter(Jitter::Equal)
///     .shared_budget(budget.clone())
///     .build()?;
/// # Ok::<(), fusewire_tower::ConfigError>(())
/// ```
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct RetryBuilder<C = HttpClassifier, K = MonotonicClock, P = CloneRequest> {
    classifier: C,
    clock: K,
    replay: P,
    max_attempts: u32,
    first_delay: Duration,
    max_delay: Duration,
    jitter: Jitter,
    max_elapsed: Option<Duration>,
    budget: Result<Arc<SharedBudget>, ConfigError>,
    seed: Option<u64>,
}

impl<C, K: Clock, P> RetryBuilder<C, K, P> {
    /// Attempts in all, the first included (`1` never retries; `0` is an
    /// error naming `"max_attempts"`).
    pub fn max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = n;
        self
    }

    /// The first retry's delay before jitter (doubles after each retry).
    pub fn first_delay(mut self, d: Duration) -> Self {
        self.first_delay = d;
        self
    }

    /// The longest backoff delay; also the longest `Retry-After` the
    /// layer will wait for (a longer one gives up at once).
    pub fn max_delay(mut self, d: Duration) -> Self {
        self.max_delay = d;
        self
    }

    /// How delays are randomised (default [`Jitter::Full`]).
    pub fn jitter(mut self, jitter: Jitter) -> Self {
        self.jitter = jitter;
        self
    }

    /// No retry may start later than this after the first attempt began.
    pub fn max_elapsed(mut self, d: Duration) -> Self {
        self.max_elapsed = Some(d);
        self
    }

    /// A budget of its own: at most `max_tokens` retries in reserve, each
    /// success earning `token_ratio_milli` thousandths of one (errors name
    /// `"budget.max_tokens"` / `"budget.token_ratio_milli"`).
    pub fn budget(mut self, max_tokens: u32, token_ratio_milli: u32) -> Self {
        self.budget = SharedBudget::new(max_tokens, token_ratio_milli)
            .map(Arc::new)
            .map_err(|e| {
                let option = match e.field {
                    "max_tokens" => "budget.max_tokens",
                    _ => "budget.token_ratio_milli",
                };
                ConfigError::new(option, e.problem)
            });
        self
    }

    /// A budget shared with other layers (every route to one upstream).
    pub fn shared_budget(mut self, budget: Arc<SharedBudget>) -> Self {
        self.budget = Ok(budget);
        self
    }

    /// A fixed jitter seed (tests): every call then draws the same delays.
    /// By default each call is seeded from the OS.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Which results are retried (default [`HttpClassifier`]).
    pub fn classifier<C2>(self, classifier: C2) -> RetryBuilder<C2, K, P> {
        RetryBuilder {
            classifier,
            clock: self.clock,
            replay: self.replay,
            max_attempts: self.max_attempts,
            first_delay: self.first_delay,
            max_delay: self.max_delay,
            jitter: self.jitter,
            max_elapsed: self.max_elapsed,
            budget: self.budget,
            seed: self.seed,
        }
    }

    /// The clock to read (default [`MonotonicClock`]).
    pub fn clock<K2: Clock>(self, clock: K2) -> RetryBuilder<C, K2, P> {
        RetryBuilder {
            classifier: self.classifier,
            clock,
            replay: self.replay,
            max_attempts: self.max_attempts,
            first_delay: self.first_delay,
            max_delay: self.max_delay,
            jitter: self.jitter,
            max_elapsed: self.max_elapsed,
            budget: self.budget,
            seed: self.seed,
        }
    }

    /// How requests are made again (default [`CloneRequest`]).
    pub fn replay<P2>(self, replay: P2) -> RetryBuilder<C, K, P2> {
        RetryBuilder {
            classifier: self.classifier,
            clock: self.clock,
            replay,
            max_attempts: self.max_attempts,
            first_delay: self.first_delay,
            max_delay: self.max_delay,
            jitter: self.jitter,
            max_elapsed: self.max_elapsed,
            budget: self.budget,
            seed: self.seed,
        }
    }

    /// Validates the options (the core's rules) and builds the layer.
    ///
    /// ```
    /// use std::time::Duration;
    /// use fusewire_tower::RetryLayer;
    /// let err = RetryLayer::builder().max_attempts(0).build().unwrap_err();
    /// assert_eq!(err.field, "max_attempts");
    /// let err = RetryLayer::builder().max_delay(Duration::from_millis(1)).build().unwrap_err();
    /// assert_eq!(err.field, "max_delay"); // below the first delay
    /// ```
    pub fn build(self) -> Result<RetryLayer<C, K, P>, ConfigError> {
        let unit = self.clock.unit();
        let schedule = Schedule::Exponential {
            base: unit.ticks(self.first_delay),
            factor_milli: 2000,
        };
        let backoff =
            Backoff::new(schedule, self.jitter, unit.ticks(self.max_delay)).map_err(|e| {
                let option = match e.field {
                    "cap" => "max_delay",
                    "jitter.percent" => "jitter",
                    _ => "first_delay",
                };
                ConfigError::new(option, e.problem)
            })?;
        let max_elapsed = self.max_elapsed.map(|d| unit.ticks(d));
        let policy = RetryPolicy::new(backoff, self.max_attempts, max_elapsed, 0)?;
        Ok(RetryLayer {
            shared: Arc::new(Shared {
                policy,
                budget: self.budget?,
                classifier: self.classifier,
                clock: self.clock,
                replay: self.replay,
                seed: self.seed,
            }),
        })
    }
}

struct Shared<C, K, P> {
    policy: RetryPolicy,
    budget: Arc<SharedBudget>,
    classifier: C,
    clock: K,
    replay: P,
    seed: Option<u64>,
}

impl<C, K, P> Shared<C, K, P> {
    /// One operation's policy, with its own jitter seed.
    fn policy(&self) -> RetryPolicy {
        self.policy
            .with_seed(self.seed.unwrap_or_else(crate::entropy::seed))
    }
}

/// A [`Layer`] that retries failed calls under one shared budget.
///
/// ```
/// use std::sync::atomic::{AtomicU32, Ordering};
/// use std::sync::Arc;
/// use std::time::Duration;
/// use fusewire_tower::{ErrorsOnly, RetryLayer};
/// use tower::{service_fn, Service, ServiceBuilder, ServiceExt};
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// let calls = Arc::new(AtomicU32::new(0));
/// let seen = calls.clone();
/// let flaky = service_fn(move |x: u32| {
///     let n = seen.fetch_add(1, Ordering::Relaxed);
///     async move { if n < 2 { Err(std::io::Error::other("flaky")) } else { Ok(x) } }
/// });
/// let retry = RetryLayer::builder().max_attempts(3).classifier(ErrorsOnly).build().unwrap();
/// let mut svc = ServiceBuilder::new().layer(retry.clone()).service(flaky);
/// assert_eq!(svc.ready().await.unwrap().call(7).await.unwrap(), 7);
/// assert_eq!(calls.load(Ordering::Relaxed), 3);
/// assert_eq!(retry.budget().tokens(), 8); // two retries spent
/// # }
/// ```
pub struct RetryLayer<C = HttpClassifier, K = MonotonicClock, P = CloneRequest> {
    shared: Arc<Shared<C, K, P>>,
}

impl RetryLayer {
    /// Options, starting from the defaults.
    pub fn builder() -> RetryBuilder {
        RetryBuilder {
            classifier: HttpClassifier,
            clock: MonotonicClock::new(),
            replay: CloneRequest,
            max_attempts: 3,
            first_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(10),
            jitter: Jitter::Full,
            max_elapsed: None,
            budget: SharedBudget::new(10, 100).map(Arc::new),
            seed: None,
        }
    }
}

impl<C, K, P> RetryLayer<C, K, P> {
    /// The retry budget this layer spends.
    pub fn budget(&self) -> &SharedBudget {
        &self.shared.budget
    }
}

impl<C, K, P> Clone for RetryLayer<C, K, P> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<C, K, P> fmt::Debug for RetryLayer<C, K, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RetryLayer")
            .field("policy", &self.shared.policy)
            .field("budget", &self.shared.budget)
            .finish_non_exhaustive()
    }
}

impl<S, C, K, P> Layer<S> for RetryLayer<C, K, P> {
    type Service = Retry<S, C, K, P>;

    fn layer(&self, inner: S) -> Self::Service {
        Retry {
            inner,
            shared: Arc::clone(&self.shared),
        }
    }
}

/// The service a [`RetryLayer`] makes.
///
/// ```
/// use fusewire_tower::{ErrorsOnly, Retry, RetryLayer};
/// use tower::{service_fn, Layer};
///
/// let layer = RetryLayer::builder().classifier(ErrorsOnly).build().unwrap();
/// let inner = service_fn(|x: u8| async move { Ok::<_, std::io::Error>(x) });
/// let _svc: Retry<_, ErrorsOnly> = layer.layer(inner);
/// ```
pub struct Retry<S, C = HttpClassifier, K = MonotonicClock, P = CloneRequest> {
    inner: S,
    shared: Arc<Shared<C, K, P>>,
}

impl<S: Clone, C, K, P> Clone for Retry<S, C, K, P> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<S: fmt::Debug, C, K, P> fmt::Debug for Retry<S, C, K, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Retry")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl<S, Req, C, K, P> Service<Req> for Retry<S, C, K, P>
where
    S: Service<Req> + Clone,
    S::Error: Into<BoxError>,
    C: Classify<S::Response, S::Error>,
    K: Clock,
    P: Replay<Req>,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = ResponseFuture<S, Req, C, K, P>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, req: Req) -> Self::Future {
        let shared = &self.shared;
        let retries = shared.policy.max_attempts().get() > 1;
        let spare = if retries {
            shared.replay.replay(&req)
        } else {
            None
        };
        // The deadline counts from the first attempt only when there is one.
        let started = match shared.policy.max_elapsed() {
            Some(_) if spare.is_some() => Some(shared.clock.now()),
            _ => None,
        };
        // The ready service makes this call; a clone makes the retries.
        let clone = self.inner.clone();
        let mut ready = std::mem::replace(&mut self.inner, clone);
        let future = ready.call(req);
        ResponseFuture {
            state: State::Calling { future },
            service: ready,
            spare,
            started,
            retry: None,
            shared: Arc::clone(&self.shared),
        }
    }
}

pin_project! {
    /// The future of a [`Retry`] call.
    pub struct ResponseFuture<S, Req, C, K, P>
    where
        S: Service<Req>,
    {
        #[pin]
        state: State<S::Future>,
        service: S,
        spare: Option<Req>,
        started: Option<u64>,
        retry: Option<fusewire::Retry>,
        shared: Arc<Shared<C, K, P>>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<F> {
        Calling { #[pin] future: F },
        Waiting { #[pin] sleep: Sleep },
        Readying,
    }
}

impl<S, Req, C, K, P> Future for ResponseFuture<S, Req, C, K, P>
where
    S: Service<Req>,
    S::Error: Into<BoxError>,
    C: Classify<S::Response, S::Error>,
    K: Clock,
    P: Replay<Req>,
{
    type Output = Result<S::Response, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            match this.state.as_mut().project() {
                StateProj::Calling { future } => {
                    let result = ready!(future.poll(cx));
                    let shared = &**this.shared;
                    let verdict = shared.classifier.classify(result.as_ref());
                    let budget = &*shared.budget;
                    if !verdict.retry || this.spare.is_none() {
                        match verdict.outcome {
                            Outcome::Success => budget.record_success(),
                            Outcome::Failure | Outcome::Timeout => budget.record_failure(),
                            Outcome::Ignored => {}
                        }
                        return Poll::Ready(result.map_err(Into::into));
                    }
                    let now = shared.clock.now();
                    let unit = shared.clock.unit();
                    let hint = verdict.retry_after.map(|d| unit.ticks(d));
                    let started = this.started.unwrap_or(now);
                    let retry = this.retry.get_or_insert_with(|| {
                        let mut r = fusewire::Retry::new(shared.policy());
                        r.start(started);
                        r
                    });
                    match retry.next_with_budget(now, hint, &mut &*budget) {
                        Decision::RetryAfter(0) => this.state.set(State::Readying),
                        Decision::RetryAfter(wait) => this.state.set(State::Waiting {
                            sleep: tokio::time::sleep(unit.duration(wait)),
                        }),
                        Decision::GiveUp(_) => return Poll::Ready(result.map_err(Into::into)),
                    }
                }
                StateProj::Waiting { sleep } => {
                    ready!(sleep.poll(cx));
                    this.state.set(State::Readying);
                }
                StateProj::Readying => {
                    if let Err(e) = ready!(this.service.poll_ready(cx)) {
                        return Poll::Ready(Err(e.into()));
                    }
                    let again = this
                        .spare
                        .as_ref()
                        .and_then(|r| this.shared.replay.replay(r));
                    let Some(req) = again else {
                        // Replay refused the second time: nothing to send.
                        return Poll::Ready(Err(
                            "fusewire-tower: the request could not be replayed".into(),
                        ));
                    };
                    let future = this.service.call(req);
                    this.state.set(State::Calling { future });
                }
            }
        }
    }
}

impl<S, Req, C, K, P> fmt::Debug for ResponseFuture<S, Req, C, K, P>
where
    S: Service<Req>,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ResponseFuture")
    }
}
