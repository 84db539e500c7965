//! `Retrying` and `RetryBudget`: the core's retry policy and budget.
//!
//! The sync loop runs here (`Retrying.call`); the async loop is Python's
//! (`await asyncio.sleep`) and asks a `RetryRun` what to do after each
//! failure. Either way the decisions are the core's.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use fusewire::{Budget, Decision, GiveUpReason, Retry, RetryPolicy, Rng};
use pyo3::gc::PyVisit;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyTuple};
use pyo3::PyTraverseError;

use crate::backoff::Backoff;
use crate::clock::{positive_duration, seconds, seconds_to_ticks_lossy, Clock};
use crate::errors::{config_error, from_core, retry_error};
use crate::int::Int;
use crate::matcher::{is_exception, Matcher};

/// The retry budget (gRPC's retry throttling): failures spend a token,
/// successes earn `token_ratio` back; retries stop while half or fewer of
/// `max_tokens` are left. Share one between the `Retrying`s of a service.
#[pyclass(module = "fusewire._native", frozen)]
pub struct RetryBudget {
    core: Mutex<Budget>,
    /// The constructor's arguments, so it pickles by config.
    args: (u32, f64),
}

impl RetryBudget {
    fn lock(&self) -> std::sync::MutexGuard<'_, Budget> {
        self.core.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[pymethods]
impl RetryBudget {
    #[new]
    #[pyo3(
        signature = (max_tokens=Int::of(10), token_ratio=0.1),
        text_signature = "(max_tokens=10, token_ratio=0.1)"
    )]
    fn new(max_tokens: Int<u32>, token_ratio: f64) -> PyResult<Self> {
        let max_tokens = max_tokens.get("max_tokens")?;
        if max_tokens == 0 {
            return Err(config_error("max_tokens", "must not be zero"));
        }
        if token_ratio.is_nan() || token_ratio <= 0.0 || token_ratio > f64::from(max_tokens) {
            return Err(config_error(
                "token_ratio",
                "must be above 0 and at most max_tokens",
            ));
        }
        let milli = (token_ratio * 1000.0).round().max(1.0) as u32;
        let core = Budget::new(max_tokens, milli).map_err(|e| {
            from_core(e, &|f| {
                if f == "max_tokens" {
                    "max_tokens"
                } else {
                    "token_ratio"
                }
                .to_owned()
            })
        })?;
        Ok(Self {
            core: Mutex::new(core),
            args: (max_tokens, token_ratio),
        })
    }

    /// Pickles by config: the other side starts with a full budget.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> (Bound<'py, pyo3::types::PyType>, (u32, f64)) {
        (slf.get_type(), slf.get().args)
    }

    /// Tokens left (fractional).
    #[getter]
    fn tokens(&self) -> f64 {
        self.lock().tokens_milli() as f64 / 1000.0
    }

    /// Whether a retry would be allowed now.
    #[getter]
    fn can_retry(&self) -> bool {
        self.lock().can_retry()
    }

    /// Retries refused so far.
    #[getter]
    fn throttled(&self) -> u64 {
        self.lock().throttled()
    }

    /// A call succeeded: earns `token_ratio` back.
    fn record_success(&self) {
        self.lock().record_success();
    }

    /// A call failed: spends a token.
    fn record_failure(&self) {
        self.lock().record_failure();
    }

    /// Asks to make a retry: whether it is allowed (a refusal is counted in
    /// `throttled`).
    fn try_retry(&self) -> bool {
        self.lock().try_retry().is_ok()
    }
}

struct Config {
    policy: RetryPolicy,
    retry_on: Matcher,
    budget: Option<Py<RetryBudget>>,
    reraise: bool,
    honor_retry_after: bool,
    clock: Clock,
    sleep: Option<Py<PyAny>>,
    async_sleep: Option<Py<PyAny>>,
    before_sleep: Option<Py<PyAny>>,
    /// `retry_on_result`, `give_up`, `before`, `after`: run by the Python
    /// loop (`fusewire._retry`), which the package uses when one is set.
    hooks: Option<[Option<Py<PyAny>>; 4]>,
    /// With `seed=` given, each operation's jitter seed comes from this
    /// sequence (reproducible); without, from `os.urandom`.
    seeds: AtomicU64,
    seeded: bool,
}

/// One operation's progress: the core `Retry`, started lazily at the first
/// failure (the success path costs no clock read unless a deadline is set).
struct Progress {
    config: Arc<Config>,
    started: u64,
    retry: Option<Retry>,
    attempts: u32,
}

static TIME_SLEEP: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

fn reason_name(r: GiveUpReason) -> &'static str {
    match r {
        GiveUpReason::MaxAttempts => "max_attempts",
        GiveUpReason::Deadline => "deadline",
        GiveUpReason::WaitTooLong => "wait_too_long",
        GiveUpReason::Budget => "budget",
    }
}

static URANDOM: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

impl Config {
    /// A fresh core `Retry` for one operation. Its jitter seed is `seed`;
    /// else, when the policy was given a `seed=`, the next of a sequence
    /// drawn from it (reproducible); else 8 bytes of `os.urandom`, so no
    /// two operations, processes or hosts jitter in step. Drawn when the
    /// first attempt fails: a call that succeeds at once draws nothing.
    fn operation(&self, py: Python<'_>, seed: Option<u64>) -> PyResult<Retry> {
        let seed = match (seed, self.seeded) {
            (Some(s), _) => s,
            (None, true) => Rng::new(self.seeds.fetch_add(1, Ordering::Relaxed)).next_u64(),
            (None, false) => {
                let bytes: [u8; 8] = URANDOM
                    .import(py, "os", "urandom")?
                    .call1((8,))?
                    .extract()?;
                u64::from_le_bytes(bytes)
            }
        };
        Ok(Retry::new(self.policy.with_seed(seed)))
    }
}

impl Progress {
    fn begin(config: &Arc<Config>, py: Python<'_>) -> PyResult<Self> {
        let started = if config.policy.max_elapsed().is_some() {
            config.clock.now(py)?
        } else {
            0
        };
        Ok(Self {
            config: Arc::clone(config),
            started,
            retry: None,
            attempts: 1,
        })
    }

    fn success(&self, py: Python<'_>) {
        if let Some(b) = &self.config.budget {
            b.bind(py).get().lock().record_success();
        }
    }

    /// After a failed attempt: `Ok(ticks)` to wait before the next one, or
    /// the error to raise (the original one when it is not retried).
    /// `matched`: the caller already decided this failure is retried (a
    /// result `retry_on_result` rejected), so `retry_on` is not asked.
    fn failure(&mut self, py: Python<'_>, err: PyErr, matched: bool) -> Result<u64, PyErr> {
        let cfg = Arc::clone(&self.config);
        let exc = err.value(py).clone().into_any();
        if !is_exception(&exc) || !(matched || cfg.retry_on.matches(&exc)) {
            return Err(err);
        }
        let now = cfg.clock.now(py)?;
        let hint = if cfg.honor_retry_after {
            exc.getattr(pyo3::intern!(py, "retry_after"))
                .ok()
                .and_then(|v| v.extract::<f64>().ok())
                // `inf` (a forced-open breaker) is the longest wait there is.
                .filter(|s| *s > 0.0)
                .map(seconds_to_ticks_lossy)
        } else {
            None
        };
        let started = if cfg.policy.max_elapsed().is_some() {
            self.started
        } else {
            now
        };
        if self.retry.is_none() {
            let mut r = cfg.operation(py, None)?;
            r.start(started);
            self.retry = Some(r);
        }
        let Some(retry) = self.retry.as_mut() else {
            unreachable!("set just above")
        };
        // One core decision: budget (failure counted, retry allowed),
        // attempts, deadline and an advertised wait too long to sleep.
        let decision = match &cfg.budget {
            Some(b) => retry.next_with_budget(now, hint, &mut *b.bind(py).get().lock()),
            None => retry.next(now, hint),
        };
        self.attempts = retry.attempts();
        let reason = match decision {
            Decision::RetryAfter(ticks) => return Ok(ticks),
            Decision::GiveUp(r) => reason_name(r),
        };
        if cfg.reraise {
            Err(err)
        } else {
            Err(retry_error(py, self.attempts, reason, err))
        }
    }

    fn before_sleep(&self, py: Python<'_>, ticks: u64, exc: &Bound<'_, PyAny>) -> PyResult<()> {
        if let Some(hook) = &self.config.before_sleep {
            hook.bind(py)
                .call1((self.attempts.saturating_sub(1), seconds(ticks), exc))?;
        }
        Ok(())
    }
}

/// `stop=`: a `fusewire.Stop` (`stop_after_attempt(n) | stop_after_delay(s)`)
/// as `(max_attempts, max_elapsed)`; no attempt rule is no attempt limit.
fn stop_rule(rule: &Bound<'_, PyAny>) -> PyResult<(u32, Option<f64>)> {
    let py = rule.py();
    let bad = || {
        pyo3::exceptions::PyTypeError::new_err(
            "stop: expected a stop rule: stop_after_attempt(n), stop_after_delay(seconds), \
             or several joined with |",
        )
    };
    let attempts = rule
        .getattr(pyo3::intern!(py, "max_attempts"))
        .map_err(|_| bad())?;
    let elapsed = rule
        .getattr(pyo3::intern!(py, "max_elapsed"))
        .map_err(|_| bad())?;
    let attempts = if attempts.is_none() {
        u32::MAX
    } else {
        attempts.extract::<Int<u32>>()?.get("stop")?
    };
    let elapsed = if elapsed.is_none() {
        None
    } else {
        Some(elapsed.extract::<f64>().map_err(|_| bad())?)
    };
    Ok((attempts, elapsed))
}

/// The native retry policy. Public API: `fusewire.Retrying` / `retry()`.
#[pyclass(module = "fusewire._native", frozen, subclass)]
pub struct Retrying {
    config: Arc<Config>,
}

impl Retrying {
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
        if self.config.hooks.is_some() {
            // Hooks and result predicates run in the Python loop, on the
            // same decisions (`RetryRun`).
            let kwargs = kwargs.map_or_else(|| PyDict::new(py), Bound::clone);
            return this.call_method1(pyo3::intern!(py, "_call_hooked"), (func, args, kwargs));
        }
        let mut progress: Option<Progress> = None;
        if self.config.policy.max_elapsed().is_some() {
            progress = Some(Progress::begin(&self.config, py)?);
        }
        loop {
            match func.call(args, kwargs) {
                Ok(v) if crate::deferred::is_deferred(&v)? => {
                    return crate::deferred::late(this, func, args, kwargs, v);
                }
                Ok(v) => {
                    if let Some(b) = &self.config.budget {
                        b.bind(py).get().lock().record_success();
                    }
                    return Ok(v);
                }
                Err(err) => {
                    let mut p = match progress.take() {
                        Some(p) => p,
                        None => Progress::begin(&self.config, py)?,
                    };
                    let exc = err.value(py).clone().into_any();
                    let ticks = p.failure(py, err, false)?;
                    p.before_sleep(py, ticks, &exc)?;
                    progress = Some(p);
                    let secs = seconds(ticks);
                    match &self.config.sleep {
                        Some(s) => s.bind(py).call1((secs,))?,
                        None => TIME_SLEEP.import(py, "time", "sleep")?.call1((secs,))?,
                    };
                }
            }
        }
    }
}

#[pymethods]
impl Retrying {
    #[new]
    #[pyo3(signature = (
        *,
        max_attempts=None,
        max_elapsed=None,
        stop=None,
        backoff=None,
        retry_on=None,
        budget=None,
        reraise=false,
        honor_retry_after=true,
        seed=None,
        clock=None,
        sleep=None,
        async_sleep=None,
        before_sleep=None,
        retry_on_result=None,
        give_up=None,
        before=None,
        after=None,
    ),
    text_signature = "(*, max_attempts=3, max_elapsed=None, stop=None, backoff=None, retry_on=None, budget=None, reraise=False, honor_retry_after=True, seed=None, clock=None, sleep=None, async_sleep=None, before_sleep=None, retry_on_result=None, give_up=None, before=None, after=None)")]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        max_attempts: Option<Int<u32>>,
        max_elapsed: Option<f64>,
        stop: Option<&Bound<'_, PyAny>>,
        backoff: Option<Backoff>,
        retry_on: Option<&Bound<'_, PyAny>>,
        budget: Option<Py<RetryBudget>>,
        reraise: bool,
        honor_retry_after: bool,
        seed: Option<Int<u64>>,
        clock: Option<Bound<'_, PyAny>>,
        sleep: Option<Py<PyAny>>,
        async_sleep: Option<Py<PyAny>>,
        before_sleep: Option<Py<PyAny>>,
        retry_on_result: Option<Py<PyAny>>,
        give_up: Option<Py<PyAny>>,
        before: Option<Py<PyAny>>,
        after: Option<Py<PyAny>>,
    ) -> PyResult<Self> {
        let (max_attempts, max_elapsed) = match stop {
            None => (
                max_attempts.map_or(Ok(3), |n| n.get("max_attempts"))?,
                max_elapsed,
            ),
            Some(_) if max_attempts.is_some() || max_elapsed.is_some() => {
                return Err(config_error(
                    "stop",
                    "give either stop= or max_attempts/max_elapsed, not both",
                ))
            }
            Some(rule) => stop_rule(rule)?,
        };
        let seed = match seed {
            Some(s) => Some(s.get("seed")?),
            None => None,
        };
        let backoff = match backoff {
            Some(b) => b.inner,
            None => fusewire::Backoff::new(
                fusewire::Schedule::Exponential {
                    base: 100_000_000,
                    factor_milli: 2000,
                },
                fusewire::Jitter::Full,
                10_000_000_000,
            )
            .map_err(|e| from_core(e, &|_| "backoff".into()))?,
        };
        let max_elapsed = match max_elapsed {
            Some(s) => Some(positive_duration("max_elapsed", s)?),
            None => None,
        };
        let seeded = seed.is_some();
        let seed = seed.unwrap_or(0);
        let policy = RetryPolicy::new(backoff, max_attempts, max_elapsed, seed)
            .map_err(|e| from_core(e, &|f| f.to_owned()))?;
        let retry_on = match retry_on {
            Some(spec) if !spec.is_none() => Matcher::new("retry_on", Some(spec))?,
            _ => Matcher::exceptions(py)?,
        };
        if retry_on.is_empty() {
            return Err(config_error(
                "retry_on",
                "must name at least one type or predicate",
            ));
        }
        for (field, f) in [
            ("sleep", &sleep),
            ("async_sleep", &async_sleep),
            ("before_sleep", &before_sleep),
            ("retry_on_result", &retry_on_result),
            ("give_up", &give_up),
            ("before", &before),
            ("after", &after),
        ] {
            if let Some(f) = f {
                if !f.bind(py).is_callable() {
                    return Err(pyo3::exceptions::PyTypeError::new_err(format!(
                        "{field}: expected a callable"
                    )));
                }
            }
        }
        Ok(Self {
            config: Arc::new(Config {
                policy,
                retry_on,
                budget,
                reraise,
                honor_retry_after,
                clock: Clock::from_arg(clock)?,
                sleep,
                async_sleep,
                before_sleep,
                hooks: if retry_on_result.is_none()
                    && give_up.is_none()
                    && before.is_none()
                    && after.is_none()
                {
                    None
                } else {
                    Some([retry_on_result, give_up, before, after])
                },
                seeds: AtomicU64::new(seed),
                seeded,
            }),
        })
    }

    /// Shows the GC the Python objects of the config. Only the policy
    /// visits them: a `RetryRun` / `RetryState` sharing the config holds
    /// the policy itself, so each reference is visited exactly once.
    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        let c = &self.config;
        c.retry_on.traverse(&visit)?;
        visit.call(&c.budget)?;
        c.clock.traverse(&visit)?;
        visit.call(&c.sleep)?;
        visit.call(&c.async_sleep)?;
        if let Some(hooks) = &c.hooks {
            for h in hooks {
                visit.call(h)?;
            }
        }
        visit.call(&c.before_sleep)
    }

    /// Calls `func(*args, **kwargs)`, retrying as configured (sleeping with
    /// `time.sleep`, or the `sleep=` callable).
    #[pyo3(signature = (func, /, *args, **kwargs))]
    fn call<'py>(
        slf: &Bound<'py, Self>,
        func: &Bound<'py, PyAny>,
        args: &Bound<'py, PyTuple>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        slf.get().call_impl(slf.as_any(), func, args, kwargs)
    }

    /// Starts one operation, for loops driven from Python (async).
    fn _begin(slf: &Bound<'_, Self>) -> PyResult<RetryRun> {
        Ok(RetryRun {
            progress: Progress::begin(&slf.get().config, slf.py())?,
            _policy: slf.clone().unbind(),
        })
    }

    /// One operation's decisions, to drive a retry loop by hand: an
    /// unstarted `RetryState` on this policy's clock. Its jitter seed is
    /// `seed`, or else one of the policy's own (as `call` uses).
    #[pyo3(signature = (*, seed=None))]
    fn state(slf: &Bound<'_, Self>, seed: Option<Int<u64>>) -> PyResult<RetryState> {
        let seed = match seed {
            Some(s) => Some(s.get("seed")?),
            None => None,
        };
        Ok(RetryState {
            retry: slf.get().config.operation(slf.py(), seed)?,
            policy: slf.clone().unbind(),
            reason: None,
        })
    }

    /// `(retry_on_result, give_up, before, after)`, or `None` when none
    /// is set (then the native loop runs).
    #[getter]
    #[allow(clippy::type_complexity)]
    fn _hooks(
        &self,
        py: Python<'_>,
    ) -> Option<(
        Option<Py<PyAny>>,
        Option<Py<PyAny>>,
        Option<Py<PyAny>>,
        Option<Py<PyAny>>,
    )> {
        let h = self.config.hooks.as_ref()?;
        let get = |i: usize| h[i].as_ref().map(|f| f.clone_ref(py));
        Some((get(0), get(1), get(2), get(3)))
    }

    /// The `sleep=` callable, if one was given.
    #[getter]
    fn _sleep(&self, py: Python<'_>) -> Option<Py<PyAny>> {
        self.config.sleep.as_ref().map(|f| f.clone_ref(py))
    }

    /// The `async_sleep=` callable, if one was given.
    #[getter]
    fn _async_sleep(&self, py: Python<'_>) -> Option<Py<PyAny>> {
        self.config.async_sleep.as_ref().map(|f| f.clone_ref(py))
    }

    #[getter]
    fn max_attempts(&self) -> u32 {
        self.config.policy.max_attempts().get()
    }
}

/// One operation under a `Retrying`, driven from Python.
#[pyclass(module = "fusewire._native")]
pub struct RetryRun {
    progress: Progress,
    /// Keeps the policy (and so `progress.config`'s Python objects) alive
    /// and visible to the GC: only the `Retrying` visits its config.
    _policy: Py<Retrying>,
}

#[pymethods]
impl RetryRun {
    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        visit.call(&self._policy)
    }

    /// The attempt succeeded.
    fn success(&self, py: Python<'_>) {
        self.progress.success(py);
    }

    /// The attempt raised `exc`: the seconds to wait before the next one;
    /// `None` when the caller should re-raise `exc` (not retried, or given
    /// up with `reraise=True`); raises `RetryError` from `exc` when giving
    /// up otherwise. Calls `before_sleep` before returning a delay.
    #[pyo3(signature = (exc, matched=false))]
    fn failure(
        &mut self,
        py: Python<'_>,
        exc: Bound<'_, PyAny>,
        matched: bool,
    ) -> PyResult<Option<f64>> {
        let err = PyErr::from_value(exc.clone());
        let ticks = match self.progress.failure(py, err, matched) {
            Ok(t) => t,
            // The caller re-raises the original with a bare `raise`.
            Err(e) if e.value(py).is(&exc) => return Ok(None),
            Err(e) => return Err(e),
        };
        self.progress.before_sleep(py, ticks, &exc)?;
        Ok(Some(seconds(ticks)))
    }

    /// Attempts made so far, the first included.
    #[getter]
    fn attempts(&self) -> u32 {
        self.progress.attempts
    }
}

/// One operation's retry decisions, the core's `Retry` on the policy's
/// clock and budget. Public API: `fusewire.RetryState`, from
/// `Retrying.state()`. It only decides: no exception matching, hooks or
/// sleeping; with a budget, each `next()` records the failure in it and asks
/// it before scheduling (the host records successes).
#[pyclass(module = "fusewire._native")]
pub struct RetryState {
    /// The policy whose clock it reads (held as a Python reference so the
    /// GC sees it; only the `Retrying` visits its config's objects).
    policy: Py<Retrying>,
    retry: Retry,
    reason: Option<GiveUpReason>,
}

#[pymethods]
impl RetryState {
    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        visit.call(&self.policy)
    }

    /// The first attempt begins now: resets the attempt count and the
    /// deadline (`max_elapsed` counts from here).
    fn start(&mut self, py: Python<'_>) -> PyResult<()> {
        let now = self.policy.get().config.clock.now(py)?;
        self.retry.start(now);
        self.reason = None;
        Ok(())
    }

    /// After a failed attempt: the seconds to wait before the next one, or
    /// `None` to give up (`reason` says why). `retry_after` is the server's
    /// hint in seconds: it lengthens the wait, never shortens it, and one
    /// longer than the retry may wait (past the backoff's cap or the
    /// deadline; `inf`) gives up with `"wait_too_long"`. With the policy's
    /// `budget`, the failure is recorded and the budget asked (`"budget"`).
    /// Before `start()`, the operation starts now.
    #[pyo3(signature = (retry_after=None))]
    fn next(&mut self, py: Python<'_>, retry_after: Option<f64>) -> PyResult<Option<f64>> {
        let hint = match retry_after {
            Some(s) => Some(crate::clock::duration("retry_after", s)?),
            None => None,
        };
        let cfg = &self.policy.get().config;
        let now = cfg.clock.now(py)?;
        // With a budget: the core's one decision (records the failure, asks
        // the budget before scheduling).
        let decision = match &cfg.budget {
            Some(b) => self
                .retry
                .next_with_budget(now, hint, &mut *b.bind(py).get().lock()),
            None => self.retry.next(now, hint),
        };
        match decision {
            Decision::RetryAfter(ticks) => {
                self.reason = None;
                Ok(Some(seconds(ticks)))
            }
            Decision::GiveUp(r) => {
                self.reason = Some(r);
                Ok(None)
            }
        }
    }

    /// Attempts made so far, the first included (0 before it starts).
    #[getter]
    fn attempts(&self) -> u32 {
        self.retry.attempts()
    }

    /// Why the last `next()` gave up: `"max_attempts"`, `"deadline"`,
    /// `"wait_too_long"` or `"budget"`; `None` when it did not.
    #[getter]
    fn reason(&self) -> Option<&'static str> {
        self.reason.map(reason_name)
    }

    fn __repr__(&self) -> String {
        format!(
            "<fusewire.RetryState attempts={} reason={:?}>",
            self.retry.attempts(),
            self.reason.map(reason_name)
        )
    }
}
