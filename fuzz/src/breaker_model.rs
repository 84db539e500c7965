//! A reference breaker, written from the rules in `core/src/breaker` docs,
//! and the op-sequence driver that runs it next to the real one.
//!
//! Besides agreeing with the model on every result, every step must obey the
//! state graph on its own: which transitions exist, which operation may cause
//! which reason, generation moving by exactly the transitions made.

use arbitrary::Arbitrary;
use fusewire::window::Kind;
use fusewire::{
    Breaker, BreakerConfig, Comparison, DwellExpiry, HalfOpenRule, Outcome, Permit, RateBasis,
    Reason, Rng, State, Transition, Window,
};

use crate::{Num, Shadow, Tick};

/// One thing a host can do to a breaker.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Op {
    /// `try_acquire`; an admitted permit is kept for later.
    Acquire(Tick),
    /// `record` of a kept permit (`pick` chooses which).
    Record(u8, u8, Num, Tick),
    /// `release` of a kept permit.
    Release(u8, Tick),
    /// `record` of a permit rebuilt from an arbitrary integer.
    Forged(u64, u8, Num, Tick),
    /// `record` of a kept permit without giving it up (a duplicate report).
    Duplicate(u8, u8, Num, Tick),
    /// `poll`.
    Poll(Tick),
    /// `trip`.
    Trip(Tick),
    /// `close`.
    Close(Tick),
    /// `force_open`.
    ForceOpen(Tick),
    /// `disable`.
    Disable(Tick),
    /// `reset`.
    Reset(Tick),
    /// `snapshot`, compared field by field.
    Snapshot(Tick),
    /// `mean_latency` and `percentile`.
    Latency(Tick, u32),
}

fn outcome(v: u8) -> Outcome {
    match v % 4 {
        0 => Outcome::Success,
        1 => Outcome::Failure,
        2 => Outcome::Timeout,
        _ => Outcome::Ignored,
    }
}

/// The reference breaker.
pub struct Model<S> {
    cfg: BreakerConfig,
    failure_micro: Option<u32>,
    slow_micro: Option<u32>,
    pub state: State,
    pub generation: u32,
    since: u64,
    open_until: u64,
    last_open: u64,
    reopens: u32,
    consecutive: u32,
    admitted: u32,
    in_flight: u32,
    passed: u32,
    failed: u32,
    slow: u32,
    last_now: u64,
    regressions: u32,
    window: S,
    rng: Rng,
}

/// 50% is 500_000 millionths; f32 arithmetic exactly as documented.
fn micro(p: Option<f32>) -> Option<u32> {
    p.map(|v| (v * 10_000.0 + 0.5) as u32)
}

impl<S: Shadow> Model<S> {
    /// A closed breaker.
    pub fn new(cfg: BreakerConfig, window: S) -> Self {
        Self {
            failure_micro: micro(cfg.failure_rate),
            slow_micro: micro(cfg.slow_call_rate),
            rng: Rng::new(cfg.seed),
            cfg,
            state: State::Closed,
            generation: 0,
            since: 0,
            open_until: 0,
            last_open: 0,
            reopens: 0,
            consecutive: 0,
            admitted: 0,
            in_flight: 0,
            passed: 0,
            failed: 0,
            slow: 0,
            last_now: 0,
            regressions: 0,
            window,
        }
    }

    fn trips(&self, part: u32, whole: u32, m: Option<u32>) -> bool {
        let Some(m) = m else { return false };
        if whole == 0 {
            return false;
        }
        let (lhs, rhs) = (
            u128::from(part) * 1_000_000,
            u128::from(m) * u128::from(whole),
        );
        match self.cfg.comparison {
            Comparison::AtLeast => lhs >= rhs,
            Comparison::Above => lhs > rhs,
        }
    }

    fn move_to(&mut self, now: u64, to: State, reason: Reason) -> Transition {
        let t = Transition {
            from: self.state,
            to,
            reason,
        };
        self.state = to;
        self.generation = self.generation.wrapping_add(1);
        self.since = now;
        t
    }

    fn open(&mut self, now: u64, reason: Reason) -> Transition {
        let d = self
            .cfg
            .open_backoff
            .delay(self.reopens, self.last_open, &mut self.rng);
        assert!(
            d <= self.cfg.open_backoff.cap(),
            "open duration above the cap"
        );
        self.last_open = d;
        self.reopens = self.reopens.saturating_add(1);
        self.open_until = now.saturating_add(d);
        self.consecutive = 0;
        self.move_to(now, State::Open, reason)
    }

    fn close_(&mut self, now: u64, reason: Reason) -> Transition {
        self.reopens = 0;
        self.last_open = 0;
        self.consecutive = 0;
        if self.cfg.reset_window_on_close {
            self.window.clear();
        }
        self.move_to(now, State::Closed, reason)
    }

    /// `now` made monotonic (every call does this).
    fn clamp(&mut self, now: u64) -> u64 {
        if now < self.last_now {
            self.regressions += 1;
            self.last_now
        } else {
            self.last_now = now;
            now
        }
    }

    /// The time-driven step: only calls that can report it take it
    /// (acquire, record, release, poll); host moves and reads only clamp.
    fn advance(&mut self, now: u64) -> (u64, Option<Transition>) {
        let now = self.clamp(now);
        let dwell = self.cfg.half_open_max_dwell;
        let t = match self.state {
            State::Open if now >= self.open_until => {
                (
                    self.admitted,
                    self.in_flight,
                    self.passed,
                    self.failed,
                    self.slow,
                ) = (0, 0, 0, 0, 0);
                Some(self.move_to(now, State::HalfOpen, Reason::OpenElapsed))
            }
            State::HalfOpen if dwell > 0 && now - self.since >= dwell => {
                Some(match self.cfg.dwell_expiry {
                    DwellExpiry::Reopen => self.open(now, Reason::DwellExpired),
                    DwellExpiry::Close => self.close_(now, Reason::DwellExpired),
                })
            }
            _ => None,
        };
        (now, t)
    }

    /// `try_acquire`: `Ok((probe, transition))` or `Err((retry_after, transition))`.
    #[allow(clippy::type_complexity)]
    pub fn acquire(
        &mut self,
        now: u64,
    ) -> Result<(bool, Option<Transition>), (u64, Option<Transition>)> {
        let (now, t) = self.advance(now);
        match self.state {
            State::Closed | State::Disabled => return Ok((false, t)),
            State::HalfOpen if self.admitted < self.cfg.half_open_probes => {
                self.admitted += 1;
                self.in_flight += 1;
                return Ok((true, t));
            }
            _ => {}
        }
        self.window.record(now, Kind::Rejected, false, 0);
        let retry_after = match self.state {
            State::Open => self.open_until - now,
            State::HalfOpen if self.cfg.half_open_max_dwell > 0 => {
                (self.since.saturating_add(self.cfg.half_open_max_dwell)).saturating_sub(now)
            }
            State::HalfOpen => self.cfg.open_backoff.raw(0),
            _ => u64::MAX,
        };
        Err((retry_after, t))
    }

    fn give_back(&mut self) {
        if self.in_flight > 0 {
            self.in_flight -= 1;
            self.admitted -= 1;
        }
    }

    /// `record`.
    pub fn record(
        &mut self,
        gen: u32,
        probe: bool,
        o: Outcome,
        dur: u64,
        now: u64,
    ) -> Option<Transition> {
        let (now, t) = self.advance(now);
        if self.state == State::Disabled {
            return t;
        }
        let slow = self.slow_micro.is_some() && dur >= self.cfg.slow_call_duration;
        let kind = match o {
            Outcome::Success => Kind::Success,
            Outcome::Failure => Kind::Failure,
            Outcome::Timeout => Kind::Timeout,
            Outcome::Ignored => Kind::Ignored,
        };
        self.window.record(now, kind, slow, dur);
        if gen != self.generation {
            return t;
        }
        let failed = matches!(o, Outcome::Failure | Outcome::Timeout);
        match self.state {
            State::Closed => {
                match o {
                    Outcome::Ignored => return t,
                    Outcome::Success => self.consecutive = 0,
                    _ => self.consecutive += 1,
                }
                if failed
                    && self
                        .cfg
                        .consecutive_failures
                        .is_some_and(|n| self.consecutive >= n)
                {
                    return Some(self.open(now, Reason::ConsecutiveFailures));
                }
                if !failed && !slow {
                    return t;
                }
                let c = self.window.totals(now);
                let whole = match self.cfg.rate_basis {
                    RateBasis::Outcomes => c.successes + c.failures,
                    RateBasis::AllCalls => c.successes + c.failures + c.ignored + c.rejected,
                };
                if whole < self.cfg.min_calls {
                    return t;
                }
                if failed && self.trips(c.failures, whole, self.failure_micro) {
                    return Some(self.open(now, Reason::FailureRate));
                }
                if slow && self.trips(c.slow, whole, self.slow_micro) {
                    return Some(self.open(now, Reason::SlowCallRate));
                }
                t
            }
            State::HalfOpen if probe => {
                if o == Outcome::Ignored {
                    self.give_back();
                    return t;
                }
                if self.in_flight == 0 {
                    return t;
                }
                self.in_flight -= 1;
                let limit = self.cfg.half_open_probes;
                let reopen = match self.cfg.half_open_rule {
                    HalfOpenRule::AllSucceed => {
                        if failed || slow {
                            self.failed += 1;
                            Some(true)
                        } else {
                            self.passed += 1;
                            (self.passed >= limit).then_some(false)
                        }
                    }
                    HalfOpenRule::Rates => {
                        if failed {
                            self.failed += 1;
                        } else {
                            self.passed += 1;
                        }
                        if slow {
                            self.slow += 1;
                        }
                        let done = self.passed + self.failed;
                        (done >= limit).then(|| {
                            self.trips(self.failed, done, self.failure_micro)
                                || self.trips(self.slow, done, self.slow_micro)
                        })
                    }
                };
                match reopen {
                    None => t,
                    Some(true) => Some(self.open(now, Reason::ProbesFailed)),
                    Some(false) => Some(self.close_(now, Reason::ProbesPassed)),
                }
            }
            _ => t,
        }
    }

    /// `release`.
    pub fn release(&mut self, gen: u32, probe: bool, now: u64) -> Option<Transition> {
        let (_, t) = self.advance(now);
        if probe && gen == self.generation && self.state == State::HalfOpen {
            self.give_back();
        }
        t
    }

    /// `poll`.
    pub fn poll(&mut self, now: u64) -> Option<Transition> {
        self.advance(now).1
    }

    /// `trip`, `close`, `force_open`, `disable`, `reset`.
    pub fn host(&mut self, to: State, reset: bool, now: u64) -> Option<Transition> {
        let now = self.clamp(now);
        let out = if self.state == to {
            None
        } else {
            Some(match to {
                State::Open => self.open(now, Reason::Host),
                State::Closed => self.close_(now, Reason::Host),
                _ => self.move_to(now, to, Reason::Host),
            })
        };
        if reset {
            self.window.clear();
            self.consecutive = 0;
        }
        out
    }
}

/// A transition the rules allow, caused by `op` (`"record"`, `"host"`, or
/// `"any"` for moves that time alone causes, which any call applies first).
fn legal(t: &Transition, host: bool, record: bool) -> bool {
    use Reason::*;
    use State::*;
    match (t.from, t.to, t.reason) {
        (Open, HalfOpen, OpenElapsed) => true,
        (HalfOpen, Open | Closed, DwellExpired) => true,
        (Closed, Open, FailureRate | SlowCallRate | ConsecutiveFailures) => record,
        (HalfOpen, Open, ProbesFailed) | (HalfOpen, Closed, ProbesPassed) => record,
        (from, to, Host) => host && from != to && to != HalfOpen,
        _ => false,
    }
}

/// Runs `ops` against a breaker over `window` and the model over `shadow`.
pub fn run<W: Window, S: Shadow>(config: BreakerConfig, window: W, shadow: S, ops: &[Op]) {
    let mut b = Breaker::with_window(config, window).expect("validated config");
    let mut m = Model::new(config, shadow);
    let mut permits: Vec<u64> = Vec::new();
    let mut now = 0u64;
    let trace = std::env::var_os("FUZZ_TRACE").is_some();
    let take = |permits: &mut Vec<u64>, pick: u8, keep: bool| -> Option<u64> {
        if permits.is_empty() {
            return None;
        }
        let i = usize::from(pick) % permits.len();
        Some(if keep {
            permits[i]
        } else {
            permits.swap_remove(i)
        })
    };
    for op in ops {
        let (before, gen_before) = (b.state(), b.generation());
        let (got, host, record): (Option<Transition>, bool, bool) = match *op {
            Op::Acquire(tick) => {
                now = tick.apply(now);
                let want = m.acquire(now);
                match b.try_acquire(now) {
                    Ok(p) => {
                        assert_eq!(Ok((p.is_probe(), p.transition)), want, "acquire at {now}");
                        assert_eq!(p.generation(), b.generation());
                        let t = p.transition;
                        permits.push(p.into_raw());
                        (t, false, false)
                    }
                    Err(r) => {
                        assert_eq!(Err((r.retry_after, r.transition)), want, "reject at {now}");
                        assert_eq!(r.state, b.state());
                        assert!(matches!(
                            r.state,
                            State::Open | State::HalfOpen | State::ForcedOpen
                        ));
                        (r.transition, false, false)
                    }
                }
            }
            Op::Record(pick, o, dur, tick) | Op::Duplicate(pick, o, dur, tick) => {
                now = tick.apply(now);
                let keep = matches!(op, Op::Duplicate(..));
                let Some(raw) = take(&mut permits, pick, keep) else {
                    continue;
                };
                record_raw(&mut b, &mut m, raw, o, dur.get(), now)
            }
            Op::Forged(raw, o, dur, tick) => {
                now = tick.apply(now);
                record_raw(&mut b, &mut m, raw, o, dur.get(), now)
            }
            Op::Release(pick, tick) => {
                now = tick.apply(now);
                let Some(raw) = take(&mut permits, pick, false) else {
                    continue;
                };
                let p = Permit::from_raw(raw);
                let want = m.release(p.generation(), p.is_probe(), now);
                let got = b.release(p, now);
                assert_eq!(got, want, "release at {now}");
                (got, false, false)
            }
            Op::Poll(tick) => {
                now = tick.apply(now);
                let got = b.poll(now);
                assert_eq!(got, m.poll(now), "poll at {now}");
                (got, false, false)
            }
            Op::Trip(tick)
            | Op::Close(tick)
            | Op::ForceOpen(tick)
            | Op::Disable(tick)
            | Op::Reset(tick) => {
                now = tick.apply(now);
                let (got, to, reset) = match op {
                    Op::Trip(_) => (b.trip(now), State::Open, false),
                    Op::Close(_) => (b.close(now), State::Closed, false),
                    Op::ForceOpen(_) => (b.force_open(now), State::ForcedOpen, false),
                    Op::Disable(_) => (b.disable(now), State::Disabled, false),
                    _ => (b.reset(now), State::Closed, true),
                };
                assert_eq!(got, m.host(to, reset, now), "{op:?} at {now}");
                assert_eq!(b.state(), to, "a host call always lands where it asked");
                (got, true, false)
            }
            Op::Snapshot(tick) => {
                now = tick.apply(now);
                let s = b.snapshot(now);
                // A read never moves the breaker: it only clamps `now`.
                let eff = m.clamp(now);
                assert_eq!(s.state, m.state);
                assert_eq!(s.generation, m.generation);
                assert_eq!(s.counts, m.window.totals(eff), "window counts at {eff}");
                assert_eq!(s.consecutive_failures, m.consecutive);
                assert_eq!(s.probes_in_flight, m.in_flight);
                assert!(s.probes_in_flight <= config.half_open_probes);
                assert_eq!(
                    s.open_until,
                    if m.state == State::Open {
                        m.open_until
                    } else {
                        0
                    }
                );
                assert_eq!(s.reopens, m.reopens);
                assert_eq!(s.clock_regressions, m.regressions);
                assert_eq!(s.since, m.since);
                if s.state == State::Open {
                    assert!(s.open_until >= s.since);
                    assert!(s.open_until - s.since <= config.open_backoff.cap());
                }
                (None, false, false)
            }
            Op::Latency(tick, ppm) => {
                now = tick.apply(now);
                let mean = b.mean_latency(now);
                let eff = m.clamp(now);
                if let Some(want) = m.window.mean(eff) {
                    assert_eq!(mean, want, "mean latency at {eff}");
                }
                let p = b.percentile(now, ppm);
                // percentile is a second read at the same `now` (a second
                // regression if time went back); reads never move the breaker.
                m.clamp(now);
                assert_eq!(
                    p.is_some(),
                    mean.is_some(),
                    "percentile and mean disagree on emptiness"
                );
                (None, false, false)
            }
        };
        if trace {
            eprintln!(
                "{op:?} now={now} -> {got:?} state={:?} gen={}",
                b.state(),
                b.generation()
            );
        }
        assert_eq!(b.state(), m.state, "state after {op:?}");
        assert_eq!(b.generation(), m.generation, "generation after {op:?}");
        // The state graph, checked on its own: each call makes at most one
        // transition, and reports exactly the one it made.
        let moved = b.generation().wrapping_sub(gen_before);
        match got {
            None => {
                assert_eq!(moved, 0, "generation moved without a transition");
                assert_eq!(b.state(), before);
            }
            Some(t) => {
                assert_eq!(t.to, b.state());
                assert!(
                    legal(&t, host, record),
                    "illegal transition {t:?} by {op:?}"
                );
                assert_eq!(
                    t.from, before,
                    "transition {t:?} does not start from {before:?}"
                );
                assert_eq!(moved, 1, "one call, one transition");
            }
        }
    }
}

fn record_raw<W: Window, S: Shadow>(
    b: &mut Breaker<W>,
    m: &mut Model<S>,
    raw: u64,
    o: u8,
    dur: u64,
    now: u64,
) -> (Option<Transition>, bool, bool) {
    let p = Permit::from_raw(raw);
    let want = m.record(p.generation(), p.is_probe(), outcome(o), dur, now);
    let got = b.record(p, outcome(o), dur, now);
    assert_eq!(got, want, "record at {now}");
    (got, false, true)
}

/// A fuzz input for a breaker target.
#[derive(Arbitrary, Debug)]
pub struct Input {
    /// The config.
    pub config: crate::ArbBreakerConfig,
    /// The window shape (time windows: span and buckets).
    pub span: Num,
    /// Buckets (time windows), or which count window size.
    pub buckets: u8,
    /// What the host does.
    pub ops: Vec<Op>,
}
