//! One set of scenarios, run against the single-owner and the shared forms:
//! same calls, same answers. Scripted cases pin the behaviour; property
//! tests drive both forms with random calls and require equal results.
#![cfg(any(target_has_atomic = "64", feature = "critical-section"))]

use std::num::NonZeroU32;

use fusewire::{
    Backoff, Breaker, BreakerConfig, Bucket, Budget, Bulkhead, CountWindow, DwellExpiry,
    HalfOpenRule, Jitter, Outcome, Permit, Priority, Rate, RateBasis, Reason, Rejected, Schedule,
    SharedBreaker, SharedBreakerOver, SharedBucket, SharedBudget, SharedBulkhead,
    SharedTimeBreaker, SharedTimeWindow, SharedWindow, Slot, Snapshot, State, TickUnit, TimeCounts,
    Transition, Window,
};
use proptest::prelude::*;

/// A breaker, whichever form. Permits travel as raw integers.
trait Engine {
    fn acquire(&mut self, now: u64) -> Result<(u64, Option<Transition>), Rejected>;
    fn record(&mut self, permit: u64, o: Outcome, duration: u64, now: u64) -> Option<Transition>;
    fn release(&mut self, permit: u64, now: u64) -> Option<Transition>;
    fn host(&mut self, op: Host, now: u64) -> Option<Transition>;
    fn snapshot(&mut self, now: u64) -> Snapshot;
}

#[derive(Debug, Clone, Copy)]
enum Host {
    Poll,
    Trip,
    Close,
    ForceOpen,
    Disable,
    Reset,
}

fn split(raw: impl FnOnce(Permit) -> u64, p: Permit) -> (u64, Option<Transition>) {
    let t = p.transition;
    (raw(p), t)
}

impl<W: Window> Engine for Breaker<W> {
    fn acquire(&mut self, now: u64) -> Result<(u64, Option<Transition>), Rejected> {
        let p = self.try_acquire(now)?;
        Ok(split(|p| self.permit_into_raw(p), p))
    }
    fn record(&mut self, p: u64, o: Outcome, d: u64, now: u64) -> Option<Transition> {
        Breaker::record(self, Permit::from_raw(p), o, d, now)
    }
    fn release(&mut self, p: u64, now: u64) -> Option<Transition> {
        Breaker::release(self, Permit::from_raw(p), now)
    }
    fn host(&mut self, op: Host, now: u64) -> Option<Transition> {
        match op {
            Host::Poll => self.poll(now),
            Host::Trip => self.trip(now),
            Host::Close => self.close(now),
            Host::ForceOpen => self.force_open(now),
            Host::Disable => self.disable(now),
            Host::Reset => self.reset(now),
        }
    }
    fn snapshot(&mut self, now: u64) -> Snapshot {
        // The shared form counts no permits out (it would cost the closed
        // path its one-load admission): compare the rest.
        Snapshot {
            permits_out: 0,
            ..Breaker::snapshot(self, now)
        }
    }
}

impl<W: SharedWindow> Engine for SharedBreakerOver<W> {
    fn acquire(&mut self, now: u64) -> Result<(u64, Option<Transition>), Rejected> {
        let p = self.try_acquire(now)?;
        Ok(split(|p| self.permit_into_raw(p), p))
    }
    fn record(&mut self, p: u64, o: Outcome, d: u64, now: u64) -> Option<Transition> {
        SharedBreakerOver::record(self, Permit::from_raw(p), o, d, now)
    }
    fn release(&mut self, p: u64, now: u64) -> Option<Transition> {
        SharedBreakerOver::release(self, Permit::from_raw(p), now)
    }
    fn host(&mut self, op: Host, now: u64) -> Option<Transition> {
        match op {
            Host::Poll => self.poll(now),
            Host::Trip => self.trip(now),
            Host::Close => self.close(now),
            Host::ForceOpen => self.force_open(now),
            Host::Disable => self.disable(now),
            Host::Reset => self.reset(now),
        }
    }
    fn snapshot(&mut self, now: u64) -> Snapshot {
        SharedBreakerOver::snapshot(self, now)
    }
}

/// Writes each scripted scenario once and runs it on both forms.
macro_rules! both_forms {
    ($($name:ident($config:expr) |$e:ident| $body:block;)*) => {
        mod scenario {
            use super::*;
            $(pub fn $name(mut $e: impl Engine) $body)*
        }
        mod single {
            use super::*;
            $(#[test] fn $name() {
                let e: Breaker<CountWindow<8>> = Breaker::new($config).unwrap();
                scenario::$name(e);
            })*
        }
        mod shared {
            use super::*;
            $(#[test] fn $name() {
                scenario::$name(SharedBreaker::<8>::new($config).unwrap());
            })*
        }
        // The same scenarios over a time window no call ages out of.
        mod single_time {
            use super::*;
            $(#[test] fn $name() {
                let w = TimeCounts::<4>::counting(1 << 40, 4).unwrap();
                scenario::$name(Breaker::with_window($config, w).unwrap());
            })*
        }
        mod shared_time {
            use super::*;
            $(#[test] fn $name() {
                let w = SharedTimeWindow::<4>::new(1 << 40, 4).unwrap();
                scenario::$name(SharedTimeBreaker::with_window($config, w).unwrap());
            })*
        }
    };
}

/// A scenario that needs a time window, on both forms: `span` ticks in
/// `buckets` buckets.
macro_rules! both_timed {
    ($($name:ident($config:expr, $span:expr, $buckets:expr) |$e:ident| $body:block;)*) => {
        mod timed_scenario {
            use super::*;
            $(pub fn $name(mut $e: impl Engine) $body)*
        }
        mod timed_single {
            use super::*;
            $(#[test] fn $name() {
                let w = TimeCounts::<8>::counting($span, $buckets).unwrap();
                timed_scenario::$name(Breaker::with_window($config, w).unwrap());
            })*
        }
        mod timed_shared {
            use super::*;
            $(#[test] fn $name() {
                let w = SharedTimeWindow::<8>::new($span, $buckets).unwrap();
                timed_scenario::$name(SharedTimeBreaker::with_window($config, w).unwrap());
            })*
        }
    };
}

fn t(from: State, to: State, reason: Reason) -> Option<Transition> {
    Some(Transition { from, to, reason })
}

fn fail_n(e: &mut impl Engine, n: u32, now: u64) -> Option<Transition> {
    let mut last = None;
    for _ in 0..n {
        let (p, _) = e.acquire(now).unwrap();
        last = e.record(p, Outcome::Failure, 1, now);
    }
    last
}

const CONSECUTIVE: BreakerConfig = BreakerConfig {
    consecutive_failures: Some(3),
    failure_rate: None,
    half_open_probes: 2,
    ..BreakerConfig::new(fusewire::TickUnit::MILLIS)
};

both_forms! {
    trips_on_failure_rate(BreakerConfig { min_calls: 4, ..BreakerConfig::new(fusewire::TickUnit::MILLIS) }) |e| {
        let (p, _) = e.acquire(0).unwrap();
        assert_eq!(e.record(p, Outcome::Success, 1, 0), None);
        assert_eq!(fail_n(&mut e, 2, 0), None);
        assert_eq!(fail_n(&mut e, 1, 5), t(State::Closed, State::Open, Reason::FailureRate));
        let r = e.acquire(10).unwrap_err();
        assert_eq!((r.retry_after, r.state), (995, State::Open));
        let s = e.snapshot(10);
        assert_eq!((s.counts.failures, s.counts.rejected, s.open_until, s.generation), (3, 1, 1005, 1));
    };
    probes_close_after_all_pass(CONSECUTIVE) |e| {
        assert_eq!(fail_n(&mut e, 3, 0), t(State::Closed, State::Open, Reason::ConsecutiveFailures));
        let (a, moved) = e.acquire(1000).unwrap();
        assert_eq!(moved, t(State::Open, State::HalfOpen, Reason::OpenElapsed));
        let (b, _) = e.acquire(1000).unwrap();
        let r = e.acquire(1000).unwrap_err();
        assert_eq!((r.state, r.retry_after), (State::HalfOpen, 1000));
        assert_eq!(e.snapshot(1000).probes_in_flight, 2);
        assert_eq!(e.record(a, Outcome::Success, 1, 1001), None);
        assert_eq!(e.record(b, Outcome::Success, 1, 1002), t(State::HalfOpen, State::Closed, Reason::ProbesPassed));
        assert_eq!(e.snapshot(1002).counts, Default::default());
    };
    a_bad_probe_reopens_and_ignored_gives_back(CONSECUTIVE) |e| {
        fail_n(&mut e, 3, 0);
        let (a, _) = e.acquire(1000).unwrap();
        let (b, _) = e.acquire(1000).unwrap();
        assert_eq!(e.record(a, Outcome::Ignored, 1, 1000), None);
        let (c, _) = e.acquire(1000).unwrap();
        assert_eq!(e.release(c, 1000), None);
        assert_eq!(e.snapshot(1000).probes_in_flight, 1);
        assert_eq!(e.record(b, Outcome::Timeout, 1, 1001), t(State::HalfOpen, State::Open, Reason::ProbesFailed));
        assert_eq!(e.snapshot(1001).reopens, 2);
    };
    stale_permits_cannot_move_it(CONSECUTIVE) |e| {
        let (old, _) = e.acquire(0).unwrap();
        fail_n(&mut e, 3, 0);
        assert_eq!(e.host(Host::Close, 1), t(State::Open, State::Closed, Reason::Host));
        assert_eq!(fail_n(&mut e, 2, 2), None);
        assert_eq!(e.record(old, Outcome::Failure, 1, 3), None);
        assert_eq!(e.snapshot(3).consecutive_failures, 2);
    };
    dwell_expiry_and_host_states(BreakerConfig { half_open_max_dwell: 50, dwell_expiry: DwellExpiry::Close, ..CONSECUTIVE }) |e| {
        assert_eq!(e.host(Host::Trip, 0), t(State::Closed, State::Open, Reason::Host));
        assert_eq!(e.host(Host::Poll, 1000), t(State::Open, State::HalfOpen, Reason::OpenElapsed));
        assert_eq!(e.acquire(1000).map(|(_, t)| t), Ok(None));
        assert_eq!(e.acquire(1000).map(|(_, t)| t), Ok(None));
        assert_eq!(e.acquire(1010).unwrap_err().retry_after, 40);
        assert_eq!(e.host(Host::Poll, 1050), t(State::HalfOpen, State::Closed, Reason::DwellExpired));
        assert_eq!(e.host(Host::ForceOpen, 1060), t(State::Closed, State::ForcedOpen, Reason::Host));
        assert_eq!(e.acquire(1060).unwrap_err().retry_after, u64::MAX);
        assert_eq!(e.host(Host::Disable, 1070), t(State::ForcedOpen, State::Disabled, Reason::Host));
        assert!(e.acquire(1070).is_ok());
        assert_eq!(e.host(Host::Reset, 1080), t(State::Disabled, State::Closed, Reason::Host));
        assert_eq!(e.snapshot(1080).generation, 6);
    };
}

both_timed! {
    failures_age_out(BreakerConfig { min_calls: 4, ..BreakerConfig::new(TickUnit::MILLIS) }, 1000, 4) |e| {
        // Three failures in the bucket [0, 250): not yet min_calls.
        assert_eq!(fail_n(&mut e, 3, 0), None);
        assert_eq!(e.snapshot(999).counts.failures, 3);
        // At 1000 that bucket has left the window: a fourth failure is one
        // of one, below min_calls.
        assert_eq!(e.snapshot(1000).counts.failures, 0);
        assert_eq!(fail_n(&mut e, 1, 1000), None);
        // Three more within the span trip it (4 of 4).
        assert_eq!(fail_n(&mut e, 2, 1100), None);
        assert_eq!(fail_n(&mut e, 1, 1900), t(State::Closed, State::Open, Reason::FailureRate));
    };
    buckets_are_aligned(BreakerConfig { min_calls: 2, ..BreakerConfig::new(TickUnit::MILLIS) }, 1000, 4) |e| {
        // 249 and 250 are in different buckets: at 1249 only the first has
        // left, at 1250 both.
        fail_n(&mut e, 1, 249);
        fail_n(&mut e, 1, 250);
        assert_eq!(e.snapshot(1249).counts.failures, 1);
        assert_eq!(e.snapshot(1250).counts.failures, 0);
    };
    started_calls_count_refusals_and_starts(BreakerConfig {
        min_calls: 3,
        rate_basis: RateBasis::Started,
        failure_rate: Some(fusewire::Ratio::percent(50)),
        ..BreakerConfig::new(TickUnit::MILLIS)
    }, 10_000, 8) |e| {
        let (a, _) = e.acquire(0).unwrap();
        let (b, _) = e.acquire(1).unwrap();
        let (c, _) = e.acquire(2).unwrap();
        assert_eq!(e.snapshot(2).counts.admitted, 3);
        assert_eq!(e.record(a, Outcome::Failure, 1, 3), None, "1 failure of 3 started");
        assert_eq!(e.record(b, Outcome::Failure, 1, 4), t(State::Closed, State::Open, Reason::FailureRate));
        assert!(e.acquire(5).is_err());
        assert_eq!(e.record(c, Outcome::Success, 1, 6), None);
        let s = e.snapshot(6).counts;
        assert_eq!((s.admitted, s.rejected, s.failures, s.successes), (3, 1, 2, 1));
        // Everything ages out after the span.
        assert_eq!(e.snapshot(10_006).counts, Default::default());
    };
}

#[derive(Debug, Clone)]
enum Op {
    Acquire,
    Record(usize, Outcome, u64),
    Release(usize),
    Host(Host),
    Wait(u64),
}

fn op() -> impl Strategy<Value = Op> {
    let outcome = prop_oneof![
        3 => Just(Outcome::Failure),
        3 => Just(Outcome::Success),
        1 => Just(Outcome::Timeout),
        1 => Just(Outcome::Ignored),
    ];
    let host = prop_oneof![
        4 => Just(Host::Poll),
        1 => Just(Host::Trip),
        1 => Just(Host::Close),
        1 => Just(Host::ForceOpen),
        1 => Just(Host::Disable),
        1 => Just(Host::Reset),
    ];
    prop_oneof![
        6 => Just(Op::Acquire),
        6 => (any::<usize>(), outcome, 0u64..40).prop_map(|(i, o, d)| Op::Record(i, o, d)),
        1 => any::<usize>().prop_map(Op::Release),
        1 => host.prop_map(Op::Host),
        3 => (0u64..400).prop_map(Op::Wait),
    ]
}

fn config() -> impl Strategy<Value = BreakerConfig> {
    (
        (
            proptest::option::of((10u32..90).prop_map(fusewire::Ratio::percent)),
            proptest::option::of((10u32..90).prop_map(fusewire::Ratio::percent)),
        ),
        (
            proptest::option::of(1u32..5),
            0u32..6,
            1u32..4,
            any::<bool>(),
        ),
        (
            prop_oneof![Just(0u64), 50u64..300],
            any::<bool>(),
            any::<bool>(),
            any::<u64>(),
        ),
    )
        .prop_map(
            |((fr, sr), (cf, min, probes, rates), (dwell, reopen, reset, seed))| BreakerConfig {
                failure_rate: fr,
                slow_call_rate: sr,
                slow_call_duration: 20,
                consecutive_failures: cf,
                manual: fr.is_none() && sr.is_none() && cf.is_none(),
                min_calls: min,
                half_open_probes: probes,
                half_open_rule: if rates {
                    HalfOpenRule::Rates
                } else {
                    HalfOpenRule::AllSucceed
                },
                half_open_max_dwell: dwell,
                dwell_expiry: if reopen {
                    DwellExpiry::Reopen
                } else {
                    DwellExpiry::Close
                },
                open_backoff: Backoff::new(
                    Schedule::Exponential {
                        base: 100,
                        factor_milli: 2000,
                    },
                    Jitter::Full,
                    1000,
                )
                .unwrap(),
                reset_window_on_close: reset,
                seed,
                ..BreakerConfig::new(fusewire::TickUnit::MILLIS)
            },
        )
}

/// Runs `ops` on both forms, requiring the same answers and snapshots.
fn forms_agree(
    mut single: impl Engine,
    mut shared: impl Engine,
    ops: Vec<Op>,
) -> Result<(), TestCaseError> {
    let mut permits: Vec<u64> = Vec::new();
    let mut now = 0;
    for op in ops {
        match op {
            Op::Acquire => {
                // Tickets differ (the shared form issues none): compare
                // the rest; the single form's permit serves both.
                let key = |r: Result<(u64, Option<Transition>), Rejected>| {
                    r.map(|(p, t)| {
                        let p = Permit::from_raw(p);
                        (p.generation(), p.is_probe(), t)
                    })
                };
                let a = single.acquire(now);
                prop_assert_eq!(key(a), key(shared.acquire(now)));
                if let Ok((p, _)) = a {
                    permits.push(p);
                }
            }
            Op::Record(i, o, d) if !permits.is_empty() => {
                let p = permits.swap_remove(i % permits.len());
                prop_assert_eq!(
                    Engine::record(&mut single, p, o, d, now),
                    Engine::record(&mut shared, p, o, d, now)
                );
            }
            Op::Release(i) if !permits.is_empty() => {
                let p = permits.swap_remove(i % permits.len());
                prop_assert_eq!(
                    Engine::release(&mut single, p, now),
                    Engine::release(&mut shared, p, now)
                );
            }
            Op::Host(h) => prop_assert_eq!(single.host(h, now), shared.host(h, now)),
            Op::Wait(dt) => now += dt,
            _ => {}
        }
        prop_assert_eq!(
            Engine::snapshot(&mut single, now),
            Engine::snapshot(&mut shared, now)
        );
    }
    Ok(())
}

fn cases() -> ProptestConfig {
    ProptestConfig {
        cases: if cfg!(miri) { 8 } else { 512 },
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(cases())]

    #[test]
    fn breaker_forms_agree(config in config(), ops in proptest::collection::vec(op(), 1..120)) {
        let single: Breaker<CountWindow<6>> = Breaker::new(config).unwrap();
        forms_agree(single, SharedBreaker::<6>::new(config).unwrap(), ops)?;
    }

    /// The same over a time window of random shape and any rate basis
    /// (started calls included), with waits that age buckets out.
    #[test]
    fn time_breaker_forms_agree(
        config in config(),
        basis in prop_oneof![Just(RateBasis::Outcomes), Just(RateBasis::AllCalls), Just(RateBasis::Started)],
        span in 1u64..3000,
        buckets in 1usize..=8,
        ops in proptest::collection::vec(op(), 1..120),
    ) {
        let config = BreakerConfig { rate_basis: basis, ..config };
        let span = span.max(buckets as u64);
        let single = Breaker::with_window(config, TimeCounts::<8>::counting(span, buckets).unwrap()).unwrap();
        let shared = SharedTimeBreaker::with_window(config, SharedTimeWindow::<8>::new(span, buckets).unwrap()).unwrap();
        forms_agree(single, shared, ops)?;
    }

    #[test]
    fn bucket_forms_agree(
        burst in 1u32..20,
        tokens in 1u32..50,
        period in 1u64..500,
        start in 0u64..1_000_000,
        steps in proptest::collection::vec((0u64..200, 0u32..25, any::<bool>()), 1..64),
    ) {
        let rate = Rate::new(tokens, period).unwrap();
        let burst = NonZeroU32::new(burst).unwrap();
        let mut single = Bucket::new(burst, rate);
        let shared = SharedBucket::new(burst, rate).unwrap();
        let mut now = start;
        for (dt, n, refund) in steps {
            now += dt;
            if refund {
                single.refund(n, now);
                shared.refund(n, now);
            } else {
                prop_assert_eq!(single.try_acquire(n, now), shared.try_acquire(n, now));
            }
            prop_assert_eq!(single.available(now), shared.available(now));
        }
    }

    #[test]
    fn budget_forms_agree(
        max_tokens in 1u32..200,
        ratio in 1u32..5000,
        ops in proptest::collection::vec(0u8..3, 0..200),
    ) {
        prop_assume!(u64::from(ratio) <= u64::from(max_tokens) * 1000);
        let mut single = Budget::new(max_tokens, ratio).unwrap();
        let shared = SharedBudget::new(max_tokens, ratio).unwrap();
        for op in ops {
            match op {
                0 => { single.record_success(); shared.record_success(); }
                1 => { single.record_failure(); shared.record_failure(); }
                _ => prop_assert_eq!(single.try_retry(), shared.try_retry()),
            }
            prop_assert_eq!(single.tokens_milli(), shared.tokens_milli());
            prop_assert_eq!(single.can_retry(), shared.can_retry());
            prop_assert_eq!(single.throttled(), shared.throttled());
        }
    }

    #[test]
    fn bulkhead_forms_agree(
        limit in 1u32..12,
        rc in 0u32..12,
        rn in 0u32..12,
        lease in 1u64..40,
        ops in proptest::collection::vec((0u8..3, 0u8..3, 0u64..25, any::<proptest::sample::Index>()), 0..100),
    ) {
        let rc = rc % limit;
        let rn = rn % (limit - rc);
        let limit = NonZeroU32::new(limit).unwrap();
        let mut single = Bulkhead::new(limit, rc, rn, TickUnit::MILLIS).unwrap().with_lease(lease).unwrap();
        let shared = SharedBulkhead::new(limit, rc, rn, TickUnit::MILLIS).unwrap().with_lease(lease).unwrap();
        let mut raws: Vec<u64> = Vec::new();
        let mut now = 0u64;
        for (op, p, dt, pick) in ops {
            now += dt;
            let p = [Priority::Critical, Priority::Normal, Priority::Sheddable][usize::from(p)];
            match op {
                0 => {
                    let (a, b) = (single.try_acquire(p, now), shared.try_acquire(p, now));
                    prop_assert_eq!(a.is_ok(), b.is_ok());
                    if let (Err(a), Err(b)) = (&a, &b) {
                        prop_assert_eq!(a, b);
                    }
                    if let (Ok(a), Ok(b)) = (a, b) {
                        let (a, b) = (a.into_raw(), b.into_raw());
                        prop_assert_eq!(a, b);
                        raws.push(a);
                    }
                }
                1 if !raws.is_empty() => {
                    let raw = raws[pick.index(raws.len())];
                    prop_assert_eq!(
                        single.release(Slot::from_raw(raw), now),
                        shared.release(Slot::from_raw(raw), now)
                    );
                }
                _ => prop_assert_eq!(single.expire(now), shared.expire(now)),
            }
            prop_assert_eq!(single.in_use(), shared.in_use());
            prop_assert_eq!(single.available_for(p), shared.available_for(p));
            prop_assert_eq!(single.in_use_by(p), shared.in_use_by(p));
            prop_assert_eq!(single.extra_releases(), shared.extra_releases());
            prop_assert_eq!(single.expired_releases(), shared.expired_releases());
            prop_assert_eq!(single.reclaimed(), shared.reclaimed());
        }
    }
}
