//! A reference breaker, written from the rules in `core/src/breaker` docs,
//! and the op-sequence driver that runs it next to the real one.
//!
//! Besides agreeing with the model on every result, every step must obey
//! rules checked on the core alone: the state graph (which transitions
//! exist, which operation may cause which reason, the generation moving by
//! exactly the transitions made, one transition per call); a permit counts
//! at most once (permits out plus permits taken back equal permits issued,
//! and the window never holds more outcomes than permits taken back); and,
//! unless the host holds it open or the config waits for probes forever, no
//! state rejects for good: with time moving on and no host move, a call is
//! admitted within four open durations (or dwells).

use std::collections::HashSet;

use arbitrary::Arbitrary;
use fusewire::window::Kind;
use fusewire::{
    Breaker, BreakerConfig, Comparison, DwellExpiry, HalfOpenRule, Outcome, Permit, RateBasis,
    Reason, Rng, State, Transition, Window,
};

use crate::{check_config, window_problem, Num, Shadow, Tick};

/// One thing a host can do to a breaker.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Op {
    /// `try_acquire`; an admitted permit is kept for later, as a Rust
    /// value (`true`) or as the integer from `permit_into_raw`.
    Acquire(Tick, bool),
    /// `1 + n % 16` calls of `try_acquire` at one `now`, permits kept (many
    /// calls in flight: what the `Started` basis counts).
    Burst(u8, bool, Tick),
    /// `record` of a kept permit (`pick` chooses which).
    Record(u8, u8, Num, Tick),
    /// `record_untripped` of a kept permit (a warm-up outcome).
    Untripped(u8, u8, Num, Tick),
    /// `release` of a kept permit.
    Release(u8, Tick),
    /// `record` of a permit rebuilt from an arbitrary integer.
    Forged(u64, u8, Num, Tick),
    /// `record` of a kept raw permit without giving it up (a duplicate
    /// report; a native permit is moved, so this is a plain record).
    Duplicate(u8, u8, Num, Tick),
    /// A permit already handed back, handed back again: `record` (or
    /// `release` when the flag is set).
    Again(u8, u8, bool, Tick),
    /// `poll`.
    Poll(Tick),
    /// `trip`.
    Trip(Tick),
    /// `close`.
    Close(Tick),
    /// `half_open`.
    HalfOpen(Tick),
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

/// The documented raw layout: bits 17..37 the ticket (20 bits).
fn raw_ticket(raw: u64) -> u64 {
    (raw >> 17) & TICKET_MASK
}

const TICKET_MASK: u64 = (1 << 20) - 1;

/// Raw permits handed out: a permit counts once. The documented rule,
/// plainly: each `permit_into_raw` gives the next ticket, 0, 1, 2, ... (20
/// bits); each of the last [`Ledger::EXACT`] is known one by one (out or
/// not); an older one still out when it leaves that stretch becomes one
/// anonymous unit, and any older ticket handed back takes a unit if one is
/// left. A raw value the breaker did not make is refused: the model knows
/// the ones it made (a made-up value whose 16-bit check tag happens to be
/// right would be taken by the core for the ticket it names; the fuzzer
/// would have to guess the tag).
#[derive(Default)]
pub struct Ledger {
    /// Every raw value the breaker made.
    made: HashSet<u64>,
    /// Per issue number: still out.
    out: Vec<bool>,
    /// Older permits still out (anonymous).
    older: u32,
    /// Permits handed back twice, made up or mangled.
    pub refused: u32,
}

impl Ledger {
    /// How many of the latest permits are known one by one.
    pub const EXACT: u64 = 32;

    fn issue(&mut self, raw: u64) {
        let n = self.out.len() as u64;
        assert_eq!(
            raw_ticket(raw),
            n & TICKET_MASK,
            "tickets are handed out in turn"
        );
        self.out.push(true);
        self.made.insert(raw);
        // The permit that leaves the exact stretch with this issue.
        if let Some(aged) = n.checked_sub(Self::EXACT) {
            if self.out[aged as usize] {
                self.older = self.older.saturating_add(1);
            }
        }
    }

    /// Takes a permit back: whether it counts.
    fn settle(&mut self, raw: u64) -> bool {
        let genuine = self.made.contains(&raw);
        let issued = self.out.len() as u64;
        let age = issued.wrapping_sub(1).wrapping_sub(raw_ticket(raw)) & TICKET_MASK;
        let ok = if !genuine {
            false
        } else if age < Self::EXACT && age < issued {
            std::mem::replace(&mut self.out[(issued - 1 - age) as usize], false)
        } else if age >= Self::EXACT && self.older > 0 {
            self.older -= 1;
            true
        } else {
            false
        };
        if !ok {
            self.refused = self.refused.saturating_add(1);
        }
        ok
    }

    /// Permits out, as the breaker can know it.
    fn outstanding(&self) -> u32 {
        let from = self.out.len().saturating_sub(Self::EXACT as usize);
        let exact = self.out[from..].iter().filter(|o| **o).count() as u32;
        exact.saturating_add(self.older)
    }
}

/// A permit as the model sees it handed back: its generation (all 32 bits
/// for a native permit, the low 16 for a raw one: only those are compared),
/// probe flag, and raw value if it went through one.
#[derive(Debug, Clone, Copy)]
pub struct Handed {
    generation: u32,
    probe: bool,
    raw: Option<u64>,
}

impl Handed {
    fn raw(raw: u64) -> Self {
        let p = Permit::from_raw(raw);
        Self {
            generation: p.generation(),
            probe: p.is_probe(),
            raw: Some(raw),
        }
    }
}

/// The reference breaker.
pub struct Model<S> {
    cfg: BreakerConfig,
    failure_micro: Option<u32>,
    slow_micro: Option<u32>,
    /// The current state.
    pub state: State,
    /// Bumped by every transition.
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
    /// The latest `now` seen.
    pub last_now: u64,
    regressions: u32,
    window: S,
    rng: Rng,
    /// Which permits are out.
    pub ledger: Ledger,
}

impl<S: Shadow> Model<S> {
    /// A closed breaker.
    pub fn new(cfg: BreakerConfig, window: S) -> Self {
        Self {
            failure_micro: cfg.failure_rate.map(|r| r.ppm()),
            slow_micro: cfg.slow_call_rate.map(|r| r.ppm()),
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
            ledger: Ledger::default(),
        }
    }

    /// `part / whole` against a threshold in millionths, exactly.
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

    /// How long a half-open period lasts: the configured dwell; 0 means one
    /// open duration (the last one drawn, or the first one of the schedule
    /// when none was drawn since the last close). `u64::MAX` is documented
    /// as forever, and the core ends it when `now - since` reaches
    /// `u64::MAX` (a half-open period entered at 0 ends at `now = u64::MAX`):
    /// accepted here as an open finding, regressions.md 6.
    pub fn dwell(&self) -> u64 {
        match self.cfg.half_open_max_dwell {
            0 if self.last_open > 0 => self.last_open,
            0 => self.cfg.open_backoff.raw(0).max(1),
            d => d,
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

    fn fresh_probes(&mut self) {
        (
            self.admitted,
            self.in_flight,
            self.passed,
            self.failed,
            self.slow,
        ) = (0, 0, 0, 0, 0);
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
    pub fn clamp(&mut self, now: u64) -> u64 {
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
        let t = match self.state {
            State::Open if now >= self.open_until => {
                self.fresh_probes();
                Some(self.move_to(now, State::HalfOpen, Reason::OpenElapsed))
            }
            State::HalfOpen
                if self.cfg.half_open_max_dwell != u64::MAX && now - self.since >= self.dwell() =>
            {
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
        let probe = match self.state {
            State::Closed | State::Disabled => false,
            State::HalfOpen if self.admitted < self.cfg.half_open_probes => {
                self.admitted += 1;
                self.in_flight += 1;
                true
            }
            _ => {
                self.window.record(now, Kind::Rejected, false, 0);
                let retry_after = match self.state {
                    State::Open => self.open_until - now,
                    // The rest of the dwell (`u64::MAX - now` if forever).
                    State::HalfOpen => self.since.saturating_add(self.dwell()).saturating_sub(now),
                    _ => u64::MAX,
                };
                return Err((retry_after, t));
            }
        };
        if self.cfg.rate_basis == RateBasis::Started {
            self.window.record(now, Kind::Admitted, false, 0);
        }
        Ok((probe, t))
    }

    fn give_back(&mut self) {
        if self.in_flight > 0 {
            self.in_flight -= 1;
            self.admitted -= 1;
        }
    }

    /// Whether the breaker takes the permit back: a native one always (a
    /// moved Rust value is handed back once by construction), a raw one
    /// by the ledger.
    fn take_back(&mut self, p: &Handed) -> bool {
        match p.raw {
            Some(raw) => self.ledger.settle(raw),
            None => true,
        }
    }

    /// `record` (`may_trip`) or `record_untripped` of the permit `p`.
    pub fn record(
        &mut self,
        p: &Handed,
        o: Outcome,
        dur: u64,
        now: u64,
        may_trip: bool,
    ) -> Option<Transition> {
        let (now, t) = self.advance(now);
        if !self.take_back(p) || self.state == State::Disabled {
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
        // A permit moves the breaker only in the generation it came from
        // (as far as its 16 bits tell); never one this call entered.
        if t.is_some() || (p.generation ^ self.generation) & 0xFFFF != 0 {
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
                // Warm-up outcomes are counted (window, run of failures)
                // and judged by the next outcome that may trip.
                if !may_trip {
                    return t;
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
                    RateBasis::Started => c.admitted + c.rejected,
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
            State::HalfOpen if p.probe => {
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

    /// `release` of the permit `p`.
    pub fn release(&mut self, p: &Handed, now: u64) -> Option<Transition> {
        let (_, t) = self.advance(now);
        if self.take_back(p)
            && t.is_none()
            && p.probe
            && (p.generation ^ self.generation) & 0xFFFF == 0
            && self.state == State::HalfOpen
        {
            self.give_back();
        }
        t
    }

    /// `poll`.
    pub fn poll(&mut self, now: u64) -> Option<Transition> {
        self.advance(now).1
    }

    /// `trip`, `close`, `half_open`, `force_open`, `disable`, `reset`.
    pub fn host(&mut self, to: State, reset: bool, now: u64) -> Option<Transition> {
        let now = self.clamp(now);
        let out = if self.state == to {
            None
        } else {
            Some(match to {
                State::Open => self.open(now, Reason::Host),
                State::Closed => self.close_(now, Reason::Host),
                State::HalfOpen => {
                    self.fresh_probes();
                    self.move_to(now, to, Reason::Host)
                }
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

/// A transition the rules allow: `host` for the host's moves, `record` for
/// moves an outcome may cause; moves time alone causes may come from any
/// call that advances.
fn legal(t: &Transition, host: bool, record: bool) -> bool {
    use Reason::*;
    use State::*;
    match (t.from, t.to, t.reason) {
        (Open, HalfOpen, OpenElapsed) => !host,
        (HalfOpen, Open | Closed, DwellExpired) => !host,
        (Closed, Open, FailureRate | SlowCallRate | ConsecutiveFailures) => record,
        (HalfOpen, Open, ProbesFailed) | (HalfOpen, Closed, ProbesPassed) => record,
        (from, to, Host) => host && from != to,
        _ => false,
    }
}

/// The breaker, its model, and what the driver tallies on its own.
struct Harness<W, S> {
    b: Breaker<W>,
    m: Model<S>,
    config: BreakerConfig,
    /// Permits held, not yet handed back.
    held: Vec<Held>,
    /// Raw permits handed back once.
    spent: Vec<u64>,
    now: u64,
    trace: bool,
    /// Raw permits the core made (`permit_into_raw`).
    raw_issued: u64,
    /// Hand-backs (`record`, `record_untripped`, `release`) of raw values.
    raw_settles: u64,
    /// Hand-backs of native permits (always taken).
    native_settles: u64,
    /// Calls of `record` and `record_untripped` (any permit).
    records: u64,
}

/// A permit the host holds: a Rust value, or the integer a binding keeps.
enum Held {
    Native(Permit),
    Raw(u64),
}

/// What one op made of the breaker: the transition reported, whether the
/// op was a host move or a record, and for acquires whether it was admitted.
struct Step {
    got: Option<Transition>,
    host: bool,
    record: bool,
    admitted: Option<bool>,
}

impl Step {
    fn of(got: Option<Transition>) -> Self {
        Self {
            got,
            host: false,
            record: false,
            admitted: None,
        }
    }
}

impl<W: Window, S: Shadow> Harness<W, S> {
    /// A held permit (`pick` chooses which); `keep` leaves a raw one held
    /// (a duplicate report; a native one is moved out all the same).
    fn take(&mut self, pick: u8, keep: bool) -> Option<Held> {
        if self.held.is_empty() {
            return None;
        }
        let i = usize::from(pick) % self.held.len();
        if let (true, Held::Raw(raw)) = (keep, &self.held[i]) {
            return Some(Held::Raw(*raw));
        }
        let h = self.held.swap_remove(i);
        if let Held::Raw(raw) = h {
            self.spent.push(raw);
        }
        Some(h)
    }

    fn acquire(&mut self, native: bool) -> Step {
        let now = self.now;
        let want = self.m.acquire(now);
        let (got, admitted) = match self.b.try_acquire(now) {
            Ok(p) => {
                assert_eq!(Ok((p.is_probe(), p.transition)), want, "acquire at {now}");
                assert_eq!(p.generation(), self.b.generation());
                let t = p.transition;
                if native {
                    self.held.push(Held::Native(p));
                } else {
                    let probe = p.is_probe();
                    let raw = self.b.permit_into_raw(p);
                    assert!(raw < 1 << 53, "a raw permit fits a JavaScript number");
                    let back = Permit::from_raw(raw);
                    assert_eq!(back.generation(), self.b.generation() & 0xFFFF);
                    assert_eq!(back.is_probe(), probe);
                    self.m.ledger.issue(raw);
                    self.raw_issued += 1;
                    self.held.push(Held::Raw(raw));
                }
                (t, true)
            }
            Err(r) => {
                assert_eq!(Err((r.retry_after, r.transition)), want, "reject at {now}");
                assert_eq!(r.state, self.b.state());
                assert!(matches!(
                    r.state,
                    State::Open | State::HalfOpen | State::ForcedOpen
                ));
                if r.state == State::HalfOpen {
                    let d = self.m.dwell();
                    assert!(r.retry_after <= d, "half-open asks to wait past its dwell");
                }
                (r.transition, false)
            }
        };
        Step {
            admitted: Some(admitted),
            ..Step::of(got)
        }
    }

    /// The permit for the core and its description for the model.
    fn hand(&mut self, h: Held) -> (Permit, Handed) {
        match h {
            Held::Raw(raw) => {
                self.raw_settles += 1;
                (Permit::from_raw(raw), Handed::raw(raw))
            }
            Held::Native(p) => {
                self.native_settles += 1;
                let d = Handed {
                    generation: p.generation(),
                    probe: p.is_probe(),
                    raw: None,
                };
                (p, d)
            }
        }
    }

    fn record(&mut self, h: Held, o: u8, dur: u64, may_trip: bool) -> Step {
        let now = self.now;
        let (p, d) = self.hand(h);
        let want = self.m.record(&d, outcome(o), dur, now, may_trip);
        let got = if may_trip {
            self.b.record(p, outcome(o), dur, now)
        } else {
            self.b.record_untripped(p, outcome(o), dur, now)
        };
        assert_eq!(got, want, "record at {now}");
        self.records += 1;
        Step {
            record: true,
            ..Step::of(got)
        }
    }

    fn release(&mut self, h: Held) -> Step {
        let now = self.now;
        let (p, d) = self.hand(h);
        let want = self.m.release(&d, now);
        let got = self.b.release(p, now);
        assert_eq!(got, want, "release at {now}");
        Step::of(got)
    }

    fn snapshot(&mut self) {
        let (now, config) = (self.now, self.config);
        let s = self.b.snapshot(now);
        // A read never moves the breaker: it only clamps `now`.
        let m = &mut self.m;
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
        assert_eq!(s.refused_permits, m.ledger.refused, "refused permits");
        assert_eq!(s.permits_out, m.ledger.outstanding(), "permits out");
        if s.state == State::Open {
            assert!(s.open_until >= s.since);
            assert!(s.open_until - s.since <= config.open_backoff.cap());
        }
        // A permit counts at most once, on the core's own figures: every
        // permit is out or was taken back once, and the window holds no
        // more outcomes than records were taken.
        let raw_taken = self.raw_settles - u64::from(s.refused_permits);
        assert_eq!(
            u64::from(s.permits_out) + raw_taken,
            self.raw_issued,
            "raw permits out + taken back != made"
        );
        let taken = raw_taken + self.native_settles;
        let c = s.counts;
        let outcomes = u64::from(c.successes) + u64::from(c.failures) + u64::from(c.ignored);
        assert!(
            outcomes <= self.records.min(taken),
            "{outcomes} outcomes in the window from {taken} permits taken back"
        );
        if config.rate_basis != RateBasis::Started {
            assert_eq!(c.admitted, 0, "admissions counted off the Started basis");
        }
    }

    fn step(&mut self, op: &Op) -> Step {
        match *op {
            Op::Acquire(tick, native) => {
                self.now = tick.apply(self.now);
                self.acquire(native)
            }
            Op::Burst(..) => unreachable!("apply splits a burst"),
            Op::Record(pick, o, dur, tick)
            | Op::Duplicate(pick, o, dur, tick)
            | Op::Untripped(pick, o, dur, tick) => {
                self.now = tick.apply(self.now);
                let keep = matches!(op, Op::Duplicate(..));
                let Some(h) = self.take(pick, keep) else {
                    return Step::of(None);
                };
                self.record(h, o, dur.get(), !matches!(op, Op::Untripped(..)))
            }
            Op::Again(pick, o, release, tick) => {
                self.now = tick.apply(self.now);
                if self.spent.is_empty() {
                    return Step::of(None);
                }
                let h = Held::Raw(self.spent[usize::from(pick) % self.spent.len()]);
                if release {
                    self.release(h)
                } else {
                    self.record(h, o, 1, true)
                }
            }
            Op::Forged(raw, o, dur, tick) => {
                self.now = tick.apply(self.now);
                self.record(Held::Raw(raw), o, dur.get(), true)
            }
            Op::Release(pick, tick) => {
                self.now = tick.apply(self.now);
                let Some(h) = self.take(pick, false) else {
                    return Step::of(None);
                };
                self.release(h)
            }
            Op::Poll(tick) => {
                self.now = tick.apply(self.now);
                let got = self.b.poll(self.now);
                assert_eq!(got, self.m.poll(self.now), "poll at {}", self.now);
                Step::of(got)
            }
            Op::Trip(tick)
            | Op::Close(tick)
            | Op::HalfOpen(tick)
            | Op::ForceOpen(tick)
            | Op::Disable(tick)
            | Op::Reset(tick) => {
                let now = tick.apply(self.now);
                self.now = now;
                let b = &mut self.b;
                let (got, to, reset) = match op {
                    Op::Trip(_) => (b.trip(now), State::Open, false),
                    Op::Close(_) => (b.close(now), State::Closed, false),
                    Op::HalfOpen(_) => (b.half_open(now), State::HalfOpen, false),
                    Op::ForceOpen(_) => (b.force_open(now), State::ForcedOpen, false),
                    Op::Disable(_) => (b.disable(now), State::Disabled, false),
                    _ => (b.reset(now), State::Closed, true),
                };
                assert_eq!(got, self.m.host(to, reset, now), "{op:?} at {now}");
                assert_eq!(b.state(), to, "a host call always lands where it asked");
                Step {
                    host: true,
                    ..Step::of(got)
                }
            }
            Op::Snapshot(tick) => {
                self.now = tick.apply(self.now);
                self.snapshot();
                Step::of(None)
            }
            Op::Latency(tick, ppm) => {
                let now = tick.apply(self.now);
                self.now = now;
                let mean = self.b.mean_latency(now);
                let eff = self.m.clamp(now);
                if let Some(want) = self.m.window.mean(eff) {
                    assert_eq!(mean, want, "mean latency at {eff}");
                }
                let p = self.b.percentile(now, ppm);
                // percentile is a second read at the same `now` (a second
                // regression if time went back); reads never move the breaker.
                self.m.clamp(now);
                assert_eq!(
                    p.is_some(),
                    mean.is_some(),
                    "percentile and mean disagree on emptiness"
                );
                Step::of(None)
            }
        }
    }

    /// Runs one op and checks the state graph on the core alone.
    fn apply(&mut self, op: &Op) -> Step {
        if let Op::Burst(n, native, tick) = *op {
            // Calls of their own: one may open with a zero duration and the
            // next, at the same `now`, move on to half-open.
            let mut last = self.apply(&Op::Acquire(tick, native));
            for _ in 0..n % 16 {
                last = self.apply(&Op::Acquire(Tick::Same, native));
            }
            return last;
        }
        let (before, gen_before) = (self.b.state(), self.b.generation());
        let step = self.step(op);
        let b = &self.b;
        if self.trace {
            eprintln!(
                "{op:?} now={} -> {:?} state={:?} gen={}",
                self.now,
                step.got,
                b.state(),
                b.generation()
            );
        }
        assert_eq!(b.state(), self.m.state, "state after {op:?}");
        assert_eq!(b.generation(), self.m.generation, "generation after {op:?}");
        // Each call makes at most one transition, and reports exactly the
        // one it made (regressions.md, findings 3 and 5).
        let moved = b.generation().wrapping_sub(gen_before);
        match step.got {
            None => {
                assert_eq!(moved, 0, "generation moved without a transition");
                assert_eq!(b.state(), before);
            }
            Some(t) => {
                assert_eq!(t.to, b.state());
                assert!(
                    legal(&t, step.host, step.record),
                    "illegal transition {t:?} by {op:?}"
                );
                assert_eq!(
                    t.from, before,
                    "transition {t:?} does not start from {before:?}"
                );
                assert_eq!(moved, 1, "one call, one transition");
            }
        }
        step
    }

    /// No state rejects for good: unless the host holds the breaker open
    /// or the config waits for probes forever, with time moving on and no
    /// host move, a call is admitted after at most two waits of twice the
    /// longest open duration (or dwell): an open period ends within one
    /// open duration, a half-open one within one dwell, and a reopen starts
    /// a fresh open period.
    fn check_no_wedge(&mut self) {
        let cfg = self.config;
        if self.b.state() == State::ForcedOpen || cfg.half_open_max_dwell == u64::MAX {
            return;
        }
        let longest = u128::from(cfg.open_backoff.cap().max(cfg.half_open_max_dwell));
        let start = u128::from(self.m.last_now);
        if start + 4 * longest > u128::from(u64::MAX) {
            return; // the end of time, where no wait is long enough
        }
        let wait = 2 * longest as u64;
        for _ in 0..2 {
            let at = self.m.last_now + wait;
            if self.apply(&Op::Acquire(Tick::Jump(at), true)).admitted == Some(true) {
                return;
            }
        }
        panic!(
            "still rejecting after waiting twice {wait} ticks: {:?}",
            self.b.snapshot(self.m.last_now)
        );
    }
}

/// Runs `ops` against a breaker over `window` and the model over `shadow`,
/// then checks that the breaker is not wedged.
pub fn run<W: Window, S: Shadow>(config: BreakerConfig, window: W, shadow: S, ops: &[Op]) {
    assert_eq!(window.capacity(), shadow.capacity(), "window capacity");
    let want = window_problem(&config, shadow.capacity());
    let Some(b) = check_config(Breaker::with_window(config, window), want) else {
        return;
    };
    assert_eq!(b.config(), config, "the breaker keeps its config");
    let mut h = Harness {
        b,
        m: Model::new(config, shadow),
        config,
        held: Vec::new(),
        spent: Vec::new(),
        now: 0,
        trace: std::env::var_os("FUZZ_TRACE").is_some(),
        raw_issued: 0,
        raw_settles: 0,
        native_settles: 0,
        records: 0,
    };
    for op in ops {
        h.apply(op);
    }
    h.snapshot();
    h.check_no_wedge();
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
