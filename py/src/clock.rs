//! Where `now` comes from: ticks are nanoseconds.
//!
//! By default the monotonic clock that `time.monotonic_ns()` reads
//! (`CLOCK_MONOTONIC`, through `std::time::Instant`), on the same scale:
//! the module reads `time.monotonic_ns()` once at import and counts on from
//! it with `Instant`, so ticks are `time.monotonic_ns()` values and the
//! seconds the package reports (`StateChange.at`, snapshot times,
//! `Permit.started`) are `time.monotonic()` values. Read once per core call
//! in Rust. A test passes
//! `clock=`, a callable returning seconds as a float (like `time.monotonic`);
//! it is called instead and its seconds turned into nanoseconds.

use std::sync::OnceLock;
use std::time::Instant;

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::gc::PyVisit;
use pyo3::prelude::*;
use pyo3::PyTraverseError;

/// An `Instant` and the `time.monotonic_ns()` read beside it.
static ORIGIN: OnceLock<(Instant, u64)> = OnceLock::new();

/// Pins the scale to `time.monotonic_ns()`; called at import.
pub fn init(py: Python<'_>) -> PyResult<()> {
    let base: u64 = py.import("time")?.call_method0("monotonic_ns")?.extract()?;
    ORIGIN.get_or_init(|| (Instant::now(), base));
    Ok(())
}

fn origin() -> (Instant, u64) {
    *ORIGIN.get_or_init(|| (Instant::now(), 0))
}

/// `time.monotonic_ns()`, read in Rust (the default clock).
#[pyfunction]
pub fn monotonic_ns() -> u64 {
    let (at, base) = origin();
    u64::try_from(at.elapsed().as_nanos())
        .unwrap_or(u64::MAX)
        .saturating_add(base)
}

/// The clock of one policy object.
pub enum Clock {
    Monotonic,
    Python(Py<PyAny>),
}

impl Clock {
    pub fn from_arg(clock: Option<Bound<'_, PyAny>>) -> PyResult<Self> {
        match clock {
            None => {
                origin();
                Ok(Clock::Monotonic)
            }
            Some(c) if c.is_none() => Ok(Clock::Monotonic),
            Some(c) if c.is_callable() => Ok(Clock::Python(c.unbind())),
            Some(_) => Err(PyTypeError::new_err(
                "clock: expected a callable returning seconds, or None",
            )),
        }
    }

    /// Shows the GC the clock callable.
    pub fn traverse(&self, visit: &PyVisit<'_>) -> Result<(), PyTraverseError> {
        match self {
            Clock::Monotonic => Ok(()),
            Clock::Python(f) => visit.call(f),
        }
    }

    /// Now, in ticks.
    #[inline]
    pub fn now(&self, py: Python<'_>) -> PyResult<u64> {
        match self {
            Clock::Monotonic => Ok(monotonic_ns()),
            Clock::Python(f) => {
                let secs: f64 = f.bind(py).call0()?.extract()?;
                if secs.is_nan() {
                    return Err(PyValueError::new_err("clock returned NaN"));
                }
                Ok(seconds_to_ticks_lossy(secs))
            }
        }
    }
}

/// Seconds to ticks, clamping negatives to 0 and overflow to `u64::MAX`.
pub fn seconds_to_ticks_lossy(secs: f64) -> u64 {
    let ns = (secs * 1e9).round();
    if ns <= 0.0 || ns.is_nan() {
        0
    } else if ns >= u64::MAX as f64 {
        u64::MAX
    } else {
        ns as u64
    }
}

/// A duration argument in seconds, validated: finite or `inf`, not negative.
/// `inf` is `u64::MAX` ticks (about 584 years).
pub fn duration(field: &str, secs: f64) -> PyResult<u64> {
    if secs.is_nan() {
        return Err(crate::errors::config_error(field, "is NaN"));
    }
    if secs < 0.0 {
        return Err(crate::errors::config_error(field, "must not be negative"));
    }
    Ok(seconds_to_ticks_lossy(secs))
}

/// Like [`duration`] but zero is refused.
pub fn positive_duration(field: &str, secs: f64) -> PyResult<u64> {
    let t = duration(field, secs)?;
    if t == 0 {
        return Err(crate::errors::config_error(
            field,
            "must be positive (at least 1 ns)",
        ));
    }
    Ok(t)
}

/// Ticks to seconds.
pub fn seconds(ticks: u64) -> f64 {
    if ticks == u64::MAX {
        f64::INFINITY
    } else {
        ticks as f64 / 1e9
    }
}

/// The core's tick widener: a wrapping 32-bit tick (a device's
/// millisecond counter read over a wire) in, a `u64` that never goes back
/// out. Public API: `fusewire.TickWidener`.
#[pyclass(module = "fusewire._native", frozen)]
pub struct TickWidener {
    inner: std::sync::Mutex<fusewire::TickWidener>,
}

#[pymethods]
impl TickWidener {
    #[new]
    fn new() -> Self {
        Self {
            inner: std::sync::Mutex::new(fusewire::TickWidener::new()),
        }
    }

    /// The widened time of the raw tick `raw` (0 to 2**32 - 1): never
    /// less than the previous answer; call it at least once per half wrap.
    fn widen(&self, raw: crate::int::Int<u32>) -> PyResult<u64> {
        let raw = raw.get("raw")?;
        Ok(self
            .inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .widen(raw))
    }

    /// The newest widened time, or `None` before the first tick.
    #[getter]
    fn last(&self) -> Option<u64> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).last()
    }
}
