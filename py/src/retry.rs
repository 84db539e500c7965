//! `Retrying` and `RetryBudget`: the core's retry policy and budget.
//!
//! The sync loop runs here (`Retrying.call`); the async loop is Python's
//! (`await asyncio.sleep`) and asks a `RetryRun` what to do after each
//! failure. Either way the decisions are the core's.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use fusewire::{Budget, Decision, GiveUpReason, RemoteBudget, Retry, RetryPolicy, Rng};
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
use crate::store::Backend;

/// The retry budget (gRPC's retry throttling): failures spend a token,
/// successes earn `token_ratio` back; retries stop while half or fewer of
/// `max_tokens` are left. Share one between the `Retrying`s of a service.
#[pyclass(module = "fusewire._native", frozen)]
pub struct RetryBudget {
    core: Mutex<Budget>,
    /// The constructor's arguments, so it pickles by config (with the
    /// store and the name when it is in a store).
    args: (u32, f64),
    binding: Option<(Py<PyAny>, String)>,
    /// The store's backend when built with `store=` (see [`crate::store`]).
    backend: Backend,
}

impl RetryBudget {
    pub(crate) fn lock(&self) -> std::sync::MutexGuard<'_, Budget> {
        self.core.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether the budget lives in a store.
    pub(crate) fn is_stored(&self) -> bool {
        self.backend.is_some()
    }

    /// A call succeeded (in the store when there is one).
    pub(crate) fn success(&self, py: Python<'_>) -> PyResult<()> {
        match &self.backend {
            Some(b) => b
                .bind(py)
                .call_method0(pyo3::intern!(py, "record_success"))
                .map(drop),
            None => {
                self.lock().record_success();
                Ok(())
            }
        }
    }

    fn ask<T: for<'a, 'py> FromPyObject<'a, 'py>>(
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
}

/// A stored budget seen through the core's `RetryBudget` trait, so the
/// core's one retry decision asks the store. The trait cannot fail: a
/// store error refuses the retry and is kept to raise after the decision.
///
/// The failure the core records first is held back and sent with the retry
/// request when the decision asks one: a backend with `failure_retry` (a
/// `RedisStore`'s: the script's one op) then costs one round trip per
/// failed attempt; [`StoredBudget::finish`] sends a failure the decision
/// did not follow with a request.
pub(crate) struct StoredBudget<'a, 'py> {
    backend: &'a Bound<'py, PyAny>,
    error: Option<PyErr>,
    pending: bool,
}

impl<'a, 'py> StoredBudget<'a, 'py> {
    pub(crate) fn new(backend: &'a Bound<'py, PyAny>) -> Self {
        Self {
            backend,
            error: None,
            pending: false,
        }
    }

    fn call(&mut self, method: &Bound<'py, pyo3::types::PyString>) -> Option<Bound<'py, PyAny>> {
        if self.error.is_some() {
            return None;
        }
        match self.backend.call_method0(method) {
            Ok(v) => Some(v),
            Err(e) => {
                self.error = Some(e);
                None
            }
        }
    }

    /// Sends a failure still held back, and gives the first store error.
    pub(crate) fn finish(mut self) -> PyResult<()> {
        if std::mem::take(&mut self.pending) {
            let py = self.backend.py();
            self.call(pyo3::intern!(py, "record_failure"));
        }
        self.error.map_or(Ok(()), Err)
    }
}

impl fusewire::RetryBudget for StoredBudget<'_, '_> {
    fn record_failure(&mut self) {
        self.pending = true;
    }

    fn try_retry(&mut self) -> bool {
        let py = self.backend.py();
        let answer = if std::mem::take(&mut self.pending) {
            let both = pyo3::intern!(py, "failure_retry");
            if self.backend.hasattr(both).unwrap_or(false) {
                self.call(both)
            } else {
                self.call(pyo3::intern!(py, "record_failure"));
                self.call(pyo3::intern!(py, "try_retry"))
            }
        } else {
            self.call(pyo3::intern!(py, "try_retry"))
        };
        match answer.map(|v| v.extract::<bool>()) {
            Some(Ok(ok)) => ok,
            Some(Err(e)) => {
                self.error = Some(e);
                false
            }
            None => false,
        }
    }
}

#[pymethods]
impl RetryBudget {
    #[new]
    #[pyo3(
        signature = (max_tokens=Int::of(10), token_ratio=0.1, *, store=None, name=None),
        text_signature = "(max_tokens=10, token_ratio=0.1, *, store=None, name=None)"
    )]
    fn new(
        py: Python<'_>,
        max_tokens: Int<u32>,
        token_ratio: f64,
        store: Option<Bound<'_, PyAny>>,
        name: Option<Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
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
        let name = crate::store::name_arg(name.as_ref())?;
        let backend = crate::store::bind(py, store.as_ref(), name.as_deref(), false, || {
            fusewire_store::config::Config::budget(max_tokens, milli)
        })?;
        let binding = match (&backend, store, name) {
            (Some(_), Some(s), Some(n)) => Some((s.unbind(), n)),
            _ => None,
        };
        Ok(Self {
            core: Mutex::new(core),
            args: (max_tokens, token_ratio),
            binding,
            backend,
        })
    }

    /// Pickles by config: the other side starts with a full budget, or
    /// binds to the same store entry by name.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        let me = slf.get();
        let (max_tokens, ratio) = me.args;
        let kwargs = PyDict::new(py);
        if let Some((store, name)) = &me.binding {
            kwargs.set_item("store", store.bind(py))?;
            kwargs.set_item("name", name)?;
        }
        let rebuild = py.import("fusewire._wrap")?.getattr("_rebuild")?;
        (rebuild, (slf.get_type(), (max_tokens, ratio), kwargs))
            .into_pyobject(py)
            .map(Bound::into_any)
    }

    /// Tokens left (fractional).
    #[getter]
    fn tokens(&self, py: Python<'_>) -> PyResult<f64> {
        let milli = self
            .ask::<u64>(py, "tokens_milli")
            .unwrap_or_else(|| Ok(self.lock().tokens_milli()))?;
        Ok(milli as f64 / 1000.0)
    }

    /// Whether a retry would be allowed now.
    #[getter]
    fn can_retry(&self, py: Python<'_>) -> PyResult<bool> {
        self.ask(py, "can_retry")
            .unwrap_or_else(|| Ok(self.lock().can_retry()))
    }

    /// Retries refused so far.
    #[getter]
    fn throttled(&self, py: Python<'_>) -> PyResult<u64> {
        self.ask(py, "throttled")
            .unwrap_or_else(|| Ok(self.lock().throttled()))
    }

    /// A call succeeded: earns `token_ratio` back.
    fn record_success(&self, py: Python<'_>) -> PyResult<()> {
        self.success(py)
    }

    /// A call failed: spends a token.
    fn record_failure(&self, py: Python<'_>) -> PyResult<()> {
        match &self.backend {
            Some(b) => b
                .bind(py)
                .call_method0(pyo3::intern!(py, "record_failure"))
                .map(drop),
            None => {
                self.lock().record_failure();
                Ok(())
            }
        }
    }

    /// Asks to make a retry: whether it is allowed (a refusal is counted in
    /// `throttled`).
    fn try_retry(&self, py: Python<'_>) -> PyResult<bool> {
        self.ask(py, "try_retry")
            .unwrap_or_else(|| Ok(self.lock().try_retry().is_ok()))
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
    /// Names this config in the per-thread statistics.
    id: u64,
    /// `wait=` rules the core's one `Backoff` cannot state (a sum, a
    /// chain, a floor): see [`Plan`]. `None`: the policy's backoff decides.
    plan: Option<Plan>,
}

/// A combined `wait=` (tenacity's `wait_fixed(a) + wait_random(0, b)`,
/// `wait_chain`, `wait_exponential(min=)`): segments `(first n, terms)`
/// sorted by `n` (0 for the first delay); the delay for `n` is the sum of
/// the core delays of the terms of the last segment starting at or before
/// `n`. Every term's delay (schedule, jitter, cap) is the core's
/// `Backoff::delay`; the door only adds and selects. The decision (attempts,
/// deadline, budget, an advertised wait) stays the core `Retry`'s: the
/// combined delay goes in as the wait the retry must honour.
struct Plan {
    segments: Vec<(u32, Vec<fusewire::Backoff>)>,
}

impl Plan {
    fn delay(&self, n: u32, rng: &mut Rng) -> u64 {
        let terms = self
            .segments
            .iter()
            .rev()
            .find(|(first, _)| *first <= n)
            .map_or(&[][..], |(_, t)| &t[..]);
        terms
            .iter()
            .fold(0u64, |acc, b| acc.saturating_add(b.delay(n, 0, rng)))
    }
}

/// tenacity's `statistics` of the last operation a thread ran under one
/// policy, in ticks.
#[derive(Clone, Copy)]
struct Stats {
    start: u64,
    attempts: u32,
    idle: u64,
    since_first: Option<u64>,
}

/// Most policies whose statistics one thread keeps (the oldest goes).
const STATS_KEPT: usize = 64;

thread_local! {
    static STATS: RefCell<Vec<(u64, Stats)>> = const { RefCell::new(Vec::new()) };
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

fn store_stats(id: u64, stats: Stats) {
    STATS.with_borrow_mut(|v| {
        if let Some(e) = v.iter_mut().find(|e| e.0 == id) {
            e.1 = stats;
        } else {
            if v.len() >= STATS_KEPT {
                v.remove(0);
            }
            v.push((id, stats));
        }
    });
}

fn load_stats(id: u64) -> Option<Stats> {
    STATS.with_borrow(|v| v.iter().find(|e| e.0 == id).map(|e| e.1))
}

/// One core decision after a failed attempt (budget included), with a
/// combined `wait=` fed in as the wait to honour.
fn decide(
    cfg: &Config,
    py: Python<'_>,
    retry: &mut Retry,
    rng: &mut Rng,
    now: u64,
    hint: Option<u64>,
    fixed: Option<&mut RemoteBudget>,
) -> PyResult<Decision> {
    let (asked, own) = match &cfg.plan {
        None => (hint, None),
        Some(plan) => {
            let d = plan.delay(retry.attempts().max(1) - 1, rng);
            (Some(hint.map_or(d, |h| h.max(d))), Some(d))
        }
    };
    let decision = match (&cfg.budget, fixed) {
        (Some(_), Some(f)) => retry.next_with_budget(now, asked, f),
        (Some(b), None) => match &b.get().backend {
            Some(backend) => {
                let backend = backend.bind(py);
                let mut stored = StoredBudget::new(backend);
                let d = retry.next_with_budget(now, asked, &mut stored);
                stored.finish()?;
                d
            }
            None => retry.next_with_budget(now, asked, &mut *b.get().lock()),
        },
        (None, _) => retry.next(now, asked),
    };
    Ok(match (decision, own) {
        // The combined delay itself passes the deadline: the core saw it
        // as an advertised wait, the user asked for no such wait.
        (Decision::GiveUp(GiveUpReason::WaitTooLong), Some(d)) if hint.is_none_or(|h| h <= d) => {
            Decision::GiveUp(GiveUpReason::Deadline)
        }
        (d, _) => d,
    })
}

/// One operation's progress: the core `Retry`, started lazily at the first
/// failure (the success path costs no clock read unless a deadline is set).
struct Progress {
    config: Arc<Config>,
    started: u64,
    retry: Option<(Retry, Rng)>,
    attempts: u32,
    stats: Stats,
    /// The clock reading `plan` made, for the `failure_in` that follows.
    pending_now: Option<u64>,
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
    fn operation(&self, py: Python<'_>, seed: Option<u64>) -> PyResult<(Retry, Rng)> {
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
        // The combined wait's own stream, a child of the operation's seed.
        let wait_rng = Rng::new(seed).split();
        Ok((Retry::new(self.policy.with_seed(seed)), wait_rng))
    }
}

impl Progress {
    fn begin(config: &Arc<Config>, py: Python<'_>) -> PyResult<Self> {
        Ok(Self::started_at(config, config.clock.now(py)?))
    }

    /// The first attempt began at `now` (the statistics' `start_time`).
    fn started_at(config: &Arc<Config>, now: u64) -> Self {
        let stats = Stats {
            start: now,
            attempts: 1,
            idle: 0,
            since_first: None,
        };
        store_stats(config.id, stats);
        Self {
            config: Arc::clone(config),
            started: now,
            retry: None,
            attempts: 1,
            stats,
            pending_now: None,
        }
    }

    fn success(&self, py: Python<'_>) {
        if let Some(b) = &self.config.budget {
            // A store that fails to count a success costs the budget a
            // token it would have earned, never the call's result.
            if let Err(e) = b.get().success(py) {
                e.write_unraisable(py, Some(b.bind(py).as_any()));
            }
        }
    }

    /// After a failed attempt: `Ok(ticks)` to wait before the next one, or
    /// the error to raise (the original one when it is not retried).
    /// `matched`: the caller already decided this failure is retried (a
    /// result `retry_on_result` rejected), so `retry_on` is not asked.
    fn failure(&mut self, py: Python<'_>, err: PyErr, matched: bool) -> Result<u64, PyErr> {
        self.failure_in(py, err, matched, None)
    }

    /// Whether `exc` is a failure this policy retries (so the budget
    /// hears of it).
    fn retried(&self, exc: &Bound<'_, PyAny>, matched: bool) -> bool {
        is_exception(exc) && (matched || self.config.retry_on.matches(exc))
    }

    /// The wait `exc` advertises (`retry_after`), when it is honoured.
    fn hint(&self, py: Python<'_>, exc: &Bound<'_, PyAny>) -> Option<u64> {
        if !self.config.honor_retry_after {
            return None;
        }
        exc.getattr(pyo3::intern!(py, "retry_after"))
            .ok()
            .and_then(|v| v.extract::<f64>().ok())
            // `inf` (a forced-open breaker) is the longest wait there is.
            .filter(|s| *s > 0.0)
            .map(seconds_to_ticks_lossy)
    }

    /// The core `Retry`, started at the first failure.
    fn started_retry(&mut self, py: Python<'_>) -> PyResult<&mut (Retry, Rng)> {
        if self.retry.is_none() {
            let (mut r, rng) = self.config.operation(py, None)?;
            r.start(self.started);
            self.retry = Some((r, rng));
        }
        Ok(self
            .retry
            .get_or_insert_with(|| unreachable!("set just above")))
    }

    /// An async loop's first half of `failure` over a store budget with
    /// coroutine methods: 0 when `exc` is not retried (the budget hears
    /// nothing), 1 when the budget only records the failure, 2 when it is
    /// also asked `try_retry`. The decision runs on a copy (same clock
    /// reading, same draws), so `failure_in` with the fetched answer makes
    /// the same one.
    fn plan(&mut self, py: Python<'_>, exc: &Bound<'_, PyAny>, matched: bool) -> PyResult<u8> {
        if !self.retried(exc, matched) {
            return Ok(0);
        }
        let cfg = Arc::clone(&self.config);
        let now = cfg.clock.now(py)?;
        self.pending_now = Some(now);
        let hint = self.hint(py, exc);
        let (mut retry, mut rng) = *self.started_retry(py)?;
        let mut probe = RemoteBudget::answering(true);
        decide(&cfg, py, &mut retry, &mut rng, now, hint, Some(&mut probe))?;
        Ok(if probe.asked() { 2 } else { 1 })
    }

    fn failure_in(
        &mut self,
        py: Python<'_>,
        err: PyErr,
        matched: bool,
        fixed: Option<&mut RemoteBudget>,
    ) -> Result<u64, PyErr> {
        let cfg = Arc::clone(&self.config);
        let exc = err.value(py).clone().into_any();
        if !self.retried(&exc, matched) {
            return Err(err);
        }
        let now = match self.pending_now.take() {
            Some(now) => now,
            None => cfg.clock.now(py)?,
        };
        let hint = self.hint(py, &exc);
        let (retry, rng) = self.started_retry(py)?;
        // One core decision: budget (failure counted, retry allowed),
        // attempts, deadline and an advertised wait too long to sleep.
        let decision = decide(&cfg, py, retry, rng, now, hint, fixed)?;
        self.attempts = retry.attempts();
        self.stats.since_first = Some(now.saturating_sub(self.started));
        let reason = match decision {
            Decision::RetryAfter(ticks) => {
                self.stats.attempts = self.attempts;
                self.stats.idle = self.stats.idle.saturating_add(ticks);
                store_stats(cfg.id, self.stats);
                return Ok(ticks);
            }
            Decision::GiveUp(r) => reason_name(r),
        };
        store_stats(cfg.id, self.stats);
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

/// `backoff=` / `wait=` as the core policy's backoff and, for a combined
/// wait, its [`Plan`]. `(None, None)`: neither given (the default).
fn wait_rule(
    backoff: Option<Backoff>,
    wait: Option<&Bound<'_, PyAny>>,
) -> PyResult<(Option<fusewire::Backoff>, Option<Plan>)> {
    let wait = match (backoff, wait) {
        (Some(_), Some(w)) if !w.is_none() => {
            return Err(config_error(
                "wait",
                "give either wait= or backoff=, not both",
            ))
        }
        (Some(b), _) => return Ok((Some(b.inner), None)),
        (None, None) => return Ok((None, None)),
        (None, Some(w)) if w.is_none() => return Ok((None, None)),
        (None, Some(w)) => w,
    };
    if let Ok(b) = wait.extract::<Backoff>() {
        return Ok((Some(b.inner), None));
    }
    let py = wait.py();
    let bad = || {
        pyo3::exceptions::PyTypeError::new_err(
            "wait: expected a wait rule (wait_fixed, wait_random, wait_exponential, \
             wait_random_exponential, wait_chain, joined with +) or a Backoff",
        )
    };
    let segments: Vec<(u32, Vec<Backoff>)> = wait
        .call_method0(pyo3::intern!(py, "_plan"))
        .map_err(|_| bad())?
        .extract()
        .map_err(|_| bad())?;
    let mut segments: Vec<(u32, Vec<fusewire::Backoff>)> = segments
        .into_iter()
        .map(|(n, terms)| (n, terms.into_iter().map(|b| b.inner).collect()))
        .collect();
    segments.sort_by_key(|s| s.0);
    if let [(0, terms)] = &segments[..] {
        if let [only] = &terms[..] {
            // One core backoff: no combining at all.
            return Ok((Some(*only), None));
        }
    }
    let cap = segments
        .iter()
        .map(|(_, t)| t.iter().fold(0u64, |a, b| a.saturating_add(b.cap())))
        .max()
        .unwrap_or(0)
        .max(1);
    // The core's own delay is one tick; the combined delay is the wait the
    // retry honours (so attempts, deadline and budget stay its decisions).
    let unit = fusewire::Backoff::new(
        fusewire::Schedule::Constant { delay: 1 },
        fusewire::Jitter::None,
        cap,
    )
    .map_err(|e| from_core(e, &|_| "wait".into()))?;
    Ok((Some(unit), Some(Plan { segments })))
}

/// The native retry policy. Public API: `fusewire.Retrying` / `retry()`.
#[pyclass(module = "fusewire._native", frozen, subclass)]
pub struct Retrying {
    config: Arc<Config>,
}

impl Retrying {
    /// The `statistics` dict (see the getter).
    pub fn statistics_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        if let Some(st) = load_stats(self.config.id) {
            d.set_item("start_time", seconds(st.start))?;
            d.set_item("attempt_number", st.attempts)?;
            d.set_item("idle_for", seconds(st.idle))?;
            if let Some(since) = st.since_first {
                d.set_item("delay_since_first_attempt", seconds(since))?;
            }
        }
        Ok(d)
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
        if self.config.hooks.is_some() {
            // Hooks and result predicates run in the Python loop, on the
            // same decisions (`RetryRun`).
            let kwargs = kwargs.map_or_else(|| PyDict::new(py), Bound::clone);
            return this.call_method1(pyo3::intern!(py, "_call_hooked"), (func, args, kwargs));
        }
        // The first attempt begins: tenacity's `start_time` (and the
        // deadline's start).
        let start = self.config.clock.now(py)?;
        store_stats(
            self.config.id,
            Stats {
                start,
                attempts: 1,
                idle: 0,
                since_first: None,
            },
        );
        let mut progress: Option<Progress> = None;
        loop {
            match func.call(args, kwargs) {
                Ok(v) if crate::deferred::is_deferred(&v)? => {
                    return crate::deferred::late(this, func, args, kwargs, v);
                }
                Ok(v) => {
                    if let Some(b) = &self.config.budget {
                        if let Err(e) = b.get().success(py) {
                            e.write_unraisable(py, Some(b.bind(py).as_any()));
                        }
                    }
                    return Ok(v);
                }
                Err(err) => {
                    let mut p = match progress.take() {
                        Some(p) => p,
                        None => Progress::started_at(&self.config, start),
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
        wait=None,
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
    text_signature = "(*, max_attempts=3, max_elapsed=None, stop=None, backoff=None, wait=None, retry_on=None, budget=None, reraise=False, honor_retry_after=True, seed=None, clock=None, sleep=None, async_sleep=None, before_sleep=None, retry_on_result=None, give_up=None, before=None, after=None)")]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        max_attempts: Option<Int<u32>>,
        max_elapsed: Option<f64>,
        stop: Option<&Bound<'_, PyAny>>,
        backoff: Option<Backoff>,
        wait: Option<&Bound<'_, PyAny>>,
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
        let (backoff, plan) = match wait_rule(backoff, wait)? {
            (Some(b), plan) => (b, plan),
            (None, _) => (
                fusewire::Backoff::new(
                    fusewire::Schedule::Exponential {
                        base: 100_000_000,
                        factor_milli: 2000,
                    },
                    fusewire::Jitter::Full,
                    10_000_000_000,
                )
                .map_err(|e| from_core(e, &|_| "backoff".into()))?,
                None,
            ),
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
                id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
                plan,
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
        let (retry, wait_rng) = slf.get().config.operation(slf.py(), seed)?;
        Ok(RetryState {
            retry,
            wait_rng,
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

    /// The budget's store backend when it has coroutine methods (a
    /// `RedisStore`'s), which the async loops await; else `None`.
    #[getter]
    fn _abudget(&self, py: Python<'_>) -> Option<Py<PyAny>> {
        let b = self.config.budget.as_ref()?;
        crate::store::async_backend(py, &b.get().backend)
    }

    /// The `async_sleep=` callable, if one was given.
    #[getter]
    fn _async_sleep(&self, py: Python<'_>) -> Option<Py<PyAny>> {
        self.config.async_sleep.as_ref().map(|f| f.clone_ref(py))
    }

    /// tenacity's statistics of the last operation this thread ran under
    /// this policy (its latest state while it runs): `start_time` (seconds
    /// of the policy's clock, `time.monotonic()` by default),
    /// `attempt_number` (1 for the first), `idle_for` (seconds slept
    /// between attempts) and, after a failure, `delay_since_first_attempt`.
    /// Empty before this thread's first call. Each thread sees its own.
    #[getter]
    fn statistics<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        self.statistics_dict(py)
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

    /// An async loop over a store budget with coroutine methods, first
    /// half: 0 when `exc` is not retried (call `failure`), 1 when the
    /// budget only records the failure (await `arecord_failure`), 2 when it
    /// is also asked (await `atry_retry` too); then `_failure_fixed`.
    #[pyo3(signature = (exc, matched=false))]
    fn _failure_plan(
        &mut self,
        py: Python<'_>,
        exc: Bound<'_, PyAny>,
        matched: bool,
    ) -> PyResult<u8> {
        self.progress.plan(py, &exc, matched)
    }

    /// The second half: `failure` with the budget's awaited answer
    /// (`retry`: what `atry_retry` said; ignored when it was not asked).
    #[pyo3(signature = (exc, matched, retry))]
    fn _failure_fixed(
        &mut self,
        py: Python<'_>,
        exc: Bound<'_, PyAny>,
        matched: bool,
        retry: bool,
    ) -> PyResult<Option<f64>> {
        let err = PyErr::from_value(exc.clone());
        let mut fixed = RemoteBudget::answering(retry);
        let ticks = match self.progress.failure_in(py, err, matched, Some(&mut fixed)) {
            Ok(t) => t,
            Err(e) if e.value(py).is(&exc) => return Ok(None),
            Err(e) => return Err(e),
        };
        self.progress.before_sleep(py, ticks, &exc)?;
        Ok(Some(seconds(ticks)))
    }

    /// Reports a store's failure to count a success (the sync path's rule:
    /// it costs the budget a token, never the call's result).
    fn _budget_error(&self, py: Python<'_>, error: &Bound<'_, PyAny>) {
        let budget = self
            .progress
            .config
            .budget
            .as_ref()
            .map(|b| b.bind(py).clone());
        PyErr::from_value(error.clone()).write_unraisable(py, budget.as_ref().map(|b| b.as_any()));
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
    /// The combined `wait=`'s jitter stream (unused otherwise).
    wait_rng: Rng,
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
        let decision = decide(
            cfg,
            py,
            &mut self.retry,
            &mut self.wait_rng,
            now,
            hint,
            None,
        )?;
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
