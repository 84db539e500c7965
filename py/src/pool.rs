//! `Pool`: the core's endpoint pool (`fusewire::Pool`): power-of-two-choices
//! picks, Envoy-style outlier ejection, failover under a retry budget. The
//! package's `fusewire.Pool` adds `call` / `call_async` on top.

use std::sync::Mutex;

use fusewire::{CallResult, EjectReason, Pick, PoolConfig, PoolEvent};
use pyo3::gc::PyVisit;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyDict;
use pyo3::PyTraverseError;

use crate::clock::{duration, seconds, Clock};
use crate::errors::{config_error, from_core};
use crate::int::Int;
use crate::retry::RetryBudget;

/// Most endpoints one pool holds.
const CAPACITY: usize = 256;

static URANDOM: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static POOL_EVENT: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

fn reason_name(r: EjectReason) -> &'static str {
    match r {
        EjectReason::ConsecutiveFailures => "consecutive_failures",
        EjectReason::ConsecutiveGatewayFailures => "consecutive_gateway_failures",
        EjectReason::SuccessRate => "success_rate",
    }
}

fn result_of(name: &str) -> PyResult<CallResult> {
    match name {
        "success" => Ok(CallResult::Success),
        "failure" => Ok(CallResult::Failure),
        "gateway_failure" => Ok(CallResult::GatewayFailure),
        _ => Err(config_error(
            "result",
            "must be one of 'success', 'failure', 'gateway_failure'",
        )),
    }
}

/// The endpoint chosen for one call. Settle it with `pool.record(pick,
/// result)` or `pool.release(pick)`.
#[pyclass(module = "fusewire._native", frozen)]
pub struct PoolPick {
    /// The endpoint's index in the pool.
    #[pyo3(get)]
    index: u16,
    /// Whether every endpoint was ejected or unusable, so the pick ignored
    /// health (Envoy's panic mode).
    #[pyo3(get)]
    panic: bool,
    /// The endpoint itself (as given to the pool).
    #[pyo3(get)]
    endpoint: Py<PyAny>,
}

#[pymethods]
impl PoolPick {
    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        visit.call(&self.endpoint)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "<fusewire.PoolPick {} {}{}>",
            self.index,
            self.endpoint.bind(py).repr()?,
            if self.panic { " panic" } else { "" }
        ))
    }
}

/// The native pool. Public API: `fusewire.Pool`.
#[pyclass(module = "fusewire._native", frozen, subclass)]
pub struct Pool {
    core: Mutex<fusewire::Pool<CAPACITY>>,
    endpoints: Vec<Py<PyAny>>,
    budget: Option<Py<RetryBudget>>,
    listeners: Mutex<Vec<Py<PyAny>>>,
    clock: Clock,
}

impl Pool {
    fn lock(&self) -> std::sync::MutexGuard<'_, fusewire::Pool<CAPACITY>> {
        self.core.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn pick_of(&self, py: Python<'_>, p: Pick) -> PoolPick {
        PoolPick {
            index: p.endpoint,
            panic: p.panic,
            endpoint: self.endpoints[usize::from(p.endpoint)].clone_ref(py),
        }
    }

    /// A core event as a `fusewire.PoolEvent`, after telling the listeners.
    fn emit<'py>(&self, py: Python<'py>, ev: PoolEvent) -> PyResult<Bound<'py, PyAny>> {
        let make = POOL_EVENT.import(py, "fusewire._types", "PoolEvent")?;
        let event = match ev {
            PoolEvent::Ejected {
                endpoint,
                reason,
                until,
            } => make.call1((
                "ejected",
                endpoint,
                self.endpoints[usize::from(endpoint)].clone_ref(py),
                reason_name(reason),
                seconds(until),
            ))?,
            PoolEvent::Returned { endpoint } => make.call1((
                "returned",
                endpoint,
                self.endpoints[usize::from(endpoint)].clone_ref(py),
                py.None(),
                py.None(),
            ))?,
        };
        let listeners: Vec<Py<PyAny>> = {
            let guard = self.listeners.lock().unwrap_or_else(|e| e.into_inner());
            guard.iter().map(|l| l.clone_ref(py)).collect()
        };
        for l in listeners {
            if let Err(e) = l.bind(py).call1((&event,)) {
                e.write_unraisable(py, Some(l.bind(py)));
            }
        }
        Ok(event)
    }

    fn index(&self, pick: &Bound<'_, PyAny>) -> PyResult<(u16, bool)> {
        if let Ok(p) = pick.cast::<PoolPick>() {
            let p = p.get();
            return Ok((p.index, p.panic));
        }
        let i: usize = pick.extract::<Int<usize>>()?.get("pick")?;
        if i >= self.endpoints.len() {
            return Err(config_error("pick", "no endpoint has this index"));
        }
        Ok((i as u16, false))
    }
}

#[pymethods]
impl Pool {
    #[new]
    #[pyo3(signature = (
        endpoints,
        *,
        consecutive_failures=Int::of(5),
        consecutive_gateway_failures=Int::of(5),
        interval=10.0,
        base_ejection_time=30.0,
        max_ejection_time=300.0,
        ejection_jitter=0.0,
        max_ejection_percent=Int::of(10),
        success_rate_minimum_hosts=Int::of(5),
        success_rate_request_volume=Int::of(100),
        success_rate_stdev_factor=1.9,
        seed=None,
        budget=None,
        listeners=Vec::new(),
        clock=None,
    ),
    text_signature = "(endpoints, *, consecutive_failures=5, consecutive_gateway_failures=5, interval=10.0, base_ejection_time=30.0, max_ejection_time=300.0, ejection_jitter=0.0, max_ejection_percent=10, success_rate_minimum_hosts=5, success_rate_request_volume=100, success_rate_stdev_factor=1.9, seed=None, budget=None, listeners=..., clock=None)")]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        endpoints: Vec<Py<PyAny>>,
        consecutive_failures: Int<u32>,
        consecutive_gateway_failures: Int<u32>,
        interval: f64,
        base_ejection_time: f64,
        max_ejection_time: f64,
        ejection_jitter: f64,
        max_ejection_percent: Int<u32>,
        success_rate_minimum_hosts: Int<u32>,
        success_rate_request_volume: Int<u32>,
        success_rate_stdev_factor: f64,
        seed: Option<Int<u64>>,
        budget: Option<Py<RetryBudget>>,
        listeners: Vec<Py<PyAny>>,
        clock: Option<Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        if budget.as_ref().is_some_and(|b| b.get().is_stored()) {
            return Err(crate::errors::config_error(
                "budget",
                "a RetryBudget in a store cannot be a Pool's budget yet: give the pool its own",
            ));
        }
        if endpoints.len() > CAPACITY {
            return Err(config_error(
                "endpoints",
                &format!("at most {CAPACITY} endpoints in one pool"),
            ));
        }
        if success_rate_stdev_factor.is_nan()
            || !(0.0..=4_294_967.0).contains(&success_rate_stdev_factor)
        {
            return Err(config_error(
                "success_rate_stdev_factor",
                "must be a number from 0 to 4294967",
            ));
        }
        let seed = match seed {
            Some(s) => s.get("seed")?,
            None => {
                let bytes: [u8; 8] = URANDOM
                    .import(py, "os", "urandom")?
                    .call1((8,))?
                    .extract()?;
                u64::from_le_bytes(bytes)
            }
        };
        for l in &listeners {
            if !l.bind(py).is_callable() {
                return Err(pyo3::exceptions::PyTypeError::new_err(
                    "listeners: expected callables",
                ));
            }
        }
        let config = PoolConfig {
            consecutive_failures: consecutive_failures.get("consecutive_failures")?,
            consecutive_gateway_failures: consecutive_gateway_failures
                .get("consecutive_gateway_failures")?,
            interval: duration("interval", interval)?,
            base_ejection_time: duration("base_ejection_time", base_ejection_time)?,
            max_ejection_time: duration("max_ejection_time", max_ejection_time)?,
            ejection_jitter: duration("ejection_jitter", ejection_jitter)?,
            max_ejection_percent: max_ejection_percent.get("max_ejection_percent")?,
            success_rate_minimum_hosts: success_rate_minimum_hosts
                .get("success_rate_minimum_hosts")?,
            success_rate_request_volume: success_rate_request_volume
                .get("success_rate_request_volume")?,
            success_rate_stdev_factor_milli: (success_rate_stdev_factor * 1000.0).round() as u32,
            seed,
        };
        let core = fusewire::Pool::new(config, endpoints.len()).map_err(|e| {
            from_core(e, &|f| {
                match f {
                    "success_rate_stdev_factor_milli" => "success_rate_stdev_factor",
                    other => other,
                }
                .to_owned()
            })
        })?;
        Ok(Self {
            core: Mutex::new(core),
            endpoints,
            budget,
            listeners: Mutex::new(listeners),
            clock: Clock::from_arg(clock)?,
        })
    }

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        for e in &self.endpoints {
            visit.call(e)?;
        }
        visit.call(&self.budget)?;
        if let Ok(ls) = self.listeners.try_lock() {
            for l in ls.iter() {
                visit.call(l)?;
            }
        }
        self.clock.traverse(&visit)
    }

    fn __len__(&self) -> usize {
        self.endpoints.len()
    }

    /// The endpoints, as given.
    #[getter]
    fn endpoints(&self, py: Python<'_>) -> Vec<Py<PyAny>> {
        self.endpoints.iter().map(|e| e.clone_ref(py)).collect()
    }

    /// The retry budget failovers spend, if one was given.
    #[getter]
    fn budget(&self, py: Python<'_>) -> Option<Py<RetryBudget>> {
        self.budget.as_ref().map(|b| b.clone_ref(py))
    }

    /// Picks an endpoint for a call (another than index `avoid` when
    /// there is one healthy).
    #[pyo3(signature = (avoid=None))]
    fn pick(&self, py: Python<'_>, avoid: Option<&Bound<'_, PyAny>>) -> PyResult<PoolPick> {
        let avoid = match avoid {
            Some(a) if !a.is_none() => Some(self.index(a)?.0),
            _ => None,
        };
        let now = self.clock.now(py)?;
        let p = self.lock().pick_avoiding(now, avoid);
        Ok(self.pick_of(py, p))
    }

    /// A retry's endpoint after `previous` failed: spends a retry from the
    /// pool's `budget` (when it has one), then picks another endpoint.
    /// `None` when the budget says retries must stop.
    fn failover(&self, py: Python<'_>, previous: &Bound<'_, PyAny>) -> PyResult<Option<PoolPick>> {
        let (prev, _) = self.index(previous)?;
        let now = self.clock.now(py)?;
        let p = match &self.budget {
            Some(b) => {
                let mut budget = b.bind(py).get().lock();
                match self.lock().failover(now, prev, &mut budget) {
                    Ok(p) => p,
                    Err(_) => return Ok(None),
                }
            }
            None => self.lock().pick_avoiding(now, Some(prev)),
        };
        Ok(Some(self.pick_of(py, p)))
    }

    /// Settles a pick (or an endpoint index, for passive health checks)
    /// with how its call ended: `"success"`, `"failure"` or
    /// `"gateway_failure"` (502/503/504). Returns the ejection it caused.
    fn record<'py>(
        &self,
        py: Python<'py>,
        pick: &Bound<'py, PyAny>,
        result: &str,
    ) -> PyResult<Option<Bound<'py, PyAny>>> {
        let (endpoint, panic) = self.index(pick)?;
        let result = result_of(result)?;
        let now = self.clock.now(py)?;
        let ev = self.lock().record(Pick { endpoint, panic }, result, now);
        ev.map(|e| self.emit(py, e)).transpose()
    }

    /// Hands back a pick whose call never ran: nothing counted.
    fn release(&self, pick: &Bound<'_, PyAny>) -> PyResult<()> {
        let (endpoint, panic) = self.index(pick)?;
        self.lock().release(Pick { endpoint, panic });
        Ok(())
    }

    /// Applies what time alone causes (success-rate ejections at each
    /// interval, ejections that ended) and returns those events.
    fn poll<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyAny>>> {
        let now = self.clock.now(py)?;
        let events = self.lock().poll(now);
        events.into_iter().map(|e| self.emit(py, e)).collect()
    }

    /// Endpoint `index`'s counters: `outstanding`, `consecutive_failures`,
    /// `consecutive_gateway_failures`, `successes` and `calls` (this
    /// interval), `ejections`, `ejected_until` (seconds of the clock; 0
    /// when not ejected), `picked`, `ejected` (now).
    fn stats<'py>(&self, py: Python<'py>, index: Int<usize>) -> PyResult<Bound<'py, PyDict>> {
        let i = index.get("index")?;
        let now = self.clock.now(py)?;
        let (s, ejected) = {
            let core = self.lock();
            let s = core
                .stats(i)
                .ok_or_else(|| config_error("index", "no endpoint has this index"))?;
            (s, core.is_ejected(i, now))
        };
        let d = PyDict::new(py);
        d.set_item("outstanding", s.outstanding)?;
        d.set_item("consecutive_failures", s.consecutive_failures)?;
        d.set_item(
            "consecutive_gateway_failures",
            s.consecutive_gateway_failures,
        )?;
        d.set_item("successes", s.successes)?;
        d.set_item("calls", s.calls)?;
        d.set_item("ejections", s.ejections)?;
        d.set_item("ejected_until", seconds(s.ejected_until))?;
        d.set_item("picked", s.picked)?;
        d.set_item("ejected", ejected)?;
        Ok(d)
    }

    /// Adds a listener called with a `PoolEvent` after each ejection or return.
    fn add_listener(&self, py: Python<'_>, listener: Py<PyAny>) -> PyResult<()> {
        if !listener.bind(py).is_callable() {
            return Err(pyo3::exceptions::PyTypeError::new_err(
                "listener: expected a callable",
            ));
        }
        self.listeners
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(listener);
        Ok(())
    }
}
