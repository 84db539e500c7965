//! The circuit breaker layer: [`fusewire::SharedBreaker`] over the last
//! [`WINDOW`] calls, fed by a [`Classify`] verdict on each result.
//!
//! Every service made by one [`CircuitBreakerLayer`] shares one breaker
//! (clone the layer to protect several routes to one upstream with it).
//! A call the breaker refuses is answered at once with a [`Rejected`]
//! carrying the core's `retry_after`; a call whose future is dropped
//! before it finishes hands its permit back uncounted.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use fusewire::clock::MonotonicClock;
use fusewire::{Backoff, BreakerConfig, Clock, ConfigError, Permit, Problem, Ratio, SharedBreaker};
use fusewire::{Snapshot, State};
use pin_project_lite::pin_project;
use tower::{Layer, Service};

use crate::classify::{Classify, HttpClassifier};
use crate::error::{BoxError, Rejected, RejectedBy};

/// How many of the latest calls the failure rate is taken over.
pub const WINDOW: usize = 100;

/// Options for a [`CircuitBreakerLayer`]; durations are `Duration`s,
/// turned into the clock's ticks once, at [`build`](Self::build).
///
/// Defaults (the core's, in real time): open at a 50 % failure rate over
/// at least 10 calls, stay open one second, then one half-open probe.
///
/// ```
/// use std::time::Duration;
/// use fusewire_tower::CircuitBreakerLayer;
///
/// let layer = CircuitBreakerLayer::builder()
///     .failure_rate(25.0)                                  // percent of the window
///     .slow_calls(Duration::from_secs(2), 50.0)            // or half the calls slower than 2 s
///     .consecutive_failures(5)                             // or five failures in a row
///     .min_calls(20)
///     .open_duration(Duration::from_secs(10))
///     .half_open_probes(3)
///     .half_open_max_dwell(Duration::from_secs(5))
///     .build()?;
/// # Ok::<(), fusewire_tower::ConfigError>(())
/// ```
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct CircuitBreakerBuilder<C = HttpClassifier, K = MonotonicClock> {
    classifier: C,
    clock: K,
    failure_rate: Result<Option<Ratio>, ConfigError>,
    slow: Result<Option<(Duration, Ratio)>, ConfigError>,
    consecutive_failures: Option<u32>,
    min_calls: Option<u32>,
    open_duration: Option<Duration>,
    half_open_probes: Option<u32>,
    half_open_max_dwell: Option<Duration>,
    seed: Option<u64>,
}

fn percent(option: &'static str, p: f64) -> Result<Ratio, ConfigError> {
    Ratio::from_percent(p).ok_or_else(|| {
        let problem = if p.is_nan() {
            Problem::NotANumber
        } else {
            Problem::OutOfRange
        };
        ConfigError::new(option, problem)
    })
}

impl<C, K: Clock> CircuitBreakerBuilder<C, K> {
    /// Open when at least `percent` % of the window's calls failed
    /// (0..=100; NaN or outside is an error naming `"failure_rate"`).
    pub fn failure_rate(mut self, percent_failed: f64) -> Self {
        self.failure_rate = percent("failure_rate", percent_failed).map(Some);
        self
    }

    /// No failure-rate rule (then set another, or `build` says `never_trips`).
    pub fn no_failure_rate(mut self) -> Self {
        self.failure_rate = Ok(None);
        self
    }

    /// Also open when at least `percent_slow` % of the window's calls took
    /// `slower_than` or longer (error names `"slow_call_rate"` or
    /// `"slow_call_duration"`).
    pub fn slow_calls(mut self, slower_than: Duration, percent_slow: f64) -> Self {
        self.slow = percent("slow_call_rate", percent_slow).map(|r| Some((slower_than, r)));
        self
    }

    /// Also open after `n` failures in a row (0 is an error naming
    /// `"consecutive_failures"`).
    pub fn consecutive_failures(mut self, n: u32) -> Self {
        self.consecutive_failures = Some(n);
        self
    }

    /// Calls the window must hold before a rate can open the breaker
    /// (at most [`WINDOW`], else `"min_calls"` `exceeds_window`).
    pub fn min_calls(mut self, n: u32) -> Self {
        self.min_calls = Some(n);
        self
    }

    /// How long the breaker stays open before it lets a probe through.
    pub fn open_duration(mut self, d: Duration) -> Self {
        self.open_duration = Some(d);
        self
    }

    /// Probes admitted while half-open (all must succeed to close).
    pub fn half_open_probes(mut self, n: u32) -> Self {
        self.half_open_probes = Some(n);
        self
    }

    /// How long the half-open probes may take before the breaker gives up
    /// on them and reopens (default: one open duration; `Duration::MAX`
    /// waits for them forever; zero is an error naming
    /// `"half_open_max_dwell"`).
    pub fn half_open_max_dwell(mut self, d: Duration) -> Self {
        self.half_open_max_dwell = Some(d);
        self
    }

    /// A fixed seed for the open duration's jitter (tests); by default
    /// each breaker is seeded from the OS.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Which results count as failures (default [`HttpClassifier`]:
    /// errors and 5xx responses).
    pub fn classifier<C2>(self, classifier: C2) -> CircuitBreakerBuilder<C2, K> {
        CircuitBreakerBuilder {
            classifier,
            clock: self.clock,
            failure_rate: self.failure_rate,
            slow: self.slow,
            consecutive_failures: self.consecutive_failures,
            min_calls: self.min_calls,
            open_duration: self.open_duration,
            half_open_probes: self.half_open_probes,
            half_open_max_dwell: self.half_open_max_dwell,
            seed: self.seed,
        }
    }

    /// The clock to read (default [`MonotonicClock`]; [`TokioClock`](crate::TokioClock)
    /// for tests under `tokio::time::pause`).
    pub fn clock<K2: Clock>(self, clock: K2) -> CircuitBreakerBuilder<C, K2> {
        CircuitBreakerBuilder {
            classifier: self.classifier,
            clock,
            failure_rate: self.failure_rate,
            slow: self.slow,
            consecutive_failures: self.consecutive_failures,
            min_calls: self.min_calls,
            open_duration: self.open_duration,
            half_open_probes: self.half_open_probes,
            half_open_max_dwell: self.half_open_max_dwell,
            seed: self.seed,
        }
    }

    /// The core config these options make, in the clock's ticks.
    fn config(&self) -> Result<BreakerConfig, ConfigError> {
        let unit = self.clock.unit();
        let mut c = BreakerConfig::new(unit);
        c.failure_rate = self.failure_rate?;
        if let Some((d, r)) = self.slow? {
            c.slow_call_rate = Some(r);
            c.slow_call_duration = unit.ticks(d);
        }
        c.consecutive_failures = self.consecutive_failures;
        if let Some(n) = self.min_calls {
            c.min_calls = n;
        }
        if let Some(d) = self.open_duration {
            c.open_backoff = Backoff::constant(unit.ticks(d))
                .map_err(|e| ConfigError::new("open_duration", e.problem))?;
        }
        if let Some(n) = self.half_open_probes {
            c.half_open_probes = n;
        }
        if let Some(d) = self.half_open_max_dwell {
            // 0 ticks means "one open duration" to the core, not what a
            // zero `Duration` says: refuse it; a sub-tick one is one tick.
            if d.is_zero() {
                return Err(ConfigError::new("half_open_max_dwell", Problem::Zero));
            }
            c.half_open_max_dwell = unit.ticks(d).max(1);
        }
        c.seed = self.seed.unwrap_or_else(crate::entropy::seed);
        Ok(c)
    }

    /// Validates the options (the core's rules) and builds the layer.
    ///
    /// ```
    /// use fusewire_tower::CircuitBreakerLayer;
    /// let err = CircuitBreakerLayer::builder().failure_rate(f64::NAN).build().unwrap_err();
    /// assert_eq!(err.field, "failure_rate");
    /// let err = CircuitBreakerLayer::builder().min_calls(1000).build().unwrap_err();
    /// assert_eq!(err.field, "min_calls");
    /// ```
    pub fn build(self) -> Result<CircuitBreakerLayer<C, K>, ConfigError> {
        let config = self.config()?;
        let breaker = SharedBreaker::new(config).map_err(|e| {
            let option = match e.field {
                f if f.starts_with("open_backoff") => "open_duration",
                f => f,
            };
            ConfigError::new(option, e.problem)
        })?;
        Ok(CircuitBreakerLayer {
            shared: Arc::new(Shared {
                breaker,
                classifier: self.classifier,
                clock: self.clock,
                timed: config.slow_call_rate.is_some(),
            }),
        })
    }
}

struct Shared<C, K> {
    breaker: SharedBreaker<WINDOW>,
    classifier: C,
    clock: K,
    /// Whether calls are timed (the slow-call rule is on).
    timed: bool,
}

/// A [`Layer`] that puts one shared circuit breaker in front of services.
///
/// ```
/// use std::time::Duration;
/// use fusewire_tower::{CircuitBreakerLayer, ErrorsOnly, Rejected};
/// use tower::{service_fn, Service, ServiceBuilder, ServiceExt};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let layer = CircuitBreakerLayer::builder()
///     .consecutive_failures(2)
///     .open_duration(Duration::from_secs(30))
///     .classifier(ErrorsOnly)
///     .build()
///     .unwrap();
/// let mut svc = ServiceBuilder::new()
///     .layer(layer.clone())
///     .service(service_fn(|_: ()| async { Err::<(), _>(std::io::Error::other("down")) }));
/// for _ in 0..2 {
///     assert!(svc.ready().await.unwrap().call(()).await.is_err());
/// }
/// let err = svc.ready().await.unwrap().call(()).await.unwrap_err();
/// assert!(Rejected::find(&*err).is_some()); // open: the service was not called
/// assert_eq!(layer.state(), fusewire::State::Open);
/// # }
/// ```
pub struct CircuitBreakerLayer<C = HttpClassifier, K = MonotonicClock> {
    shared: Arc<Shared<C, K>>,
}

impl CircuitBreakerLayer {
    /// Options, starting from the core's defaults in real time.
    pub fn builder() -> CircuitBreakerBuilder {
        CircuitBreakerBuilder {
            classifier: HttpClassifier,
            clock: MonotonicClock::new(),
            failure_rate: Ok(BreakerConfig::new(fusewire::TickUnit::NANOS).failure_rate),
            slow: Ok(None),
            consecutive_failures: None,
            min_calls: None,
            open_duration: None,
            half_open_probes: None,
            half_open_max_dwell: None,
            seed: None,
        }
    }
}

impl<C, K: Clock> CircuitBreakerLayer<C, K> {
    /// The breaker's state now.
    pub fn state(&self) -> State {
        self.snapshot().state
    }

    /// Everything the core knows about the breaker, in the clock's ticks.
    pub fn snapshot(&self) -> Snapshot {
        self.shared.breaker.snapshot(self.shared.clock.now())
    }

    /// Opens the breaker now (it then closes by the usual probes).
    pub fn trip(&self) {
        let _ = self.shared.breaker.trip(self.shared.clock.now());
    }
}

impl<C, K> Clone for CircuitBreakerLayer<C, K> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<C, K> fmt::Debug for CircuitBreakerLayer<C, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CircuitBreakerLayer")
            .field("breaker", &self.shared.breaker)
            .finish_non_exhaustive()
    }
}

impl<S, C, K> Layer<S> for CircuitBreakerLayer<C, K> {
    type Service = CircuitBreaker<S, C, K>;

    fn layer(&self, inner: S) -> Self::Service {
        CircuitBreaker {
            inner,
            shared: Arc::clone(&self.shared),
        }
    }
}

/// The service a [`CircuitBreakerLayer`] makes.
///
/// ```
/// use fusewire_tower::{CircuitBreaker, CircuitBreakerLayer, ErrorsOnly};
/// use tower::{service_fn, Layer};
///
/// let layer = CircuitBreakerLayer::builder().classifier(ErrorsOnly).build().unwrap();
/// let inner = service_fn(|x: u8| async move { Ok::<_, std::io::Error>(x) });
/// let _svc: CircuitBreaker<_, ErrorsOnly> = layer.layer(inner);
/// ```
pub struct CircuitBreaker<S, C = HttpClassifier, K = MonotonicClock> {
    inner: S,
    shared: Arc<Shared<C, K>>,
}

impl<S: Clone, C, K> Clone for CircuitBreaker<S, C, K> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<S: fmt::Debug, C, K> fmt::Debug for CircuitBreaker<S, C, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CircuitBreaker")
            .field("inner", &self.inner)
            .field("breaker", &self.shared.breaker)
            .finish_non_exhaustive()
    }
}

impl<S, Req, C, K> Service<Req> for CircuitBreaker<S, C, K>
where
    S: Service<Req>,
    S::Error: Into<BoxError>,
    C: Classify<S::Response, S::Error>,
    K: Clock,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = ResponseFuture<S::Future, C, K>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, req: Req) -> Self::Future {
        // The start time matters only to the slow-call rule; without it a
        // closed breaker admits without reading the clock at all.
        let timed = self.shared.timed;
        let mut started = 0;
        let clock = &self.shared.clock;
        let mut read = || {
            started = clock.now();
            started
        };
        let admitted = if timed {
            self.shared.breaker.try_acquire(read())
        } else {
            self.shared.breaker.try_acquire_with(read)
        };
        match admitted {
            Ok(permit) => ResponseFuture {
                inner: Inner::Called {
                    future: self.inner.call(req),
                    held: Some(Held {
                        shared: Arc::clone(&self.shared),
                        permit: Some(permit),
                        started,
                    }),
                },
            },
            Err(rejected) => {
                let wait = (rejected.retry_after != u64::MAX)
                    .then(|| self.shared.clock.unit().duration(rejected.retry_after));
                ResponseFuture {
                    inner: Inner::Refused {
                        rejected: Some(Rejected::new(RejectedBy::CircuitBreaker, wait)),
                    },
                }
            }
        }
    }
}

/// A permit on its way: recorded when the call ends, released if dropped.
struct Held<C, K: Clock> {
    shared: Arc<Shared<C, K>>,
    permit: Option<Permit>,
    started: u64,
}

impl<C, K: Clock> Drop for Held<C, K> {
    fn drop(&mut self) {
        if let Some(permit) = self.permit.take() {
            let _ = self.shared.breaker.release(permit, self.shared.clock.now());
        }
    }
}

pin_project! {
    /// The future of a [`CircuitBreaker`] call.
    pub struct ResponseFuture<F, C, K: Clock> {
        #[pin]
        inner: Inner<F, C, K>,
    }
}

pin_project! {
    #[project = Proj]
    enum Inner<F, C, K: Clock> {
        Called {
            #[pin]
            future: F,
            held: Option<Held<C, K>>,
        },
        Refused { rejected: Option<Rejected> },
    }
}

impl<F, C, K, T, E> Future for ResponseFuture<F, C, K>
where
    F: Future<Output = Result<T, E>>,
    E: Into<BoxError>,
    C: Classify<T, E>,
    K: Clock,
{
    type Output = Result<T, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().inner.project() {
            Proj::Called { future, held } => {
                let result = ready!(future.poll(cx));
                if let Some(mut held) = held.take() {
                    let outcome = held.shared.classifier.classify(result.as_ref()).outcome;
                    if let Some(permit) = held.permit.take() {
                        let now = held.shared.clock.now();
                        // Untimed calls (no slow-call rule) report no duration.
                        let took = if held.shared.timed {
                            now.saturating_sub(held.started)
                        } else {
                            0
                        };
                        let _ = held.shared.breaker.record(permit, outcome, took, now);
                    }
                }
                Poll::Ready(result.map_err(Into::into))
            }
            Proj::Refused { rejected } => match rejected.take() {
                Some(r) => Poll::Ready(Err(r.into())),
                None => panic!("ResponseFuture polled after completion"),
            },
        }
    }
}

impl<F, C, K: Clock> fmt::Debug for ResponseFuture<F, C, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ResponseFuture")
    }
}
