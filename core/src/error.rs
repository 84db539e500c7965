//! The one error every constructor returns: which field of a config is bad, and how.

use core::fmt;

/// What is wrong with a config field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Problem {
    /// The field must not be zero.
    Zero,
    /// The field is outside its documented range.
    OutOfRange,
    /// The field is a floating-point NaN.
    NotANumber,
    /// The field contradicts another field (named in the docs of the field).
    Inconsistent,
}

/// A config was rejected at construction; nothing was built.
///
/// `field` is the Rust name of the config field (`"failure_rate"`,
/// `"open_backoff.cap"`), stable so bindings can map it to their own names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct ConfigError {
    /// The config field at fault, as spelled in the Rust config struct.
    pub field: &'static str,
    /// What is wrong with it.
    pub problem: Problem,
}

impl ConfigError {
    /// An error for `field` with `problem`.
    pub const fn new(field: &'static str, problem: Problem) -> Self {
        Self { field, problem }
    }

    /// A short static description of the problem, for hosts without `core::fmt`.
    pub const fn reason(&self) -> &'static str {
        match self.problem {
            Problem::Zero => "must not be zero",
            Problem::OutOfRange => "is out of range",
            Problem::NotANumber => "is NaN",
            Problem::Inconsistent => "contradicts another field",
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid config: `{}` {}", self.field, self.reason())
    }
}

impl core::error::Error for ConfigError {}

/// Shorthand for constructor results.
pub type ConfigResult<T> = Result<T, ConfigError>;
