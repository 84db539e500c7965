//! `Bulkhead`: the core's concurrency limit with priority reserves.

use std::num::NonZeroU32;
use std::sync::Mutex;

use fusewire::{Priority, Slot};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

use crate::errors::{bulkhead_full, config_error, from_core};
use crate::int::Int;

fn priority(name: &str) -> PyResult<Priority> {
    match name {
        "critical" => Ok(Priority::Critical),
        "normal" => Ok(Priority::Normal),
        "sheddable" => Ok(Priority::Sheddable),
        _ => Err(config_error(
            "priority",
            "must be one of 'critical', 'normal', 'sheddable'",
        )),
    }
}

/// The native bulkhead. Public API: `fusewire.Bulkhead`.
#[pyclass(module = "fusewire._native", frozen, subclass)]
pub struct Bulkhead {
    core: Mutex<fusewire::Bulkhead>,
}

impl Bulkhead {
    fn lock(&self) -> std::sync::MutexGuard<'_, fusewire::Bulkhead> {
        self.core.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn acquire_impl(&self, py: Python<'_>, p: Priority, name: &str) -> PyResult<()> {
        let taken = self.lock().try_acquire(p);
        match taken {
            // The slot is only its priority: `release` rebuilds it.
            Ok(_slot) => Ok(()),
            Err(full) => Err(bulkhead_full(py, name, full.in_use)),
        }
    }

    pub fn release_impl(&self, p: Priority) -> PyResult<()> {
        self.lock()
            .release(Slot::from_priority(p))
            .map_err(|_| PyValueError::new_err("released a bulkhead slot that was not held"))
    }

    /// `this` is `self` as a Python object, for a deferred result
    /// ([`crate::deferred`]).
    pub fn call_impl<'py>(
        &self,
        this: &Bound<'py, PyAny>,
        func: &Bound<'py, PyAny>,
        args: &Bound<'py, PyTuple>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.acquire_impl(this.py(), Priority::Normal, "normal")?;
        let result = func.call(args, kwargs);
        self.release_impl(Priority::Normal)?;
        match result {
            // The slot went back: the guarded await / iteration takes its own.
            Ok(v) if crate::deferred::is_deferred(&v)? => {
                crate::deferred::late(this, func, args, kwargs, v)
            }
            other => other,
        }
    }
}

#[pymethods]
impl Bulkhead {
    #[new]
    #[pyo3(
        signature = (max_concurrent, *, reserve_critical=Int::of(0), reserve_normal=Int::of(0)),
        text_signature = "(max_concurrent, *, reserve_critical=0, reserve_normal=0)"
    )]
    fn new(
        max_concurrent: Int<u32>,
        reserve_critical: Int<u32>,
        reserve_normal: Int<u32>,
    ) -> PyResult<Self> {
        let max_concurrent = max_concurrent.get("max_concurrent")?;
        let reserve_critical = reserve_critical.get("reserve_critical")?;
        let reserve_normal = reserve_normal.get("reserve_normal")?;
        let limit = NonZeroU32::new(max_concurrent)
            .ok_or_else(|| config_error("max_concurrent", "must not be zero"))?;
        let core = fusewire::Bulkhead::new(limit, reserve_critical, reserve_normal)
            .map_err(|e| from_core(e, &|f| f.to_owned()))?;
        Ok(Self {
            core: Mutex::new(core),
        })
    }

    /// Takes a slot if one is free for `priority`; says whether it did.
    #[pyo3(signature = (priority="normal"))]
    fn try_acquire(&self, priority: &str) -> PyResult<bool> {
        let p = self::priority(priority)?;
        Ok(self.lock().try_acquire(p).is_ok())
    }

    /// Takes a slot or raises `BulkheadFull`.
    #[pyo3(signature = (priority="normal"))]
    fn acquire(&self, py: Python<'_>, priority: &str) -> PyResult<()> {
        let p = self::priority(priority)?;
        self.acquire_impl(py, p, priority)
    }

    /// Gives back a slot of `priority` (ValueError if none is held).
    #[pyo3(signature = (priority="normal"))]
    fn release(&self, priority: &str) -> PyResult<()> {
        self.release_impl(self::priority(priority)?)
    }

    /// Runs `func(*args, **kwargs)` in a normal-priority slot, or raises
    /// `BulkheadFull`.
    #[pyo3(signature = (func, /, *args, **kwargs))]
    fn call<'py>(
        slf: &Bound<'py, Self>,
        func: &Bound<'py, PyAny>,
        args: &Bound<'py, PyTuple>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        slf.get().call_impl(slf.as_any(), func, args, kwargs)
    }

    #[getter]
    fn in_use(&self) -> u32 {
        self.lock().in_use()
    }

    #[getter]
    fn available(&self) -> u32 {
        self.lock().available()
    }

    /// Slots a call of `priority` could take now (its reserves counted).
    #[pyo3(signature = (priority="normal"))]
    fn available_for(&self, priority: &str) -> PyResult<u32> {
        Ok(self.lock().available_for(self::priority(priority)?))
    }

    /// Releases refused because no slot of that priority was held: a
    /// non-zero count means a release without its acquire somewhere.
    #[getter]
    fn extra_releases(&self) -> u64 {
        self.lock().extra_releases()
    }

    #[getter]
    fn max_concurrent(&self) -> u32 {
        self.lock().limit().get()
    }
}
