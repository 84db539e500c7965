//! Which results count as failures, which may be retried, and after how long.
//!
//! A [`Classify`] turns one call's result into a [`Verdict`]: the core's
//! [`Outcome`] for the circuit breaker, whether the retry layer may try
//! again, and the wait the other side asked for (`Retry-After`, or a
//! fusewire layer's own [`Rejected::retry_after`]). Closures
//! `Fn(Result<&Res, &E>) -> Verdict` are classifiers too.

use std::any::Any;
use std::time::{Duration, SystemTime};

use fusewire::Outcome;
use http::{HeaderMap, Response, StatusCode};

use crate::error::{BoxError, Rejected};

/// What one result means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    /// How the circuit breaker counts it.
    pub outcome: Outcome,
    /// Whether the retry layer may make another attempt.
    pub retry: bool,
    /// The wait the other side asked for, honoured (never shortened) by
    /// the retry layer and checked against its limits by the core.
    pub retry_after: Option<Duration>,
}

impl Verdict {
    /// It worked: counted as a success, not retried.
    pub const SUCCESS: Self = Self {
        outcome: Outcome::Success,
        retry: false,
        retry_after: None,
    };

    /// It failed: counted as a failure, and retried.
    pub const FAILURE: Self = Self {
        outcome: Outcome::Failure,
        retry: true,
        retry_after: None,
    };

    /// Neither success nor failure for the breaker (a client's own
    /// mistake, a cancellation), not retried.
    pub const IGNORED: Self = Self {
        outcome: Outcome::Ignored,
        retry: false,
        retry_after: None,
    };

    /// The same verdict, retried or not.
    ///
    /// ```
    /// use fusewire_tower::Verdict;
    /// assert!(!Verdict::FAILURE.retry(false).retry);
    /// ```
    pub const fn retry(self, retry: bool) -> Self {
        Self { retry, ..self }
    }

    /// The same verdict with the wait the other side asked for.
    ///
    /// ```
    /// use std::time::Duration;
    /// use fusewire_tower::Verdict;
    /// let v = Verdict::FAILURE.retry_after(Some(Duration::from_secs(2)));
    /// assert_eq!(v.retry_after, Some(Duration::from_secs(2)));
    /// ```
    pub const fn retry_after(self, wait: Option<Duration>) -> Self {
        Self {
            retry_after: wait,
            ..self
        }
    }
}

/// Decides what a call's result means.
///
/// ```
/// use fusewire_tower::{Classify, Verdict};
///
/// // A classifier for a service answering `Result<u16, String>`: 5xx codes fail.
/// let by_code = |r: Result<&u16, &String>| match r {
///     Ok(code) if *code >= 500 => Verdict::FAILURE,
///     Ok(_) => Verdict::SUCCESS,
///     Err(_) => Verdict::FAILURE,
/// };
/// assert_eq!(by_code.classify(Ok(&503)), Verdict::FAILURE);
/// ```
pub trait Classify<Res, E> {
    /// The verdict on one result.
    fn classify(&self, result: Result<&Res, &E>) -> Verdict;
}

impl<F, Res, E> Classify<Res, E> for F
where
    F: Fn(Result<&Res, &E>) -> Verdict,
{
    fn classify(&self, result: Result<&Res, &E>) -> Verdict {
        self(result)
    }
}

/// The default for HTTP services (`http::Response<B>`): errors and 5xx
/// statuses are failures; errors, 5xx and 429 are retried, honouring the
/// response's `Retry-After` (seconds or an HTTP date) or a fusewire
/// layer's [`Rejected::retry_after`]. Every other status is a success;
/// an inner fusewire layer's refusal is neither (ignored by a breaker).
///
/// ```
/// use fusewire::Outcome;
/// use fusewire_tower::{BoxError, Classify, HttpClassifier};
///
/// let busy = http::Response::builder().status(503).header("retry-after", "3").body(()).unwrap();
/// let v = Classify::<_, BoxError>::classify(&HttpClassifier, Ok(&busy));
/// assert_eq!(v.outcome, Outcome::Failure);
/// assert_eq!(v.retry_after, Some(std::time::Duration::from_secs(3)));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HttpClassifier;

impl<B, E: 'static> Classify<Response<B>, E> for HttpClassifier {
    fn classify(&self, result: Result<&Response<B>, &E>) -> Verdict {
        match result {
            Ok(res) => {
                let status = res.status();
                if status.is_server_error() {
                    Verdict::FAILURE.retry_after(retry_after(res.headers()))
                } else if status == StatusCode::TOO_MANY_REQUESTS {
                    Verdict::SUCCESS
                        .retry(true)
                        .retry_after(retry_after(res.headers()))
                } else {
                    Verdict::SUCCESS
                }
            }
            Err(e) => error_verdict(e),
        }
    }
}

/// For any service: errors are failures and are retried; every response
/// is a success. An inner fusewire layer's refusal is retried after its
/// [`Rejected::retry_after`] and ignored by a breaker.
///
/// ```
/// use fusewire_tower::{Classify, ErrorsOnly, Verdict};
/// assert_eq!(Classify::<u8, std::io::Error>::classify(&ErrorsOnly, Ok(&7)), Verdict::SUCCESS);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ErrorsOnly;

impl<Res, E: 'static> Classify<Res, E> for ErrorsOnly {
    fn classify(&self, result: Result<&Res, &E>) -> Verdict {
        match result {
            Ok(_) => Verdict::SUCCESS,
            Err(e) => error_verdict(e),
        }
    }
}

/// A failure, retried. A fusewire layer's own refusal ([`Rejected`], as
/// `E` or inside a [`BoxError`]) is retried after the wait it gave, and
/// is no outcome for a breaker around it: the upstream was not called.
fn error_verdict<E: 'static>(e: &E) -> Verdict {
    let any = e as &dyn Any;
    let rejected = match any.downcast_ref::<BoxError>() {
        Some(boxed) => Rejected::find(&**boxed),
        None => any.downcast_ref::<Rejected>(),
    };
    match rejected {
        Some(r) => Verdict::IGNORED.retry(true).retry_after(r.retry_after()),
        None => Verdict::FAILURE,
    }
}

/// The wait a `Retry-After` header asks for: delay-seconds, or an HTTP
/// date (a date in the past is no wait). `None` without a valid header.
///
/// ```
/// use std::time::Duration;
/// let mut headers = http::HeaderMap::new();
/// headers.insert("retry-after", "120".parse().unwrap());
/// assert_eq!(fusewire_tower::classify::retry_after(&headers), Some(Duration::from_secs(120)));
/// ```
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers
        .get(http::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(
        at.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(http::header::RETRY_AFTER, value.parse().unwrap());
        h
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        assert_eq!(retry_after(&headers(" 7 ")), Some(Duration::from_secs(7)));
        assert_eq!(
            retry_after(&headers("Wed, 21 Oct 2015 07:28:00 GMT")),
            Some(Duration::ZERO)
        );
        let later = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(3600));
        let wait = retry_after(&headers(&later)).unwrap();
        assert!(
            wait > Duration::from_secs(3590) && wait <= Duration::from_secs(3600),
            "{wait:?}"
        );
        for bad in ["-1", "1.5", "soon", "18446744073709551616"] {
            assert_eq!(retry_after(&headers(bad)), None, "{bad}");
        }
        assert_eq!(retry_after(&HeaderMap::new()), None);
    }

    #[test]
    fn http_statuses_map_to_verdicts() {
        let verdict = |status: u16| {
            let res = Response::builder().status(status).body(()).unwrap();
            Classify::<_, BoxError>::classify(&HttpClassifier, Ok(&res))
        };
        assert_eq!(verdict(200), Verdict::SUCCESS);
        assert_eq!(verdict(404), Verdict::SUCCESS);
        assert_eq!(verdict(429), Verdict::SUCCESS.retry(true));
        assert_eq!(verdict(500), Verdict::FAILURE);
        assert_eq!(verdict(503), Verdict::FAILURE);
        let err: BoxError = std::io::Error::other("reset").into();
        let v = Classify::<Response<()>, BoxError>::classify(&HttpClassifier, Err(&err));
        assert_eq!(v, Verdict::FAILURE);
    }
}
