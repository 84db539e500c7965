//! `Guarded`: a sync function wrapped by a policy, callable at native speed.
//!
//! The decorators of the Python package return one of these for plain
//! functions (coroutine functions get a Python `async def` wrapper). It
//! carries a `__dict__` so `functools.update_wrapper` can give it the
//! wrapped function's name, doc and `__wrapped__` (which `inspect.signature`
//! follows), and binds like a function when used on a method.

use pyo3::gc::PyVisit;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyTuple};
use pyo3::PyTraverseError;

use crate::breaker::Breaker;
use crate::bucket::TokenBucket;
use crate::bulkhead::Bulkhead;
use crate::retry::Retrying;

enum Policy {
    Breaker(Py<Breaker>),
    Retrying(Py<Retrying>),
    Bucket(Py<TokenBucket>),
    Bulkhead(Py<Bulkhead>),
}

#[pyclass(module = "fusewire._native", frozen, dict)]
pub struct Guarded {
    policy: Policy,
    func: Py<PyAny>,
}

static METHOD_TYPE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

#[pymethods]
impl Guarded {
    #[new]
    fn new(py: Python<'_>, policy: &Bound<'_, PyAny>, func: Py<PyAny>) -> PyResult<Self> {
        let policy = if let Ok(b) = policy.cast::<Breaker>() {
            Policy::Breaker(b.clone().unbind())
        } else if let Ok(r) = policy.cast::<Retrying>() {
            Policy::Retrying(r.clone().unbind())
        } else if let Ok(t) = policy.cast::<TokenBucket>() {
            Policy::Bucket(t.clone().unbind())
        } else if let Ok(b) = policy.cast::<Bulkhead>() {
            Policy::Bulkhead(b.clone().unbind())
        } else {
            return Err(pyo3::exceptions::PyTypeError::new_err(
                "policy: expected a fusewire policy object",
            ));
        };
        if !func.bind(py).is_callable() {
            return Err(pyo3::exceptions::PyTypeError::new_err(
                "func: expected a callable",
            ));
        }
        Ok(Self { policy, func })
    }

    /// Shows the GC the policy, the function and (through pyo3) the
    /// `__dict__` that `functools.update_wrapper` filled.
    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        match &self.policy {
            Policy::Breaker(b) => visit.call(b)?,
            Policy::Retrying(r) => visit.call(r)?,
            Policy::Bucket(t) => visit.call(t)?,
            Policy::Bulkhead(b) => visit.call(b)?,
        }
        visit.call(&self.func)
    }

    #[pyo3(signature = (*args, **kwargs))]
    fn __call__<'py>(
        &self,
        py: Python<'py>,
        args: &Bound<'py, PyTuple>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let func = self.func.bind(py);
        match &self.policy {
            Policy::Breaker(b) => b.get().call_impl(b.bind(py).as_any(), func, args, kwargs),
            Policy::Retrying(r) => r.get().call_impl(r.bind(py).as_any(), func, args, kwargs),
            Policy::Bucket(t) => {
                t.get().acquire_impl(py, 1)?;
                func.call(args, kwargs)
            }
            Policy::Bulkhead(b) => b.get().call_impl(b.bind(py).as_any(), func, args, kwargs),
        }
    }

    /// Binds like a function: `instance.method` gets `self` first.
    fn __get__<'py>(
        slf: &Bound<'py, Self>,
        instance: Option<&Bound<'py, PyAny>>,
        owner: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let _ = owner;
        match instance {
            Some(obj) if !obj.is_none() => {
                let method_type = METHOD_TYPE.import(slf.py(), "types", "MethodType")?;
                method_type.call1((slf, obj))
            }
            _ => Ok(slf.clone().into_any()),
        }
    }

    /// Pickles by reference, as a plain function does: the module-level
    /// name it was decorated under (`__module__` / `__qualname__`, set by
    /// `functools.update_wrapper`). The other process imports that module
    /// and so gets its own policy, with fresh state.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        slf.getattr(pyo3::intern!(slf.py(), "__qualname__"))
    }

    /// The policy guarding the function.
    #[getter]
    fn policy(&self, py: Python<'_>) -> Py<PyAny> {
        match &self.policy {
            Policy::Breaker(b) => b.clone_ref(py).into_any(),
            Policy::Retrying(r) => r.clone_ref(py).into_any(),
            Policy::Bucket(t) => t.clone_ref(py).into_any(),
            Policy::Bulkhead(b) => b.clone_ref(py).into_any(),
        }
    }

    /// A retried function's statistics (tenacity's `fn.statistics`): its
    /// policy's, for the last call this thread made.
    #[getter]
    fn statistics<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        match &self.policy {
            Policy::Retrying(r) => r.get().statistics_dict(py),
            _ => Err(pyo3::exceptions::PyAttributeError::new_err(
                "statistics: only a retried function has statistics",
            )),
        }
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!("<fusewire guarded {}>", self.func.bind(py).repr()?))
    }
}
