//! The core's other policies, as small native classes the JS layer wraps in
//! promise APIs (`lib/retry.js`, `lib/bucket.js`, `lib/bulkhead.js`).

use core::num::NonZeroU32;

use fusewire::bulkhead::{Priority, ReleaseError, Slot};
use fusewire::{Decision, GiveUpReason, Rate, RemoteBudget, Retry, RetryPolicy, TickUnit};
use napi::{Error, Result, Status};
use napi_derive::napi;

use crate::backoff::{backoff_of, BackoffSpec};
use crate::direct::CoreBudget;
use crate::{config_error, ticks};

fn invalid(msg: String) -> Error {
    Error::new(Status::InvalidArg, msg)
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

    /// After a failed attempt: the delay before the next (ms), or why it
    /// gives up: -1 too many attempts, -2 past the deadline, -3 the
    /// advertised wait is longer than this retry may wait, -4 the budget
    /// refused. With a `budget`, the failure is recorded in it and a retry
    /// must be allowed by it (the core's one decision, `next_with_budget`).
    #[napi]
    pub fn next(
        &mut self,
        now: f64,
        retry_after: Option<f64>,
        budget: Option<&mut CoreBudget>,
    ) -> f64 {
        let (now, hint) = (ticks(now), retry_after.map(ticks));
        code(match budget {
            Some(budget) => self.inner.next_with_budget(now, hint, budget.core_mut()),
            None => self.inner.next(now, hint),
        })
    }

    /// For a budget kept in a store across the network (`RedisStore`):
    /// whether the next decision at `now` would ask the budget for a retry
    /// (decided on a copy; nothing changes). The caller then sends the
    /// failure, with the retry request when this is true, in one round trip
    /// and decides with [`RetrySchedule::next_answered`].
    #[napi]
    pub fn plan(&self, now: f64, retry_after: Option<f64>) -> bool {
        let mut copy = self.inner;
        let mut probe = RemoteBudget::answering(true);
        let _ = copy.next_with_budget(ticks(now), retry_after.map(ticks), &mut probe);
        probe.asked()
    }

    /// `next` under a budget in a store that already counted the failure
    /// and answered `retry` (ignored when the decision does not ask).
    #[napi]
    pub fn next_answered(&mut self, now: f64, retry_after: Option<f64>, retry: bool) -> f64 {
        let mut answered = RemoteBudget::answering(retry);
        code(
            self.inner
                .next_with_budget(ticks(now), retry_after.map(ticks), &mut answered),
        )
    }

    /// Attempts made so far, the first included.
    #[napi(getter)]
    pub fn attempts(&self) -> u32 {
        self.inner.attempts()
    }
}

// The host tier (shared memory) is not in the WebAssembly build (issue #20),
// so this method lives in its own impl block, compiled out there.
#[cfg(not(target_family = "wasm"))]
#[napi]
impl RetrySchedule {
    /// `next` with a budget in a host store (shared by processes).
    #[napi]
    pub fn next_shared(
        &mut self,
        now: f64,
        retry_after: Option<f64>,
        budget: &crate::host::HostBudget,
    ) -> f64 {
        let (now, hint) = (ticks(now), retry_after.map(ticks));
        let mut shared = budget.shared();
        code(self.inner.next_with_budget(now, hint, &mut shared))
    }
}

/// A decision as `RetrySchedule` returns it: the delay (ms), or a negative
/// code for why it gives up.
fn code(decision: Decision) -> f64 {
    match decision {
        Decision::RetryAfter(d) => d as f64,
        Decision::GiveUp(GiveUpReason::MaxAttempts) => -1.0,
        Decision::GiveUp(GiveUpReason::Deadline) => -2.0,
        Decision::GiveUp(GiveUpReason::WaitTooLong) => -3.0,
        Decision::GiveUp(_) => -4.0,
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
    /// `reserveNormal` more kept from sheddable ones; a slot not given back
    /// is freed once its `lease` (ms, default the core's minute) runs out.
    #[napi(constructor)]
    pub fn new(
        limit: u32,
        reserve_critical: u32,
        reserve_normal: u32,
        lease: Option<f64>,
    ) -> Result<Self> {
        let limit = NonZeroU32::new(limit)
            .ok_or_else(|| invalid("fusewire: Bulkhead limit must be at least 1".into()))?;
        let inner =
            fusewire::Bulkhead::new(limit, reserve_critical, reserve_normal, TickUnit::MILLIS)
                .map_err(|e| config_error("Bulkhead options", e))?;
        let inner = match lease {
            None => inner,
            Some(lease) => inner
                .with_lease(ticks(lease))
                .map_err(|e| config_error("Bulkhead lease", e))?,
        };
        Ok(Self { inner })
    }

    /// Takes a slot for priority 0 (critical), 1 (normal) or 2 (sheddable)
    /// at `now`: the slot as a number (below 2^50), or -1 when none is free.
    #[napi]
    pub fn try_acquire(&mut self, priority: u32, now: f64) -> f64 {
        match self.inner.try_acquire(priority_of(priority), ticks(now)) {
            Ok(slot) => slot.into_raw() as f64,
            Err(_) => -1.0,
        }
    }

    /// Gives back a slot: null when released, else why not (`notHeld`:
    /// released twice or made up; `expired`: its lease ran out and it was
    /// freed already). Either refusal is counted.
    #[napi]
    pub fn release(&mut self, slot: f64, now: f64) -> Option<&'static str> {
        match self.inner.release(Slot::from_raw(ticks(slot)), ticks(now)) {
            Ok(()) => None,
            Err(ReleaseError::Expired) => Some("expired"),
            Err(_) => Some("notHeld"),
        }
    }

    /// Frees the slots whose lease ran out by `now`; returns how many.
    #[napi]
    pub fn expire(&mut self, now: f64) -> u32 {
        self.inner.expire(ticks(now))
    }

    /// Releases refused because the slot's lease had run out.
    #[napi(getter)]
    pub fn expired_releases(&self) -> f64 {
        self.inner.expired_releases() as f64
    }

    /// Slots freed because their lease ran out.
    #[napi(getter)]
    pub fn reclaimed(&self) -> f64 {
        self.inner.reclaimed() as f64
    }

    /// How long a slot may be held (ms).
    #[napi(getter)]
    pub fn lease(&self) -> f64 {
        self.inner.lease() as f64
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

/// Turns a wrapping 32-bit millisecond tick (a firmware `HAL_GetTick`, a
/// u32 counter) into the monotonic time every `now` here takes (the core's
/// [`fusewire::TickWidener`]); call it at least once per wrap (49.7 days).
#[napi]
pub struct TickWidener {
    inner: fusewire::TickWidener,
}

#[napi]
impl TickWidener {
    /// A widener that has seen no tick yet.
    #[napi(constructor)]
    pub fn new() -> Self {
        Self {
            inner: fusewire::TickWidener::new(),
        }
    }

    /// The widened time for the raw tick `raw` (never less than the last).
    #[napi]
    pub fn widen(&mut self, raw: u32) -> f64 {
        self.inner.widen(raw) as f64
    }
}

impl Default for TickWidener {
    fn default() -> Self {
        Self::new()
    }
}
