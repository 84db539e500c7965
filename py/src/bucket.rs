//! `TokenBucket`: the core's GCRA token bucket, in seconds.

use std::num::NonZeroU32;
use std::sync::Mutex;

use fusewire::{Bucket, Rate, Refused};
use pyo3::exceptions::PyValueError;
use pyo3::gc::PyVisit;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};
use pyo3::PyTraverseError;

use crate::clock::{positive_duration, seconds, Clock};
use crate::errors::{config_error, from_core, rate_limited};
use crate::host::HostBucket;
use crate::int::Int;
use crate::store::Backend;
use fusewire_store::config::Config;

/// The native token bucket. Public API: `fusewire.TokenBucket`.
#[pyclass(module = "fusewire._native", frozen, subclass)]
pub struct TokenBucket {
    core: Mutex<Bucket>,
    clock: Clock,
    /// The store's backend when built with `store=` (see [`crate::store`]).
    backend: Backend,
}

fn rate(tokens: u32, per: f64) -> PyResult<Rate> {
    let period = positive_duration("per", per)?;
    Rate::new(tokens, period).map_err(|e| {
        from_core(e, &|f| {
            if f == "tokens" {
                "rate".into()
            } else {
                "per".into()
            }
        })
    })
}

impl TokenBucket {
    fn lock(&self) -> std::sync::MutexGuard<'_, Bucket> {
        self.core.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes `n` tokens: `Ok(0)` when granted, else the ticks to wait.
    fn take_ticks(&self, py: Python<'_>, n: u32) -> PyResult<u64> {
        if let Some(b) = &self.backend {
            let b = b.bind(py);
            if let Ok(h) = b.cast::<HostBucket>() {
                return h.get().take_ticks(n);
            }
            return b.call_method1(pyo3::intern!(py, "take"), (n,))?.extract();
        }
        let now = self.clock.now(py)?;
        let result = self.lock().try_acquire(n, now);
        match result {
            Ok(()) => Ok(0),
            Err(Refused::Denied(d)) => Ok(d.retry_after.max(1)),
            Err(Refused::ExceedsBurst { burst }) => Err(PyValueError::new_err(format!(
                "n: asks for {n} tokens, more than the burst of {burst}: never grantable"
            ))),
        }
    }

    pub fn acquire_impl(&self, py: Python<'_>, n: u32) -> PyResult<()> {
        match self.take_ticks(py, n)? {
            0 => Ok(()),
            wait => Err(rate_limited(py, seconds(wait))),
        }
    }
}

#[pymethods]
impl TokenBucket {
    #[new]
    #[pyo3(signature = (rate, per=1.0, *, burst=None, clock=None, store=None, name=None))]
    fn new(
        py: Python<'_>,
        rate: Int<u32>,
        per: f64,
        burst: Option<Int<u32>>,
        clock: Option<Bound<'_, PyAny>>,
        store: Option<Bound<'_, PyAny>>,
        name: Option<Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let rate = rate.get("rate")?;
        let burst = match burst {
            Some(b) => Some(b.get("burst")?),
            None => None,
        };
        let r = self::rate(rate, per)?;
        let burst = NonZeroU32::new(burst.unwrap_or(rate))
            .ok_or_else(|| config_error("burst", "must not be zero"))?;
        let name = crate::store::name_arg(name.as_ref())?;
        let backend = crate::store::bind(
            py,
            store.as_ref(),
            name.as_deref(),
            crate::store::clock_given(clock.as_ref()),
            || Config::bucket(burst.get(), r.tokens(), r.period()),
        )?;
        Ok(Self {
            core: Mutex::new(Bucket::new(burst, r)),
            clock: Clock::from_arg(clock)?,
            backend,
        })
    }

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        self.clock.traverse(&visit)
    }

    /// The backend's coroutine methods when it has them (`RedisStore`), for
    /// the async paths; `None` in process or in a host store.
    #[getter]
    fn _abackend(&self, py: Python<'_>) -> Option<Py<PyAny>> {
        crate::store::async_backend(py, &self.backend)
    }

    /// `n` checked as `take(n)` checks it (the async paths' arguments).
    fn _n(&self, n: Int<u32>) -> PyResult<u32> {
        n.get("n")
    }

    /// Takes `n` tokens if they are there now; says whether it did.
    #[pyo3(signature = (n=Int::of(1)), text_signature = "($self, /, n=1)")]
    fn try_acquire(&self, py: Python<'_>, n: Int<u32>) -> PyResult<bool> {
        Ok(self.take_ticks(py, n.get("n")?)? == 0)
    }

    /// Takes `n` tokens now or raises `RateLimited` (with `retry_after`).
    #[pyo3(signature = (n=Int::of(1)), text_signature = "($self, /, n=1)")]
    fn acquire(&self, py: Python<'_>, n: Int<u32>) -> PyResult<()> {
        self.acquire_impl(py, n.get("n")?)
    }

    /// Takes `n` tokens if they are there now: 0.0 when granted, else
    /// takes nothing and returns the seconds until they will be (at least
    /// 1 ns). ValueError when `n` is above the burst (never grantable).
    #[pyo3(signature = (n=Int::of(1)), text_signature = "($self, /, n=1)")]
    fn take(&self, py: Python<'_>, n: Int<u32>) -> PyResult<f64> {
        Ok(seconds(self.take_ticks(py, n.get("n")?)?))
    }

    /// Takes one token, then calls `func(*args, **kwargs)`; `RateLimited`
    /// when there is none.
    #[pyo3(signature = (func, /, *args, **kwargs))]
    fn call<'py>(
        &self,
        py: Python<'py>,
        func: &Bound<'py, PyAny>,
        args: &Bound<'py, PyTuple>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.acquire_impl(py, 1)?;
        func.call(args, kwargs)
    }

    /// Gives back `n` tokens taken for work that did not happen.
    #[pyo3(signature = (n=Int::of(1)), text_signature = "($self, /, n=1)")]
    fn refund(&self, py: Python<'_>, n: Int<u32>) -> PyResult<()> {
        let n = n.get("n")?;
        if let Some(b) = &self.backend {
            b.bind(py).call_method1(pyo3::intern!(py, "refund"), (n,))?;
            return Ok(());
        }
        let now = self.clock.now(py)?;
        self.lock().refund(n, now);
        Ok(())
    }

    /// Changes the rate, keeping the debt already owed.
    #[pyo3(signature = (rate, per=1.0))]
    fn set_rate(&self, py: Python<'_>, rate: Int<u32>, per: f64) -> PyResult<()> {
        let rate = rate.get("rate")?;
        let r = self::rate(rate, per)?;
        if self.backend.is_some() {
            return Err(config_error(
                "rate",
                "cannot change on a bucket in a store: every process shares its config",
            ));
        }
        let now = self.clock.now(py)?;
        self.lock()
            .set_rate(r.tokens(), r.period(), now)
            .map_err(|e| {
                from_core(e, &|f| {
                    if f == "tokens" {
                        "rate".into()
                    } else {
                        "per".into()
                    }
                })
            })
    }

    /// Tokens available now.
    #[getter]
    fn available(&self, py: Python<'_>) -> PyResult<u32> {
        if let Some(b) = &self.backend {
            return b
                .bind(py)
                .call_method0(pyo3::intern!(py, "available"))?
                .extract();
        }
        let now = self.clock.now(py)?;
        Ok(self.lock().available(now))
    }

    #[getter]
    fn burst(&self) -> u32 {
        self.lock().burst().get()
    }
}
