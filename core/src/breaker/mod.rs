//! The circuit breaker.
//!
//! ```text
//!            trip rule                      open duration passed
//!   Closed ───────────────▶ Open ─────────────────────────────▶ HalfOpen
//!     ▲                      ▲                                     │
//!     │                      └──── a probe fails / rates trip ─────┤
//!     └──────────────── probes pass ───────────────────────────────┘
//!   ForcedOpen and Disabled are entered and left only by the host.
//! ```
//!
//! Each rule lives in the module named for it: [`config`] (validation and the
//! rate comparisons), `half_open` (probes), and this file (the transitions).

pub mod config;
pub(crate) mod half_open;
mod state;
pub(crate) mod tickets;

pub use config::{BreakerConfig, Comparison, DwellExpiry, HalfOpenRule, RateBasis, Rules};
pub use state::{Outcome, Permit, Reason, Rejected, Snapshot, State, Transition};

use crate::error::ConfigResult;
use crate::rng::Rng;
use crate::window::{Counts, Kind, Sample, Window};
use half_open::{Probes, Verdict};
use tickets::Tickets;

/// A circuit breaker over a window `W` ([`CountWindow`](crate::CountWindow)
/// or [`TimeWindow`](crate::TimeWindow)).
///
/// Single-owner: every method takes `&mut self` and the `now` of the call.
/// A `now` earlier than one already seen is treated as the latest one and
/// counted in [`Snapshot::clock_regressions`].
#[derive(Debug, Clone)]
#[repr(C)]
pub struct Breaker<W> {
    // Widest first, so no padding sits mid-struct: padding made a new
    // breaker's zeroed fields one `memcpy` from the stack instead of plain
    // stores, and it costs RAM on firmware.
    rules: Rules,
    rng: Rng,
    since: u64,
    /// The open duration last drawn: an open breaker's deadline is
    /// `since + last_open`, so it is not kept apart.
    last_open: u64,
    last_now: u64,
    window: W,
    tickets: Tickets,
    generation: u32,
    reopens: u32,
    consecutive: u32,
    clock_regressions: u32,
    refused_permits: u32,
    probes: Probes,
    state: State,
    /// Failed probes a half-open period tolerates (`set_half_open_tolerance`);
    /// in what was padding, so the struct does not grow.
    tolerated: u16,
}

impl<W: Window + Default> Breaker<W> {
    /// A closed breaker with a default-built window (count windows).
    pub fn new(config: BreakerConfig) -> ConfigResult<Self> {
        Self::with_window(config, W::default())
    }
}

impl<W: Window> Breaker<W> {
    /// A closed breaker over `window`, validating `config` on its own and
    /// against the window ([`Rules::fits`]).
    pub fn with_window(config: BreakerConfig, window: W) -> ConfigResult<Self> {
        let rules = config.validate()?;
        rules.fits(window.capacity())?;
        Ok(Self::from_rules(rules, window))
    }

    /// A closed breaker from already validated rules; usable in `const` and
    /// `static` items: `Breaker::from_rules(match CONFIG.validate() { .. }, CountWindow::new())`.
    /// Check the rules against the window with [`Rules::fits`] first (a
    /// `const` item can: `fits` is a `const fn`).
    pub const fn from_rules(rules: Rules, window: W) -> Self {
        Self {
            rng: Rng::new(rules.seed),
            rules,
            window,
            state: State::Closed,
            generation: 0,
            since: 0,
            last_open: 0,
            reopens: 0,
            consecutive: 0,
            probes: Probes {
                admitted: 0,
                in_flight: 0,
                passed: 0,
                failed: 0,
                slow: 0,
            },
            last_now: 0,
            clock_regressions: 0,
            tickets: Tickets::new(),
            refused_permits: 0,
            tolerated: 0,
        }
    }

    /// The current state (as of the last call; see [`poll`](Self::poll)).
    pub const fn state(&self) -> State {
        self.state
    }

    /// The generation: bumped by every transition.
    pub const fn generation(&self) -> u32 {
        self.generation
    }

    /// The config, as validated (see [`Rules::config`]).
    pub fn config(&self) -> BreakerConfig {
        self.rules.config()
    }

    /// Replaces the config at run time, keeping the state, the generation,
    /// the window and every counter; a bad config changes nothing. The new
    /// rules apply from the next call on (an open period already running
    /// keeps its end; the next opening uses the new `open_backoff`). The
    /// jitter generator is not reseeded.
    pub fn set_config(&mut self, config: BreakerConfig) -> ConfigResult<()> {
        self.rules = config.validate()?;
        Ok(())
    }

    /// The window, for hosts that show it bucket by bucket.
    pub fn window_mut(&mut self) -> &mut W {
        &mut self.window
    }

    /// Asks to make a call at `now`.
    #[inline]
    pub fn try_acquire(&mut self, now: u64) -> Result<Permit, Rejected> {
        let (now, transition) = self.advance(now);
        let probe = match self.state {
            State::Closed | State::Disabled => false,
            State::HalfOpen if self.probes.admit(self.rules.half_open_probes) => true,
            State::HalfOpen | State::Open | State::ForcedOpen => {
                return Err(self.reject(now, transition));
            }
        };
        if W::COUNTS_STARTS && self.rules.rate_basis == RateBasis::Started {
            self.window.record(now, Sample::of(Kind::Admitted));
        }
        Ok(Permit {
            generation: self.generation,
            ticket: tickets::UNTRACKED,
            probe,
            transition,
        })
    }

    fn reject(&mut self, now: u64, transition: Option<Transition>) -> Rejected {
        self.window.record(now, Sample::of(Kind::Rejected));
        let retry_after = match self.state {
            State::Open => self.open_until().saturating_sub(now),
            State::HalfOpen => self.since.saturating_add(self.dwell()).saturating_sub(now),
            _ => u64::MAX,
        };
        Rejected {
            retry_after,
            state: self.state,
            transition,
        }
    }

    /// Reports how a permitted call ended, and how long it took (ticks).
    /// Returns the transition it caused, if any. A permit that is not out
    /// (handed back already, made up) is refused: it changes nothing but
    /// [`Snapshot::refused_permits`].
    #[inline]
    pub fn record(
        &mut self,
        permit: Permit,
        outcome: Outcome,
        duration: u64,
        now: u64,
    ) -> Option<Transition> {
        self.settle(permit, outcome, duration, now, true)
    }

    /// As [`record`](Self::record), but the outcome can not trip a closed
    /// breaker: it is counted in the window and the counters, and judged
    /// by the next outcome that may trip. For a host's warm-up period
    /// (opossum's `allowWarmUp`). Half-open probes are judged as usual.
    pub fn record_untripped(
        &mut self,
        permit: Permit,
        outcome: Outcome,
        duration: u64,
        now: u64,
    ) -> Option<Transition> {
        self.settle(permit, outcome, duration, now, false)
    }

    #[inline]
    fn settle(
        &mut self,
        permit: Permit,
        outcome: Outcome,
        duration: u64,
        now: u64,
        may_trip: bool,
    ) -> Option<Transition> {
        let before = self.generation;
        let (now, moved) = self.advance(now);
        if !self.take_back(&permit) {
            return moved;
        }
        if self.state == State::Disabled {
            return moved;
        }
        let slow = self.rules.is_slow(duration);
        let kind = match outcome {
            Outcome::Success => Kind::Success,
            Outcome::Failure => Kind::Failure,
            Outcome::Timeout => Kind::Timeout,
            Outcome::Ignored => Kind::Ignored,
        };
        self.window.record(
            now,
            Sample {
                kind,
                duration,
                slow,
            },
        );
        // A permit is judged only by the generation it came from; one that
        // began in this very call is never it (a permit of 65536
        // generations ago matches its low 16 bits), or the call would make
        // a second transition and report one (fuzz/regressions.md, 5).
        // Compared as generations rather than `moved.is_some()`: the same
        // rule (every move bumps the generation), 8 instructions cheaper
        // on the closed path by callgrind.
        if self.generation != before || !permit.of_generation(before) {
            return moved;
        }
        let failed = matches!(outcome, Outcome::Failure | Outcome::Timeout);
        match self.state {
            State::Closed => self
                .judge_closed(now, outcome, failed, slow, may_trip)
                .or(moved),
            State::HalfOpen if permit.probe => {
                if outcome == Outcome::Ignored {
                    self.probes.give_back();
                    return moved;
                }
                match self
                    .probes
                    .settle_tolerating(failed, slow, &self.rules, self.tolerated)
                {
                    Verdict::Wait => moved,
                    Verdict::Close => Some(self.close_now(now, Reason::ProbesPassed)),
                    Verdict::Reopen => Some(self.open_now(now, Reason::ProbesFailed)),
                }
            }
            _ => moved,
        }
    }

    fn judge_closed(
        &mut self,
        now: u64,
        outcome: Outcome,
        failed: bool,
        slow: bool,
        may_trip: bool,
    ) -> Option<Transition> {
        match outcome {
            Outcome::Success => self.consecutive = 0,
            Outcome::Failure | Outcome::Timeout => {
                self.consecutive = self.consecutive.saturating_add(1);
            }
            Outcome::Ignored => return None,
        }
        if !may_trip || (!failed && !slow) {
            return None;
        }
        let cfg = &self.rules;
        if failed && cfg.consecutive_trips(self.consecutive) {
            return Some(self.open_now(now, Reason::ConsecutiveFailures));
        }
        let (basis, min_calls) = (cfg.rate_basis, cfg.min_calls);
        let counts = self.window.totals(now);
        let whole = match basis {
            RateBasis::Outcomes => counts.outcomes(),
            RateBasis::AllCalls => counts.all(),
            RateBasis::Started => counts.started(),
        };
        if whole < min_calls {
            return None;
        }
        if failed && self.rules.failure_rate_trips(counts.failures, whole) {
            return Some(self.open_now(now, Reason::FailureRate));
        }
        if slow && self.rules.slow_rate_trips(counts.slow, whole) {
            return Some(self.open_now(now, Reason::SlowCallRate));
        }
        None
    }

    /// Hands back a permit whose call never ran (cancelled). A probe's slot
    /// goes back to the half-open period it came from; nothing is recorded.
    /// A permit that is not out is refused, as in [`record`](Self::record).
    pub fn release(&mut self, permit: Permit, now: u64) -> Option<Transition> {
        let (_, moved) = self.advance(now);
        if self.take_back(&permit)
            && permit.probe
            && moved.is_none()
            && permit.of_generation(self.generation)
            && self.state == State::HalfOpen
        {
            self.probes.give_back();
        }
        moved
    }

    /// Turns a permit into one integer for a host language (a binding that
    /// keeps permits as numbers), below 2^53 so a JavaScript number holds
    /// it exactly; [`Permit::from_raw`] turns it back. The permit gets a
    /// ticket here: handing the same integer back a second time, or one
    /// that was never made, is refused by `record`/`release` and counted in
    /// [`Snapshot::refused_permits`] (exact for the last 32 integers made,
    /// counted beyond). Until handed back it counts in
    /// [`Snapshot::permits_out`].
    pub fn permit_into_raw(&mut self, permit: Permit) -> u64 {
        permit.raw_with(self.tickets.issue())
    }

    /// Whether a permit handed back is one that is out (a raw one's ticket
    /// settles here); a refusal is counted.
    #[inline]
    fn take_back(&mut self, permit: &Permit) -> bool {
        if permit.ticket == tickets::UNTRACKED || self.tickets.settle(permit.ticket) {
            return true;
        }
        self.refused_permits = self.refused_permits.saturating_add(1);
        false
    }

    /// Applies the transition that time alone causes (open → half-open,
    /// half-open dwell expiry), if one is due. `try_acquire`, `record` and
    /// `release` do this first too; host moves and reads do not, so call
    /// this to learn of such a change without making a call.
    pub fn poll(&mut self, now: u64) -> Option<Transition> {
        self.advance(now).1
    }

    /// Opens the breaker as a trip rule would, with the open duration from
    /// `open_backoff` (the host's "open now").
    pub fn trip(&mut self, now: u64) -> Option<Transition> {
        let now = self.clamp(now);
        if self.state == State::Open {
            return None;
        }
        Some(self.open_now(now, Reason::Host))
    }

    /// Closes the breaker (the host's "close now"): counters restart as on
    /// any close.
    pub fn close(&mut self, now: u64) -> Option<Transition> {
        let now = self.clamp(now);
        if self.state == State::Closed {
            return None;
        }
        Some(self.close_now(now, Reason::Host))
    }

    /// Moves the breaker straight to half-open with a fresh set of probe
    /// slots (a host restoring a saved state, or probing early).
    pub fn half_open(&mut self, now: u64) -> Option<Transition> {
        let now = self.clamp(now);
        if self.state == State::HalfOpen {
            return None;
        }
        self.probes = Probes::default();
        Some(self.enter(now, State::HalfOpen, Reason::Host))
    }

    /// Holds the breaker open until the host closes or disables it.
    pub fn force_open(&mut self, now: u64) -> Option<Transition> {
        self.host_move(now, State::ForcedOpen)
    }

    /// Turns the breaker off: every call passes, nothing is recorded, until
    /// [`close`](Self::close) or another host call.
    pub fn disable(&mut self, now: u64) -> Option<Transition> {
        self.host_move(now, State::Disabled)
    }

    /// Closes the breaker and forgets the window and every counter.
    pub fn reset(&mut self, now: u64) -> Option<Transition> {
        let moved = self.close(now);
        self.window.clear();
        self.consecutive = 0;
        moved
    }

    /// Sets how long the current open period lasts, counted from when it
    /// opened, for a host that draws open durations from a backoff of its
    /// own (cockatiel's `halfOpenAfter` given as an `IBackoffFactory`): it
    /// learns of the opening from the transition, then says how long.
    /// `u64::MAX` is "until the host moves it". Returns whether the breaker
    /// was open; otherwise nothing changes. The next opening draws from
    /// `open_backoff` again (with its attempt counted in
    /// [`Snapshot::reopens`]).
    pub fn set_open_duration(&mut self, duration: u64) -> bool {
        if self.state != State::Open {
            return false;
        }
        self.last_open = duration;
        true
    }

    /// Opens the breaker as a saved state says: opened at tick `opened_at`
    /// (which may be before `now`, or after it for a clock ahead of this
    /// one), for `duration` ticks, as the `reopens`-th opening without a
    /// close in between (at least 1: the attempt the next opening's
    /// backoff draw follows). A period already over lets the next call
    /// through as a probe. Returns the transition, if the breaker was not
    /// open; an open one takes the new period without one. The window is
    /// kept (a host restores it first).
    pub fn restore_open(
        &mut self,
        now: u64,
        opened_at: u64,
        duration: u64,
        reopens: u32,
    ) -> Option<Transition> {
        let now = self.clamp(now);
        let moved = if self.state == State::Open {
            None
        } else {
            self.consecutive = 0;
            Some(self.enter(now, State::Open, Reason::Host))
        };
        self.since = opened_at;
        self.last_open = duration;
        self.reopens = reopens.max(1);
        moved
    }

    /// Lets each half-open period under [`HalfOpenRule::AllSucceed`]
    /// tolerate `failures` failed (or slow) probes: it reopens at once
    /// when more than that many have failed, and closes when every probe
    /// slot has settled with no more than that (cockatiel's
    /// `halfOpenSampling`: `calls` probes, reopen when failures exceed
    /// `threshold x calls`). 0, the default, is `AllSucceed` as documented.
    /// Not part of [`BreakerConfig`]; kept across
    /// [`set_config`](Self::set_config). No effect under
    /// [`HalfOpenRule::Rates`].
    pub fn set_half_open_tolerance(&mut self, failures: u16) {
        self.tolerated = failures;
    }

    /// The failed probes a half-open period tolerates
    /// ([`set_half_open_tolerance`](Self::set_half_open_tolerance)).
    pub const fn half_open_tolerance(&self) -> u16 {
        self.tolerated
    }

    /// How many failures (not slow), recorded one after another at `now`
    /// with nothing else in between, certainly leave the breaker closed: at
    /// most `limit`, 0 when the very next one may trip it, when it is not
    /// closed, or under [`RateBasis::Started`]. A lower bound (it assumes a
    /// full count window drops a success for each failure), so a host may
    /// count that many failures itself, without asking, and hand them to
    /// [`record`](Self::record) later, in order and before any other
    /// outcome, asking again for the one after. It holds while nothing
    /// else is recorded; for a time window, at `now` only (calls leave
    /// the window as time passes).
    pub fn failures_before_trip(&mut self, now: u64, limit: u32) -> u32 {
        let now = self.clamp(now);
        if self.state != State::Closed || self.rules.rate_basis == RateBasis::Started {
            return 0;
        }
        let counts = self.window.totals(now);
        let whole = match self.rules.rate_basis {
            RateBasis::AllCalls => counts.all(),
            _ => counts.outcomes(),
        };
        let timed = self.window.capacity().is_none();
        for k in 1..=limit {
            if self
                .rules
                .consecutive_trips(self.consecutive.saturating_add(k))
            {
                return k - 1;
            }
            // Each failure adds one to the whole and at most one to the
            // failures; a count window's whole never shrinks as it does.
            let most = whole.saturating_add(k);
            if most >= self.rules.min_calls {
                let failures = counts.failures.saturating_add(k);
                let least = if timed { most } else { whole.max(failures) };
                if self.rules.failure_rate_trips(failures, least) {
                    return k - 1;
                }
            }
        }
        limit
    }

    /// Everything about the breaker as of `now`, in one read. A read never
    /// changes the state (it could not report the change): the state is as
    /// of the last call, so an open breaker whose `open_until` has passed
    /// still reads `Open` until [`poll`](Self::poll) or a call moves it.
    /// The window does roll forward to `now`.
    pub fn snapshot(&mut self, now: u64) -> Snapshot {
        let now = self.clamp(now);
        let counts: Counts = self.window.totals(now);
        Snapshot {
            state: self.state,
            generation: self.generation,
            counts,
            consecutive_failures: self.consecutive,
            probes_in_flight: self.probes.in_flight.into(),
            open_until: if self.state == State::Open {
                self.open_until()
            } else {
                0
            },
            reopens: self.reopens,
            clock_regressions: self.clock_regressions,
            since: self.since,
            refused_permits: self.refused_permits,
            permits_out: self.tickets.outstanding(),
        }
    }

    /// Mean latency over the window, if the window keeps latency.
    pub fn mean_latency(&mut self, now: u64) -> Option<u64> {
        let now = self.clamp(now);
        self.window.mean_latency(now)
    }

    /// Latency at quantile `ppm` (millionths) over the window, if kept.
    pub fn percentile(&mut self, now: u64, ppm: u32) -> Option<u64> {
        let now = self.clamp(now);
        self.window.percentile(now, ppm)
    }

    /// `now`, made monotonic: an earlier `now` than one already seen reads
    /// as that one, and is counted.
    #[inline]
    fn clamp(&mut self, now: u64) -> u64 {
        if now < self.last_now {
            self.clock_regressions = self.clock_regressions.saturating_add(1);
            self.last_now
        } else {
            self.last_now = now;
            now
        }
    }

    /// Clamps `now`, then applies the time-driven transition, if one is due.
    /// Only the calls that can report it (acquire, record, release, poll)
    /// advance; host moves act on the state as it stands, so each call
    /// makes at most one transition and reports it.
    #[inline]
    fn advance(&mut self, now: u64) -> (u64, Option<Transition>) {
        let now = self.clamp(now);
        let due = match self.state {
            State::Open => now >= self.open_until(),
            // u64::MAX is "forever", not a number of ticks that the end of
            // time reaches (fuzz/regressions.md, 6).
            State::HalfOpen => {
                self.rules.half_open_max_dwell != u64::MAX
                    && now.saturating_sub(self.since) >= self.dwell()
            }
            _ => false,
        };
        (now, if due { Some(self.time_step(now)) } else { None })
    }

    /// The time-driven transition that [`advance`](Self::advance) found
    /// due. On bare-metal targets out of line, so the calls that advance
    /// share one copy (less firmware code) while the check stays inline.
    #[cfg_attr(target_os = "none", inline(never))]
    #[cfg_attr(not(target_os = "none"), inline)]
    fn time_step(&mut self, now: u64) -> Transition {
        match (self.state, self.rules.dwell_expiry) {
            (State::Open, _) => {
                self.probes = Probes::default();
                self.enter(now, State::HalfOpen, Reason::OpenElapsed)
            }
            (_, DwellExpiry::Reopen) => self.open_now(now, Reason::DwellExpired),
            (_, DwellExpiry::Close) => self.close_now(now, Reason::DwellExpired),
        }
    }

    /// How long a half-open period may last: `half_open_max_dwell`, or
    /// (0) the open duration last drawn, or the first one if the breaker
    /// reached half-open without opening (a host's `half_open`). Never 0,
    /// so a lost probe costs one dwell and the breaker moves on. Out of
    /// line: only a half-open breaker asks, and inlined it kept `advance`
    /// itself from being inlined into the closed path.
    #[inline(never)]
    fn dwell(&self) -> u64 {
        match self.rules.half_open_max_dwell {
            0 if self.last_open > 0 => self.last_open,
            0 => self.rules.open_backoff.raw(0).max(1),
            d => d,
        }
    }

    /// When an open breaker lets a probe through: the tick it opened plus
    /// the duration it drew.
    #[inline]
    const fn open_until(&self) -> u64 {
        self.since.saturating_add(self.last_open)
    }

    fn enter(&mut self, now: u64, to: State, reason: Reason) -> Transition {
        let from = self.state;
        self.state = to;
        self.generation = self.generation.wrapping_add(1);
        self.since = now;
        Transition { from, to, reason }
    }

    fn open_now(&mut self, now: u64, reason: Reason) -> Transition {
        let backoff = self.rules.open_backoff;
        let duration = backoff.delay(self.reopens, self.last_open, &mut self.rng);
        self.last_open = duration;
        self.reopens = self.reopens.saturating_add(1);
        self.consecutive = 0;
        self.enter(now, State::Open, reason)
    }

    fn close_now(&mut self, now: u64, reason: Reason) -> Transition {
        self.reopens = 0;
        self.last_open = 0;
        self.consecutive = 0;
        if self.rules.reset_window_on_close {
            self.window.clear();
        }
        self.enter(now, State::Closed, reason)
    }

    fn host_move(&mut self, now: u64, to: State) -> Option<Transition> {
        let now = self.clamp(now);
        if self.state == to {
            return None;
        }
        Some(self.enter(now, to, Reason::Host))
    }
}

impl crate::intact::Intact for Rules {
    /// The open backoff, the four rule enums and the two flags.
    #[inline(always)]
    fn intact(read: &impl Fn(usize) -> u8, at: usize) -> bool {
        use crate::intact::{below, variants};
        use core::mem::offset_of;
        <crate::Backoff as crate::intact::Intact>::intact(
            read,
            at + offset_of!(Rules, open_backoff),
        ) && below(
            read,
            at + offset_of!(Rules, comparison),
            variants!(Comparison: AtLeast, Above),
        ) && below(
            read,
            at + offset_of!(Rules, rate_basis),
            variants!(RateBasis: Outcomes, AllCalls, Started),
        ) && below(
            read,
            at + offset_of!(Rules, half_open_rule),
            variants!(HalfOpenRule: AllSucceed, Rates),
        ) && below(
            read,
            at + offset_of!(Rules, dwell_expiry),
            variants!(DwellExpiry: Reopen, Close),
        ) && below(read, at + offset_of!(Rules, reset_window_on_close), 2)
            && below(read, at + offset_of!(Rules, manual), 2)
    }
}

impl<W: crate::intact::Intact> crate::intact::Intact for Breaker<W> {
    /// The rules, the window and the state.
    #[inline(always)]
    fn intact(read: &impl Fn(usize) -> u8, at: usize) -> bool {
        use crate::intact::{below, variants};
        use core::mem::offset_of;
        Rules::intact(read, at + offset_of!(Self, rules))
            && W::intact(read, at + offset_of!(Self, window))
            && below(
                read,
                at + offset_of!(Self, state),
                variants!(State: Closed, Open, HalfOpen, ForcedOpen, Disabled),
            )
    }
}

#[cfg(test)]
mod tests;
