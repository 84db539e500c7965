//! Calls whose work happens later: a sync callable that returns a
//! coroutine (`functools.partial` of an `async def`, many third-party
//! decorators), a generator or an async generator. Counting the call when
//! the object is created would record a success for work not yet done, so
//! the policies hand such results to `fusewire._wrap._late`, which guards
//! the await or the iteration instead (or refuses, for retrying a stream).

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyTuple, PyType};

static TYPES: PyOnceLock<[Py<PyType>; 3]> = PyOnceLock::new();
static LATE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

fn types(py: Python<'_>) -> PyResult<&[Py<PyType>; 3]> {
    TYPES.get_or_try_init(py, || {
        let m = py.import("types")?;
        let get = |name: &str| -> PyResult<Py<PyType>> {
            Ok(m.getattr(name)?.cast_into::<PyType>()?.unbind())
        };
        Ok([
            get("CoroutineType")?,
            get("GeneratorType")?,
            get("AsyncGeneratorType")?,
        ])
    })
}

/// Whether `value` is a coroutine, generator or async generator (exact
/// types: one pointer comparison each on the hot path).
#[inline]
pub fn is_deferred(value: &Bound<'_, PyAny>) -> PyResult<bool> {
    let ty = value.get_type();
    Ok(types(value.py())?.iter().any(|t| ty.is(t.bind(value.py()))))
}

/// `fusewire._wrap._late(policy, func, args, kwargs, result)`: the guarded
/// replacement for a deferred `result` of `func(*args, **kwargs)`.
pub fn late<'py>(
    policy: &Bound<'py, PyAny>,
    func: &Bound<'py, PyAny>,
    args: &Bound<'py, PyTuple>,
    kwargs: Option<&Bound<'py, PyDict>>,
    result: Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let py = policy.py();
    LATE.import(py, "fusewire._wrap", "_late")?
        .call1((policy, func, args, kwargs, result))
}
