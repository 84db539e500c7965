//! Raising the exception classes of `fusewire/_errors.py` from Rust.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyType;

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

pub fn circuit_open(py: Python<'_>, name: Option<&str>, retry_after: f64, state: &str) -> PyErr {
    make(
        py,
        &CIRCUIT_OPEN,
        "CircuitOpenError",
        (name.map(str::to_owned), retry_after, state.to_owned()),
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
