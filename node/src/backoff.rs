//! Backoffs as JavaScript describes them (`{ kind, base, factor, max,
//! jitter }`), turned into the core's [`Backoff`]: shared by the retry
//! schedule (`policies.rs`) and the core types (`direct.rs`).

use fusewire::{Backoff, ConfigError, Jitter, Schedule};
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

pub(crate) fn backoff_of(s: &BackoffSpec) -> Result<Backoff> {
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
