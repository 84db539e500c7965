//! Raising the exception classes of `fusewire/_errors.py` from Rust.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyString, PyType};

const MODULE: &str = "fusewire._errors";

static CONFIG_ERROR: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static CIRCUIT_OPEN: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static RATE_LIMITED: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static BULKHEAD_FULL: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static RETRY_ERROR: PyOnceLock<Py<PyType>> = PyOnceLock::new();

fn make<'py, A>(py: Python<'py>, cell: &PyOnceLock<Py<PyType>>, name: &str, args: A) -> PyErr
where
    A: pyo3::call::PyCallArgs<'py>,
{
    match cell.import(py, MODULE, name) {
        Ok(ty) => match ty.call1(args) {
            Ok(exc) => PyErr::from_value(exc),
            Err(e) => e,
        },
        Err(e) => e,
    }
}

/// `ConfigError` (a `ValueError`) naming the Python field.
pub fn config_error(field: &str, reason: &str) -> PyErr {
    Python::attach(|py| {
        make(
            py,
            &CONFIG_ERROR,
            "ConfigError",
            (field.to_owned(), reason.to_owned()),
        )
    })
}

/// A core `ConfigError`, with the core's field name mapped through `rename`
/// to the Python keyword that carried it.
pub fn from_core(e: fusewire::ConfigError, rename: &dyn Fn(&'static str) -> String) -> PyErr {
    let reason = match e.problem {
        fusewire::Problem::Zero => "must not be zero",
        fusewire::Problem::OutOfRange => "is out of range",
        fusewire::Problem::NotANumber => "is NaN",
        fusewire::Problem::Inconsistent => "contradicts another field",
        _ => e.reason(),
    };
    config_error(&rename(e.field), reason)
}

static STATE_NAMES: PyOnceLock<[Py<PyString>; 5]> = PyOnceLock::new();

/// The state's name as a Python string made once (a refusal is the hot
/// path of an open breaker).
fn state_str(py: Python<'_>, s: fusewire::State) -> Bound<'_, PyString> {
    let names = STATE_NAMES.get_or_init(py, || {
        [
            fusewire::State::Closed,
            fusewire::State::Open,
            fusewire::State::HalfOpen,
            fusewire::State::ForcedOpen,
            fusewire::State::Disabled,
        ]
        .map(|s| PyString::new(py, crate::breaker::state_name(s)).unbind())
    });
    let i = match s {
        fusewire::State::Closed => 0,
        fusewire::State::Open => 1,
        fusewire::State::HalfOpen => 2,
        fusewire::State::ForcedOpen => 3,
        fusewire::State::Disabled => 4,
    };
    names[i].bind(py).clone()
}

pub fn circuit_open(
    py: Python<'_>,
    name: Option<&Py<PyString>>,
    retry_after: f64,
    state: fusewire::State,
) -> PyErr {
    make(
        py,
        &CIRCUIT_OPEN,
        "CircuitOpenError",
        (name.map(|n| n.bind(py)), retry_after, state_str(py, state)),
    )
}

pub fn rate_limited(py: Python<'_>, retry_after: f64) -> PyErr {
    make(py, &RATE_LIMITED, "RateLimited", (retry_after,))
}

pub fn bulkhead_full(py: Python<'_>, priority: &str, in_use: u32) -> PyErr {
    make(
        py,
        &BULKHEAD_FULL,
        "BulkheadFull",
        (priority.to_owned(), in_use),
    )
}

pub fn retry_error(py: Python<'_>, attempts: u32, reason: &str, last: PyErr) -> PyErr {
    let err = make(
        py,
        &RETRY_ERROR,
        "RetryError",
        (attempts, reason.to_owned()),
    );
    err.set_cause(py, Some(last));
    err
}
