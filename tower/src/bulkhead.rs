//! The bulkhead layer: at most `limit` calls in flight, with slots held
//! back for the more important ones ([`Priority`]), from the core's
//! [`SharedBulkhead`]. A call that finds no slot its priority may use is
//! shed at once with a [`Rejected`]; a slot is given back when the call's
//! future finishes or is dropped.

use std::fmt;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use fusewire::clock::MonotonicClock;
use fusewire::{Clock, ConfigError, Priority, Problem, SharedBulkhead, Slot};
use tower::{Layer, Service};

use crate::error::{BoxError, Rejected, RejectedBy, ShedFuture};

/// Which priority a request has.
///
/// [`AllNormal`] (the default) gives every request [`Priority::Normal`];
/// closures `Fn(&Req) -> Priority` choose per request.
///
/// ```
/// use fusewire_tower::{bulkhead::Prioritize, Priority};
/// let by_path = |r: &http::Request<()>| {
///     if r.uri().path() == "/health" { Priority::Critical } else { Priority::Normal }
/// };
/// let health = http::Request::get("/health").body(()).unwrap();
/// assert_eq!(by_path.priority(&health), Priority::Critical);
/// ```
pub trait Prioritize<Req> {
    /// The priority of `req`.
    fn priority(&self, req: &Req) -> Priority;
}

/// Every request is [`Priority::Normal`].
///
/// ```
/// use fusewire_tower::{bulkhead::Prioritize, AllNormal, Priority};
/// assert_eq!(AllNormal.priority(&"anything"), Priority::Normal);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AllNormal;

impl<Req> Prioritize<Req> for AllNormal {
    fn priority(&self, _: &Req) -> Priority {
        Priority::Normal
    }
}

impl<F, Req> Prioritize<Req> for F
where
    F: Fn(&Req) -> Priority,
{
    fn priority(&self, req: &Req) -> Priority {
        self(req)
    }
}

/// Options for a [`BulkheadLayer`].
///
/// ```
/// use std::time::Duration;
/// use fusewire_tower::BulkheadLayer;
/// // 64 calls at once: 8 kept for critical calls, 8 more that sheddable ones may not use.
/// let layer = BulkheadLayer::builder()
///     .limit(64)
///     .reserve(8, 8)
///     .lease(Duration::from_secs(300)) // calls may run five minutes before a slot is reclaimed
///     .build()?;
/// assert_eq!(layer.in_use(), 0);
/// # Ok::<(), fusewire_tower::ConfigError>(())
/// ```
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct BulkheadBuilder<P = AllNormal, K = MonotonicClock> {
    limit: Option<u32>,
    reserve_critical: u32,
    reserve_normal: u32,
    lease: Option<Duration>,
    prioritize: P,
    clock: K,
}

impl<P, K: Clock> BulkheadBuilder<P, K> {
    /// Calls in flight at most (required; zero names `"limit"`).
    pub fn limit(mut self, n: u32) -> Self {
        self.limit = Some(n);
        self
    }

    /// Slots only [`Priority::Critical`] calls may take, and slots
    /// [`Priority::Sheddable`] calls may not (together below the limit;
    /// errors name `"reserve_critical"` / `"reserve_normal"`).
    pub fn reserve(mut self, critical: u32, normal: u32) -> Self {
        self.reserve_critical = critical;
        self.reserve_normal = normal;
        self
    }

    /// How long a slot is held at most (default: the core's
    /// [`DEFAULT_LEASE`](fusewire::Bulkhead::DEFAULT_LEASE), one minute).
    /// A slot whose holder never gives it back is free again within one
    /// lease; so a call still running after half its lease may lose its
    /// slot (set the lease to at least twice the longest call), and the
    /// bulkhead may admit one more while it runs; its late release
    /// is refused and counted, never a double free. `Duration::MAX` keeps
    /// slots until their calls end (zero names `"lease"`).
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = Some(lease);
        self
    }

    /// How each request's priority is chosen (default [`AllNormal`]).
    pub fn priority<P2>(self, prioritize: P2) -> BulkheadBuilder<P2, K> {
        BulkheadBuilder {
            limit: self.limit,
            reserve_critical: self.reserve_critical,
            reserve_normal: self.reserve_normal,
            lease: self.lease,
            prioritize,
            clock: self.clock,
        }
    }

    /// The clock to read (default [`MonotonicClock`]).
    pub fn clock<K2: Clock>(self, clock: K2) -> BulkheadBuilder<P, K2> {
        BulkheadBuilder {
            limit: self.limit,
            reserve_critical: self.reserve_critical,
            reserve_normal: self.reserve_normal,
            lease: self.lease,
            prioritize: self.prioritize,
            clock,
        }
    }

    /// Validates the options and builds the layer.
    ///
    /// ```
    /// use fusewire_tower::BulkheadLayer;
    /// assert_eq!(BulkheadLayer::builder().limit(0).build().unwrap_err().field, "limit");
    /// let err = BulkheadLayer::builder().limit(4).reserve(4, 0).build().unwrap_err();
    /// assert_eq!(err.field, "reserve_critical");
    /// ```
    pub fn build(self) -> Result<BulkheadLayer<P, K>, ConfigError> {
        let limit = self
            .limit
            .ok_or(ConfigError::new("limit", Problem::Required))?;
        let limit = NonZeroU32::new(limit).ok_or(ConfigError::new("limit", Problem::Zero))?;
        let unit = self.clock.unit();
        let mut bulkhead =
            SharedBulkhead::new(limit, self.reserve_critical, self.reserve_normal, unit)?;
        if let Some(lease) = self.lease {
            bulkhead = bulkhead.with_lease(unit.ticks(lease))?;
        }
        Ok(BulkheadLayer {
            shared: Arc::new(Shared {
                bulkhead,
                prioritize: self.prioritize,
                clock: self.clock,
            }),
        })
    }
}

struct Shared<P, K> {
    bulkhead: SharedBulkhead,
    prioritize: P,
    clock: K,
}

/// A [`Layer`] sharing one bulkhead between every service it makes.
///
/// ```
/// use fusewire_tower::{BulkheadLayer, Priority};
/// use tower::{service_fn, Service, ServiceBuilder, ServiceExt};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let layer = BulkheadLayer::builder()
///     .limit(10)
///     .reserve(2, 0) // two slots kept for critical calls
///     .priority(|req: &u32| if *req == 0 { Priority::Critical } else { Priority::Normal })
///     .build()
///     .unwrap();
/// let mut svc = ServiceBuilder::new()
///     .layer(layer.clone())
///     .service(service_fn(|x: u32| async move { Ok::<_, std::io::Error>(x) }));
/// assert_eq!(svc.ready().await.unwrap().call(5).await.unwrap(), 5);
/// assert_eq!(layer.in_use(), 0); // the slot came back with the answer
/// # }
/// ```
pub struct BulkheadLayer<P = AllNormal, K = MonotonicClock> {
    shared: Arc<Shared<P, K>>,
}

impl BulkheadLayer {
    /// Options; [`limit`](BulkheadBuilder::limit) is required.
    pub fn builder() -> BulkheadBuilder {
        BulkheadBuilder {
            limit: None,
            reserve_critical: 0,
            reserve_normal: 0,
            lease: None,
            prioritize: AllNormal,
            clock: MonotonicClock::new(),
        }
    }
}

impl<P, K> BulkheadLayer<P, K> {
    /// Calls in flight now.
    pub fn in_use(&self) -> u32 {
        self.shared.bulkhead.in_use()
    }

    /// The shared bulkhead (counts, reserves, lease).
    pub fn bulkhead(&self) -> &SharedBulkhead {
        &self.shared.bulkhead
    }
}

impl<P, K> Clone for BulkheadLayer<P, K> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<P, K> fmt::Debug for BulkheadLayer<P, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BulkheadLayer")
            .field("bulkhead", &self.shared.bulkhead)
            .finish_non_exhaustive()
    }
}

impl<S, P, K> Layer<S> for BulkheadLayer<P, K> {
    type Service = Bulkhead<S, P, K>;

    fn layer(&self, inner: S) -> Self::Service {
        Bulkhead {
            inner,
            shared: Arc::clone(&self.shared),
        }
    }
}

/// The service a [`BulkheadLayer`] makes.
///
/// ```
/// use fusewire_tower::{Bulkhead, BulkheadLayer};
/// use tower::{service_fn, Layer};
///
/// let layer = BulkheadLayer::builder().limit(8).build().unwrap();
/// let inner = service_fn(|x: u8| async move { Ok::<_, std::io::Error>(x) });
/// let _svc: Bulkhead<_> = layer.layer(inner);
/// ```
pub struct Bulkhead<S, P = AllNormal, K = MonotonicClock> {
    inner: S,
    shared: Arc<Shared<P, K>>,
}

impl<S: Clone, P, K> Clone for Bulkhead<S, P, K> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<S: fmt::Debug, P, K> fmt::Debug for Bulkhead<S, P, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Bulkhead")
            .field("inner", &self.inner)
            .field("bulkhead", &self.shared.bulkhead)
            .finish_non_exhaustive()
    }
}

/// A held slot, given back when dropped.
pub struct SlotGuard<P, K: Clock> {
    held: Option<(Arc<Shared<P, K>>, Slot)>,
}

impl<P, K: Clock> Drop for SlotGuard<P, K> {
    fn drop(&mut self) {
        if let Some((shared, slot)) = self.held.take() {
            let _ = shared.bulkhead.release(slot, shared.clock.now());
        }
    }
}

impl<P, K: Clock> fmt::Debug for SlotGuard<P, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SlotGuard")
    }
}

impl<S, Req, P, K> Service<Req> for Bulkhead<S, P, K>
where
    S: Service<Req>,
    S::Error: Into<BoxError>,
    P: Prioritize<Req>,
    K: Clock,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = ShedFuture<S::Future, SlotGuard<P, K>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, req: Req) -> Self::Future {
        let shared = &*self.shared;
        let priority = shared.prioritize.priority(&req);
        match shared.bulkhead.try_acquire(priority, shared.clock.now()) {
            Ok(slot) => {
                let guard = SlotGuard {
                    held: Some((Arc::clone(&self.shared), slot)),
                };
                ShedFuture::called(self.inner.call(req), guard)
            }
            Err(_) => ShedFuture::refused(
                Rejected::new(RejectedBy::Bulkhead, None),
                SlotGuard { held: None },
            ),
        }
    }
}
