//! The breaker against a reference model written the plain way (a `Vec` for
//! the window, no fixed point), driven by random operation sequences. A
//! twin breaker over a `BitWindow` of the same length takes every call too
//! and must answer exactly as the `CountWindow` one does. Permits are
//! handed back a second time and made up, and must change nothing but the
//! refused count; half-open ends after one open duration (the dwell), so
//! a probe that is never handed back cannot wedge the breaker.

use fusewire::{
    Backoff, BitWindow, Breaker, BreakerConfig, Comparison, CountWindow, Jitter, Outcome, Permit,
    Schedule, State,
};
use proptest::prelude::*;

const N: usize = 8;

#[derive(Debug, Clone)]
enum Op {
    Acquire,
    Record(usize, u8),
    Release(usize),
    Advance(u64),
    Rewind(u64),
    Trip,
    ForceOpen,
    Disable,
    Close,
    Poll,
    /// Hands back a permit that was recorded already.
    Replay(usize),
    /// Hands back a made-up raw permit.
    Forge(u64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => Just(Op::Acquire),
        6 => (0..4usize, 0..4u8).prop_map(|(i, o)| Op::Record(i, o)),
        1 => (0..4usize).prop_map(Op::Release),
        3 => (0..400u64).prop_map(Op::Advance),
        1 => (0..100u64).prop_map(Op::Rewind),
        1 => Just(Op::Trip),
        1 => Just(Op::ForceOpen),
        1 => Just(Op::Disable),
        1 => Just(Op::Close),
        1 => Just(Op::Poll),
        1 => (0..8usize).prop_map(Op::Replay),
        1 => any::<u64>().prop_map(Op::Forge),
    ]
}

/// The rules as a person would write them.
#[derive(Debug)]
struct Model {
    threshold: f64,
    above: bool,
    min_calls: usize,
    consecutive_limit: Option<u32>,
    probes: u32,
    base: u64,
    cap: u64,
    state: State,
    generation: u32,
    window: Vec<bool>, // true = failure; the last N outcomes
    rejected: u32,
    consecutive: u32,
    open_until: u64,
    reopens: u32,
    admitted: u32,
    in_flight: u32,
    passed: u32,
    last_now: u64,
    last_open: u64,
    since: u64,
}

impl Model {
    fn clamp(&mut self, now: u64) -> u64 {
        let now = now.max(self.last_now);
        self.last_now = now;
        now
    }
    fn advance(&mut self, now: u64) -> u64 {
        let now = self.clamp(now);
        if self.state == State::Open && now >= self.open_until {
            self.enter(State::HalfOpen);
            self.since = now;
            self.admitted = 0;
            self.in_flight = 0;
            self.passed = 0;
        } else if self.state == State::HalfOpen {
            // The default dwell: one open duration, so lost probes heal.
            let dwell = if self.last_open > 0 {
                self.last_open
            } else {
                self.base
            };
            if now - self.since >= dwell {
                self.open(now);
            }
        }
        now
    }
    fn enter(&mut self, s: State) {
        self.state = s;
        self.generation = self.generation.wrapping_add(1);
    }
    fn open(&mut self, now: u64) {
        let d = (self.base as u128 * 2u128.pow(self.reopens.min(64))).min(self.cap as u128) as u64;
        self.last_open = d;
        self.reopens += 1;
        self.open_until = now.saturating_add(d);
        self.consecutive = 0;
        self.enter(State::Open);
    }
    fn close(&mut self) {
        self.reopens = 0;
        self.last_open = 0;
        self.consecutive = 0;
        self.window.clear();
        self.rejected = 0;
        self.enter(State::Closed);
    }
    fn acquire(&mut self, now: u64) -> Option<(u32, bool)> {
        let now = self.advance(now);
        let _ = now;
        match self.state {
            State::Closed | State::Disabled => Some((self.generation, false)),
            State::HalfOpen if self.admitted < self.probes => {
                self.admitted += 1;
                self.in_flight += 1;
                Some((self.generation, true))
            }
            _ => {
                self.rejected += 1;
                None
            }
        }
    }
    fn record(&mut self, permit: (u32, bool), outcome: Outcome, now: u64) {
        let now = self.advance(now);
        if self.state == State::Disabled {
            return;
        }
        let failed = matches!(outcome, Outcome::Failure | Outcome::Timeout);
        if outcome != Outcome::Ignored {
            self.window.push(failed);
        } else {
            self.window.push(false); // a slot, counted as neither below
        }
        let ignored_slot = outcome == Outcome::Ignored;
        if permit.0 & 0xFFFF != self.generation & 0xFFFF {
            self.fix_last(ignored_slot);
            return;
        }
        self.fix_last(ignored_slot);
        match self.state {
            State::Closed => {
                match outcome {
                    Outcome::Success => self.consecutive = 0,
                    Outcome::Ignored => return,
                    _ => self.consecutive += 1,
                }
                if !failed {
                    return;
                }
                if let Some(n) = self.consecutive_limit {
                    if self.consecutive >= n {
                        return self.open(now);
                    }
                }
                let (f, calls) = self.rates();
                if calls >= self.min_calls {
                    let rate = f as f64 * 100.0 / calls as f64;
                    let trips = if self.above {
                        rate > self.threshold
                    } else {
                        rate >= self.threshold
                    };
                    if trips {
                        self.open(now);
                    }
                }
            }
            State::HalfOpen if permit.1 => {
                if outcome == Outcome::Ignored {
                    self.in_flight -= 1;
                    self.admitted -= 1;
                    return;
                }
                self.in_flight -= 1;
                if failed {
                    self.open(now);
                } else {
                    self.passed += 1;
                    if self.passed >= self.probes {
                        self.close();
                    }
                }
            }
            _ => {}
        }
    }
    // Ignored outcomes occupy a slot of the last-N ring but count as neither;
    // the model keeps them as `None` in a parallel list.
    fn fix_last(&mut self, ignored: bool) {
        IGNORED.with(|v| v.borrow_mut().push(ignored));
    }
    fn rates(&self) -> (usize, usize) {
        IGNORED.with(|v| {
            let v = v.borrow();
            let start = self.window.len().saturating_sub(N);
            let mut f = 0;
            let mut calls = 0;
            for (i, failed) in self.window.iter().enumerate().skip(start) {
                if v[v.len() - self.window.len() + i] {
                    continue;
                }
                calls += 1;
                f += usize::from(*failed);
            }
            (f, calls)
        })
    }
}

thread_local! {
    static IGNORED: std::cell::RefCell<Vec<bool>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn outcome(o: u8) -> Outcome {
    [
        Outcome::Success,
        Outcome::Failure,
        Outcome::Timeout,
        Outcome::Ignored,
    ][o as usize % 4]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: if cfg!(miri) { 4 } else { 512 }, ..ProptestConfig::default() })]

    #[test]
    fn breaker_matches_the_model(
        threshold in 0u32..=100,
        above in any::<bool>(),
        min_calls in 0u32..6,
        consecutive in prop::option::of(1u32..5),
        probes in 1u32..4,
        base in 1u64..200,
        ops in prop::collection::vec(op(), 1..200),
    ) {
        IGNORED.with(|v| v.borrow_mut().clear());
        let cap = base * 4;
        let config = BreakerConfig {
            failure_rate: Some(fusewire::Ratio::percent(threshold)),
            comparison: if above { Comparison::Above } else { Comparison::AtLeast },
            min_calls,
            consecutive_failures: consecutive,
            half_open_probes: probes,
            open_backoff: Backoff::new(Schedule::Exponential { base, factor_milli: 2000 }, Jitter::None, cap).unwrap(),
            ..BreakerConfig::new(fusewire::TickUnit::MILLIS)
        };
        if above && threshold == 100 {
            // No share is above 100 %: a breaker that could never open.
            let e = Breaker::<CountWindow<N>>::new(config).unwrap_err();
            prop_assert_eq!(e.field, "failure_rate");
            return Ok(());
        }
        let mut b: Breaker<CountWindow<N>> = Breaker::new(config).unwrap();
        let mut twin: Breaker<BitWindow<u8>> = Breaker::new(config).unwrap();
        let mut m = Model {
            threshold: threshold as f64, above, min_calls: min_calls as usize,
            consecutive_limit: consecutive, probes, base, cap,
            state: State::Closed, generation: 0, window: Vec::new(), rejected: 0,
            consecutive: 0, open_until: 0, reopens: 0, admitted: 0, in_flight: 0, passed: 0, last_now: 0,
            last_open: 0, since: 0,
        };
        let mut settled: Vec<u64> = Vec::new();
        let mut refused = 0u32;
        let mut now = 0u64;
        let mut held: Vec<(Permit, Permit, (u32, bool))> = Vec::new();
        for op in ops {
            match op {
                Op::Acquire => {
                    let got = b.try_acquire(now);
                    let got_twin = twin.try_acquire(now);
                    prop_assert_eq!(&got, &got_twin);
                    let want = m.acquire(now);
                    prop_assert_eq!(got.is_ok(), want.is_some());
                    if let (Ok(p), Ok(q), Some(w)) = (got, got_twin, want) {
                        prop_assert_eq!((p.generation(), p.is_probe()), w);
                        held.push((p, q, w));
                    }
                }
                Op::Record(i, o) if i < held.len() => {
                    let (p, q, w) = held.remove(i);
                    let raw = b.permit_into_raw(p);
                    settled.push(raw);
                    let p = Permit::from_raw(raw);
                    let moved = b.record(p, outcome(o), 1, now);
                    prop_assert_eq!(moved, twin.record(q, outcome(o), 1, now));
                    m.record(w, outcome(o), now);
                }
                Op::Release(i) if i < held.len() => {
                    let (p, q, w) = held.remove(i);
                    prop_assert_eq!(b.release(p, now), twin.release(q, now));
                    let now = m.advance(now);
                    let _ = now;
                    if w.1 && w.0 == m.generation && m.state == State::HalfOpen {
                        m.in_flight -= 1;
                        m.admitted -= 1;
                    }
                }
                Op::Replay(i) if i < settled.len() => {
                    let again = |raw| Permit::from_raw(raw);
                    prop_assert_eq!(
                        b.record(again(settled[i]), Outcome::Failure, 1, now),
                        twin.record(again(settled[i]), Outcome::Failure, 1, now)
                    );
                    m.advance(now);
                    refused += 1;
                }
                Op::Forge(raw) => {
                    // No raw permit is out between steps (each is recorded
                    // as soon as it is made), so even a value that passes
                    // the tag check names no ticket that is out: refused.
                    prop_assert_eq!(
                        b.release(Permit::from_raw(raw), now),
                        twin.release(Permit::from_raw(raw), now)
                    );
                    m.advance(now);
                    refused += 1;
                }
                Op::Record(..) | Op::Release(_) | Op::Replay(_) => {}
                Op::Advance(d) => now += d,
                Op::Rewind(d) => now = now.saturating_sub(d),
                Op::Trip => {
                    prop_assert_eq!(b.trip(now), twin.trip(now));
                    let t = m.clamp(now);
                    if m.state != State::Open { m.open(t); }
                }
                Op::ForceOpen => {
                    prop_assert_eq!(b.force_open(now), twin.force_open(now));
                    m.clamp(now);
                    if m.state != State::ForcedOpen { m.enter(State::ForcedOpen); }
                }
                Op::Disable => {
                    prop_assert_eq!(b.disable(now), twin.disable(now));
                    m.clamp(now);
                    if m.state != State::Disabled { m.enter(State::Disabled); }
                }
                Op::Close => {
                    prop_assert_eq!(b.close(now), twin.close(now));
                    m.clamp(now);
                    if m.state != State::Closed { m.close(); }
                }
                Op::Poll => {
                    prop_assert_eq!(b.poll(now), twin.poll(now));
                    m.advance(now);
                }
            }
            let s = b.snapshot(now);
            prop_assert_eq!(s, twin.snapshot(now));
            m.clamp(now);
            prop_assert_eq!(s.state, m.state);
            prop_assert_eq!(s.generation, m.generation);
            prop_assert_eq!(s.consecutive_failures, m.consecutive);
            let (f, calls) = m.rates();
            prop_assert_eq!(s.counts.failures as usize, f);
            prop_assert_eq!(s.counts.outcomes() as usize, calls);
            prop_assert_eq!(s.counts.rejected, m.rejected);
            if m.state == State::Open {
                prop_assert_eq!(s.open_until, m.open_until);
            }
            if m.state == State::HalfOpen {
                prop_assert_eq!(s.probes_in_flight, m.in_flight);
            }
            prop_assert_eq!(s.refused_permits, refused);
            prop_assert_eq!(s.permits_out, 0, "raw permits are settled at once here");
        }
    }
}
