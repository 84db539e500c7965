//! Integer keywords: a negative or oversized int is a `ConfigError` naming
//! the keyword, never the bare `OverflowError` pyo3's own conversion raises
//! (which names no argument).

use pyo3::exceptions::PyOverflowError;
use pyo3::prelude::*;

use crate::errors::config_error;

/// An integer argument, range-checked by [`Int::get`] against `T`, which
/// knows the keyword's name. A non-integer is still pyo3's `TypeError`
/// (which names the argument).
pub struct Int<T>(Option<T>);

impl<T> Int<T> {
    /// The default value of a keyword.
    pub const fn of(v: T) -> Self {
        Self(Some(v))
    }
}

impl<T: Copy + Bounds> Int<T> {
    /// The value, or `ConfigError(field, ...)` when it was out of `T`'s range.
    pub fn get(&self, field: &str) -> PyResult<T> {
        self.0.ok_or_else(|| {
            config_error(
                field,
                &format!("must be an integer from {} to {}", T::MIN_TEXT, T::MAX_TEXT),
            )
        })
    }
}

/// The range of an unsigned integer keyword, for the error message.
pub trait Bounds {
    const MIN_TEXT: &'static str = "0";
    const MAX_TEXT: &'static str;
}

impl Bounds for u8 {
    const MAX_TEXT: &'static str = "255";
}
impl Bounds for u32 {
    const MAX_TEXT: &'static str = "4294967295";
}
impl Bounds for u64 {
    const MAX_TEXT: &'static str = "18446744073709551615";
}
impl Bounds for usize {
    const MAX_TEXT: &'static str = "18446744073709551615";
}

impl<'a, 'py, T: TryFrom<i128>> FromPyObject<'a, 'py> for Int<T> {
    type Error = PyErr;

    fn extract(ob: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        match ob.extract::<i128>() {
            Ok(n) => Ok(Self(T::try_from(n).ok())),
            Err(e) if e.is_instance_of::<PyOverflowError>(ob.py()) => Ok(Self(None)),
            Err(e) => Err(e),
        }
    }
}
