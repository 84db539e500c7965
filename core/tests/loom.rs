//! Model checks of the shared forms: every interleaving loom can reach
//! (bounded by LOOM_MAX_PREEMPTIONS), not just the ones a run happens to hit.
//! Run with `make loom` (RUSTFLAGS="--cfg loom").
#![cfg(loom)]

use std::num::NonZeroU32;

use fusewire::{
    BreakerConfig, Outcome, Priority, Rate, Reason, SharedBreaker, SharedBucket, SharedBulkhead,
    State, TickUnit,
};
use loom::sync::Arc;
use loom::thread;

fn probes(k: u32) -> BreakerConfig {
    BreakerConfig {
        failure_rate: None,
        consecutive_failures: Some(1),
        half_open_probes: k,
        ..BreakerConfig::new(fusewire::TickUnit::MILLIS)
    }
}

/// Three threads race into a breaker whose open time has passed: exactly
/// one performs open -> half-open, and exactly k = 2 probes are admitted.
#[test]
fn half_open_admits_exactly_k_probes() {
    loom::model(|| {
        let b = Arc::new(SharedBreaker::<2>::new(probes(2)).unwrap());
        b.trip(0);
        let hs: Vec<_> = (0..3)
            .map(|_| {
                let b = b.clone();
                thread::spawn(move || match b.try_acquire(1000) {
                    Ok(p) => {
                        let moved = p.transition.is_some();
                        assert!(p.is_probe());
                        drop(p);
                        (1, moved)
                    }
                    Err(r) => {
                        assert_eq!(r.state, State::HalfOpen, "{r:?}");
                        (0, r.transition.is_some())
                    }
                })
            })
            .collect();
        let (admitted, moved) = hs
            .into_iter()
            .map(|h| h.join().unwrap())
            .fold((0, 0), |(a, m), (x, y)| (a + x, m + u32::from(y)));
        assert_eq!((admitted, moved), (2, 1));
        let s = b.snapshot(1000);
        assert_eq!(
            (s.state, s.generation, s.probes_in_flight),
            (State::HalfOpen, 2, 2)
        );
    });
}

/// Two closed-state failures race to trip the breaker: one transition for
/// the generation, reported by exactly one caller.
#[test]
fn one_transition_per_generation() {
    loom::model(|| {
        let b = Arc::new(SharedBreaker::<2>::new(probes(1)).unwrap());
        let permits = [b.try_acquire(0).unwrap(), b.try_acquire(0).unwrap()];
        let hs: Vec<_> = permits
            .into_iter()
            .map(|p| {
                let b = b.clone();
                thread::spawn(move || b.record(p, Outcome::Failure, 1, 0))
            })
            .collect();
        let moved: Vec<_> = hs.into_iter().filter_map(|h| h.join().unwrap()).collect();
        assert_eq!(moved.len(), 1);
        assert_eq!(moved[0].reason, Reason::ConsecutiveFailures);
        let s = b.snapshot(0);
        assert_eq!(
            (s.state, s.generation, s.open_until),
            (State::Open, 1, 1000)
        );
    });
}

/// Two probes pass at once: the breaker closes once, and the caller that
/// settles the last probe reports it.
#[test]
fn probes_settling_together_close_once() {
    loom::model(|| {
        let b = Arc::new(SharedBreaker::<2>::new(probes(2)).unwrap());
        b.trip(0);
        let permits = [b.try_acquire(1000).unwrap(), b.try_acquire(1000).unwrap()];
        let hs: Vec<_> = permits
            .into_iter()
            .map(|p| {
                let b = b.clone();
                thread::spawn(move || b.record(p, Outcome::Success, 1, 1001))
            })
            .collect();
        let moved: Vec<_> = hs.into_iter().filter_map(|h| h.join().unwrap()).collect();
        assert_eq!(moved.len(), 1);
        assert_eq!(
            (moved[0].to, moved[0].reason),
            (State::Closed, Reason::ProbesPassed)
        );
        assert_eq!((b.state(), b.generation()), (State::Closed, 3));
    });
}

/// A racing host close and a failing probe: each generation moves once,
/// and whichever order wins, the breaker ends in a consistent state.
#[test]
fn host_move_races_a_probe_verdict() {
    loom::model(|| {
        let b = Arc::new(SharedBreaker::<2>::new(probes(1)).unwrap());
        b.trip(0);
        let p = b.try_acquire(1000).unwrap();
        let b2 = b.clone();
        let h = thread::spawn(move || b2.record(p, Outcome::Failure, 1, 1000));
        let closed = b.close(1000);
        let probe = h.join().unwrap();
        let moves = u32::from(closed.is_some()) + u32::from(probe.is_some());
        assert_eq!(b.generation(), 2 + moves);
        assert!(closed.is_some());
        assert!(matches!(b.state(), State::Closed | State::Open));
    });
}

/// Three threads each want 1 token at once from a bucket holding 2: two
/// get one.
#[test]
fn limiter_never_grants_more_than_the_bucket() {
    loom::model(|| {
        let rate = Rate::new(1, 100).unwrap();
        let b = Arc::new(SharedBucket::new(NonZeroU32::new(2).unwrap(), rate).unwrap());
        let hs: Vec<_> = (0..3)
            .map(|_| {
                let b = b.clone();
                thread::spawn(move || b.try_acquire_one(1).is_ok())
            })
            .collect();
        let granted = hs
            .into_iter()
            .map(|h| h.join().unwrap())
            .filter(|g| *g)
            .count();
        assert_eq!(granted, 2);
        assert_eq!(b.available(2), 0);
    });
}

/// A refund racing an acquire never lets the bucket exceed its burst.
#[test]
fn refund_never_overfills() {
    loom::model(|| {
        let rate = Rate::new(1, 100).unwrap();
        let b = Arc::new(SharedBucket::new(NonZeroU32::new(1).unwrap(), rate).unwrap());
        assert!(b.try_acquire_one(0).is_ok());
        let b2 = b.clone();
        let h = thread::spawn(move || b2.refund(5, 0));
        let got = b.try_acquire_one(0).is_ok();
        h.join().unwrap();
        assert_eq!(b.available(0), if got { 0 } else { 1 });
    });
}

/// Two threads race for the last slot: one gets it, in_use stays at the limit.
#[test]
fn bulkhead_never_exceeds_its_limit() {
    loom::model(|| {
        let b = Arc::new(SharedBulkhead::unreserved(
            NonZeroU32::new(1).unwrap(),
            TickUnit::MILLIS,
        ));
        let hs: Vec<_> = (0..2)
            .map(|_| {
                let b = b.clone();
                thread::spawn(move || match b.try_acquire(Priority::Normal, 0) {
                    Ok(s) => {
                        assert_eq!(b.in_use(), 1);
                        b.release(s, 0).unwrap();
                        1
                    }
                    Err(_) => 0,
                })
            })
            .collect();
        let got: u32 = hs.into_iter().map(|h| h.join().unwrap()).sum();
        assert!((1..=2).contains(&got));
        assert_eq!((b.in_use(), b.extra_releases()), (0, 0));
    });
}

/// A release races with the epoch turn that reclaims its slot, and an
/// acquire races with both: the slot leaves `in_use` exactly once.
#[test]
fn bulkhead_lease_and_release_free_a_slot_once() {
    loom::model(|| {
        let b = Arc::new(
            SharedBulkhead::unreserved(NonZeroU32::new(2).unwrap(), TickUnit::MILLIS)
                .with_lease(10)
                .unwrap(),
        );
        let s = b.try_acquire(Priority::Normal, 15).unwrap();
        let releaser = {
            let b = b.clone();
            thread::spawn(move || b.release(s, 30).is_ok())
        };
        let acquirer = {
            let b = b.clone();
            thread::spawn(move || b.try_acquire(Priority::Normal, 30).map(|s| s.into_raw()))
        };
        let released = releaser.join().unwrap();
        let got = acquirer.join().unwrap();
        assert!(got.is_ok());
        let freed_by_lease = b.reclaimed();
        assert_eq!(u64::from(released) + freed_by_lease, 1);
        assert_eq!(b.in_use(), 1);
    });
}

/// An interrupt (one thread) widens a newer tick while the main loop (the
/// other) widens the older one it read first: neither answer goes back and
/// the widener ends at the newest.
#[test]
fn tick_widener_never_goes_back_across_contexts() {
    loom::model(|| {
        let w = Arc::new(fusewire::SharedTickWidener::new());
        assert_eq!(w.widen(u32::MAX - 1), u64::from(u32::MAX) - 1);
        let newer = {
            let w = w.clone();
            thread::spawn(move || w.widen(2))
        };
        let older = {
            let w = w.clone();
            thread::spawn(move || w.widen(u32::MAX))
        };
        let (a, b) = (newer.join().unwrap(), older.join().unwrap());
        assert_eq!(a, (1 << 32) + 2);
        assert!(b == u64::from(u32::MAX) || b == (1 << 32) + 2);
        assert_eq!(w.last(), Some((1 << 32) + 2));
    });
}

/// Two processes move a time window's stale bucket on to the same new lap
/// at once: the old lap's count is dropped exactly once and neither new
/// failure is lost (the reset and the count are one compare-and-swap).
#[test]
fn time_window_rolls_a_bucket_over_without_losing_a_count() {
    use fusewire::{window::Kind, window::Sample, SharedTimeWindow, SharedWindow};
    loom::model(|| {
        let w = Arc::new(SharedTimeWindow::<2>::new(200, 2).unwrap());
        let fail = Sample::of(Kind::Failure);
        w.record(0, fail);
        w.record(0, fail);
        let hs: Vec<_> = (0..2)
            .map(|_| {
                let w = w.clone();
                thread::spawn(move || w.record(200, fail))
            })
            .collect();
        for h in hs {
            h.join().unwrap();
        }
        assert_eq!(w.totals(200).failures, 2);
        assert_eq!(w.totals(299).failures, 2);
        assert_eq!(w.totals(400).failures, 0);
    });
}

/// A time-window breaker: two failures racing at a bucket boundary after
/// an older failure aged out trip it exactly once (min_calls 2, 100%).
#[test]
fn time_breaker_trips_once_across_a_bucket_roll() {
    use fusewire::{Ratio, SharedTimeBreaker, SharedTimeWindow};
    loom::model(|| {
        let config = BreakerConfig {
            failure_rate: Some(Ratio::percent(100)),
            min_calls: 2,
            ..BreakerConfig::new(TickUnit::MILLIS)
        };
        let b = Arc::new(
            SharedTimeBreaker::with_window(config, SharedTimeWindow::<2>::new(200, 2).unwrap())
                .unwrap(),
        );
        let p = b.try_acquire(0).unwrap();
        assert_eq!(b.record(p, Outcome::Success, 1, 0), None);
        let permits = [b.try_acquire(200).unwrap(), b.try_acquire(200).unwrap()];
        let hs: Vec<_> = permits
            .into_iter()
            .map(|p| {
                let b = b.clone();
                thread::spawn(move || b.record(p, Outcome::Failure, 1, 200))
            })
            .collect();
        let moved: Vec<_> = hs.into_iter().filter_map(|h| h.join().unwrap()).collect();
        assert_eq!(moved.len(), 1);
        assert_eq!(moved[0].reason, Reason::FailureRate);
        assert_eq!(b.snapshot(200).counts.failures, 2);
    });
}
