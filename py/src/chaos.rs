//! `Chaos`: the core's seeded fault, latency, substitute and behaviour
//! injection (`fusewire::SharedChaos`). Every decision is the core's pure
//! function of `(seed, call index)`; the package's `fusewire.Chaos` applies
//! it around a call (sleeps, raises, substitutes).

use fusewire::{ChaosConfig, ChaosOutcome, Injection, SharedChaos};
use pyo3::gc::PyVisit;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::PyTraverseError;

use crate::breaker::percent;
use crate::clock::{duration, seconds};
use crate::errors::{config_error, from_core};
use crate::int::Int;

static URANDOM: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// The native chaos policy. Public API: `fusewire.Chaos`.
#[pyclass(module = "fusewire._native", frozen, subclass)]
pub struct Chaos {
    core: SharedChaos,
    fault: Option<Py<PyAny>>,
    substitute: Option<Py<PyAny>>,
    behavior: Option<Py<PyAny>>,
    sleep: Option<Py<PyAny>>,
    async_sleep: Option<Py<PyAny>>,
}

/// An injection as Python sees it: `(delay seconds, outcome, behavior)`.
type Decision = (f64, &'static str, bool);

fn decision(i: Injection) -> Decision {
    let outcome = match i.outcome {
        ChaosOutcome::Pass => "pass",
        ChaosOutcome::Fault => "fault",
        ChaosOutcome::Substitute => "substitute",
    };
    (seconds(i.delay), outcome, i.behavior)
}

fn callable(field: &str, f: &Option<Py<PyAny>>, py: Python<'_>) -> PyResult<()> {
    match f {
        Some(f) if !f.bind(py).is_callable() => Err(pyo3::exceptions::PyTypeError::new_err(
            format!("{field}: expected a callable"),
        )),
        _ => Ok(()),
    }
}

#[pymethods]
impl Chaos {
    #[new]
    #[pyo3(signature = (
        *,
        fault_rate=0.0,
        latency_rate=0.0,
        latency_min=0.0,
        latency_max=0.0,
        substitute_rate=0.0,
        behavior_rate=0.0,
        fault=None,
        substitute=None,
        behavior=None,
        seed=None,
        enabled=false,
        sleep=None,
        async_sleep=None,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        fault_rate: f64,
        latency_rate: f64,
        latency_min: f64,
        latency_max: f64,
        substitute_rate: f64,
        behavior_rate: f64,
        fault: Option<Py<PyAny>>,
        substitute: Option<Py<PyAny>>,
        behavior: Option<Py<PyAny>>,
        seed: Option<Int<u64>>,
        enabled: bool,
        sleep: Option<Py<PyAny>>,
        async_sleep: Option<Py<PyAny>>,
    ) -> PyResult<Self> {
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
        let config = ChaosConfig {
            fault_rate: percent("fault_rate", fault_rate)?,
            latency_rate: percent("latency_rate", latency_rate)?,
            latency_min: duration("latency_min", latency_min)?,
            latency_max: duration("latency_max", latency_max)?,
            substitute_rate: percent("substitute_rate", substitute_rate)?,
            behavior_rate: percent("behavior_rate", behavior_rate)?,
            seed,
            enabled,
        };
        if config.substitute_rate.ppm() > 0 && substitute.is_none() {
            return Err(config_error(
                "substitute",
                "is required when substitute_rate is above 0 (a callable taking the call's arguments)",
            ));
        }
        if config.behavior_rate.ppm() > 0 && behavior.is_none() {
            return Err(config_error(
                "behavior",
                "is required when behavior_rate is above 0 (a callable run before the call)",
            ));
        }
        for (field, f) in [
            ("substitute", &substitute),
            ("behavior", &behavior),
            ("sleep", &sleep),
            ("async_sleep", &async_sleep),
        ] {
            callable(field, f, py)?;
        }
        let core = SharedChaos::new(config).map_err(|e| from_core(e, &|f| f.to_owned()))?;
        Ok(Self {
            core,
            fault,
            substitute,
            behavior,
            sleep,
            async_sleep,
        })
    }

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        visit.call(&self.fault)?;
        visit.call(&self.substitute)?;
        visit.call(&self.behavior)?;
        visit.call(&self.sleep)?;
        visit.call(&self.async_sleep)
    }

    /// The next call's injection: `(delay in seconds, "pass" | "fault" |
    /// "substitute", whether to run the behaviour)`. Switched off: nothing,
    /// and the call count does not move.
    fn inject(&self) -> Decision {
        decision(self.core.inject())
    }

    /// The injection for call number `index` (a request id, to replay a
    /// run): the same answer in every door for the same seed. Switched
    /// off: nothing.
    fn decide(&self, index: Int<u64>) -> PyResult<Decision> {
        Ok(decision(self.core.decide(index.get("index")?)))
    }

    /// Switches injection on or off at run time.
    fn set_enabled(&self, on: bool) {
        self.core.set_enabled(on);
    }

    /// Whether injection is on.
    #[getter]
    fn enabled(&self) -> bool {
        self.core.enabled()
    }

    /// Calls decided while on.
    #[getter]
    fn calls(&self) -> u64 {
        self.core.calls()
    }

    /// The seed every decision is drawn from (`os.urandom` unless given):
    /// pass it back as `seed=` to replay a run.
    #[getter]
    fn seed(&self) -> u64 {
        self.core.config().seed
    }

    /// `(fault, substitute, behavior, sleep, async_sleep)` as given.
    #[getter]
    #[allow(clippy::type_complexity)]
    fn _host(
        &self,
        py: Python<'_>,
    ) -> (
        Option<Py<PyAny>>,
        Option<Py<PyAny>>,
        Option<Py<PyAny>>,
        Option<Py<PyAny>>,
        Option<Py<PyAny>>,
    ) {
        let c = |f: &Option<Py<PyAny>>| f.as_ref().map(|f| f.clone_ref(py));
        (
            c(&self.fault),
            c(&self.substitute),
            c(&self.behavior),
            c(&self.sleep),
            c(&self.async_sleep),
        )
    }

    fn __repr__(&self) -> String {
        let c = self.core.config();
        format!(
            "<fusewire.Chaos fault_rate={} latency_rate={} substitute_rate={} behavior_rate={} enabled={} calls={}>",
            c.fault_rate.as_percent(),
            c.latency_rate.as_percent(),
            c.substitute_rate.as_percent(),
            c.behavior_rate.as_percent(),
            self.core.enabled(),
            self.core.calls()
        )
    }
}
