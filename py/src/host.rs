//! `HostStore`: policies shared by the processes of one machine, in the
//! shared-memory region of `fusewire_store::shm`.
//!
//! `HostStore(name)` maps the region; a policy given `store=` and `name=`
//! calls its `_bind`, which returns one of the backends below: each holds
//! the core's lock-free shared form in the region and answers the backend
//! protocol (`fusewire/_store.py`). The policies call these backends
//! directly from Rust when they recognise them (no Python call per
//! decision). Time is the region's: `CLOCK_MONOTONIC` nanoseconds, the
//! clock of `time.monotonic_ns()`, in every process.

use std::sync::Arc;

use fusewire::{Outcome, Permit, Priority, Refused, ReleaseError, Slot, State, Transition};
use fusewire_store::config::{Config, Kind, PlainValue};
use fusewire_store::shm::{now, BreakerHandle, Handle, Region, Shared, ShmError, DEFAULT_SIZE};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyString, PyTuple, PyType};

use crate::breaker::{reason_name, snapshot_dict, state_name};
use crate::errors::config_error;
use crate::int::Int;

static STORE_ERROR: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// A region error as the package's typed exceptions: `ConfigError` naming
/// the option for a name or config problem, `StoreError` for the rest.
fn shm_error(py: Python<'_>, store: &str, e: ShmError) -> PyErr {
    let reason = match &e {
        ShmError::Full { .. } => "full",
        ShmError::BuildMismatch { .. } => "build_mismatch",
        ShmError::PermissionDenied { .. } => "permission_denied",
        ShmError::Os { .. } => "os",
        _ => {
            let text = e.to_string();
            let field = e.field();
            let reason = text
                .strip_prefix(&format!("{field}: "))
                .unwrap_or(&text)
                .to_owned();
            return config_error(user_field(field), &reason);
        }
    };
    match STORE_ERROR.import(py, "fusewire._errors", "StoreError") {
        Ok(ty) => match ty.call1((store, reason, e.to_string())) {
            Ok(exc) => PyErr::from_value(exc),
            Err(err) => err,
        },
        Err(err) => err,
    }
}

/// A plain config field as this door's keyword.
fn user_field(field: &'static str) -> &'static str {
    match field {
        "period" | "tokens" => "rate",
        "limit" => "max_concurrent",
        "token_ratio_milli" => "token_ratio",
        "failure_rate_ppm" => "failure_rate",
        "slow_call_rate_ppm" => "slow_call_rate",
        "window" => "window_duration",
        f if f.starts_with("open_backoff") => "open_duration",
        f => f,
    }
}

/// Named shared memory for the policies of the processes of one machine.
/// Public API: `fusewire.HostStore`.
#[pyclass(module = "fusewire._native", frozen)]
pub struct HostStore {
    region: Arc<Region>,
    size: usize,
}

#[pymethods]
impl HostStore {
    #[new]
    #[pyo3(signature = (name, *, size=Int::of(DEFAULT_SIZE)), text_signature = "(name, *, size=1048576)")]
    fn new(py: Python<'_>, name: &Bound<'_, PyAny>, size: Int<usize>) -> PyResult<Self> {
        let name: String = name
            .cast::<PyString>()
            .map_err(|_| PyTypeError::new_err("name: expected the store's name, a string"))?
            .to_str()?
            .to_owned();
        let size = size.get("size")?;
        let region = Region::open(&name, size).map_err(|e| shm_error(py, &name, e))?;
        Ok(Self { region, size })
    }

    /// Pickles by name: the other process maps the same region.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        let me = slf.get();
        let kwargs = PyDict::new(py);
        kwargs.set_item("size", me.size)?;
        let rebuild = py.import("fusewire._wrap")?.getattr("_rebuild")?;
        (rebuild, (slf.get_type(), (me.region.name(),), kwargs))
            .into_pyobject(py)
            .map(Bound::into_any)
    }

    /// The store's name (the region is `/dev/shm/fusewire.<name>`).
    #[getter]
    fn name(&self) -> &str {
        self.region.name()
    }

    /// The region's size in bytes.
    #[getter]
    fn size(&self) -> usize {
        self.region.len()
    }

    /// Policies bound in the region so far (by every process).
    #[getter]
    fn entries(&self) -> usize {
        self.region.entries()
    }

    /// Removes the region's name (processes that have it mapped keep it;
    /// the next `HostStore(name)` makes a new, empty one).
    #[staticmethod]
    fn unlink(py: Python<'_>, name: &str) -> PyResult<()> {
        Region::unlink(name).map_err(|e| shm_error(py, name, e))
    }

    /// The backend of policy `name` (the plumbing's protocol).
    fn _bind<'py>(
        &self,
        py: Python<'py>,
        kind: &str,
        name: &str,
        config: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let kind = Kind::from_name(kind).ok_or_else(|| {
            PyValueError::new_err(format!(
                "kind: expected 'breaker', 'bucket', 'bulkhead' or 'budget', got {kind:?}"
            ))
        })?;
        let config = config_from_dict(kind, config)?;
        let handle = self
            .region
            .bind(name, &config)
            .map_err(|e| shm_error(py, self.region.name(), e))?;
        Ok(match handle {
            Handle::Bucket(h) => Bound::new(py, HostBucket { h })?.into_any(),
            Handle::Bulkhead(h) => Bound::new(py, HostBulkhead { h })?.into_any(),
            Handle::Budget(h) => Bound::new(py, HostBudget { h })?.into_any(),
            Handle::Breaker(h) => Bound::new(py, HostBreaker { h })?.into_any(),
        })
    }

    fn __repr__(&self) -> String {
        format!("HostStore({:?})", self.region.name())
    }
}

/// A config dict (as `_bind` receives it) back in plain form.
pub(crate) fn config_from_dict(kind: Kind, d: &Bound<'_, PyAny>) -> PyResult<Config> {
    let d = d
        .cast::<PyDict>()
        .map_err(|_| PyTypeError::new_err("config: expected a dict"))?;
    let mut owned: Vec<(String, Option<Result<u64, String>>)> = Vec::with_capacity(d.len());
    for (k, v) in d.iter() {
        let k: String = k.extract()?;
        let v = if v.is_none() {
            None
        } else if let Ok(s) = v.cast::<PyString>() {
            Some(Err(s.to_str()?.to_owned()))
        } else {
            Some(Ok(v.extract::<u64>().map_err(|_| {
                config_error(&k, "must be a non-negative integer, a string or None")
            })?))
        };
        owned.push((k, v));
    }
    let pairs = owned.iter().map(|(k, v)| {
        (
            k.as_str(),
            match v {
                None => PlainValue::Off,
                Some(Ok(n)) => PlainValue::Int(*n),
                Some(Err(w)) => PlainValue::Word(w.as_str()),
            },
        )
    });
    Config::from_pairs(kind, pairs).map_err(|e| config_error(e.field, &e.reason))
}

/// A token bucket in a host store.
#[pyclass(module = "fusewire._native", frozen)]
pub struct HostBucket {
    h: Shared<fusewire::SharedBucket>,
}

impl HostBucket {
    /// 0 when granted, else the ns to wait; `ValueError` above the burst.
    pub fn take_ticks(&self, n: u32) -> PyResult<u64> {
        match self.h.try_acquire(n, now()) {
            Ok(()) => Ok(0),
            Err(Refused::Denied(d)) => Ok(d.retry_after.max(1)),
            Err(Refused::ExceedsBurst { burst }) => Err(PyValueError::new_err(format!(
                "n: asks for {n} tokens, more than the burst of {burst}: never grantable"
            ))),
        }
    }
}

#[pymethods]
impl HostBucket {
    fn take(&self, n: Int<u32>) -> PyResult<u64> {
        self.take_ticks(n.get("n")?)
    }
    fn refund(&self, n: Int<u32>) -> PyResult<()> {
        self.h.refund(n.get("n")?, now());
        Ok(())
    }
    fn available(&self) -> u32 {
        self.h.available(now())
    }
}

fn priority(name: &str) -> PyResult<Priority> {
    match name {
        "critical" => Ok(Priority::Critical),
        "normal" => Ok(Priority::Normal),
        "sheddable" => Ok(Priority::Sheddable),
        _ => Err(PyValueError::new_err(
            "priority: expected 'critical', 'normal' or 'sheddable'",
        )),
    }
}

/// A bulkhead in a host store.
#[pyclass(module = "fusewire._native", frozen)]
pub struct HostBulkhead {
    h: Shared<fusewire::SharedBulkhead>,
}

impl HostBulkhead {
    /// A slot, or `None` when full.
    pub fn take(&self, p: Priority) -> Option<Slot> {
        self.h.try_acquire(p, now()).ok()
    }

    /// Hands a slot back.
    pub fn give_back(&self, slot: Slot) -> Result<(), ReleaseError> {
        self.h.release(slot, now())
    }
}

#[pymethods]
impl HostBulkhead {
    fn acquire(&self, priority: &str) -> PyResult<Option<u64>> {
        Ok(self.take(self::priority(priority)?).map(Slot::into_raw))
    }
    fn release(&self, slot: u64) -> &'static str {
        match self.give_back(Slot::from_raw(slot)) {
            Ok(()) => "released",
            Err(ReleaseError::Expired) => "expired",
            Err(_) => "not_held",
        }
    }
    fn in_use(&self) -> u32 {
        self.h.expire(now());
        self.h.in_use()
    }
    fn available(&self) -> u32 {
        self.h.expire(now());
        self.h.available()
    }
    fn available_for(&self, priority: &str) -> PyResult<u32> {
        self.h.expire(now());
        Ok(self.h.available_for(self::priority(priority)?))
    }
    fn extra_releases(&self) -> u64 {
        self.h.extra_releases()
    }
    fn expired_releases(&self) -> u64 {
        self.h.expired_releases()
    }
    fn reclaimed(&self) -> u64 {
        self.h.reclaimed()
    }
}

/// A retry budget in a host store.
#[pyclass(module = "fusewire._native", frozen)]
pub struct HostBudget {
    h: Shared<fusewire::SharedBudget>,
}

#[pymethods]
impl HostBudget {
    fn record_success(&self) {
        self.h.record_success();
    }
    fn record_failure(&self) {
        self.h.record_failure();
    }
    fn try_retry(&self) -> bool {
        self.h.try_retry().is_ok()
    }
    fn can_retry(&self) -> bool {
        self.h.can_retry()
    }
    fn tokens_milli(&self) -> u64 {
        self.h.tokens_milli()
    }
    fn throttled(&self) -> u64 {
        self.h.throttled()
    }
}

/// A circuit breaker in a host store.
#[pyclass(module = "fusewire._native", frozen)]
pub struct HostBreaker {
    h: BreakerHandle,
}

fn moved<'py>(py: Python<'py>, t: Option<Transition>) -> PyResult<Bound<'py, PyAny>> {
    match t {
        None => Ok(py.None().into_bound(py)),
        Some(t) => Ok(PyTuple::new(
            py,
            [state_name(t.from), state_name(t.to), reason_name(t.reason)],
        )?
        .into_any()),
    }
}

/// What a host breaker's admission gives the policy.
pub enum Admission {
    Admitted {
        raw: u64,
        moved: Option<Transition>,
    },
    Refused {
        retry_after: u64,
        state: State,
        moved: Option<Transition>,
    },
}

impl HostBreaker {
    /// Asks to make a call now.
    pub fn admit(&self) -> Admission {
        match self.h.try_acquire(now()) {
            Ok(mut p) => {
                let moved = p.transition.take();
                Admission::Admitted {
                    raw: self.h.permit_into_raw(p),
                    moved,
                }
            }
            Err(r) => Admission::Refused {
                retry_after: r.retry_after,
                state: r.state,
                moved: r.transition,
            },
        }
    }

    /// Settles a raw permit (`None`: released unrecorded).
    pub fn settle(&self, raw: u64, outcome: Option<Outcome>, duration: u64) -> Option<Transition> {
        let p = Permit::from_raw(raw);
        match outcome {
            Some(o) => self.h.record(p, o, duration, now()),
            None => self.h.release(p, now()),
        }
    }
}

#[pymethods]
impl HostBreaker {
    fn try_acquire<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        match self.admit() {
            Admission::Admitted { raw, moved: m } => {
                (true, raw, "closed", moved(py, m)?).into_pyobject(py)
            }
            Admission::Refused {
                retry_after,
                state,
                moved: m,
            } => (false, retry_after, state_name(state), moved(py, m)?).into_pyobject(py),
        }
    }

    fn record<'py>(
        &self,
        py: Python<'py>,
        permit: u64,
        outcome: &str,
        duration: u64,
    ) -> PyResult<Bound<'py, PyAny>> {
        let o = match outcome {
            "success" => Outcome::Success,
            "failure" => Outcome::Failure,
            "timeout" => Outcome::Timeout,
            "ignored" => Outcome::Ignored,
            _ => {
                return Err(PyValueError::new_err(
                    "outcome: expected 'success', 'failure', 'timeout' or 'ignored'",
                ))
            }
        };
        moved(py, self.settle(permit, Some(o), duration))
    }

    fn release<'py>(&self, py: Python<'py>, permit: u64) -> PyResult<Bound<'py, PyAny>> {
        moved(py, self.settle(permit, None, 0))
    }

    fn state<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        let m = self.h.poll(now());
        (state_name(self.h.state()), moved(py, m)?).into_pyobject(py)
    }

    fn host<'py>(&self, py: Python<'py>, op: &str) -> PyResult<Bound<'py, PyAny>> {
        let at = now();
        let m = match op {
            "poll" => self.h.poll(at),
            "trip" => self.h.trip(at),
            "close" => self.h.close(at),
            "force_open" => self.h.force_open(at),
            "disable" => self.h.disable(at),
            "reset" => self.h.reset(at),
            "half_open" => {
                return Err(PyValueError::new_err(
                    "half_open: a breaker in a host store moves to half-open when its open \
                     time is over; trip() or close() it instead",
                ))
            }
            _ => return Err(PyValueError::new_err(format!("op: unknown move {op:?}"))),
        };
        moved(py, m)
    }

    fn snapshot<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let at = now();
        snapshot_dict(py, &self.h.snapshot(at), at)
    }
}
