//! The shared circuit breaker: [`Breaker`](crate::Breaker)'s rules over one
//! atomic state word.

use core::fmt;

use super::atomic::{
    AtomicU32, AtomicU64, AtomicU8,
    Ordering::{AcqRel, Acquire, Relaxed, Release},
};
use crate::breaker::half_open::{Probes, Verdict};
use crate::breaker::tickets::NO_TICKET;
use crate::breaker::{
    BreakerConfig, DwellExpiry, Outcome, Permit, RateBasis, Reason, Rejected, Rules, Snapshot,
    State, Transition,
};
use crate::error::{ConfigError, ConfigResult, Field, Problem};
use crate::rng::Rng;
use crate::window::{Counts, Kind, Sample};

/// The state word, one `u64`:
///
/// ```text
/// bits  0..4   state (State as u8)
/// bits  4..11  probes admitted in this half-open period
/// bits 11..18  probes passed
/// bits 18..25  probes failed
/// bits 25..32  probes slow
/// bits 32..64  generation
/// ```
///
/// Every transition is one compare-and-swap of this word that bumps the
/// generation, so exactly one caller wins each; every probe admission is a
/// compare-and-swap of the same word, so no more than the configured probes
/// are admitted whoever races.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Word(u64);

const PROBE_BITS: u32 = 7;
const PROBE_MASK: u64 = (1 << PROBE_BITS) - 1;
const ADMITTED: u32 = 4;
const PASSED: u32 = ADMITTED + PROBE_BITS;
const FAILED: u32 = PASSED + PROBE_BITS;
const SLOW: u32 = FAILED + PROBE_BITS;
const GENERATION: u32 = 32;

impl Word {
    const fn new(state: State, generation: u32) -> Self {
        Self(state as u64 | (generation as u64) << GENERATION)
    }

    fn state(self) -> State {
        // Only `new` writes the state bits; anything else is foreign memory,
        // read as the safe answer.
        State::from_u8((self.0 & 0xF) as u8).unwrap_or(State::ForcedOpen)
    }

    const fn generation(self) -> u32 {
        (self.0 >> GENERATION) as u32
    }

    const fn field(self, shift: u32) -> u16 {
        ((self.0 >> shift) & PROBE_MASK) as u16
    }

    fn probes(self) -> Probes {
        let (admitted, passed, failed) =
            (self.field(ADMITTED), self.field(PASSED), self.field(FAILED));
        Probes {
            admitted,
            in_flight: admitted.saturating_sub(passed + failed),
            passed,
            failed,
            slow: self.field(SLOW),
        }
    }

    fn with_probes(self, p: &Probes) -> Self {
        let keep = self.0 & !(((1 << (4 * PROBE_BITS)) - 1) << ADMITTED);
        let put = |v: u16, shift: u32| (u64::from(v) & PROBE_MASK) << shift;
        Self(
            keep | put(p.admitted, ADMITTED)
                | put(p.passed, PASSED)
                | put(p.failed, FAILED)
                | put(p.slow, SLOW),
        )
    }
}

/// A circuit breaker that many threads share through `&self`: the rules,
/// transitions, counters and return values of [`Breaker`](crate::Breaker)
/// over a [`CountWindow<N>`](crate::CountWindow), with atomics instead of
/// `&mut`.
///
/// - A closed (or disabled) breaker admits with one atomic load.
/// - Outcomes are atomic adds into a ring of `N` one-byte slots and six
///   counters (`N` in `1..=i32::MAX`). No latency histogram is kept.
/// - Transitions and probe admissions are compare-and-swaps of one state
///   word (state, probe counts, generation; see the module source), so each
///   transition is performed, and reported, by exactly one caller.
///
/// Differences from the single-owner form, all under races only:
/// - `now` is learnt from every call except a closed-path admission (which
///   writes nothing), so a clock regression seen only there is not counted.
/// - A transition is a compare-and-swap followed by a few stores (the open
///   deadline, the backoff attempt). Until they land, other callers see the
///   new state but make no automatic transition out of it; a probe verdict
///   reached in that gap is kept in the state word and applied, and
///   reported, by the next call.
/// - Outcomes recorded while the window is being cleared (on close) may be
///   kept or dropped; counts never go below zero.
/// - `half_open_probes` is at most 127 ([`SharedBreaker::MAX_PROBES`]).
///
/// Layout: `#[repr(C)]`, pointer-free, `112 + N` bytes of atomics and
/// counters plus the validated [`Rules`]; see [the module docs](super) for
/// what that guarantees between processes.
#[repr(C)]
pub struct SharedBreaker<const N: usize> {
    word: AtomicU64,
    since: AtomicU64,
    open_until: AtomicU64,
    last_open: AtomicU64,
    rng: AtomicU64,
    last_now: AtomicU64,
    /// The generation whose `since`/`open_until`/backoff stores have landed.
    published: AtomicU32,
    reopens: AtomicU32,
    consecutive: AtomicU32,
    clock_regressions: AtomicU32,
    refused_permits: AtomicU32,
    window: Ring<N>,
    rules: Rules,
}

impl<const N: usize> fmt::Debug for SharedBreaker<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let w = Word(self.word.load(Acquire));
        f.debug_struct("SharedBreaker")
            .field("state", &w.state())
            .field("generation", &w.generation())
            .field("counts", &self.window.totals())
            .finish_non_exhaustive()
    }
}

impl<const N: usize> SharedBreaker<N> {
    /// The most half-open probes a shared breaker can count (7 bits each in
    /// the state word).
    pub const MAX_PROBES: u32 = PROBE_MASK as u32;

    /// A closed breaker, validating `config` as [`Breaker::new`](crate::Breaker::new)
    /// does; also refuses `half_open_probes` above [`Self::MAX_PROBES`]
    /// (`"half_open_probes"`, `OutOfRange`).
    pub fn new(config: BreakerConfig) -> ConfigResult<Self> {
        Self::from_rules(config.validate()?)
    }

    /// A closed breaker from already validated rules (checked against the
    /// `N`-call window with [`Rules::fits`]).
    pub fn from_rules(rules: Rules) -> ConfigResult<Self> {
        const {
            assert!(
                N > 0 && N <= i32::MAX as usize,
                "SharedBreaker needs 1..=i32::MAX slots"
            )
        };
        if u32::from(rules.half_open_probes) > Self::MAX_PROBES {
            return Err(ConfigError::of(Field::HalfOpenProbes, Problem::OutOfRange));
        }
        rules.fits(Some(N as u32))?;
        Ok(Self {
            word: AtomicU64::new(Word::new(State::Closed, 0).0),
            since: AtomicU64::new(0),
            open_until: AtomicU64::new(0),
            last_open: AtomicU64::new(0),
            rng: AtomicU64::new(rules.seed),
            last_now: AtomicU64::new(0),
            published: AtomicU32::new(0),
            reopens: AtomicU32::new(0),
            consecutive: AtomicU32::new(0),
            clock_regressions: AtomicU32::new(0),
            refused_permits: AtomicU32::new(0),
            window: Ring::new(),
            rules,
        })
    }

    /// The current state (as of the last call that moved it).
    pub fn state(&self) -> State {
        Word(self.word.load(Acquire)).state()
    }

    /// The generation: bumped by every transition.
    pub fn generation(&self) -> u32 {
        Word(self.word.load(Acquire)).generation()
    }

    /// The config, as validated (see [`Rules::config`]).
    pub fn config(&self) -> BreakerConfig {
        self.rules.config()
    }

    /// Asks to make a call at `now`. Closed or disabled: one atomic load.
    pub fn try_acquire(&self, now: u64) -> Result<Permit, Rejected> {
        let w = Word(self.word.load(Acquire));
        if matches!(w.state(), State::Closed | State::Disabled) {
            return Ok(permit(w, false, None));
        }
        let now = self.clamp(now);
        let mut transition = None;
        loop {
            let (w, moved) = self.advance(now);
            transition = moved.or(transition);
            match w.state() {
                State::Closed | State::Disabled => return Ok(permit(w, false, transition)),
                State::HalfOpen => {
                    let mut probes = w.probes();
                    let open = probes.verdict(&self.rules) == Verdict::Wait;
                    if !(open && probes.admit(self.rules.half_open_probes)) {
                        return Err(self.reject(w, now, transition));
                    }
                    if self.swap(w, w.with_probes(&probes)) {
                        return Ok(permit(w, true, transition));
                    }
                }
                State::Open | State::ForcedOpen => return Err(self.reject(w, now, transition)),
            }
        }
    }

    /// As [`try_acquire`](Self::try_acquire), reading the clock only when
    /// the answer needs it: a closed (or disabled) breaker admits with one
    /// atomic load and never calls `now`, so a host whose clock read costs
    /// more than the decision (a syscall, `Instant::now`) skips it there.
    #[inline]
    pub fn try_acquire_with(&self, now: impl FnOnce() -> u64) -> Result<Permit, Rejected> {
        let w = Word(self.word.load(Acquire));
        if matches!(w.state(), State::Closed | State::Disabled) {
            return Ok(permit(w, false, None));
        }
        self.try_acquire(now())
    }

    fn reject(&self, w: Word, now: u64, transition: Option<Transition>) -> Rejected {
        self.window.reject();
        let cfg = &self.rules;
        let known = self.is_published(w);
        let retry_after = match w.state() {
            State::Open if known => self.open_until.load(Relaxed).saturating_sub(now),
            State::Open => cfg.open_backoff.raw(self.reopens.load(Relaxed)),
            State::HalfOpen if known => self
                .since
                .load(Relaxed)
                .saturating_add(self.dwell())
                .saturating_sub(now),
            State::HalfOpen => self.dwell(),
            _ => u64::MAX,
        };
        Rejected {
            retry_after,
            state: w.state(),
            transition,
        }
    }

    /// Reports how a permitted call ended and how long it took (ticks).
    /// Returns the transition it caused, if any.
    pub fn record(
        &self,
        permit: Permit,
        outcome: Outcome,
        duration: u64,
        now: u64,
    ) -> Option<Transition> {
        let now = self.clamp(now);
        let (w, moved) = self.advance(now);
        if permit.ticket == NO_TICKET {
            saturating_inc(&self.refused_permits);
            return moved;
        }
        if w.state() == State::Disabled {
            return moved;
        }
        let slow = self.rules.is_slow(duration);
        let kind = match outcome {
            Outcome::Success => Kind::Success,
            Outcome::Failure => Kind::Failure,
            Outcome::Timeout => Kind::Timeout,
            Outcome::Ignored => Kind::Ignored,
        };
        self.window.record(Sample {
            kind,
            duration,
            slow,
        });
        // As in the single-owner form: a permit never belongs to a
        // generation its own call entered (fuzz/regressions.md, 5).
        if moved.is_some() || !permit.of_generation(w.generation()) {
            return moved;
        }
        let failed = matches!(outcome, Outcome::Failure | Outcome::Timeout);
        match w.state() {
            State::Closed => self.judge_closed(w, now, outcome, failed, slow).or(moved),
            State::HalfOpen if permit.probe => {
                if outcome == Outcome::Ignored {
                    self.give_back(w);
                    return moved;
                }
                self.settle(w, now, failed, slow).or(moved)
            }
            _ => moved,
        }
    }

    fn judge_closed(
        &self,
        w: Word,
        now: u64,
        outcome: Outcome,
        failed: bool,
        slow: bool,
    ) -> Option<Transition> {
        let consecutive = match outcome {
            Outcome::Success => {
                self.consecutive.store(0, Relaxed);
                0
            }
            Outcome::Failure | Outcome::Timeout => saturating_inc(&self.consecutive),
            Outcome::Ignored => return None,
        };
        if !failed && !slow {
            return None;
        }
        let cfg = &self.rules;
        if failed && cfg.consecutive_trips(consecutive) {
            return self.transition(w, State::Open, Reason::ConsecutiveFailures, now, false);
        }
        let counts = self.window.totals();
        let whole = match cfg.rate_basis {
            RateBasis::Outcomes => counts.outcomes(),
            RateBasis::AllCalls => counts.all(),
            RateBasis::Started => counts.started(),
        };
        if whole < cfg.min_calls {
            return None;
        }
        if failed && self.rules.failure_rate_trips(counts.failures, whole) {
            return self.transition(w, State::Open, Reason::FailureRate, now, false);
        }
        if slow && self.rules.slow_rate_trips(counts.slow, whole) {
            return self.transition(w, State::Open, Reason::SlowCallRate, now, false);
        }
        None
    }

    /// Settles one probe of generation `w`: the counts and, when they decide
    /// the period, the transition, in one compare-and-swap.
    fn settle(&self, mut w: Word, now: u64, failed: bool, slow: bool) -> Option<Transition> {
        let generation = w.generation();
        loop {
            if w.state() != State::HalfOpen || w.generation() != generation {
                return None;
            }
            let mut probes = w.probes();
            let to = match probes.settle(failed, slow, &self.rules) {
                Verdict::Wait => None,
                Verdict::Close => Some((State::Closed, Reason::ProbesPassed)),
                Verdict::Reopen => Some((State::Open, Reason::ProbesFailed)),
            };
            match to {
                Some((to, reason)) if self.is_published(w) => {
                    let settled = w.with_probes(&probes);
                    if let Some(t) = self.transition_with(w, settled, to, reason, now, false) {
                        return Some(t);
                    }
                }
                // Undecided, or decided before the last transition's stores
                // landed: keep the counts; `advance` applies the verdict.
                _ if self.swap(w, w.with_probes(&probes)) => return None,
                _ => {}
            }
            w = Word(self.word.load(Acquire));
        }
    }

    fn give_back(&self, mut w: Word) {
        let generation = w.generation();
        while w.state() == State::HalfOpen && w.generation() == generation {
            let mut probes = w.probes();
            probes.give_back();
            if self.swap(w, w.with_probes(&probes)) {
                return;
            }
            w = Word(self.word.load(Acquire));
        }
    }

    /// Turns a permit into one integer for a host language (below 2^53),
    /// as [`Breaker::permit_into_raw`](crate::Breaker::permit_into_raw).
    /// The shared form keeps no tickets (that would put a write on the
    /// one-load closed path): a made-up integer is refused and counted,
    /// but one handed back twice is not caught here.
    pub fn permit_into_raw(&self, permit: Permit) -> u64 {
        permit.raw_with(0)
    }

    /// Hands back a permit whose call never ran (cancelled). A probe's slot
    /// goes back to the half-open period it came from; nothing is recorded.
    pub fn release(&self, permit: Permit, now: u64) -> Option<Transition> {
        let now = self.clamp(now);
        let (w, moved) = self.advance(now);
        if permit.ticket == NO_TICKET {
            saturating_inc(&self.refused_permits);
        } else if permit.probe && moved.is_none() && permit.of_generation(w.generation()) {
            self.give_back(w);
        }
        moved
    }

    /// Applies the transitions that time alone causes (open → half-open,
    /// half-open dwell expiry).
    pub fn poll(&self, now: u64) -> Option<Transition> {
        self.advance(self.clamp(now)).1
    }

    /// Opens the breaker as a trip rule would (the host's "open now").
    pub fn trip(&self, now: u64) -> Option<Transition> {
        self.host_move(now, State::Open)
    }

    /// Closes the breaker (the host's "close now"): counters restart as on
    /// any close.
    pub fn close(&self, now: u64) -> Option<Transition> {
        self.host_move(now, State::Closed)
    }

    /// Holds the breaker open until the host closes or disables it.
    pub fn force_open(&self, now: u64) -> Option<Transition> {
        self.host_move(now, State::ForcedOpen)
    }

    /// Turns the breaker off: every call passes, nothing is recorded.
    pub fn disable(&self, now: u64) -> Option<Transition> {
        self.host_move(now, State::Disabled)
    }

    /// Closes the breaker and forgets the window and every counter.
    pub fn reset(&self, now: u64) -> Option<Transition> {
        let moved = self.close(now);
        self.window.clear();
        self.consecutive.store(0, Relaxed);
        moved
    }

    /// Everything about the breaker as of `now`, in one call (each field is
    /// read atomically; racing calls can make fields disagree slightly).
    /// A read never changes the state, as in the single-owner form: call
    /// [`poll`](Self::poll) first for time-driven transitions.
    pub fn snapshot(&self, now: u64) -> Snapshot {
        self.clamp(now);
        let w = Word(self.word.load(Acquire));
        Snapshot {
            state: w.state(),
            generation: w.generation(),
            counts: self.window.totals(),
            consecutive_failures: self.consecutive.load(Relaxed),
            probes_in_flight: w.probes().in_flight.into(),
            open_until: if w.state() == State::Open {
                self.open_until.load(Relaxed)
            } else {
                0
            },
            reopens: self.reopens.load(Relaxed),
            clock_regressions: self.clock_regressions.load(Relaxed),
            since: self.since.load(Relaxed),
            refused_permits: self.refused_permits.load(Relaxed),
            permits_out: 0,
        }
    }

    /// Clamps `now` to be monotonic (a write only when time moved forward).
    fn clamp(&self, now: u64) -> u64 {
        let last = self.last_now.load(Relaxed);
        if now < last {
            saturating_inc(&self.clock_regressions);
            last
        } else {
            if now > last {
                self.last_now.fetch_max(now, Relaxed);
            }
            now
        }
    }

    fn is_published(&self, w: Word) -> bool {
        self.published.load(Acquire) == w.generation()
    }

    fn swap(&self, from: Word, to: Word) -> bool {
        from == to
            || self
                .word
                .compare_exchange(from.0, to.0, AcqRel, Acquire)
                .is_ok()
    }

    /// Applies at most one time-driven transition (or a probe verdict kept
    /// in the word), as the single-owner `advance` does.
    fn advance(&self, now: u64) -> (Word, Option<Transition>) {
        let cfg = &self.rules;
        let mut seen = None;
        loop {
            let w = Word(self.word.load(Acquire));
            let published = self.published.load(Acquire);
            if published != w.generation() {
                // A transition's stores are still landing (no automatic move
                // out of its state until they have), or the same word again
                // with `published` ahead of it, which no transition leaves
                // behind (memory a stray write changed): no move either,
                // rather than spinning forever.
                if (w.generation().wrapping_sub(published) as i32) > 0 || seen == Some(w.0) {
                    return (w, None);
                }
                // The word was read before a transition that has since landed.
                seen = Some(w.0);
                continue;
            }
            let step = match w.state() {
                State::Open if now >= self.open_until.load(Relaxed) => {
                    Some((State::HalfOpen, Reason::OpenElapsed))
                }
                State::HalfOpen
                    if self.rules.half_open_max_dwell != u64::MAX
                        && now.saturating_sub(self.since.load(Relaxed)) >= self.dwell() =>
                {
                    let to = match cfg.dwell_expiry {
                        DwellExpiry::Reopen => State::Open,
                        DwellExpiry::Close => State::Closed,
                    };
                    Some((to, Reason::DwellExpired))
                }
                State::HalfOpen => match w.probes().verdict(&self.rules) {
                    Verdict::Wait => None,
                    Verdict::Close => Some((State::Closed, Reason::ProbesPassed)),
                    Verdict::Reopen => Some((State::Open, Reason::ProbesFailed)),
                },
                _ => None,
            };
            let Some((to, reason)) = step else {
                return (w, None);
            };
            if let Some(t) = self.transition(w, to, reason, now, false) {
                let w = Word(self.word.load(Acquire));
                return (w, Some(t));
            }
        }
    }

    /// A host move acts on the state as it stands (no time-driven step
    /// first), so it makes at most one transition and reports it.
    fn host_move(&self, now: u64, to: State) -> Option<Transition> {
        let now = self.clamp(now);
        loop {
            let w = Word(self.word.load(Acquire));
            if w.state() == to {
                return None;
            }
            if let Some(t) = self.transition(w, to, Reason::Host, now, true) {
                return Some(t);
            }
        }
    }

    /// Moves from `w` to `to`, bumping the generation: one compare-and-swap,
    /// then the stores that belong to the new generation, then publishes it.
    /// Automatic moves need the previous generation's stores published, so
    /// they read the backoff state their predecessor wrote; host moves
    /// (the repair path) do not wait for them.
    fn transition(
        &self,
        w: Word,
        to: State,
        reason: Reason,
        now: u64,
        host: bool,
    ) -> Option<Transition> {
        self.transition_with(w, w, to, reason, now, host)
    }

    /// [`transition`](Self::transition) carrying the probe counts of `kept`:
    /// as in the single-owner form, only entering half-open resets them.
    fn transition_with(
        &self,
        w: Word,
        kept: Word,
        to: State,
        reason: Reason,
        now: u64,
        host: bool,
    ) -> Option<Transition> {
        if !host && !self.is_published(w) {
            return None;
        }
        let generation = w.generation().wrapping_add(1);
        let next = match to {
            State::HalfOpen => Word::new(to, generation),
            _ => Word::new(to, generation).with_probes(&kept.probes()),
        };
        if !self.swap(w, next) {
            return None;
        }
        self.land(to, now);
        self.publish(generation);
        Some(Transition {
            from: w.state(),
            to,
            reason,
        })
    }

    /// The stores that belong to a transition into `to` at `now` (after its
    /// compare-and-swap, before it is published).
    fn land(&self, to: State, now: u64) {
        let cfg = &self.rules;
        match to {
            State::Open => {
                let reopens = self.reopens.load(Relaxed);
                let mut rng = Rng::new(self.rng.load(Relaxed));
                let duration =
                    cfg.open_backoff
                        .delay(reopens, self.last_open.load(Relaxed), &mut rng);
                self.rng.store(rng.state(), Relaxed);
                self.last_open.store(duration, Relaxed);
                self.reopens.store(reopens.saturating_add(1), Relaxed);
                self.open_until.store(now.saturating_add(duration), Relaxed);
                self.consecutive.store(0, Relaxed);
            }
            State::Closed => {
                self.reopens.store(0, Relaxed);
                self.last_open.store(0, Relaxed);
                self.consecutive.store(0, Relaxed);
                if cfg.reset_window_on_close {
                    self.window.clear();
                }
            }
            State::HalfOpen | State::ForcedOpen | State::Disabled => {}
        }
        self.since.store(now, Relaxed);
    }

    /// The generation of a transition that is decided but not published
    /// yet (its stores are landing), if any. Between a transition's
    /// compare-and-swap and its publication the breaker makes no automatic
    /// move; a caller that sees the same generation pending for far longer
    /// than a transition takes (the process making it was killed in
    /// between) calls [`repair`](Self::repair).
    pub fn pending(&self) -> Option<u32> {
        let w = Word(self.word.load(Acquire));
        let published = self.published.load(Acquire);
        ((w.generation().wrapping_sub(published) as i32) > 0).then_some(w.generation())
    }

    /// Completes the transition to `generation` if it is still pending:
    /// makes its stores as of `now` (the open deadline drawn from the
    /// backoff, the time it began) and publishes it, so automatic moves
    /// resume. For a process killed between a transition's compare-and-swap
    /// and its publication. Call it only once the generation has been
    /// [`pending`](Self::pending) for longer than any live transition takes
    /// (the host tier waits a second): a live one racing it can at worst
    /// leave one extra backoff step and a deadline drawn at either `now`.
    /// Returns whether it repaired.
    pub fn repair(&self, generation: u32, now: u64) -> bool {
        let now = self.clamp(now);
        let w = Word(self.word.load(Acquire));
        if w.generation() != generation || self.pending() != Some(generation) {
            return false;
        }
        self.land(w.state(), now);
        self.publish(generation);
        true
    }

    /// How long a half-open period may last, as
    /// [`Breaker`](crate::Breaker)'s rule: `half_open_max_dwell`, or (0)
    /// the open duration last drawn, or the first one.
    fn dwell(&self) -> u64 {
        match self.rules.half_open_max_dwell {
            0 => match self.last_open.load(Relaxed) {
                0 => self.rules.open_backoff.raw(0).max(1),
                d => d,
            },
            d => d,
        }
    }

    /// Marks `generation`'s stores as landed; never moves backwards (in
    /// serial-number order), so a slow host move cannot hide a newer one.
    fn publish(&self, generation: u32) {
        let mut seen = self.published.load(Relaxed);
        while (generation.wrapping_sub(seen) as i32) > 0 {
            match self
                .published
                .compare_exchange_weak(seen, generation, Release, Relaxed)
            {
                Ok(_) => return,
                Err(now) => seen = now,
            }
        }
    }
}

const fn permit(w: Word, probe: bool, transition: Option<Transition>) -> Permit {
    Permit {
        generation: w.generation(),
        ticket: crate::breaker::tickets::UNTRACKED,
        probe,
        transition,
    }
}

fn saturating_inc(v: &AtomicU32) -> u32 {
    match v.fetch_update(Relaxed, Relaxed, |x| x.checked_add(1)) {
        Ok(prev) => prev + 1,
        Err(max) => max,
    }
}

/// The count window as atomics: the last `N` outcomes, one byte each, and
/// the six counters of [`Counts`], kept up to date by atomic adds.
#[repr(C)]
struct Ring<const N: usize> {
    /// successes, failures, timeouts, slow, ignored, rejected.
    counts: [AtomicU32; 6],
    next: AtomicU32,
    slots: [AtomicU8; N],
}

/// What one sample adds to each counter, as [`Counts::count`] defines it.
fn delta(s: Sample) -> [u32; 6] {
    let mut c = Counts::default();
    c.count(s);
    [
        c.successes,
        c.failures,
        c.timeouts,
        c.slow,
        c.ignored,
        c.rejected,
    ]
}

impl<const N: usize> Ring<N> {
    fn new() -> Self {
        Self {
            counts: core::array::from_fn(|_| AtomicU32::new(0)),
            next: AtomicU32::new(0),
            slots: core::array::from_fn(|_| AtomicU8::new(0)),
        }
    }

    fn reject(&self) {
        if let Some(c) = self.counts.get(5) {
            saturating_inc(c);
        }
    }

    fn record(&self, sample: Sample) {
        // Count the new sample before publishing it in its slot (Release),
        // so whoever evicts it (Acquire) subtracts after this add.
        for (c, d) in self.counts.iter().zip(delta(sample)) {
            if d != 0 {
                c.fetch_add(d, Relaxed);
            }
        }
        let i = self.next.fetch_add(1, Relaxed) as usize % N;
        let Some(slot) = self.slots.get(i) else {
            return;
        };
        if let Some(old) = Sample::from_slot(slot.swap(sample.to_slot(), AcqRel)) {
            for (c, d) in self.counts.iter().zip(delta(old)) {
                if d != 0 {
                    c.fetch_sub(d, Relaxed);
                }
            }
        }
    }

    fn totals(&self) -> Counts {
        // A counter read as negative was cleared between an add and the
        // eviction that undoes it: it is empty.
        let c = |i: usize| {
            self.counts
                .get(i)
                .map_or(0, |c| (c.load(Relaxed) as i32).max(0) as u32)
        };
        Counts {
            successes: c(0),
            failures: c(1),
            timeouts: c(2),
            slow: c(3),
            ignored: c(4),
            rejected: c(5),
            admitted: 0,
        }
    }

    fn clear(&self) {
        for s in &self.slots {
            s.store(0, Relaxed);
        }
        self.next.store(0, Relaxed);
        for c in &self.counts {
            c.store(0, Relaxed);
        }
    }
}

impl<const N: usize> crate::intact::Intact for SharedBreaker<N> {
    /// The rules, which no method changes (the state lives in atomics and
    /// every decoding of it has an answer for each bit pattern).
    #[inline(always)]
    fn intact(read: &impl Fn(usize) -> u8, at: usize) -> bool {
        <Rules as crate::intact::Intact>::intact(read, at + core::mem::offset_of!(Self, rules))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Breaker;
    use crate::CountWindow;

    /// A process killed between a transition's compare-and-swap and its
    /// stores: the breaker waits (no automatic move), `pending` says which
    /// generation, and `repair` lands the stores so the open period runs
    /// and ends as it would have.
    #[test]
    fn a_transition_left_half_made_is_repaired() {
        let mut c = BreakerConfig::new(crate::TickUnit::MILLIS);
        c.consecutive_failures = Some(1);
        c.min_calls = 4;
        c.open_backoff = crate::Backoff::constant(100).unwrap();
        let b = SharedBreaker::<4>::new(c).unwrap();
        assert_eq!(b.pending(), None);
        // The dying trip: the word moves, nothing else lands.
        let w = Word(b.word.load(Acquire));
        let dead = Word::new(State::Open, w.generation() + 1);
        assert!(b.swap(w, dead));
        assert_eq!(b.pending(), Some(dead.generation()));
        assert_eq!(
            b.poll(1_000_000),
            None,
            "no automatic move while it is pending"
        );
        assert!(b.try_acquire(1_000_000).is_err());
        assert!(
            !b.repair(dead.generation() + 1, 1_000_000),
            "not the pending one"
        );
        assert!(b.repair(dead.generation(), 1_000_000));
        assert!(!b.repair(dead.generation(), 1_000_000), "once");
        assert_eq!(b.pending(), None);
        let r = b.try_acquire(1_000_050).unwrap_err();
        assert_eq!(
            (r.state, r.retry_after),
            (State::Open, 50),
            "open for its backoff from the repair"
        );
        let t = b.poll(1_000_100).unwrap();
        assert_eq!(
            (t.from, t.to, t.reason),
            (State::Open, State::HalfOpen, Reason::OpenElapsed)
        );
        let p = b.try_acquire(1_000_100).unwrap();
        assert!(p.is_probe());
        assert!(b.record(p, Outcome::Success, 1, 1_000_101).is_some());
        assert_eq!(b.state(), State::Closed);
    }

    /// A close left half-made stops the breaker from tripping until repaired.
    #[test]
    fn a_half_made_close_is_repaired_too() {
        let mut c = BreakerConfig::new(crate::TickUnit::MILLIS);
        c.consecutive_failures = Some(1);
        c.min_calls = 4;
        let b = SharedBreaker::<4>::new(c).unwrap();
        b.trip(0);
        let w = Word(b.word.load(Acquire));
        assert!(b.swap(w, Word::new(State::Closed, w.generation() + 1)));
        let p = b.try_acquire(10).unwrap();
        assert_eq!(
            b.record(p, Outcome::Failure, 1, 10),
            None,
            "cannot trip while pending"
        );
        assert!(b.repair(b.pending().unwrap(), 20));
        let p = b.try_acquire(30).unwrap();
        let t = b.record(p, Outcome::Failure, 1, 30).unwrap();
        assert_eq!(t.to, State::Open);
    }

    #[test]
    fn word_round_trips() {
        let w = Word::new(State::HalfOpen, u32::MAX);
        let p = Probes {
            admitted: 127,
            in_flight: 0,
            passed: 100,
            failed: 27,
            slow: 5,
        };
        let w = w.with_probes(&p);
        assert_eq!((w.state(), w.generation()), (State::HalfOpen, u32::MAX));
        assert_eq!(w.probes(), p);
        assert_eq!(Word(0xF).state(), State::ForcedOpen);
    }

    #[test]
    fn too_many_probes_is_refused() {
        let c = BreakerConfig {
            half_open_probes: 128,
            min_calls: 4,
            ..BreakerConfig::new(crate::TickUnit::MILLIS)
        };
        let e = SharedBreaker::<4>::new(c).unwrap_err();
        assert_eq!(
            (e.field, e.problem),
            ("half_open_probes", Problem::OutOfRange)
        );
        assert!(Breaker::<CountWindow<4>>::new(c).is_ok());
    }

    #[test]
    fn ring_evicts_like_the_count_window() {
        let r = Ring::<2>::new();
        let s = |kind, slow| Sample {
            kind,
            duration: 0,
            slow,
        };
        r.record(s(Kind::Timeout, true));
        r.record(s(Kind::Success, false));
        r.reject();
        r.record(s(Kind::Ignored, false));
        let c = r.totals();
        assert_eq!(
            (
                c.failures,
                c.timeouts,
                c.slow,
                c.successes,
                c.ignored,
                c.rejected
            ),
            (0, 0, 0, 1, 1, 1)
        );
        r.clear();
        assert_eq!(r.totals(), Counts::default());
    }

    #[test]
    fn two_threads_share_one_breaker() {
        let config = BreakerConfig {
            failure_rate: None,
            manual: true,
            ..BreakerConfig::new(crate::TickUnit::MILLIS)
        };
        let b = SharedBreaker::<64>::new(config).unwrap();
        let per = if cfg!(miri) { 4 } else { 16 };
        std::thread::scope(|s| {
            for t in 0..2u64 {
                let b = &b;
                s.spawn(move || {
                    for i in 0..per {
                        let p = b.try_acquire(i).unwrap();
                        let o = if t == 0 {
                            Outcome::Success
                        } else {
                            Outcome::Failure
                        };
                        assert_eq!(b.record(p, o, 1, i), None);
                    }
                });
            }
        });
        let c = b.snapshot(per).counts;
        assert_eq!((c.successes, c.failures), (per as u32, per as u32));
    }
}
