//! Which exceptions a rule applies to: exception types and predicates.

use pyo3::exceptions::{PyBaseException, PyException, PyTypeError};
use pyo3::gc::PyVisit;
use pyo3::prelude::*;
use pyo3::types::{PyTuple, PyType};
use pyo3::PyTraverseError;

/// `exclude=` / `retry_on=`: a type, a predicate, or an iterable of both.
pub struct Matcher {
    types: Option<Py<PyTuple>>,
    predicates: Vec<Py<PyAny>>,
}

impl Matcher {
    pub fn new<'py>(field: &str, spec: Option<&Bound<'py, PyAny>>) -> PyResult<Self> {
        let mut types = Vec::new();
        let mut predicates = Vec::new();
        let Some(spec) = spec else {
            return Ok(Self {
                types: None,
                predicates,
            });
        };
        let mut add = |item: Bound<'py, PyAny>| -> PyResult<()> {
            if let Ok(ty) = item.cast::<PyType>() {
                if ty.is_subclass_of::<PyBaseException>()? {
                    types.push(item);
                    return Ok(());
                }
            } else if item.is_callable() {
                predicates.push(item.unbind());
                return Ok(());
            }
            Err(PyTypeError::new_err(format!(
                "{field}: expected exception types or predicates (callables taking the \
                 exception), got {}",
                item.repr()?
            )))
        };
        if spec.is_none() {
        } else if spec.cast::<PyType>().is_ok() || (spec.is_callable() && spec.try_iter().is_err())
        {
            add(spec.clone())?;
        } else {
            let iter = spec.try_iter().map_err(|_| {
                PyTypeError::new_err(format!(
                    "{field}: expected an exception type, a predicate, or an iterable of them"
                ))
            })?;
            for item in iter {
                add(item?)?;
            }
        }
        let types = if types.is_empty() {
            None
        } else {
            Some(PyTuple::new(spec.py(), types)?.unbind())
        };
        Ok(Self { types, predicates })
    }

    /// A matcher for every `Exception` (not `BaseException`).
    pub fn exceptions(py: Python<'_>) -> PyResult<Self> {
        let ty = py.get_type::<PyException>();
        Ok(Self {
            types: Some(PyTuple::new(py, [ty])?.unbind()),
            predicates: Vec::new(),
        })
    }

    /// Shows the GC the types and predicates.
    pub fn traverse(&self, visit: &PyVisit<'_>) -> Result<(), PyTraverseError> {
        visit.call(&self.types)?;
        for p in &self.predicates {
            visit.call(p)?;
        }
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.types.is_none() && self.predicates.is_empty()
    }

    /// Whether `exc` matches. A predicate that raises is reported through
    /// `sys.unraisablehook` and counts as no match.
    pub fn matches(&self, exc: &Bound<'_, PyAny>) -> bool {
        let py = exc.py();
        if let Some(types) = &self.types {
            if exc.is_instance(types.bind(py).as_any()).unwrap_or(false) {
                return true;
            }
        }
        for p in &self.predicates {
            match p.bind(py).call1((exc,)).and_then(|r| r.is_truthy()) {
                Ok(true) => return true,
                Ok(false) => {}
                Err(e) => e.write_unraisable(py, Some(p.bind(py))),
            }
        }
        false
    }
}

/// Whether `exc` is an `Exception` (as opposed to a bare `BaseException`
/// such as `KeyboardInterrupt` or `asyncio.CancelledError`).
pub fn is_exception(exc: &Bound<'_, PyAny>) -> bool {
    exc.is_instance_of::<PyException>()
}
