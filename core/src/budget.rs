//! Retry budget: gRPC's retry throttling, so retries cannot multiply load
//! on a backend that is already failing.
//!
//! Why this design: a per-call retry limit still lets every caller retry at
//! once when a backend goes down, tripling its load exactly when it can
//! least take it. gRPC's throttle (gRFC A6, "Retry Throttling") is a token
//! count shared by all calls to one backend, with one rule that needs no
//! clock and no window: retry only while recent outcomes are mostly
//! successes. It is the design clients in most gRPC languages already run,
//! so fusewire behaves the way operators expect from it.
//!
//! In thousandths of a token (gRPC keeps `token_ratio` to 3 decimals), with
//! `max = max_tokens * 1000`:
//!
//! ```text
//! start      tokens = max
//! failure    tokens = tokens - min(tokens, 1000)          (never below 0)
//! success    tokens = min(max, tokens + token_ratio_milli)
//! can_retry  tokens * 2 > max                             (more than half full; exact, no rounding)
//! ```
//!
//! Every failed attempt counts, first attempts and retries alike; the
//! retry itself costs nothing until it fails.

use crate::error::{ConfigError, ConfigResult, Field, Problem};
use core::fmt;

/// The token count is at or below half of `max_tokens`: do not retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Throttled {
    /// Tokens left, in thousandths.
    pub tokens_milli: u64,
}

impl fmt::Display for Throttled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "retry throttled: {} milli-tokens left",
            self.tokens_milli
        )
    }
}

impl core::error::Error for Throttled {}

/// A retry budget shared by the calls to one backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub struct Budget {
    tokens_milli: u64,
    max_milli: u64,
    ratio_milli: u64,
    throttled: u64,
}

impl Budget {
    /// Validates and builds a full budget.
    ///
    /// - `max_tokens`: the token count when full; field `"max_tokens"`, must
    ///   not be zero.
    /// - `token_ratio_milli`: tokens a success adds, in thousandths (gRPC's
    ///   `tokenRatio` of `0.1` is `100`); field `"token_ratio_milli"`, must
    ///   not be zero, and at most `max_tokens * 1000` (`OutOfRange`).
    pub const fn new(max_tokens: u32, token_ratio_milli: u32) -> ConfigResult<Self> {
        if max_tokens == 0 {
            return Err(ConfigError::of(Field::MaxTokens, Problem::Zero));
        }
        if token_ratio_milli == 0 {
            return Err(ConfigError::of(Field::TokenRatioMilli, Problem::Zero));
        }
        // u32 * 1000 always fits in u64.
        let max_milli = max_tokens as u64 * 1000;
        if token_ratio_milli as u64 > max_milli {
            return Err(ConfigError::of(Field::TokenRatioMilli, Problem::OutOfRange));
        }
        Ok(Self {
            tokens_milli: max_milli,
            max_milli,
            ratio_milli: token_ratio_milli as u64,
            throttled: 0,
        })
    }

    /// A call succeeded: adds `token_ratio`, up to `max_tokens`.
    pub fn record_success(&mut self) {
        self.tokens_milli = self
            .tokens_milli
            .saturating_add(self.ratio_milli)
            .min(self.max_milli);
    }

    /// A call failed (first attempt or retry): takes one token, down to 0.
    pub fn record_failure(&mut self) {
        self.tokens_milli = self.tokens_milli.saturating_sub(1000);
    }

    /// Whether a retry may be made now: more than half of `max_tokens` left.
    pub const fn can_retry(&self) -> bool {
        // max_milli <= u32::MAX * 1000 < 2^42, so doubling cannot overflow.
        self.tokens_milli * 2 > self.max_milli
    }

    /// [`Budget::can_retry`], counting refusals in [`Budget::throttled`].
    pub fn try_retry(&mut self) -> Result<(), Throttled> {
        if self.can_retry() {
            Ok(())
        } else {
            self.throttled = self.throttled.saturating_add(1);
            Err(Throttled {
                tokens_milli: self.tokens_milli,
            })
        }
    }

    /// Tokens left, in thousandths.
    pub const fn tokens_milli(&self) -> u64 {
        self.tokens_milli
    }

    /// Whole tokens left (rounded down).
    pub const fn tokens(&self) -> u32 {
        // tokens_milli <= max_milli = max_tokens * 1000, so this fits.
        (self.tokens_milli / 1000) as u32
    }

    /// `max_tokens`.
    pub const fn max_tokens(&self) -> u32 {
        (self.max_milli / 1000) as u32
    }

    /// Retries refused by [`Budget::try_retry`] so far.
    pub const fn throttled(&self) -> u64 {
        self.throttled
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn config_errors_name_the_field() {
        let e = Budget::new(0, 100).unwrap_err();
        assert_eq!((e.field, e.problem), ("max_tokens", Problem::Zero));
        let e = Budget::new(10, 0).unwrap_err();
        assert_eq!((e.field, e.problem), ("token_ratio_milli", Problem::Zero));
        let e = Budget::new(1, 1001).unwrap_err();
        assert_eq!(
            (e.field, e.problem),
            ("token_ratio_milli", Problem::OutOfRange)
        );
        assert!(Budget::new(u32::MAX, u32::MAX).is_ok());
    }

    #[test]
    fn follows_the_grpc_example() {
        // gRFC A6: maxTokens 10, tokenRatio 0.1.
        let mut b = Budget::new(10, 100).unwrap();
        assert_eq!((b.tokens(), b.tokens_milli()), (10, 10_000));
        for _ in 0..4 {
            b.record_failure();
        }
        assert_eq!(b.tokens(), 6);
        assert!(b.can_retry());
        b.record_failure(); // 5: exactly half is not enough
        assert!(!b.can_retry());
        assert_eq!(b.try_retry(), Err(Throttled { tokens_milli: 5000 }));
        assert_eq!(b.throttled(), 1);
        b.record_success(); // 5.1
        assert_eq!(b.tokens_milli(), 5100);
        assert!(b.try_retry().is_ok());
        assert_eq!(b.throttled(), 1);
    }

    #[test]
    fn stays_within_zero_and_max() {
        let mut b = Budget::new(2, 2000).unwrap();
        for _ in 0..5 {
            b.record_failure();
        }
        assert_eq!(b.tokens_milli(), 0);
        b.record_success();
        b.record_success();
        assert_eq!(b.tokens_milli(), 2000);
        assert_eq!(b.max_tokens(), 2);
    }

    proptest! {
        #![proptest_config(crate::testing::proptest_config())]
        #[test]
        fn matches_a_reference_model(
            max_tokens in 1u32..2000,
            ratio in 1u32..5000,
            outcomes in proptest::collection::vec(any::<bool>(), 0..200),
        ) {
            prop_assume!(u64::from(ratio) <= u64::from(max_tokens) * 1000);
            let mut b = Budget::new(max_tokens, ratio).unwrap();
            // The model in plain integers of thousandths, with clamps written out.
            let max = i64::from(max_tokens) * 1000;
            let mut model = max;
            for ok in outcomes {
                if ok {
                    b.record_success();
                    model = (model + i64::from(ratio)).min(max);
                } else {
                    b.record_failure();
                    model = (model - 1000).max(0);
                }
                prop_assert_eq!(b.tokens_milli() as i64, model);
                prop_assert_eq!(b.can_retry(), model as f64 > max as f64 / 2.0);
            }
        }
    }
}
