//! `store=` / `name=`: a policy whose state lives in a store.
//!
//! A policy built with `store=s, name="k"` validates its options as usual,
//! turns its core config into the plain form (`fusewire_store::config`, a
//! dict here) and asks `s._bind(kind, "k", config)` for a **backend**; from
//! then on every decision goes to the backend instead of the in-process
//! core. The protocol (methods, arguments, returns) is written down in
//! `store/README.md`, section "Doors", and in `fusewire/_store.py`.

use fusewire_store::config::{Config, Value};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};

use crate::errors::config_error;

/// The backend a policy was bound to, if any.
pub type Backend = Option<Py<PyAny>>;

/// The config as the dict `_bind` receives: ints (nanoseconds for
/// durations), strings for choices, `None` for a rule that is off.
pub fn config_dict<'py>(py: Python<'py>, config: &Config) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    for (field, value) in &config.values {
        match value {
            Value::Int(n) => d.set_item(field, n)?,
            Value::Word(w) => d.set_item(field, w)?,
            Value::Off => d.set_item(field, py.None())?,
        }
    }
    Ok(d)
}

/// Checks `store=` / `name=` and binds: `Ok(None)` without a store.
///
/// Typed errors, each naming the keyword at fault: a store without a
/// name (`ConfigError` on `name`), a name that is not a non-empty string
/// (`TypeError` / `ConfigError` on `name`), a store that is not one
/// (`TypeError` on `store`), a store with a `clock=` (`ConfigError` on
/// `clock`: the store keeps the time of every process that shares it).
pub fn bind(
    py: Python<'_>,
    store: Option<&Bound<'_, PyAny>>,
    name: Option<&str>,
    clock_given: bool,
    config: impl FnOnce() -> Config,
) -> PyResult<Backend> {
    let Some(store) = store.filter(|s| !s.is_none()) else {
        return Ok(None);
    };
    let bind = store
        .getattr(pyo3::intern!(py, "_bind"))
        .ok()
        .filter(|b| b.is_callable())
        .ok_or_else(|| {
            PyTypeError::new_err(format!(
                "store: expected a fusewire.HostStore or fusewire.RedisStore, got {}",
                store
                    .get_type()
                    .name()
                    .map_or_else(|_| "an object".to_owned(), |n| n.to_string())
            ))
        })?;
    let Some(name) = name else {
        return Err(config_error(
            "name",
            "is required with store=: it is the key every process sharing this policy uses",
        ));
    };
    check_name(name)?;
    if clock_given {
        return Err(config_error(
            "clock",
            "cannot be combined with store=: the store keeps the time of every process \
             that shares the policy",
        ));
    }
    let config = config();
    let dict = config_dict(py, &config)?;
    Ok(Some(bind.call1((config.kind.name(), name, dict))?.unbind()))
}

/// A `name=` that is given must be a non-empty string.
pub fn check_name(name: &str) -> PyResult<()> {
    if name.is_empty() {
        return Err(config_error("name", "must not be empty"));
    }
    Ok(())
}

/// `name=` of a policy whose only use of it is the store key: `None`, or a
/// non-empty `str` (a `TypeError` naming `name` otherwise).
pub fn name_arg(name: Option<&Bound<'_, PyAny>>) -> PyResult<Option<String>> {
    match name {
        None => Ok(None),
        Some(n) if n.is_none() => Ok(None),
        Some(n) => {
            let s = n.cast::<PyString>().map_err(|_| {
                PyTypeError::new_err(format!(
                    "name: expected a non-empty string, got {}",
                    n.get_type()
                        .name()
                        .map_or_else(|_| "an object".to_owned(), |t| t.to_string())
                ))
            })?;
            let s = s.to_str()?.to_owned();
            check_name(&s)?;
            Ok(Some(s))
        }
    }
}

/// Whether a `clock=` argument was given (not `None`).
pub fn clock_given(clock: Option<&Bound<'_, PyAny>>) -> bool {
    clock.is_some_and(|c| !c.is_none())
}

/// The backend when it has `a`-prefixed coroutine twins of its decision
/// methods (a `RedisStore`'s: class attribute `is_async = True`), which the
/// policies' async paths await; `None` for a host store's or no backend.
pub fn async_backend(py: Python<'_>, backend: &Backend) -> Option<Py<PyAny>> {
    let b = backend.as_ref()?;
    let is_async = b
        .bind(py)
        .getattr(pyo3::intern!(py, "is_async"))
        .and_then(|v| v.is_truthy())
        .unwrap_or(false);
    is_async.then(|| b.clone_ref(py))
}
