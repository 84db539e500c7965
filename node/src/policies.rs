//! The core's other policies, as small native classes the JS layer wraps in
//! promise APIs (`lib/retry.js`, `lib/bucket.js`, `lib/bulkhead.js`).

use core::num::NonZeroU32;

use fusewire::bulkhead::{Priority, Slot};
use fusewire::{Backoff, ConfigError, Decision, Jitter, Rate, Retry, RetryPolicy, Schedule};
use napi::{Error, Result, Status};
use napi_derive::napi;

use crate::{config_error, ticks};

fn invalid(msg: String) -> Error {
    Error::new(Status::InvalidArg, msg)
}

/// A backoff as JavaScript describes it (already checked for types).
#[napi(object)]
pub struct BackoffSpec {
    /// `constant`, `linear` or `exponential`.
    pub kind: String,
    /// First delay (ms).
    pub base: f64,
    /// Added per attempt (linear), ms.
    pub step: Option<f64>,
    /// Growth per attempt (exponential), e.g. 2.
    pub factor: Option<f64>,
    /// Longest delay (ms).
    pub max: Option<f64>,
    /// `none`, `full`, `equal`, `decorrelated` or `proportional`.
    pub jitter: Option<String>,
    /// Spread for proportional jitter, 1..=100.
    pub jitter_percent: Option<u32>,
}

fn bad_kind(kind: &str) -> Error {
    invalid(format!(
        "fusewire: backoff kind must be 'constant', 'linear' or 'exponential', got '{kind}'"
    ))
}

fn backoff_of(s: &BackoffSpec) -> Result<Backoff> {
    backoff_checked(s)?.map_err(|e| config_error("backoff", e))
}

/// The core's backoff for `s`: a JS error for an unknown kind or jitter, the
/// core's own [`ConfigError`] (its field names) for a value it rejects.
pub(crate) fn backoff_checked(
    s: &BackoffSpec,
) -> Result<core::result::Result<Backoff, ConfigError>> {
    let base = ticks(s.base);
    let schedule = match s.kind.as_str() {
        "constant" => Schedule::Constant { delay: base },
        "linear" => Schedule::Linear {
            base,
            step: s.step.map(ticks).unwrap_or(base),
        },
        "exponential" => Schedule::Exponential {
            base,
            factor_milli: (s.factor.unwrap_or(2.0) * 1000.0)
                .round()
                .clamp(0.0, u32::MAX as f64) as u32,
        },
        other => return Err(bad_kind(other)),
    };
    let jitter = match s.jitter.as_deref().unwrap_or("none") {
        "none" => Jitter::None,
        "full" => Jitter::Full,
        "equal" => Jitter::Equal,
        "decorrelated" => Jitter::Decorrelated,
        "proportional" => Jitter::Proportional {
            percent: s.jitter_percent.unwrap_or(10).min(255) as u8,
        },
        other => {
            return Err(invalid(format!(
                "fusewire: jitter must be 'none', 'full', 'equal', 'decorrelated' or 'proportional', got '{other}'"
            )))
        }
    };
    let cap = s.max.map(ticks).unwrap_or(u64::MAX);
    Ok(Backoff::new(schedule, jitter, cap))
}

/// One operation's retry schedule (the core's [`Retry`]).
#[napi]
pub struct RetrySchedule {
    inner: Retry,
}

#[napi]
impl RetrySchedule {
    /// `maxAttempts` counts the first attempt; `maxElapsed` (ms) bounds the
    /// whole operation; `seed` makes jitter reproducible.
    #[napi(constructor)]
    pub fn new(
        backoff: BackoffSpec,
        max_attempts: u32,
        max_elapsed: Option<f64>,
        seed: Option<f64>,
    ) -> Result<Self> {
        let policy = RetryPolicy::new(
            backoff_of(&backoff)?,
            max_attempts,
            max_elapsed.map(ticks),
            seed.map(ticks).unwrap_or(0),
        )
        .map_err(|e| config_error("retry options", e))?;
        Ok(Self {
            inner: Retry::new(policy),
        })
    }

    /// Starts an operation: the first attempt is being made.
    #[napi]
    pub fn start(&mut self, now: f64) {
        self.inner.start(ticks(now));
    }

    /// After a failed attempt: the delay before the next (ms), or -1 to give
    /// up after too many attempts, -2 past the deadline.
    #[napi]
    pub fn next(&mut self, now: f64, retry_after: Option<f64>) -> f64 {
        match self.inner.next(ticks(now), retry_after.map(ticks)) {
            Decision::RetryAfter(d) => d as f64,
            Decision::GiveUp(fusewire::GiveUpReason::MaxAttempts) => -1.0,
            Decision::GiveUp(_) => -2.0,
        }
    }

    /// Attempts made so far, the first included.
    #[napi(getter)]
    pub fn attempts(&self) -> u32 {
        self.inner.attempts()
    }
}

/// Why a bucket refused: `retryAfter` (ms) when waiting helps, else `burst`
/// (more tokens were asked for than the bucket holds).
#[napi(object)]
pub struct BucketRefusal {
    /// Ticks until the tokens are there.
    pub retry_after: Option<f64>,
    /// The capacity that was exceeded.
    pub burst: Option<u32>,
}

/// A token bucket (the core's GCRA [`fusewire::Bucket`]).
#[napi]
pub struct TokenBucket {
    inner: fusewire::Bucket,
}

#[napi]
impl TokenBucket {
    /// `burst` tokens, refilled at `tokens` per `period` ms; starts full.
    #[napi(constructor)]
    pub fn new(burst: u32, tokens: u32, period: f64) -> Result<Self> {
        let burst = NonZeroU32::new(burst)
            .ok_or_else(|| invalid("fusewire: TokenBucket capacity must be at least 1".into()))?;
        let rate =
            Rate::new(tokens, ticks(period)).map_err(|e| config_error("TokenBucket rate", e))?;
        Ok(Self {
            inner: fusewire::Bucket::new(burst, rate),
        })
    }

    /// Takes `n` tokens at `now`: 0 when taken, the wait in ms when not
    /// (at least 1), or -1 when `n` exceeds the capacity.
    #[napi]
    pub fn take(&mut self, n: u32, now: f64) -> f64 {
        match self.inner.try_acquire(n, ticks(now)) {
            Ok(()) => 0.0,
            Err(refused) => match refused.retry_after() {
                Some(wait) => (wait as f64).max(1.0),
                None => -1.0,
            },
        }
    }

    /// Takes `n` tokens at `now`: null when taken, else the core's refusal
    /// as it is (`retryAfter` not rounded up, or the burst exceeded).
    #[napi]
    pub fn try_acquire(&mut self, n: u32, now: f64) -> Option<BucketRefusal> {
        match self.inner.try_acquire(n, ticks(now)) {
            Ok(()) => None,
            Err(fusewire::Refused::Denied(d)) => Some(BucketRefusal {
                retry_after: Some(crate::direct::ms_out(d.retry_after)),
                burst: None,
            }),
            Err(fusewire::Refused::ExceedsBurst { burst }) => Some(BucketRefusal {
                retry_after: None,
                burst: Some(burst),
            }),
        }
    }

    /// Tokens available at `now`.
    #[napi]
    pub fn available(&self, now: f64) -> u32 {
        self.inner.available(ticks(now))
    }

    /// Gives `n` unused tokens back.
    #[napi]
    pub fn refund(&mut self, n: u32, now: f64) {
        self.inner.refund(n, ticks(now));
    }

    /// Changes the refill rate, keeping the tokens.
    #[napi]
    pub fn set_rate(&mut self, tokens: u32, period: f64, now: f64) -> Result<()> {
        self.inner
            .set_rate(tokens, ticks(period), ticks(now))
            .map_err(|e| config_error("TokenBucket rate", e))
    }
}

/// A concurrency limit with reserves (the core's [`fusewire::Bulkhead`]).
#[napi]
pub struct Bulkhead {
    inner: fusewire::Bulkhead,
}

fn priority_of(p: u32) -> Priority {
    match p {
        0 => Priority::Critical,
        2 => Priority::Sheddable,
        _ => Priority::Normal,
    }
}

#[napi]
impl Bulkhead {
    /// `limit` slots; `reserveCritical` kept for critical calls,
    /// `reserveNormal` more kept from sheddable ones.
    #[napi(constructor)]
    pub fn new(limit: u32, reserve_critical: u32, reserve_normal: u32) -> Result<Self> {
        let limit = NonZeroU32::new(limit)
            .ok_or_else(|| invalid("fusewire: Bulkhead limit must be at least 1".into()))?;
        let inner = fusewire::Bulkhead::new(limit, reserve_critical, reserve_normal)
            .map_err(|e| config_error("Bulkhead options", e))?;
        Ok(Self { inner })
    }

    /// Takes a slot for priority 0 (critical), 1 (normal) or 2 (sheddable).
    #[napi]
    pub fn try_acquire(&mut self, priority: u32) -> bool {
        match self.inner.try_acquire(priority_of(priority)) {
            // The JS side holds the slot as its priority number and gives it
            // back through `release`, which rebuilds it with `Slot::from_priority`.
            Ok(_slot) => true,
            Err(_) => false,
        }
    }

    /// Gives back a slot of `priority`; false if none was held.
    #[napi]
    pub fn release(&mut self, priority: u32) -> bool {
        self.inner
            .release(Slot::from_priority(priority_of(priority)))
            .is_ok()
    }

    /// Slots in use.
    #[napi(getter)]
    pub fn in_use(&self) -> u32 {
        self.inner.in_use()
    }

    /// Free slots, reserved ones included (`limit - inUse`).
    #[napi(getter)]
    pub fn available(&self) -> u32 {
        self.inner.available()
    }

    /// Releases refused so far (no slot of that priority was held).
    #[napi(getter)]
    pub fn extra_releases(&self) -> f64 {
        self.inner.extra_releases() as f64
    }

    /// Slots free for `priority`.
    #[napi]
    pub fn available_for(&self, priority: u32) -> u32 {
        self.inner.available_for(priority_of(priority))
    }
}
