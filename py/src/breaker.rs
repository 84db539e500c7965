//! `Breaker`: the core circuit breaker behind `fusewire.CircuitBreaker`.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

use fusewire::{
    BreakerConfig, Comparison, DwellExpiry, HalfOpenRule, Outcome, Permit, RateBasis, Reason,
    State, TimeWindow, Transition,
};
use pyo3::gc::PyVisit;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyString, PyTuple};
use pyo3::PyTraverseError;

use crate::backoff::Backoff;
use crate::blocks::{Block, Blocks, Exit};
use crate::clock::{duration, positive_duration, seconds, Clock};
use crate::errors::{circuit_open, config_error, from_core};
use crate::host::{Admission, HostBreaker};
use crate::int::Int;
use crate::matcher::{is_exception, Matcher};
use crate::store::Backend;
use crate::window::{AnyWindow, CountWindow, MAX_BUCKETS};

type Core = fusewire::Breaker<AnyWindow>;

pub fn state_name(s: State) -> &'static str {
    match s {
        State::Closed => "closed",
        State::Open => "open",
        State::HalfOpen => "half_open",
        State::ForcedOpen => "forced_open",
        State::Disabled => "disabled",
    }
}

pub(crate) fn reason_name(r: Reason) -> &'static str {
    match r {
        Reason::FailureRate => "failure_rate",
        Reason::SlowCallRate => "slow_call_rate",
        Reason::ConsecutiveFailures => "consecutive_failures",
        Reason::OpenElapsed => "open_elapsed",
        Reason::ProbesPassed => "probes_passed",
        Reason::ProbesFailed => "probes_failed",
        Reason::DwellExpired => "dwell_expired",
        Reason::Host => "host",
    }
}

/// A rate keyword in percent (0 to 100) as the core's `Ratio`.
pub(crate) fn percent(field: &str, p: f64) -> PyResult<fusewire::Ratio> {
    fusewire::Ratio::from_percent(p).ok_or_else(|| {
        if p.is_nan() {
            config_error(field, "is NaN")
        } else {
            config_error(field, "must be a percentage from 0 to 100")
        }
    })
}

fn choice<T: Copy>(field: &str, value: &str, options: &[(&str, T)]) -> PyResult<T> {
    options
        .iter()
        .find(|(name, _)| *name == value)
        .map(|(_, v)| *v)
        .ok_or_else(|| {
            let names: Vec<String> = options.iter().map(|(n, _)| format!("'{n}'")).collect();
            config_error(field, &format!("must be one of {}", names.join(", ")))
        })
}

/// How a call ended, as the breaker will count it.
#[derive(Clone, Copy)]
enum Ending {
    Outcome(Outcome),
    /// Cancelled or interrupted (a `BaseException` that is not an
    /// `Exception`): the permit goes back unrecorded.
    Release,
}

static STATE_CHANGE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// The native circuit breaker. Public API: `fusewire.CircuitBreaker`.
#[pyclass(module = "fusewire._native", frozen, subclass)]
pub struct Breaker {
    core: Mutex<Inner>,
    clock: Clock,
    exclude: Matcher,
    exclude_as_success: bool,
    /// A Python string made once: every refusal and transition carries it.
    name: Option<Py<PyString>>,
    listeners: Mutex<Vec<Py<PyAny>>>,
    /// Whether a success needs its own end time: the slow-call rule judges
    /// durations and a time window files outcomes by time. Otherwise the
    /// clock is read once per call (it costs more than the core call).
    timed: bool,
    /// The latest `now` handed to the core, so a reused start time never
    /// looks like the clock going backwards.
    latest: AtomicU64,
    /// The store's backend when built with `store=` (see [`crate::store`]):
    /// then every decision is the backend's and `core` only keeps the
    /// config.
    backend: Backend,
}

/// A snapshot as the dict `CircuitBreaker.snapshot()` returns (seconds
/// for times), for the in-process core and a host store's breaker alike.
pub(crate) fn snapshot_dict<'py>(
    py: Python<'py>,
    s: &fusewire::Snapshot,
    now: u64,
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("state", state_name(s.state))?;
    d.set_item("generation", s.generation)?;
    d.set_item("successes", s.counts.successes)?;
    d.set_item("failures", s.counts.failures)?;
    d.set_item("timeouts", s.counts.timeouts)?;
    d.set_item("slow", s.counts.slow)?;
    d.set_item("ignored", s.counts.ignored)?;
    d.set_item("rejected", s.counts.rejected)?;
    d.set_item("admitted", s.counts.admitted)?;
    d.set_item("refused_permits", s.refused_permits)?;
    d.set_item("permits_out", s.permits_out)?;
    d.set_item("consecutive_failures", s.consecutive_failures)?;
    d.set_item("probes_in_flight", s.probes_in_flight)?;
    d.set_item(
        "retry_after",
        if s.state == fusewire::State::Open {
            seconds(s.open_until.saturating_sub(now))
        } else {
            0.0
        },
    )?;
    d.set_item(
        "open_until",
        if s.state == fusewire::State::Open {
            seconds(s.open_until)
        } else {
            0.0
        },
    )?;
    d.set_item("since", seconds(s.since))?;
    d.set_item("reopens", s.reopens)?;
    d.set_item("clock_regressions", s.clock_regressions)?;
    Ok(d)
}

/// A permit held for a call: the in-process core's, or a store backend's
/// raw permit (an int the backend made and takes back).
enum Held {
    Core(Permit),
    Store(u64),
}

fn parse_state(name: &str) -> State {
    match name {
        "closed" => State::Closed,
        "open" => State::Open,
        "half_open" => State::HalfOpen,
        "disabled" => State::Disabled,
        _ => State::ForcedOpen,
    }
}

fn parse_reason(name: &str) -> Reason {
    match name {
        "failure_rate" => Reason::FailureRate,
        "slow_call_rate" => Reason::SlowCallRate,
        "consecutive_failures" => Reason::ConsecutiveFailures,
        "open_elapsed" => Reason::OpenElapsed,
        "probes_passed" => Reason::ProbesPassed,
        "probes_failed" => Reason::ProbesFailed,
        "dwell_expired" => Reason::DwellExpired,
        _ => Reason::Host,
    }
}

/// A transition a backend reports: `None` or `(from, to, reason)` names.
fn parse_transition(v: &Bound<'_, PyAny>) -> PyResult<Option<Transition>> {
    if v.is_none() {
        return Ok(None);
    }
    let (from, to, reason): (String, String, String) = v.extract()?;
    Ok(Some(Transition {
        from: parse_state(&from),
        to: parse_state(&to),
        reason: parse_reason(&reason),
    }))
}

fn outcome_name(o: Outcome) -> &'static str {
    match o {
        Outcome::Success => "success",
        Outcome::Failure => "failure",
        Outcome::Timeout => "timeout",
        Outcome::Ignored => "ignored",
    }
}

/// What the breaker's one lock guards: the core and the permits of open
/// `with` blocks (see [`crate::blocks`]), so a block's enter and exit each
/// take the lock once.
struct Inner {
    core: Core,
    blocks: Blocks<Held>,
}

impl std::ops::Deref for Inner {
    type Target = Core;
    fn deref(&self) -> &Core {
        &self.core
    }
}

impl std::ops::DerefMut for Inner {
    fn deref_mut(&mut self) -> &mut Core {
        &mut self.core
    }
}

impl Breaker {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // Poisoning needs a panic while locked; the core never panics. Go on
        // with the data either way rather than panic across the boundary.
        self.core.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Calls the listeners with a `StateChange`, outside every lock, and
    /// returns it (`None` when nothing moved).
    fn emit<'py>(
        &self,
        py: Python<'py>,
        t: Option<Transition>,
        at: u64,
    ) -> Option<Bound<'py, PyAny>> {
        let t = t?;
        let listeners: Vec<Py<PyAny>> = {
            let guard = self.listeners.lock().unwrap_or_else(|e| e.into_inner());
            guard.iter().map(|l| l.clone_ref(py)).collect()
        };
        let change = STATE_CHANGE
            .import(py, "fusewire._types", "_state_change")
            .and_then(|make| {
                make.call1((
                    self.name.as_ref().map(|n| n.clone_ref(py)),
                    state_name(t.from),
                    state_name(t.to),
                    reason_name(t.reason),
                    seconds(at),
                ))
            });
        let change = match change {
            Ok(c) => c,
            Err(e) => {
                e.write_unraisable(py, None);
                return None;
            }
        };
        for l in listeners {
            if let Err(e) = l.bind(py).call1((&change,)) {
                e.write_unraisable(py, Some(l.bind(py)));
            }
        }
        Some(change)
    }

    fn now(&self, py: Python<'_>) -> PyResult<u64> {
        let now = self.clock.now(py)?;
        self.latest.fetch_max(now, Ordering::Relaxed);
        Ok(now)
    }

    fn ending(&self, exc: Option<&Bound<'_, PyAny>>) -> Ending {
        match exc {
            None => Ending::Outcome(Outcome::Success),
            Some(e) if !is_exception(e) => Ending::Release,
            Some(e) if self.exclude.matches(e) => Ending::Outcome(if self.exclude_as_success {
                Outcome::Success
            } else {
                Outcome::Ignored
            }),
            Some(_) => Ending::Outcome(Outcome::Failure),
        }
    }

    fn acquire_at(&self, py: Python<'_>, now: u64) -> PyResult<Held> {
        if let Some(b) = &self.backend {
            return self.backend_acquire(py, b, now).map(Held::Store);
        }
        let result = self.lock().try_acquire(now);
        match result {
            Ok(mut permit) => {
                self.emit(py, permit.transition.take(), now);
                Ok(Held::Core(permit))
            }
            Err(rejected) => Err(self.refused(py, rejected, now)),
        }
    }

    /// A raw permit from the store's backend, or `CircuitOpenError`.
    fn backend_acquire(&self, py: Python<'_>, b: &Py<PyAny>, now: u64) -> PyResult<u64> {
        if let Ok(h) = b.bind(py).cast::<HostBreaker>() {
            // A host store's breaker: the shared core, called directly.
            return match h.get().admit() {
                Admission::Admitted { raw, moved } => {
                    self.emit(py, moved, now);
                    Ok(raw)
                }
                Admission::Refused {
                    retry_after,
                    state,
                    moved,
                } => {
                    self.emit(py, moved, now);
                    Err(circuit_open(
                        py,
                        self.name.as_ref(),
                        seconds(retry_after),
                        state,
                    ))
                }
            };
        }
        let r = b.bind(py).call_method0(pyo3::intern!(py, "try_acquire"))?;
        self.admission(py, &r, now)
    }

    /// A backend's `try_acquire` answer: the raw permit, or
    /// `CircuitOpenError`; its transition emitted either way.
    fn admission(&self, py: Python<'_>, r: &Bound<'_, PyAny>, now: u64) -> PyResult<u64> {
        let (admitted, value, state, moved): (bool, u64, String, Bound<'_, PyAny>) = r.extract()?;
        self.emit(py, parse_transition(&moved)?, now);
        if admitted {
            Ok(value)
        } else {
            Err(circuit_open(
                py,
                self.name.as_ref(),
                seconds(value),
                parse_state(&state),
            ))
        }
    }

    /// A permit back from its raw form (`_end`, `Permit`).
    fn held_from_raw(&self, raw: u64) -> Held {
        if self.backend.is_some() {
            Held::Store(raw)
        } else {
            Held::Core(Permit::from_raw(raw))
        }
    }

    /// Calls a backend method that reports a transition, and emits it.
    fn backend_move<'py>(
        &self,
        py: Python<'py>,
        b: &Py<PyAny>,
        method: &Bound<'py, PyString>,
        args: impl pyo3::call::PyCallArgs<'py>,
        at: u64,
    ) -> PyResult<Option<Bound<'py, PyAny>>> {
        let moved = parse_transition(&b.bind(py).call_method1(method, args)?)?;
        Ok(self.emit(py, moved, at))
    }

    /// `acquire_at` for a permit that leaves Rust: `(probe, raw)`, its
    /// ticket issued under the same lock.
    fn acquire_raw_at(&self, py: Python<'_>, now: u64) -> PyResult<(bool, u64)> {
        if let Some(b) = &self.backend {
            let raw = self.backend_acquire(py, b, now)?;
            return Ok((Permit::from_raw(raw).is_probe(), raw));
        }
        let result = {
            let mut core = self.lock();
            core.try_acquire(now).map(|mut p| {
                let moved = p.transition.take();
                let probe = p.is_probe();
                (moved, probe, core.permit_into_raw(p))
            })
        };
        match result {
            Ok((moved, probe, raw)) => {
                self.emit(py, moved, now);
                Ok((probe, raw))
            }
            Err(rejected) => Err(self.refused(py, rejected, now)),
        }
    }

    fn refused(&self, py: Python<'_>, rejected: fusewire::Rejected, now: u64) -> PyErr {
        self.emit(py, rejected.transition, now);
        circuit_open(
            py,
            self.name.as_ref(),
            seconds(rejected.retry_after),
            rejected.state,
        )
    }

    /// The end of a call started at `started`: now, or `started` and the
    /// clock's error when a fake clock fails (the permit must go back anyway).
    fn end_time(&self, py: Python<'_>, started: u64) -> (u64, Option<PyErr>) {
        match self.now(py) {
            Ok(t) => (t, None),
            Err(e) => (started, Some(e)),
        }
    }

    /// Hands a permit back to the core, recorded or not, and reports the
    /// transition: the one path every API (decorator, `with`, `Permit`) ends on.
    fn settle<'py>(
        &self,
        py: Python<'py>,
        permit: Held,
        ending: Ending,
        duration: u64,
        end: u64,
    ) -> Option<Bound<'py, PyAny>> {
        let permit = match permit {
            Held::Core(p) => p,
            Held::Store(raw) => {
                let Some(b) = &self.backend else {
                    return None;
                };
                if let Ok(h) = b.bind(py).cast::<HostBreaker>() {
                    let outcome = match ending {
                        Ending::Outcome(o) => Some(o),
                        Ending::Release => None,
                    };
                    let moved = h.get().settle(raw, outcome, duration);
                    return self.emit(py, moved, end);
                }
                // A store that fails to take an outcome must not replace
                // the call's own result or error: reported, not raised.
                let done = match ending {
                    Ending::Outcome(o) => self.backend_move(
                        py,
                        b,
                        pyo3::intern!(py, "record"),
                        (raw, outcome_name(o), duration),
                        end,
                    ),
                    Ending::Release => {
                        self.backend_move(py, b, pyo3::intern!(py, "release"), (raw,), end)
                    }
                };
                return done.unwrap_or_else(|e| {
                    e.write_unraisable(py, Some(b.bind(py)));
                    None
                });
            }
        };
        let moved = match ending {
            Ending::Outcome(o) => self.lock().record(permit, o, duration, end),
            Ending::Release => self.lock().release(permit, end),
        };
        self.emit(py, moved, end)
    }

    /// Records a `with` block's ending with the lock held.
    /// A store's block comes back as `Err` (settled after the lock).
    fn settle_locked(
        inner: &mut Inner,
        block: Block<Held>,
        ending: &Ending,
        end: u64,
    ) -> Result<Option<Transition>, (u64, u64)> {
        let end = end.max(block.started);
        let held = match block.held {
            Held::Core(p) => p,
            Held::Store(raw) => return Err((raw, end - block.started)),
        };
        Ok(match ending {
            Ending::Outcome(o) => inner.core.record(held, *o, end - block.started, end),
            Ending::Release => inner.core.release(held, end),
        })
    }

    /// Ends a call by how it ended (`exc` None: success), as the decorator,
    /// `with breaker:` and `with breaker.acquire():` count it.
    fn finish(
        &self,
        py: Python<'_>,
        permit: Held,
        started: u64,
        exc: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let ending = self.ending(exc);
        let success = matches!(ending, Ending::Outcome(Outcome::Success));
        let (end, clock_err) = if success && !self.timed {
            (started.max(self.latest.load(Ordering::Relaxed)), None)
        } else {
            self.end_time(py, started)
        };
        self.settle(py, permit, ending, end.saturating_sub(started), end);
        clock_err.map_or(Ok(()), Err)
    }

    /// The whole guarded call: acquire, run `func` with no lock held, record.
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
        let started = self.now(py)?;
        let permit = self.acquire_at(py, started)?;
        match func.call(args, kwargs) {
            Ok(v) if crate::deferred::is_deferred(&v)? => {
                // Nothing ran yet: the guarded await / iteration takes its own.
                let (end, _) = self.end_time(py, started);
                self.settle(py, permit, Ending::Release, 0, end);
                crate::deferred::late(this, func, args, kwargs, v)
            }
            Ok(v) => {
                self.finish(py, permit, started, None)?;
                Ok(v)
            }
            Err(err) => {
                let value = err.value(py).clone();
                if let Err(e) = self.finish(py, permit, started, Some(value.as_any())) {
                    e.write_unraisable(py, None);
                }
                Err(err)
            }
        }
    }
}

#[pymethods]
impl Breaker {
    #[new]
    #[pyo3(signature = (
        *,
        name=None,
        failure_rate=Some(50.0),
        slow_call_rate=None,
        slow_call_duration=None,
        consecutive_failures=None,
        min_calls=Int::of(10),
        window_size=Int::of(100),
        window_duration=None,
        window_buckets=Int::of(10),
        comparison="at_least",
        rate_basis="outcomes",
        manual=false,
        half_open_probes=Int::of(1),
        half_open_rule="all_succeed",
        half_open_max_dwell=None,
        dwell_expiry="reopen",
        open_duration=None,
        reset_window_on_close=true,
        exclude=None,
        exclude_as="ignored",
        listeners=Vec::new(),
        seed=Int::of(0),
        clock=None,
        store=None,
    ),
    // The defaults as Python shows them (`Int::of(10)` would read `...`).
    text_signature = "(*, name=None, failure_rate=50.0, slow_call_rate=None, slow_call_duration=None, consecutive_failures=None, min_calls=10, window_size=100, window_duration=None, window_buckets=10, comparison='at_least', rate_basis='outcomes', manual=False, half_open_probes=1, half_open_rule='all_succeed', half_open_max_dwell=None, dwell_expiry='reopen', open_duration=None, reset_window_on_close=True, exclude=None, exclude_as='ignored', listeners=..., seed=0, clock=None, store=None)")]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        name: Option<String>,
        failure_rate: Option<f64>,
        slow_call_rate: Option<f64>,
        slow_call_duration: Option<f64>,
        consecutive_failures: Option<Int<u32>>,
        min_calls: Int<u32>,
        window_size: Int<usize>,
        window_duration: Option<f64>,
        window_buckets: Int<usize>,
        comparison: &str,
        rate_basis: &str,
        manual: bool,
        half_open_probes: Int<u32>,
        half_open_rule: &str,
        half_open_max_dwell: Option<f64>,
        dwell_expiry: &str,
        open_duration: Option<&Bound<'_, PyAny>>,
        reset_window_on_close: bool,
        exclude: Option<&Bound<'_, PyAny>>,
        exclude_as: &str,
        listeners: Vec<Py<PyAny>>,
        seed: Int<u64>,
        clock: Option<Bound<'_, PyAny>>,
        store: Option<Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let consecutive_failures = match consecutive_failures {
            Some(n) => Some(n.get("consecutive_failures")?),
            None => None,
        };
        let min_calls = min_calls.get("min_calls")?;
        let window_size = window_size.get("window_size")?;
        let window_buckets = window_buckets.get("window_buckets")?;
        let half_open_probes = half_open_probes.get("half_open_probes")?;
        let seed = seed.get("seed")?;
        let open_backoff = match open_duration {
            None => fusewire::Backoff::constant(30_000_000_000)
                .map_err(|e| from_core(e, &|_| "open_duration".into()))?,
            Some(o) => {
                if let Ok(b) = o.cast::<Backoff>() {
                    b.get().inner
                } else {
                    let secs: f64 = o.extract().map_err(|_| {
                        pyo3::exceptions::PyTypeError::new_err(
                            "open_duration: expected seconds (float) or a fusewire.Backoff",
                        )
                    })?;
                    let ticks = positive_duration("open_duration", secs)?;
                    fusewire::Backoff::constant(ticks)
                        .map_err(|e| from_core(e, &|_| "open_duration".into()))?
                }
            }
        };
        let config = BreakerConfig {
            failure_rate: failure_rate
                .map(|p| percent("failure_rate", p))
                .transpose()?,
            slow_call_rate: slow_call_rate
                .map(|p| percent("slow_call_rate", p))
                .transpose()?,
            manual,
            slow_call_duration: match slow_call_duration {
                Some(s) => duration("slow_call_duration", s)?,
                None => 0,
            },
            consecutive_failures,
            min_calls,
            comparison: choice(
                "comparison",
                comparison,
                &[
                    ("at_least", Comparison::AtLeast),
                    ("above", Comparison::Above),
                ],
            )?,
            rate_basis: choice(
                "rate_basis",
                rate_basis,
                &[
                    ("outcomes", RateBasis::Outcomes),
                    ("all_calls", RateBasis::AllCalls),
                    ("started", RateBasis::Started),
                ],
            )?,
            half_open_probes,
            half_open_rule: choice(
                "half_open_rule",
                half_open_rule,
                &[
                    ("all_succeed", HalfOpenRule::AllSucceed),
                    ("rates", HalfOpenRule::Rates),
                ],
            )?,
            half_open_max_dwell: match half_open_max_dwell {
                Some(s) => duration("half_open_max_dwell", s)?,
                None => 0,
            },
            dwell_expiry: choice(
                "dwell_expiry",
                dwell_expiry,
                &[
                    ("reopen", DwellExpiry::Reopen),
                    ("close", DwellExpiry::Close),
                ],
            )?,
            open_backoff,
            reset_window_on_close,
            seed,
        };
        let window = match window_duration {
            Some(span) => {
                let span = positive_duration("window_duration", span)?;
                if window_buckets == 0 || window_buckets > MAX_BUCKETS {
                    return Err(config_error(
                        "window_buckets",
                        &format!("must be between 1 and {MAX_BUCKETS}"),
                    ));
                }
                let w = TimeWindow::new(span, window_buckets).map_err(|e| {
                    from_core(e, &|f| {
                        match f {
                            "span" => "window_duration",
                            "buckets" => "window_buckets",
                            other => other,
                        }
                        .to_owned()
                    })
                })?;
                AnyWindow::Time(w)
            }
            None => {
                if window_size == 0 || window_size > 1 << 24 {
                    return Err(config_error(
                        "window_size",
                        "must be between 1 and 16777216",
                    ));
                }
                AnyWindow::Count(
                    CountWindow::over(vec![0; window_size].into_boxed_slice())
                        .map_err(|e| config_error("window_size", e.reason()))?,
                )
            }
        };
        let plain_window = match &window {
            AnyWindow::Time(_) => fusewire_store::config::Window::Time {
                duration: positive_duration("window_duration", window_duration.unwrap_or(1.0))?,
                buckets: u32::try_from(window_buckets).unwrap_or(u32::MAX),
            },
            AnyWindow::Count(_) => fusewire_store::config::Window::Count {
                size: u32::try_from(window_size).unwrap_or(u32::MAX),
            },
        };
        let core = Core::with_window(config, window).map_err(|e| {
            from_core(e, &|f| {
                if f.starts_with("open_backoff") {
                    "open_duration".to_owned()
                } else {
                    f.to_owned()
                }
            })
        })?;
        let exclude_as_success = choice(
            "exclude_as",
            exclude_as,
            &[("ignored", false), ("success", true)],
        )?;
        for l in &listeners {
            if !l.bind(py).is_callable() {
                return Err(pyo3::exceptions::PyTypeError::new_err(
                    "listeners: expected callables",
                ));
            }
        }
        if let Some(n) = &name {
            if store.as_ref().is_some_and(|s| !s.is_none()) {
                crate::store::check_name(n)?;
            }
        }
        let backend = crate::store::bind(
            py,
            store.as_ref(),
            name.as_deref(),
            crate::store::clock_given(clock.as_ref()),
            || fusewire_store::config::Config::breaker(&config, plain_window),
        )?;
        let timed = slow_call_rate.is_some() || window_duration.is_some();
        Ok(Self {
            backend,
            timed,
            latest: AtomicU64::new(0),
            core: Mutex::new(Inner {
                core,
                blocks: Blocks::default(),
            }),
            clock: Clock::from_arg(clock)?,
            exclude: Matcher::new("exclude", exclude)?,
            exclude_as_success,
            name: name.map(|n| PyString::new(py, &n).unbind()),
            listeners: Mutex::new(listeners),
        })
    }

    /// Shows the GC the Python objects the breaker holds (a listener that
    /// is a bound method of an object holding the breaker is a cycle).
    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        // `try_lock`: a listener removed under the lock may run a `__del__`
        // that triggers a collection on this thread; skipping the listeners
        // then only delays collecting a cycle through them.
        if let Ok(listeners) = self.listeners.try_lock() {
            for l in listeners.iter() {
                visit.call(l)?;
            }
        }
        if let Ok(inner) = self.core.try_lock() {
            inner.blocks.traverse(&visit)?;
        }
        self.clock.traverse(&visit)?;
        self.exclude.traverse(&visit)
    }

    /// `with breaker:` takes a permit (or raises `CircuitOpenError`) for
    /// the block, kept with its owner (thread or asyncio task).
    fn __enter__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, Self>> {
        let py = slf.py();
        let me = slf.get();
        let owner = crate::blocks::current(py)?;
        let started = me.now(py)?;
        if let Some(b) = &me.backend {
            let raw = me.backend_acquire(py, b, started)?;
            me.lock().blocks.push(Block {
                owner,
                held: Held::Store(raw),
                started,
            });
            return Ok(slf.clone());
        }
        let result = {
            let mut inner = me.lock();
            inner.core.try_acquire(started).map(|mut permit| {
                let moved = permit.transition.take();
                inner.blocks.push(Block {
                    owner,
                    held: Held::Core(permit),
                    started,
                });
                moved
            })
        };
        match result {
            Ok(moved) => {
                me.emit(py, moved, started);
                Ok(slf.clone())
            }
            Err(rejected) => Err(me.refused(py, rejected, started)),
        }
    }

    /// Settles the block's permit by how the block ended.
    #[pyo3(signature = (exc_type=None, exc=None, tb=None))]
    fn __exit__(
        slf: &Bound<'_, Self>,
        exc_type: Option<&Bound<'_, PyAny>>,
        exc: Option<&Bound<'_, PyAny>>,
        tb: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let _ = tb;
        let py = slf.py();
        let me = slf.get();
        let exc = match (exc_type, exc) {
            (_, Some(e)) if !e.is_none() => Some(e.clone()),
            (Some(t), _) if !t.is_none() => Some(t.call0()?),
            _ => None,
        };
        // Everything that may run Python (exclude predicates, a clock)
        // before the lock.
        let ending = me.ending(exc.as_ref());
        let (end, clock_err) = if matches!(ending, Ending::Outcome(Outcome::Success)) && !me.timed {
            (me.latest.load(Ordering::Relaxed), None)
        } else {
            match me.now(py) {
                Ok(t) => (t, None),
                Err(e) => (me.latest.load(Ordering::Relaxed), Some(e)),
            }
        };
        let settle = |inner: &mut Inner, found: Exit<Held>| match found {
            Exit::Own(b) => (true, Some(Self::settle_locked(inner, b, &ending, end))),
            Exit::Elsewhere(b) => (false, Some(Self::settle_locked(inner, b, &ending, end))),
            Exit::None => (false, None),
        };
        let done = {
            let mut inner = me.lock();
            inner
                .blocks
                .take_own()
                .map(|found| settle(&mut inner, found))
        };
        let (own, moved) = match done {
            Some(done) => done,
            // A task owns an open block: look the owner up, with no lock held.
            None => {
                let owner = crate::blocks::current(py)?;
                let mut inner = me.lock();
                let found = inner.blocks.take(Some(&owner));
                settle(&mut inner, found)
            }
        };
        let settled = match moved {
            Some(Ok(moved)) => {
                me.emit(py, moved, end);
                true
            }
            // A store's permit: settled now, with no lock held.
            Some(Err((raw, took))) => {
                me.settle(py, Held::Store(raw), ending, took, end);
                true
            }
            None => false,
        };
        if let Some(e) = clock_err {
            return Err(e);
        }
        if own {
            Ok(())
        } else {
            Err(crate::blocks::exited_elsewhere(slf.as_any(), settled)?)
        }
    }

    /// Calls `func(*args, **kwargs)` through the breaker.
    #[pyo3(signature = (func, /, *args, **kwargs))]
    fn call<'py>(
        slf: &Bound<'py, Self>,
        func: &Bound<'py, PyAny>,
        args: &Bound<'py, PyTuple>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        slf.get().call_impl(slf.as_any(), func, args, kwargs)
    }

    /// Asks to make a call now: a `Permit` to settle exactly once (an
    /// outcome or `release()`), or `CircuitOpenError` with `retry_after`.
    fn acquire(slf: &Bound<'_, Self>) -> PyResult<CallPermit> {
        let py = slf.py();
        let me = slf.get();
        let started = me.now(py)?;
        // With the ticket that lets the core refuse a second settle of it.
        let (probe, raw) = me.acquire_raw_at(py, started)?;
        Ok(CallPermit {
            breaker: slf.clone().unbind(),
            probe,
            raw,
            started,
            used: AtomicBool::new(false),
        })
    }

    /// The start of an `async def` call under `@breaker`: a token for
    /// `_end` to settle, or `CircuitOpenError`. The token is the raw permit
    /// (one small int, no object for the GC to track) when the breaker
    /// needs no call durations; else `(raw permit, start tick)`.
    fn _start<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let started = self.now(py)?;
        let (_, raw) = self.acquire_raw_at(py, started)?;
        // Raw permits are below 2^53 and ticks below 2^63: both are i64s,
        // the cheapest ints to convert.
        let raw = raw as i64;
        if self.timed {
            (raw, started as i64).into_pyobject(py).map(Bound::into_any)
        } else {
            Ok(raw.into_pyobject(py)?.into_any())
        }
    }

    /// Settles a `_start` token by how the call ended (`exc` None: success).
    fn _end(
        &self,
        py: Python<'_>,
        token: &Bound<'_, PyAny>,
        exc: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let (raw, started) = match token.extract::<i64>() {
            // No duration needed: the call "started" at the latest tick seen.
            Ok(raw) => (raw, self.latest.load(Ordering::Relaxed)),
            Err(_) => {
                let (raw, started) = token.extract::<(i64, i64)>()?;
                (raw, started as u64)
            }
        };
        self.finish(
            py,
            self.held_from_raw(raw as u64),
            started,
            exc.filter(|e| !e.is_none()),
        )
    }

    /// The backend's coroutine methods when it has them (`RedisStore`), for
    /// the async paths; `None` in process or in a host store.
    #[getter]
    fn _abackend(&self, py: Python<'_>) -> Option<Py<PyAny>> {
        crate::store::async_backend(py, &self.backend)
    }

    /// The async paths' admission: the answer of the backend's awaited
    /// `atry_acquire()` in, a token `(raw permit, start tick)` out for
    /// `_settle_args`, or `CircuitOpenError`; its transition emitted.
    fn _admit(&self, py: Python<'_>, answer: &Bound<'_, PyAny>) -> PyResult<(i64, i64)> {
        let now = self.now(py)?;
        let raw = self.admission(py, answer, now)?;
        // raw permits are below 2^53, ticks below 2^63
        Ok((raw as i64, now as i64))
    }

    /// How the async paths settle a token by how the call ended (`exc`
    /// None: success): `("arecord", (raw, outcome, duration_ns))` or
    /// `("arelease", (raw,))`, the backend coroutine and its arguments.
    fn _settle_args<'py>(
        &self,
        py: Python<'py>,
        token: (i64, i64),
        exc: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<(&'static str, Bound<'py, PyTuple>)> {
        let (raw, started) = (token.0 as u64, token.1 as u64);
        let ending = self.ending(exc.filter(|e| !e.is_none()));
        let (end, _) = self.end_time(py, started);
        Ok(match ending {
            Ending::Outcome(o) => (
                "arecord",
                (raw, outcome_name(o), end.saturating_sub(started)).into_pyobject(py)?,
            ),
            Ending::Release => ("arelease", (raw,).into_pyobject(py)?),
        })
    }

    /// Emits the transition an awaited backend settle reported, or reports
    /// `error` (the store could not take the outcome) through
    /// `sys.unraisablehook`: never raised over the call's own result.
    #[pyo3(signature = (moved, error=None))]
    fn _moved(
        &self,
        py: Python<'_>,
        moved: &Bound<'_, PyAny>,
        error: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        if let Some(e) = error.filter(|e| !e.is_none()) {
            let obj = self.backend.as_ref().map(|b| b.bind(py).clone());
            PyErr::from_value(e.clone()).write_unraisable(py, obj.as_ref());
            return Ok(());
        }
        let at = self.latest.load(Ordering::Relaxed);
        self.emit(py, parse_transition(moved)?, at);
        Ok(())
    }

    /// Applies the transition time alone causes (open -> half-open, a
    /// half-open dwell running out), if one is due; returns it.
    fn poll<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.host(py, "poll", |c, now| c.poll(now))
    }

    /// Adds a listener called with a `StateChange` after each transition.
    fn add_listener(&self, listener: Py<PyAny>, py: Python<'_>) -> PyResult<()> {
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

    /// Removes a listener added before (ValueError if absent).
    fn remove_listener(&self, listener: &Bound<'_, PyAny>) -> PyResult<()> {
        let mut ls = self.listeners.lock().unwrap_or_else(|e| e.into_inner());
        let at = ls.iter().position(|l| l.bind(listener.py()).is(listener));
        match at {
            Some(i) => {
                ls.remove(i);
                Ok(())
            }
            None => Err(pyo3::exceptions::PyValueError::new_err(
                "listener not found",
            )),
        }
    }

    #[getter]
    fn name(&self, py: Python<'_>) -> Option<Py<PyString>> {
        self.name.as_ref().map(|n| n.clone_ref(py))
    }

    /// The state as of now (time-driven transitions applied).
    #[getter]
    fn _state(&self, py: Python<'_>) -> PyResult<&'static str> {
        let now = self.now(py)?;
        if let Some(b) = &self.backend {
            let (state, moved): (String, Bound<'_, PyAny>) = b
                .bind(py)
                .call_method0(pyo3::intern!(py, "state"))?
                .extract()?;
            self.emit(py, parse_transition(&moved)?, now);
            return Ok(state_name(parse_state(&state)));
        }
        let (state, moved) = {
            let mut core = self.lock();
            let moved = core.poll(now);
            (core.state(), moved)
        };
        self.emit(py, moved, now);
        Ok(state_name(state))
    }

    /// Counts and state in one read, as a dict.
    fn snapshot<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        if let Some(b) = &self.backend {
            return Ok(b
                .bind(py)
                .call_method0(pyo3::intern!(py, "snapshot"))?
                .cast_into::<PyDict>()?);
        }
        let now = self.now(py)?;
        let s = self.lock().snapshot(now);
        snapshot_dict(py, &s, now)
    }

    /// Opens the breaker now, as a trip rule would.
    fn trip<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.host(py, "trip", |c, now| c.trip(now))
    }

    /// Closes the breaker now.
    fn close<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.host(py, "close", |c, now| c.close(now))
    }

    /// Holds the breaker open until `close()`, `reset()` or `disable()`.
    fn force_open<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.host(py, "force_open", |c, now| c.force_open(now))
    }

    /// Lets every call pass, recording nothing, until `close()`.
    fn disable<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.host(py, "disable", |c, now| c.disable(now))
    }

    /// Moves the breaker to half-open now, with fresh probe slots.
    fn half_open<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.host(py, "half_open", |c, now| c.half_open(now))
    }

    /// Closes the breaker and forgets every count.
    fn reset<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.host(py, "reset", |c, now| c.reset(now))
    }
}

impl Breaker {
    fn host<'py>(
        &self,
        py: Python<'py>,
        op: &str,
        f: impl FnOnce(&mut Core, u64) -> Option<Transition>,
    ) -> PyResult<Option<Bound<'py, PyAny>>> {
        let now = self.now(py)?;
        if let Some(b) = &self.backend {
            return self.backend_move(py, b, pyo3::intern!(py, "host"), (op,), now);
        }
        let moved = f(&mut self.lock(), now);
        Ok(self.emit(py, moved, now))
    }
}

/// One admitted call: `CircuitBreaker.acquire()`'s permit. Public API:
/// `fusewire.Permit`. Settled once, by an outcome or `release()`; a
/// `with` block settles it by how the block ended, unless settled inside.
#[pyclass(module = "fusewire._native", name = "Permit", frozen)]
pub struct CallPermit {
    breaker: Py<Breaker>,
    raw: u64,
    started: u64,
    probe: bool,
    used: AtomicBool,
}

impl CallPermit {
    /// Marks the permit used, or says it already was. A second hand-back
    /// still goes to the core, which refuses it and counts it in
    /// `snapshot()["refused_permits"]` (the rule every door shares), then
    /// raises.
    fn take(&self, py: Python<'_>) -> PyResult<Held> {
        if self.used.swap(true, Ordering::AcqRel) {
            let b = self.breaker.get();
            let (end, _) = b.end_time(py, self.started);
            b.settle(py, b.held_from_raw(self.raw), Ending::Release, 0, end);
            return Err(pyo3::exceptions::PyRuntimeError::new_err(
                "this permit was already used: record one outcome or release it, once \
                 (the breaker refused the second hand-back and counted it in refused_permits)",
            ));
        }
        Ok(self.breaker.get().held_from_raw(self.raw))
    }

    fn outcome<'py>(
        &self,
        py: Python<'py>,
        outcome: Outcome,
        duration: Option<f64>,
    ) -> PyResult<Option<Bound<'py, PyAny>>> {
        let given = match duration {
            Some(s) => Some(crate::clock::duration("duration", s)?),
            None => None,
        };
        let permit = self.take(py)?;
        let b = self.breaker.get();
        let (end, clock_err) = b.end_time(py, self.started);
        let took = given.unwrap_or_else(|| end.saturating_sub(self.started));
        let change = b.settle(py, permit, Ending::Outcome(outcome), took, end);
        clock_err.map_or(Ok(change), Err)
    }
}

#[pymethods]
impl CallPermit {
    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        visit.call(&self.breaker)
    }

    /// The call succeeded; `duration` (seconds) defaults to the time since
    /// `acquire()`. Returns the `StateChange` it caused, if any.
    #[pyo3(signature = (duration=None))]
    fn success<'py>(
        &self,
        py: Python<'py>,
        duration: Option<f64>,
    ) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.outcome(py, Outcome::Success, duration)
    }

    /// The call failed.
    #[pyo3(signature = (duration=None))]
    fn failure<'py>(
        &self,
        py: Python<'py>,
        duration: Option<f64>,
    ) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.outcome(py, Outcome::Failure, duration)
    }

    /// The call timed out: a failure, counted apart.
    #[pyo3(signature = (duration=None))]
    fn timeout<'py>(
        &self,
        py: Python<'py>,
        duration: Option<f64>,
    ) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.outcome(py, Outcome::Timeout, duration)
    }

    /// The call ended in a way that says nothing about the service
    /// (counted, never judged; a probe gets its slot back).
    #[pyo3(signature = (duration=None))]
    fn ignore<'py>(
        &self,
        py: Python<'py>,
        duration: Option<f64>,
    ) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.outcome(py, Outcome::Ignored, duration)
    }

    /// The call never ran (cancelled): the permit goes back unrecorded.
    fn release<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        let permit = self.take(py)?;
        let b = self.breaker.get();
        let (end, clock_err) = b.end_time(py, self.started);
        let change = b.settle(py, permit, Ending::Release, 0, end);
        clock_err.map_or(Ok(change), Err)
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    /// Settles the permit by how the block ended, as `with breaker:` does,
    /// unless it was settled inside the block.
    #[pyo3(signature = (exc_type=None, exc=None, tb=None))]
    fn __exit__(
        &self,
        py: Python<'_>,
        exc_type: Option<&Bound<'_, PyAny>>,
        exc: Option<&Bound<'_, PyAny>>,
        tb: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let _ = tb;
        if self.used.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        let exc = match (exc_type, exc) {
            (_, Some(e)) if !e.is_none() => Some(e.clone()),
            (Some(t), _) if !t.is_none() => Some(t.call0()?),
            _ => None,
        };
        let b = self.breaker.get();
        b.finish(py, b.held_from_raw(self.raw), self.started, exc.as_ref())
    }

    /// Whether this is a half-open probe.
    #[getter]
    fn probe(&self) -> bool {
        self.probe
    }

    /// When it was taken, in seconds of the breaker's clock.
    #[getter]
    fn started(&self) -> f64 {
        seconds(self.started)
    }

    /// Whether an outcome or `release()` has used it.
    #[getter]
    fn used(&self) -> bool {
        self.used.load(Ordering::Acquire)
    }

    fn __repr__(&self) -> String {
        let kind = if self.probe { "probe" } else { "permit" };
        let used = if self.used() { " used" } else { "" };
        format!("<fusewire.Permit {kind}{used}>")
    }
}
