//! The shared retry budget: gRPC's retry throttle in one atomic `u64`.

use super::atomic::{AtomicU64, Ordering::Relaxed};
use crate::budget::{Budget, Throttled};
use crate::error::ConfigResult;
use crate::retry::RetryBudget;

/// A retry budget that many threads share through `&self`: the rule and
/// answers of [`Budget`](crate::Budget) (see `budget.rs` for the formulas),
/// with the token count in one `AtomicU64` changed by compare-and-swap, so
/// no outcome is lost and the count stays in `0..=max`.
///
/// A full budget's success and an empty budget's failure write nothing.
///
/// Layout: `#[repr(C)]`, pointer-free: the token count (thousandths), the
/// refusal count, then the two fixed parameters, all `u64`.
#[derive(Debug)]
#[repr(C)]
pub struct SharedBudget {
    tokens_milli: AtomicU64,
    throttled: AtomicU64,
    max_milli: u64,
    ratio_milli: u64,
}

impl SharedBudget {
    /// A full budget; validated as [`Budget::new`] (same errors).
    pub fn new(max_tokens: u32, token_ratio_milli: u32) -> ConfigResult<Self> {
        let full = Budget::new(max_tokens, token_ratio_milli)?;
        Ok(Self {
            tokens_milli: AtomicU64::new(full.tokens_milli()),
            throttled: AtomicU64::new(0),
            max_milli: full.tokens_milli(),
            ratio_milli: u64::from(token_ratio_milli),
        })
    }

    /// A call succeeded: adds `token_ratio`, up to `max_tokens`.
    pub fn record_success(&self) {
        let (ratio, max) = (self.ratio_milli, self.max_milli);
        let _ = self.tokens_milli.fetch_update(Relaxed, Relaxed, |t| {
            (t < max).then(|| t.saturating_add(ratio).min(max))
        });
    }

    /// A call failed (first attempt or retry): takes one token, down to 0.
    pub fn record_failure(&self) {
        let _ = self.tokens_milli.fetch_update(Relaxed, Relaxed, |t| {
            (t > 0).then(|| t.saturating_sub(1000))
        });
    }

    /// Whether a retry may be made now: more than half of `max_tokens` left.
    pub fn can_retry(&self) -> bool {
        self.tokens_milli.load(Relaxed) * 2 > self.max_milli
    }

    /// [`SharedBudget::can_retry`], counting refusals in
    /// [`SharedBudget::throttled`]. Only a refusal writes.
    pub fn try_retry(&self) -> Result<(), Throttled> {
        let tokens_milli = self.tokens_milli.load(Relaxed);
        if tokens_milli * 2 > self.max_milli {
            Ok(())
        } else {
            let _ = self
                .throttled
                .fetch_update(Relaxed, Relaxed, |n| n.checked_add(1));
            Err(Throttled { tokens_milli })
        }
    }

    /// Tokens left, in thousandths.
    pub fn tokens_milli(&self) -> u64 {
        self.tokens_milli.load(Relaxed)
    }

    /// Whole tokens left (rounded down).
    pub fn tokens(&self) -> u32 {
        // tokens_milli <= max_milli = max_tokens * 1000.
        (self.tokens_milli() / 1000) as u32
    }

    /// `max_tokens`.
    pub const fn max_tokens(&self) -> u32 {
        (self.max_milli / 1000) as u32
    }

    /// Retries refused by [`SharedBudget::try_retry`] so far.
    pub fn throttled(&self) -> u64 {
        self.throttled.load(Relaxed)
    }
}

/// So [`Retry::next_with_budget`](crate::Retry::next_with_budget) can
/// spend from a shared budget: pass `&mut &shared`.
impl RetryBudget for &SharedBudget {
    fn record_failure(&mut self) {
        SharedBudget::record_failure(self);
    }
    fn try_retry(&mut self) -> bool {
        SharedBudget::try_retry(self).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_the_grpc_example() {
        let b = SharedBudget::new(10, 100).unwrap();
        for _ in 0..5 {
            b.record_failure();
        }
        assert_eq!(b.try_retry(), Err(Throttled { tokens_milli: 5000 }));
        b.record_success();
        assert!(b.try_retry().is_ok());
        assert_eq!(
            (b.tokens_milli(), b.throttled(), b.max_tokens()),
            (5100, 1, 10)
        );
        assert!(SharedBudget::new(0, 1).is_err());
    }

    #[test]
    fn a_retry_spends_from_a_shared_budget_as_from_its_own() {
        use crate::{Backoff, Budget, Retry, RetryPolicy};
        let p = RetryPolicy::new(Backoff::constant(10).unwrap(), 10, None, 0).unwrap();
        let (shared, mut own) = (
            SharedBudget::new(3, 500).unwrap(),
            Budget::new(3, 500).unwrap(),
        );
        let (mut a, mut b) = (Retry::new(p), Retry::new(p));
        for _ in 0..4 {
            assert_eq!(
                a.next_with_budget(0, None, &mut &shared),
                b.next_with_budget(0, None, &mut own)
            );
            assert_eq!(
                (shared.tokens_milli(), shared.throttled()),
                (own.tokens_milli(), own.throttled())
            );
        }
        assert_eq!(shared.throttled(), 3);
    }
}
