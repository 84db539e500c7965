//! What a layer answers when it refuses a call.

use std::fmt;
use std::time::Duration;

use http::{HeaderValue, StatusCode};

/// The error type of every service in this crate, as in tower's own
/// shedding layers: the inner service's error, boxed, or a [`Rejected`].
///
/// ```
/// use fusewire_tower::{BoxError, Rejected};
/// let err: BoxError = std::io::Error::other("reset").into();
/// assert!(Rejected::find(&*err).is_none()); // the upstream's own error
/// ```
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Which layer refused.
///
/// ```
/// use fusewire_tower::{Rejected, RejectedBy};
/// let full = Rejected::new(RejectedBy::Bulkhead, None);
/// assert_eq!(full.by(), RejectedBy::Bulkhead);
/// assert_eq!(full.status(), http::StatusCode::SERVICE_UNAVAILABLE);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RejectedBy {
    /// The circuit breaker is open (or half-open with every probe out).
    CircuitBreaker,
    /// The rate limit's bucket is empty.
    RateLimit,
    /// Every bulkhead slot this priority may use is taken.
    Bulkhead,
}

/// A call the layer did not make: the inner service never saw it.
///
/// ```
/// use std::time::Duration;
/// use fusewire_tower::{BoxError, Rejected, RejectedBy};
///
/// let err: BoxError = Rejected::new(RejectedBy::RateLimit, Some(Duration::from_millis(1500))).into();
/// let rejected = Rejected::find(&*err).unwrap();
/// assert_eq!(rejected.status(), http::StatusCode::TOO_MANY_REQUESTS);
/// assert_eq!(rejected.retry_after_header().unwrap(), "2"); // whole seconds, rounded up
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rejected {
    by: RejectedBy,
    retry_after: Option<Duration>,
}

impl Rejected {
    /// A refusal by `by`, to be tried again after `retry_after` if known.
    pub const fn new(by: RejectedBy, retry_after: Option<Duration>) -> Self {
        Self { by, retry_after }
    }

    /// Which layer refused.
    pub const fn by(&self) -> RejectedBy {
        self.by
    }

    /// When the layer may admit again, as the core computed it; `None`
    /// when it cannot say (a full bulkhead) or never will by itself (a
    /// breaker forced open).
    pub const fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }

    /// The HTTP status to answer with: 429 for a rate limit, 503 otherwise.
    pub const fn status(&self) -> StatusCode {
        match self.by {
            RejectedBy::RateLimit => StatusCode::TOO_MANY_REQUESTS,
            RejectedBy::CircuitBreaker | RejectedBy::Bulkhead => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// A `Retry-After` header value in whole seconds, rounded up so a
    /// client that waits it is never early (`None` without a wait).
    pub fn retry_after_header(&self) -> Option<HeaderValue> {
        let d = self.retry_after?;
        let secs = d.as_secs() + u64::from(d.subsec_nanos() > 0);
        Some(HeaderValue::from(secs))
    }

    /// The [`Rejected`] inside a boxed error, if it is one (through any
    /// depth of error sources).
    pub fn find<'a>(err: &'a (dyn std::error::Error + 'static)) -> Option<&'a Rejected> {
        let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
        while let Some(e) = cur {
            if let Some(r) = e.downcast_ref::<Rejected>() {
                return Some(r);
            }
            cur = e.source();
        }
        None
    }
}

impl fmt::Display for Rejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.by {
            RejectedBy::CircuitBreaker => "circuit breaker open",
            RejectedBy::RateLimit => "rate limited",
            RejectedBy::Bulkhead => "bulkhead full",
        };
        match self.retry_after {
            Some(d) => write!(f, "{what}: retry after {d:?}"),
            None => f.write_str(what),
        }
    }
}

impl std::error::Error for Rejected {}

pin_project_lite::pin_project! {
    /// The future of a layer that either calls the inner service or
    /// refuses at once (rate limit, bulkhead).
    pub struct ShedFuture<F, G = ()> {
        #[pin]
        inner: Shed<F>,
        guard: G,
    }
}

pin_project_lite::pin_project! {
    #[project = ShedProj]
    enum Shed<F> {
        Called { #[pin] future: F },
        Refused { rejected: Option<Rejected> },
    }
}

impl<F, G> ShedFuture<F, G> {
    pub(crate) fn called(future: F, guard: G) -> Self {
        Self {
            inner: Shed::Called { future },
            guard,
        }
    }

    pub(crate) fn refused(rejected: Rejected, guard: G) -> Self {
        Self {
            inner: Shed::Refused {
                rejected: Some(rejected),
            },
            guard,
        }
    }
}

impl<F, G, T, E> std::future::Future for ShedFuture<F, G>
where
    F: std::future::Future<Output = Result<T, E>>,
    E: Into<BoxError>,
{
    type Output = Result<T, BoxError>;

    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        match self.project().inner.project() {
            ShedProj::Called { future } => future.poll(cx).map_err(Into::into),
            ShedProj::Refused { rejected } => match rejected.take() {
                Some(r) => std::task::Poll::Ready(Err(r.into())),
                None => panic!("ShedFuture polled after completion"),
            },
        }
    }
}

impl<F, G> fmt::Debug for ShedFuture<F, G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ShedFuture")
    }
}
