//! `Bulkhead`: the core's concurrency limit with priority reserves and
//! leased slots (a slot never handed back is freed after its lease).

use std::num::NonZeroU32;
use std::sync::Mutex;

use fusewire::{Priority, ReleaseError, Slot, TickUnit};
use pyo3::exceptions::PyValueError;
use pyo3::gc::PyVisit;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};
use pyo3::PyTraverseError;

use crate::blocks::{Block, Blocks, Exit};
use crate::clock::{positive_duration, Clock};
use crate::errors::{bulkhead_full, config_error, from_core};
use crate::host::HostBulkhead;
use crate::int::Int;
use crate::store::Backend;
use fusewire_store::config::Config;

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

fn priority_name(p: Priority) -> &'static str {
    match p {
        Priority::Critical => "critical",
        Priority::Normal => "normal",
        Priority::Sheddable => "sheddable",
    }
}

/// A backend's answer to a release: `"released"` and `"expired"` (already
/// freed by its lease, counted) are fine, anything else was not held.
fn released(said: &str) -> PyResult<()> {
    match said {
        "released" | "expired" => Ok(()),
        _ => Err(not_held()),
    }
}

fn not_held() -> PyErr {
    PyValueError::new_err(
        "slot: released a bulkhead slot that was not held (released twice, or not \
         from this bulkhead)",
    )
}

/// A held bulkhead slot: hand it to `Bulkhead.release` once. Public API:
/// `fusewire.Slot`.
#[pyclass(module = "fusewire._native", name = "Slot", frozen)]
pub struct HeldSlot {
    raw: u64,
}

#[pymethods]
impl HeldSlot {
    /// The priority it was taken with.
    #[getter]
    fn priority(&self) -> &'static str {
        Slot::from_raw(self.raw)
            .priority()
            .map_or("unknown", priority_name)
    }

    fn __repr__(&self) -> String {
        format!("<fusewire.Slot {}>", self.priority())
    }
}

/// The native bulkhead. Public API: `fusewire.Bulkhead`.
#[pyclass(module = "fusewire._native", frozen, subclass)]
pub struct Bulkhead {
    core: Mutex<fusewire::Bulkhead>,
    clock: Clock,
    /// The slots of open `with` blocks (see [`crate::blocks`]).
    blocks: Mutex<Blocks<Slot>>,
    /// The store's backend when built with `store=` (see [`crate::store`]).
    backend: Backend,
}

impl Bulkhead {
    fn lock(&self) -> std::sync::MutexGuard<'_, fusewire::Bulkhead> {
        self.core.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn acquire_impl(&self, py: Python<'_>, p: Priority) -> PyResult<Slot> {
        if let Some(b) = &self.backend {
            return match self.backend_take(py, b, p)? {
                Some(slot) => Ok(slot),
                None => {
                    let in_use: u32 = b
                        .bind(py)
                        .call_method0(pyo3::intern!(py, "in_use"))?
                        .extract()?;
                    Err(bulkhead_full(py, priority_name(p), in_use))
                }
            };
        }
        let now = self.clock.now(py)?;
        let taken = self.lock().try_acquire(p, now);
        taken.map_err(|full| bulkhead_full(py, priority_name(p), full.in_use))
    }

    /// A slot from the store's backend, or `None` when none is free.
    fn backend_take(&self, py: Python<'_>, b: &Py<PyAny>, p: Priority) -> PyResult<Option<Slot>> {
        if let Ok(h) = b.bind(py).cast::<HostBulkhead>() {
            return Ok(h.get().take(p));
        }
        let raw: Option<u64> = b
            .bind(py)
            .call_method1(pyo3::intern!(py, "acquire"), (priority_name(p),))?
            .extract()?;
        Ok(raw.map(Slot::from_raw))
    }

    /// Reads a number the backend reports (`in_use`, `available`, ...).
    fn backend_read<T: for<'a, 'py> FromPyObject<'a, 'py>>(
        &self,
        py: Python<'_>,
        method: &str,
    ) -> Option<PyResult<T>> {
        self.backend.as_ref().map(|b| {
            b.bind(py)
                .call_method0(method)
                .and_then(|v| v.extract().map_err(Into::into))
        })
    }

    /// Hands a slot back. A slot whose lease ran out was already freed:
    /// that is counted (`expired_releases`), not an error; a slot that was
    /// not held is a `ValueError`.
    pub fn release_impl(&self, py: Python<'_>, slot: Slot) -> PyResult<()> {
        let result = if let Some(h) = self
            .backend
            .as_ref()
            .and_then(|b| b.bind(py).cast::<HostBulkhead>().ok())
        {
            h.get().give_back(slot)
        } else if let Some(b) = &self.backend {
            let said: String = b
                .bind(py)
                .call_method1(pyo3::intern!(py, "release"), (slot.into_raw(),))?
                .extract()?;
            return released(&said);
        } else {
            let now = self.clock.now(py)?;
            self.lock().release(slot, now)
        };
        match result {
            Ok(()) | Err(ReleaseError::Expired) => Ok(()),
            Err(_) => Err(not_held()),
        }
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
        let py = this.py();
        let slot = self.acquire_impl(py, Priority::Normal)?;
        let result = func.call(args, kwargs);
        self.release_impl(py, slot)?;
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
        signature = (
            max_concurrent,
            *,
            reserve_critical=Int::of(0),
            reserve_normal=Int::of(0),
            lease=60.0,
            clock=None,
            store=None,
            name=None,
        ),
        text_signature = "(max_concurrent, *, reserve_critical=0, reserve_normal=0, lease=60.0, clock=None, store=None, name=None)"
    )]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        max_concurrent: Int<u32>,
        reserve_critical: Int<u32>,
        reserve_normal: Int<u32>,
        lease: f64,
        clock: Option<Bound<'_, PyAny>>,
        store: Option<Bound<'_, PyAny>>,
        name: Option<Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let max_concurrent = max_concurrent.get("max_concurrent")?;
        let reserve_critical = reserve_critical.get("reserve_critical")?;
        let reserve_normal = reserve_normal.get("reserve_normal")?;
        let limit = NonZeroU32::new(max_concurrent)
            .ok_or_else(|| config_error("max_concurrent", "must not be zero"))?;
        let lease = positive_duration("lease", lease)?;
        let core =
            fusewire::Bulkhead::new(limit, reserve_critical, reserve_normal, TickUnit::NANOS)
                .and_then(|b| b.with_lease(lease))
                .map_err(|e| from_core(e, &|f| f.to_owned()))?;
        let name = crate::store::name_arg(name.as_ref())?;
        let backend = crate::store::bind(
            py,
            store.as_ref(),
            name.as_deref(),
            crate::store::clock_given(clock.as_ref()),
            || Config::bulkhead(max_concurrent, reserve_critical, reserve_normal, lease),
        )?;
        Ok(Self {
            core: Mutex::new(core),
            clock: Clock::from_arg(clock)?,
            blocks: Mutex::new(Blocks::default()),
            backend,
        })
    }

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        if let Ok(blocks) = self.blocks.try_lock() {
            blocks.traverse(&visit)?;
        }
        self.clock.traverse(&visit)
    }

    /// The backend's coroutine methods when it has them (`RedisStore`), for
    /// the async paths; `None` in process or in a host store.
    #[getter]
    fn _abackend(&self, py: Python<'_>) -> Option<Py<PyAny>> {
        crate::store::async_backend(py, &self.backend)
    }

    /// `priority` checked as `acquire` checks it (the async paths').
    fn _priority(&self, priority: &str) -> PyResult<&'static str> {
        self::priority(priority).map(priority_name)
    }

    /// A `Slot` of the raw slot an awaited backend `aacquire` returned.
    fn _slot(&self, raw: u64) -> HeldSlot {
        HeldSlot { raw }
    }

    /// The raw form of a `Slot` (`TypeError` for anything else), for an
    /// awaited backend `arelease`.
    fn _slot_raw(&self, slot: &Bound<'_, PyAny>) -> PyResult<u64> {
        Ok(slot
            .cast::<HeldSlot>()
            .map_err(|_| {
                pyo3::exceptions::PyTypeError::new_err(
                    "slot: expected the Slot that acquire() or try_acquire() returned",
                )
            })?
            .get()
            .raw)
    }

    /// What `release` makes of a backend's answer (`"released"`,
    /// `"expired"`: fine; `"not_held"`: `ValueError`).
    fn _released(&self, said: &str) -> PyResult<()> {
        released(said)
    }

    /// Takes a slot if one is free for `priority`: the slot (hand it to
    /// `release`), or `None`.
    #[pyo3(signature = (priority="normal"))]
    fn try_acquire(&self, py: Python<'_>, priority: &str) -> PyResult<Option<HeldSlot>> {
        let p = self::priority(priority)?;
        if let Some(b) = &self.backend {
            return Ok(self
                .backend_take(py, b, p)?
                .map(|s| HeldSlot { raw: s.into_raw() }));
        }
        let now = self.clock.now(py)?;
        let taken = self.lock().try_acquire(p, now);
        Ok(taken.ok().map(|s| HeldSlot { raw: s.into_raw() }))
    }

    /// Takes a slot (returned: hand it to `release`) or raises `BulkheadFull`.
    #[pyo3(signature = (priority="normal"))]
    fn acquire(&self, py: Python<'_>, priority: &str) -> PyResult<HeldSlot> {
        let p = self::priority(priority)?;
        Ok(HeldSlot {
            raw: self.acquire_impl(py, p)?.into_raw(),
        })
    }

    /// Gives back a slot from `acquire`/`try_acquire` (ValueError if it is
    /// not held; one whose lease ran out was already freed and is counted
    /// in `expired_releases`).
    fn release(&self, py: Python<'_>, slot: &Bound<'_, PyAny>) -> PyResult<()> {
        let slot = slot.cast::<HeldSlot>().map_err(|_| {
            pyo3::exceptions::PyTypeError::new_err(
                "slot: expected the Slot that acquire() or try_acquire() returned",
            )
        })?;
        self.release_impl(py, Slot::from_raw(slot.get().raw))
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

    /// `with bulkhead:` holds a normal slot for the block (or raises
    /// `BulkheadFull`), kept with its owner (thread or asyncio task).
    fn __enter__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, Self>> {
        let py = slf.py();
        let me = slf.get();
        let owner = crate::blocks::current(py)?;
        let slot = me.acquire_impl(py, Priority::Normal)?;
        me.blocks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Block {
                owner,
                held: slot,
                started: 0,
            });
        Ok(slf.clone())
    }

    /// Hands the block's slot back.
    #[pyo3(signature = (exc_type=None, exc=None, tb=None))]
    fn __exit__(
        slf: &Bound<'_, Self>,
        exc_type: Option<&Bound<'_, PyAny>>,
        exc: Option<&Bound<'_, PyAny>>,
        tb: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let _ = (exc_type, exc, tb);
        let py = slf.py();
        let me = slf.get();
        let found = me
            .blocks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take_own();
        let found = match found {
            Some(found) => found,
            // A task owns an open block: look the owner up, with no lock held.
            None => {
                let owner = crate::blocks::current(py)?;
                me.blocks
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .take(Some(&owner))
            }
        };
        match found {
            Exit::Own(b) => me.release_impl(py, b.held),
            Exit::Elsewhere(b) => {
                me.release_impl(py, b.held)?;
                Err(crate::blocks::exited_elsewhere(slf.as_any(), true)?)
            }
            Exit::None => Err(crate::blocks::exited_elsewhere(slf.as_any(), false)?),
        }
    }

    #[getter]
    fn in_use(&self, py: Python<'_>) -> PyResult<u32> {
        self.backend_read(py, "in_use")
            .unwrap_or_else(|| Ok(self.lock().in_use()))
    }

    #[getter]
    fn available(&self, py: Python<'_>) -> PyResult<u32> {
        self.backend_read(py, "available")
            .unwrap_or_else(|| Ok(self.lock().available()))
    }

    /// Slots a call of `priority` could take now (its reserves counted).
    #[pyo3(signature = (priority="normal"))]
    fn available_for(&self, py: Python<'_>, priority: &str) -> PyResult<u32> {
        let p = self::priority(priority)?;
        if let Some(b) = &self.backend {
            return b
                .bind(py)
                .call_method1(pyo3::intern!(py, "available_for"), (priority_name(p),))?
                .extract();
        }
        Ok(self.lock().available_for(p))
    }

    /// Releases refused because the slot was not held: a non-zero count
    /// means a release without its acquire (or twice) somewhere.
    #[getter]
    fn extra_releases(&self, py: Python<'_>) -> PyResult<u64> {
        self.backend_read(py, "extra_releases")
            .unwrap_or_else(|| Ok(self.lock().extra_releases()))
    }

    /// Releases that came after the slot's lease ran out (it was already
    /// freed): calls that outlived the lease.
    #[getter]
    fn expired_releases(&self, py: Python<'_>) -> PyResult<u64> {
        self.backend_read(py, "expired_releases")
            .unwrap_or_else(|| Ok(self.lock().expired_releases()))
    }

    /// Slots freed because their lease ran out before they were released.
    #[getter]
    fn reclaimed(&self, py: Python<'_>) -> PyResult<u64> {
        self.backend_read(py, "reclaimed")
            .unwrap_or_else(|| Ok(self.lock().reclaimed()))
    }

    /// How long a slot lives without a release, in seconds.
    #[getter]
    fn lease(&self) -> f64 {
        crate::clock::seconds(self.lock().lease())
    }

    #[getter]
    fn max_concurrent(&self) -> u32 {
        self.lock().limit().get()
    }
}
