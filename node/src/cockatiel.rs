//! The native calls of `fusewire/cockatiel` (`lib/cockatiel.js`).
//!
//! A breaker used on its own (cockatiel's `IBreaker`: "count this success
//! or failure; did it trip?") uses [`CoreBreaker::count`]: admission, the
//! permit and the record in one crossing. A `CircuitBreakerPolicy` runs
//! its whole state machine on the same core [`Breaker`](fusewire::Breaker)
//! (closed, open for `halfOpenAfter` or a user backoff's delay, half-open
//! on the next call with `halfOpenSampling` probes, isolated = forced
//! open): [`CoreBreaker::policy`] configures it, [`CoreBreaker::run`]
//! hands over the closed state's outcomes in batches (successes never
//! trip; failures the core says cannot trip yet are counted in JS and
//! handed over with the next crossing), and the rarer moves (probes, host
//! moves, a saved state) have a call each. Answers are small numbers, not
//! objects: a [`code`] (the state after, and whether it moved).

use fusewire::window::{Kind, Sliding};
use fusewire::{Backoff, Outcome, Permit, State};
use napi_derive::napi;

use crate::direct::CoreBreaker;
use crate::ticks;

/// [`CoreBreaker::count`]'s answer: counted, the breaker stayed closed.
const COUNTED: u32 = 0;
/// Counted, and the breaker opened on it.
const TRIPPED: u32 = 1;
/// Not counted: the breaker was not closed (the caller resets it first).
const NOT_CLOSED: u32 = 2;

/// Added to a [`code`] when the call moved the breaker.
const MOVED: u32 = 8;
/// [`CoreBreaker::run`] adds the failures JS may count on its own times
/// this to its [`code`].
const ROOM: f64 = 16.0;
/// The most failures JS counts on its own before asking again.
const MAX_ROOM: u32 = 1 << 16;

/// A state as a small number: 0 closed, 1 open, 2 half-open, 3 forced open
/// (cockatiel's `Isolated`), 4 disabled.
fn code(state: State, moved: bool) -> u32 {
    state as u32 + if moved { MOVED } else { 0 }
}

/// A cockatiel duration (ms, any number) as the core's open period:
/// cockatiel stays open while `now - openedAt < duration`, so a fraction
/// rounds up, NaN and negatives are 0 (half-open on the next call) and
/// Infinity is forever.
fn period(ms: f64) -> u64 {
    if ms.is_nan() || ms <= 0.0 {
        0
    } else {
        ticks(ms.ceil())
    }
}

#[napi]
impl CoreBreaker {
    /// Counts one call's outcome at `now` (ms): a failure when `failure`,
    /// else a success; `untripped` counts it without letting it trip (a
    /// restored state). Returns 0 (counted), 1 (counted and tripped) or 2
    /// (the breaker was not closed, nothing counted).
    #[napi]
    pub fn count(&mut self, failure: bool, untripped: bool, now: f64) -> u32 {
        let now = ticks(now);
        let Ok(permit) = self.inner.try_acquire(now) else {
            return NOT_CLOSED;
        };
        if permit.is_probe() {
            // Half-open on its own clock: hand the probe back, count nothing.
            let _ = self.inner.release(permit, now);
            return NOT_CLOSED;
        }
        let outcome = if failure {
            Outcome::Failure
        } else {
            Outcome::Success
        };
        let moved = if untripped {
            self.inner.record_untripped(permit, outcome, 0, now)
        } else {
            self.inner.record(permit, outcome, 0, now)
        };
        if moved.is_some() {
            TRIPPED
        } else {
            COUNTED
        }
    }

    /// Makes this breaker a cockatiel `CircuitBreakerPolicy`'s: open for
    /// `open_ms` (a number `halfOpenAfter` above 0; a user backoff, or a
    /// number the core's constant backoff refuses (0, negative, NaN: kept
    /// as it was here), has each period set with
    /// [`open_for`](Self::open_for)), `probes` half-open calls
    /// (`halfOpenSampling.calls`, at most 65535) of which `tolerated` may
    /// fail (`floor(threshold x calls)`), no half-open time limit (a
    /// cockatiel half-open period lasts until its probes settle), and the
    /// window cleared when the breaker closes.
    #[napi]
    pub fn policy(&mut self, open_ms: f64, probes: u32, tolerated: u32) {
        let mut c = self.inner.config();
        if let Ok(b) = Backoff::constant(period(open_ms)) {
            c.open_backoff = b;
        }
        c.half_open_probes = probes.clamp(1, u16::MAX.into());
        c.half_open_max_dwell = u64::MAX;
        c.reset_window_on_close = true;
        // Only probes and the dwell changed: the rest was validated.
        let _ = self.inner.set_config(c);
        self.inner
            .set_half_open_tolerance(tolerated.min(u16::MAX.into()) as u16);
    }

    /// Hands over the closed state's outcomes, in order: `failures` that
    /// [`run`](Self::run) said could not trip, then `successes`, then one
    /// more failure if `failure` (the one that may trip), all at `now`. A
    /// breaker that is not closed counts none of them (outcomes of calls
    /// that began before it moved; their generation is gone). Returns a
    /// [`code`] plus 16 x the failures JS may now count on its own (the
    /// core's `failures_before_trip`).
    #[napi]
    pub fn run(&mut self, failures: u32, successes: u32, failure: bool, now: f64) -> f64 {
        let now = ticks(now);
        let b = &mut self.inner;
        let mut moved = false;
        let outcomes = core::iter::repeat_n(Outcome::Failure, failures as usize)
            .chain(core::iter::repeat_n(Outcome::Success, successes as usize))
            .chain(failure.then_some(Outcome::Failure));
        for o in outcomes {
            let Ok(p) = b.try_acquire(now) else { break };
            if p.is_probe() {
                let _ = b.release(p, now);
                break;
            }
            if b.record(p, o, 0, now).is_some() {
                moved = true;
                break;
            }
        }
        let room = b.failures_before_trip(now, MAX_ROOM);
        f64::from(code(b.state(), moved)) + f64::from(room) * ROOM
    }

    /// Asks to make a call at `now` outside the closed state: the raw
    /// permit (0 or more; the state may have moved: read [`state_code`])
    /// or, refused, -1 - the ms until the core may admit again (-Infinity:
    /// held open by the host; -0.5: half-open with every probe out).
    #[napi]
    pub fn acquire(&mut self, now: f64) -> f64 {
        match self.inner.try_acquire(ticks(now)) {
            Ok(p) => self.inner.permit_into_raw(p) as f64,
            Err(r) => match r.state {
                State::HalfOpen => -0.5,
                State::Open if r.retry_after != u64::MAX => -1.0 - r.retry_after as f64,
                _ => f64::NEG_INFINITY,
            },
        }
    }

    /// Settles a permit from [`acquire`](Self::acquire): `outcome` 0
    /// success, 1 failure, 2 handed back unused. Returns a [`code`].
    #[napi]
    pub fn settle(&mut self, permit: f64, outcome: u32, now: f64) -> u32 {
        let now = ticks(now);
        let p = Permit::from_raw(permit as u64);
        let moved = match outcome {
            0 => self.inner.record(p, Outcome::Success, 0, now),
            1 => self.inner.record(p, Outcome::Failure, 0, now),
            _ => self.inner.release(p, now),
        };
        code(self.inner.state(), moved.is_some())
    }

    /// The state as a [`code`] (never "moved").
    #[napi(getter)]
    pub fn state_code(&self) -> u32 {
        code(self.inner.state(), false)
    }

    /// Sets the open period the breaker is in to `ms` (a user backoff's
    /// delay, drawn after the trip). False if it is not open.
    #[napi]
    pub fn open_for(&mut self, ms: f64) -> bool {
        self.inner.set_open_duration(period(ms))
    }

    /// Opens as a saved cockatiel state says: opened at `opened_at` (ms
    /// since the epoch, as `Date.now()`), for `ms`, as attempt `attempt`.
    #[napi]
    pub fn restore_open(&mut self, now: f64, opened_at: f64, ms: f64, attempt: u32) -> u32 {
        let moved = self
            .inner
            .restore_open(ticks(now), ticks(opened_at), period(ms), attempt);
        code(self.inner.state(), moved.is_some())
    }

    /// The window as it is, for cockatiel's read-only views: a count
    /// window's slots in slot order (1 success, 0 failure, -1 unused) then
    /// the slot the next call goes into; a time window's buckets as of the
    /// last call (as cockatiel reads its own), oldest first, as (failures,
    /// successes) pairs, then when the newest began and the bucket length
    /// (ms).
    #[napi]
    pub fn ring(&mut self) -> Vec<f64> {
        match self.inner.window_mut() {
            Sliding::Count(r) => {
                let mut v: Vec<f64> = (0..r.len())
                    .map(|i| match r.slot(i) {
                        Some(Kind::Success) => 1.0,
                        Some(Kind::Failure | Kind::Timeout) => 0.0,
                        _ => -1.0,
                    })
                    .collect();
                v.push(r.cursor() as f64);
                v
            }
            Sliding::Time(r) => {
                let mut v: Vec<f64> = r
                    .buckets()
                    .iter()
                    .flat_map(|c| [f64::from(c.failures), f64::from(c.successes)])
                    .collect();
                let (head, len) = r.head();
                v.extend([head as f64, len as f64]);
                v
            }
        }
    }

    /// Empties a count window with the next call going into slot `cursor`
    /// (a saved ring restored slot by slot: its calls follow, oldest
    /// first). Nothing for a time window.
    #[napi]
    pub fn clear_at(&mut self, cursor: u32) {
        if let Sliding::Count(r) = self.inner.window_mut() {
            r.clear_at(cursor as usize);
        }
    }

    /// Counts `n` successes at `now` (ms): the successes cockatiel's
    /// breakers batch within one millisecond (a success never trips, so
    /// they wait for the next failure or the next millisecond). Returns 0,
    /// or 2 when the breaker was not closed (the rest are not counted; the
    /// caller resets it and counts again).
    #[napi]
    pub fn count_successes(&mut self, n: u32, now: f64) -> u32 {
        let now = ticks(now);
        for _ in 0..n {
            let Ok(permit) = self.inner.try_acquire(now) else {
                return NOT_CLOSED;
            };
            if permit.is_probe() {
                let _ = self.inner.release(permit, now);
                return NOT_CLOSED;
            }
            let _ = self.inner.record(permit, Outcome::Success, 0, now);
        }
        COUNTED
    }
}
