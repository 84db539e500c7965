//! Rate limiting with the core's GCRA bucket: a call over the rate is shed
//! at once with a [`Rejected`] whose wait is exactly when a token will be
//! there (never queued, so a flood cannot build a backlog).
//!
//! [`RateLimitLayer`] is one lock-free [`SharedBucket`] for every caller;
//! [`KeyedRateLimitLayer`] keeps one [`Bucket`] per key (client, tenant,
//! route) with bounded memory: at most `max_keys` buckets, a full bucket
//! (one that has refilled) being dropped to make room since a new bucket
//! would be the same, and keys that find no room sharing one overflow
//! bucket rather than evicting a bucket that is still in debt.

use std::collections::HashMap;
use std::fmt;
use std::hash::Hash;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use fusewire::clock::MonotonicClock;
use fusewire::{Bucket, Clock, ConfigError, Problem, Rate, SharedBucket, TickUnit};
use tower::{Layer, Service};

use crate::error::{BoxError, Rejected, RejectedBy, ShedFuture};

/// The rate options both rate-limit builders share.
#[derive(Debug, Clone, Copy)]
struct Limits {
    rate: Option<(u32, Duration)>,
    burst: Option<u32>,
}

impl Limits {
    fn validate(self, unit: TickUnit) -> Result<(NonZeroU32, Rate), ConfigError> {
        let (tokens, per) = self
            .rate
            .ok_or(ConfigError::new("rate", Problem::Required))?;
        let rate = Rate::new(tokens, unit.ticks(per)).map_err(|e| {
            let option = if e.field == "tokens" { "rate" } else { "per" };
            ConfigError::new(option, e.problem)
        })?;
        let burst = NonZeroU32::new(self.burst.unwrap_or(tokens))
            .ok_or(ConfigError::new("burst", Problem::Zero))?;
        Ok((burst, rate))
    }
}

fn shed(unit: TickUnit, retry_after: u64) -> Rejected {
    Rejected::new(RejectedBy::RateLimit, Some(unit.duration(retry_after)))
}

/// Options for a [`RateLimitLayer`].
///
/// ```
/// use std::time::Duration;
/// use fusewire_tower::RateLimitLayer;
/// // 50 calls a second on average, up to 200 at once after a quiet spell.
/// let layer = RateLimitLayer::builder().rate(50, Duration::from_secs(1)).burst(200).build()?;
/// assert_eq!(layer.available(), 200);
/// # Ok::<(), fusewire_tower::ConfigError>(())
/// ```
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct RateLimitBuilder<K = MonotonicClock> {
    limits: Limits,
    clock: K,
}

impl<K: Clock> RateLimitBuilder<K> {
    /// `tokens` calls per `per` (required; zero names `"rate"` or `"per"`).
    pub fn rate(mut self, tokens: u32, per: Duration) -> Self {
        self.limits.rate = Some((tokens, per));
        self
    }

    /// Calls that may come at once after a quiet spell (default: one
    /// `per`'s worth of tokens; zero names `"burst"`).
    pub fn burst(mut self, burst: u32) -> Self {
        self.limits.burst = Some(burst);
        self
    }

    /// The clock to read (default [`MonotonicClock`]).
    pub fn clock<K2: Clock>(self, clock: K2) -> RateLimitBuilder<K2> {
        RateLimitBuilder {
            limits: self.limits,
            clock,
        }
    }

    /// Validates the options and builds the layer.
    ///
    /// ```
    /// use std::time::Duration;
    /// use fusewire_tower::RateLimitLayer;
    /// assert_eq!(RateLimitLayer::builder().build().unwrap_err().field, "rate");
    /// let err = RateLimitLayer::builder().rate(10, Duration::ZERO).build().unwrap_err();
    /// assert_eq!(err.field, "per");
    /// ```
    pub fn build(self) -> Result<RateLimitLayer<K>, ConfigError> {
        let (burst, rate) = self.limits.validate(self.clock.unit())?;
        Ok(RateLimitLayer {
            shared: Arc::new((SharedBucket::new(burst, rate)?, self.clock)),
        })
    }
}

/// A [`Layer`] sharing one GCRA bucket between every service it makes.
///
/// ```
/// use std::time::Duration;
/// use fusewire_tower::{RateLimitLayer, Rejected};
/// use tower::{service_fn, Service, ServiceBuilder, ServiceExt};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let layer = RateLimitLayer::builder().rate(1, Duration::from_secs(60)).burst(2).build().unwrap();
/// let mut svc = ServiceBuilder::new()
///     .layer(layer)
///     .service(service_fn(|x: u8| async move { Ok::<_, std::io::Error>(x) }));
/// assert!(svc.ready().await.unwrap().call(1).await.is_ok());
/// assert!(svc.ready().await.unwrap().call(2).await.is_ok());
/// let err = svc.ready().await.unwrap().call(3).await.unwrap_err();
/// let shed = Rejected::find(&*err).unwrap();
/// assert!(shed.retry_after().unwrap() > Duration::from_secs(59));
/// # }
/// ```
pub struct RateLimitLayer<K = MonotonicClock> {
    shared: Arc<(SharedBucket, K)>,
}

impl RateLimitLayer {
    /// Options; [`rate`](RateLimitBuilder::rate) is required.
    pub fn builder() -> RateLimitBuilder {
        RateLimitBuilder {
            limits: Limits {
                rate: None,
                burst: None,
            },
            clock: MonotonicClock::new(),
        }
    }
}

impl<K: Clock> RateLimitLayer<K> {
    /// Tokens left now.
    pub fn available(&self) -> u32 {
        self.shared.0.available(self.shared.1.now())
    }
}

impl<K> Clone for RateLimitLayer<K> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<K> fmt::Debug for RateLimitLayer<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimitLayer")
            .field("bucket", &self.shared.0)
            .finish_non_exhaustive()
    }
}

impl<S, K> Layer<S> for RateLimitLayer<K> {
    type Service = RateLimit<S, K>;

    fn layer(&self, inner: S) -> Self::Service {
        RateLimit {
            inner,
            shared: Arc::clone(&self.shared),
        }
    }
}

/// The service a [`RateLimitLayer`] makes.
///
/// ```
/// use std::time::Duration;
/// use fusewire_tower::{RateLimit, RateLimitLayer};
/// use tower::{service_fn, Layer};
///
/// let layer = RateLimitLayer::builder().rate(5, Duration::from_secs(1)).build().unwrap();
/// let inner = service_fn(|x: u8| async move { Ok::<_, std::io::Error>(x) });
/// let _svc: RateLimit<_> = layer.layer(inner);
/// ```
pub struct RateLimit<S, K = MonotonicClock> {
    inner: S,
    shared: Arc<(SharedBucket, K)>,
}

impl<S: Clone, K> Clone for RateLimit<S, K> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<S: fmt::Debug, K> fmt::Debug for RateLimit<S, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimit")
            .field("inner", &self.inner)
            .field("bucket", &self.shared.0)
            .finish_non_exhaustive()
    }
}

impl<S, Req, K> Service<Req> for RateLimit<S, K>
where
    S: Service<Req>,
    S::Error: Into<BoxError>,
    K: Clock,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = ShedFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, req: Req) -> Self::Future {
        let (bucket, clock) = &*self.shared;
        match bucket.try_acquire_one(clock.now()) {
            Ok(()) => ShedFuture::called(self.inner.call(req), ()),
            Err(denied) => ShedFuture::refused(shed(clock.unit(), denied.retry_after), ()),
        }
    }
}

/// Options for a [`KeyedRateLimitLayer`].
///
/// ```
/// use std::time::Duration;
/// use fusewire_tower::KeyedRateLimitLayer;
/// // Per client address, at most 100 000 addresses remembered.
/// let layer = KeyedRateLimitLayer::builder(|req: &http::Request<()>| {
///     req.headers().get("x-forwarded-for").cloned()
/// })
/// .rate(10, Duration::from_secs(1))
/// .burst(20)
/// .max_keys(100_000)
/// .build::<Option<http::HeaderValue>>()?; // the key type, until a service names it
/// assert_eq!(layer.keys(), 0);
/// # Ok::<(), fusewire_tower::ConfigError>(())
/// ```
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct KeyedRateLimitBuilder<F, K = MonotonicClock> {
    limits: Limits,
    key: F,
    clock: K,
    max_keys: usize,
}

impl<F, K: Clock> KeyedRateLimitBuilder<F, K> {
    /// `tokens` calls per `per` for each key (required).
    pub fn rate(mut self, tokens: u32, per: Duration) -> Self {
        self.limits.rate = Some((tokens, per));
        self
    }

    /// Each key's burst (default: one `per`'s worth of tokens).
    pub fn burst(mut self, burst: u32) -> Self {
        self.limits.burst = Some(burst);
        self
    }

    /// The most buckets kept (default 10 000; zero names `"max_keys"`).
    pub fn max_keys(mut self, n: usize) -> Self {
        self.max_keys = n;
        self
    }

    /// The clock to read (default [`MonotonicClock`]).
    pub fn clock<K2: Clock>(self, clock: K2) -> KeyedRateLimitBuilder<F, K2> {
        KeyedRateLimitBuilder {
            limits: self.limits,
            key: self.key,
            clock,
            max_keys: self.max_keys,
        }
    }

    /// Validates the options and builds the layer. `Key` is what the key
    /// function returns; Rust infers it once the layer wraps a service.
    pub fn build<Key>(self) -> Result<KeyedRateLimitLayer<F, Key, K>, ConfigError> {
        let (burst, rate) = self.limits.validate(self.clock.unit())?;
        if self.max_keys == 0 {
            return Err(ConfigError::new("max_keys", Problem::Zero));
        }
        // A bucket untouched for this long is full again.
        let refill =
            u128::from(burst.get()) * u128::from(rate.period()) / u128::from(rate.tokens());
        Ok(KeyedRateLimitLayer {
            shared: Arc::new(Keyed {
                buckets: Mutex::new(Buckets {
                    map: HashMap::new(),
                    overflow: Bucket::new(burst, rate),
                    next_sweep: 0,
                }),
                empty: Bucket::new(burst, rate),
                refill: u64::try_from(refill).unwrap_or(u64::MAX),
                max_keys: self.max_keys,
                key: self.key,
                clock: self.clock,
            }),
        })
    }
}

struct Buckets<Key> {
    map: HashMap<Key, Bucket>,
    overflow: Bucket,
    next_sweep: u64,
}

struct Keyed<F, Key, K> {
    buckets: Mutex<Buckets<Key>>,
    empty: Bucket,
    refill: u64,
    max_keys: usize,
    key: F,
    clock: K,
}

impl<F, Key: Hash + Eq, K> Keyed<F, Key, K> {
    fn take(&self, key: Key, now: u64) -> Result<(), fusewire::Denied> {
        let mut guard = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let b = &mut *guard;
        if let Some(bucket) = b.map.get_mut(&key) {
            return bucket.try_acquire_one(now);
        }
        if b.map.len() >= self.max_keys && now >= b.next_sweep {
            // Full buckets are fresh ones: forgetting them changes nothing.
            let burst = self.empty.burst().get();
            b.map.retain(|_, bucket| bucket.available(now) < burst);
            b.next_sweep = now.saturating_add(self.refill);
        }
        if b.map.len() < self.max_keys {
            let mut bucket = self.empty;
            let taken = bucket.try_acquire_one(now);
            b.map.insert(key, bucket);
            taken
        } else {
            b.overflow.try_acquire_one(now)
        }
    }
}

/// A [`Layer`] with one GCRA bucket per key, the key taken from each
/// request by a function.
///
/// ```
/// use std::time::Duration;
/// use fusewire_tower::KeyedRateLimitLayer;
/// use tower::{service_fn, Service, ServiceBuilder, ServiceExt};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// // One call a minute per user; the user is the request's first field.
/// let layer = KeyedRateLimitLayer::builder(|req: &(&'static str, u32)| req.0)
///     .rate(1, Duration::from_secs(60))
///     .build()
///     .unwrap();
/// let mut svc = ServiceBuilder::new()
///     .layer(layer)
///     .service(service_fn(|req: (&str, u32)| async move { Ok::<_, std::io::Error>(req.1) }));
/// assert!(svc.ready().await.unwrap().call(("ann", 1)).await.is_ok());
/// assert!(svc.ready().await.unwrap().call(("bob", 2)).await.is_ok());
/// assert!(svc.ready().await.unwrap().call(("ann", 3)).await.is_err());
/// # }
/// ```
pub struct KeyedRateLimitLayer<F, Key, K = MonotonicClock> {
    shared: Arc<Keyed<F, Key, K>>,
}

impl KeyedRateLimitLayer<(), ()> {
    /// Options; `key` maps a request to its bucket's key, and
    /// [`rate`](KeyedRateLimitBuilder::rate) is required.
    pub fn builder<F>(key: F) -> KeyedRateLimitBuilder<F> {
        KeyedRateLimitBuilder {
            limits: Limits {
                rate: None,
                burst: None,
            },
            key,
            clock: MonotonicClock::new(),
            max_keys: 10_000,
        }
    }
}

impl<F, Key, K> KeyedRateLimitLayer<F, Key, K> {
    /// Buckets kept now (at most `max_keys`).
    pub fn keys(&self) -> usize {
        let guard = self
            .shared
            .buckets
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        guard.map.len()
    }
}

impl<F, Key, K> Clone for KeyedRateLimitLayer<F, Key, K> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<F, Key, K> fmt::Debug for KeyedRateLimitLayer<F, Key, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyedRateLimitLayer")
            .field("max_keys", &self.shared.max_keys)
            .finish_non_exhaustive()
    }
}

impl<S, F, Key, K> Layer<S> for KeyedRateLimitLayer<F, Key, K> {
    type Service = KeyedRateLimit<S, F, Key, K>;

    fn layer(&self, inner: S) -> Self::Service {
        KeyedRateLimit {
            inner,
            shared: Arc::clone(&self.shared),
        }
    }
}

/// The service a [`KeyedRateLimitLayer`] makes: see [`KeyedRateLimitLayer`]
/// for one in use.
pub struct KeyedRateLimit<S, F, Key, K = MonotonicClock> {
    inner: S,
    shared: Arc<Keyed<F, Key, K>>,
}

impl<S: Clone, F, Key, K> Clone for KeyedRateLimit<S, F, Key, K> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<S: fmt::Debug, F, Key, K> fmt::Debug for KeyedRateLimit<S, F, Key, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyedRateLimit")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl<S, Req, F, Key, K> Service<Req> for KeyedRateLimit<S, F, Key, K>
where
    S: Service<Req>,
    S::Error: Into<BoxError>,
    F: Fn(&Req) -> Key,
    Key: Hash + Eq,
    K: Clock,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = ShedFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, req: Req) -> Self::Future {
        let shared = &*self.shared;
        let key = (shared.key)(&req);
        match shared.take(key, shared.clock.now()) {
            Ok(()) => ShedFuture::called(self.inner.call(req), ()),
            Err(denied) => ShedFuture::refused(shed(shared.clock.unit(), denied.retry_after), ()),
        }
    }
}
