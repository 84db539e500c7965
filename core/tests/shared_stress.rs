//! Real threads hammering one shared instance: every counter must add up
//! exactly, whatever the interleaving.
#![cfg(any(target_has_atomic = "64", feature = "critical-section"))]

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU32, Ordering};

use fusewire::{
    BreakerConfig, Outcome, Priority, Rate, ReleaseError, SharedBreaker, SharedBucket,
    SharedBudget, SharedBulkhead, TickUnit,
};

const OPS: u32 = if cfg!(miri) { 20 } else { 20_000 };
/// A window larger than all the calls: nothing is evicted.
const ALL: usize = if cfg!(miri) { 256 } else { 160_000 };

fn each_thread_count(f: impl Fn(usize) + Sync) {
    for threads in [2, 4, 8] {
        std::thread::scope(|s| {
            for t in 0..threads {
                let f = &f;
                s.spawn(move || f(t));
            }
        });
    }
}

#[test]
fn breaker_counts_every_outcome_and_rejection() {
    for threads in [2u32, 4, 8] {
        let never_trips = BreakerConfig {
            failure_rate: None,
            manual: true,
            ..BreakerConfig::new(fusewire::TickUnit::MILLIS)
        };
        let b = SharedBreaker::<ALL>::new(never_trips).unwrap();
        std::thread::scope(|s| {
            for t in 0..threads {
                let b = &b;
                s.spawn(move || {
                    for i in 0..OPS {
                        let p = b.try_acquire(u64::from(i)).unwrap();
                        let o = match (t + i) % 4 {
                            0 => Outcome::Success,
                            1 => Outcome::Failure,
                            2 => Outcome::Timeout,
                            _ => Outcome::Ignored,
                        };
                        assert_eq!(b.record(p, o, 1, u64::from(i)), None);
                    }
                });
            }
        });
        let c = b.snapshot(u64::from(OPS)).counts;
        let n = threads * OPS;
        assert_eq!(c.successes + c.failures + c.ignored, n);
        assert_eq!(
            (c.successes, c.failures, c.timeouts, c.ignored),
            (n / 4, n / 2, n / 4, n / 4)
        );
        b.force_open(u64::from(OPS));
        std::thread::scope(|s| {
            for _ in 0..threads {
                s.spawn(|| (0..OPS).for_each(|_| assert!(b.try_acquire(0).is_err())));
            }
        });
        assert_eq!(b.snapshot(0).counts.rejected, n);
    }
}

#[test]
fn breaker_admits_exactly_k_probes_per_period() {
    let k = 5;
    let config = BreakerConfig {
        failure_rate: None,
        consecutive_failures: Some(1),
        half_open_probes: k,
        open_backoff: fusewire::Backoff::constant(10).unwrap(),
        ..BreakerConfig::new(fusewire::TickUnit::MILLIS)
    };
    let b = SharedBreaker::<8>::new(config).unwrap();
    let rounds = if cfg!(miri) { 2 } else { 200 };
    for round in 0..rounds {
        let now = round * 100;
        b.trip(now);
        let admitted = AtomicU32::new(0);
        each_thread_count(|_| {
            for _ in 0..20 {
                if let Ok(p) = b.try_acquire(now + 10) {
                    assert!(p.is_probe());
                    admitted.fetch_add(1, Ordering::Relaxed);
                    drop(p);
                }
            }
        });
        // Three thread counts ran, each against the same half-open period.
        assert_eq!(admitted.load(Ordering::Relaxed), k);
        assert_eq!(b.snapshot(now + 10).probes_in_flight, k);
    }
}

#[test]
fn bucket_grants_exactly_the_burst_plus_the_refill() {
    let b = SharedBucket::new(NonZeroU32::new(1000).unwrap(), Rate::new(1, 10).unwrap()).unwrap();
    let granted = AtomicU32::new(0);
    each_thread_count(|_| {
        for i in 0..OPS {
            // Time moves 0..100 in every thread: 10 more tokens over the run.
            if b.try_acquire_one(u64::from(i * 100 / OPS)).is_ok() {
                granted.fetch_add(1, Ordering::Relaxed);
            }
        }
    });
    let g = granted.load(Ordering::Relaxed);
    assert!(g <= 1000 + 10, "{g}");
    assert!(g >= 1000, "{g}");
    assert_eq!(b.available(99), 0);
}

#[test]
fn budget_loses_no_outcome() {
    let b = SharedBudget::new(1_000_000, 1).unwrap();
    each_thread_count(|t| {
        for _ in 0..OPS / 10 {
            b.record_failure();
            if t % 2 == 1 {
                // After its own failure, so never added to a full budget.
                b.record_success();
            }
        }
    });
    // 2 + 4 + 8 threads, half of them adding 1 milli back per failure.
    let (fails, successes) = (u64::from(OPS / 10) * 14, u64::from(OPS / 10) * 7);
    assert_eq!(b.tokens_milli(), 1_000_000_000 - fails * 1000 + successes);
}

#[test]
fn bulkhead_never_exceeds_its_limit_and_balances() {
    let b = SharedBulkhead::new(NonZeroU32::new(3).unwrap(), 1, 0, TickUnit::MILLIS).unwrap();
    let peak = AtomicU32::new(0);
    each_thread_count(|t| {
        let p = if t % 2 == 0 {
            Priority::Normal
        } else {
            Priority::Critical
        };
        for _ in 0..OPS / 4 {
            if let Ok(s) = b.try_acquire(p, 0) {
                peak.fetch_max(b.in_use(), Ordering::Relaxed);
                assert!(b.in_use_by(Priority::Normal) <= 2);
                b.release(s, 0).unwrap();
            }
        }
    });
    assert!(peak.load(Ordering::Relaxed) <= 3);
    assert_eq!((b.in_use(), b.extra_releases()), (0, 0));
}

#[test]
fn bulkhead_leases_free_every_lost_slot_exactly_once() {
    let b = SharedBulkhead::new(NonZeroU32::new(8).unwrap(), 0, 0, TickUnit::MILLIS)
        .unwrap()
        .with_lease(50)
        .unwrap();
    let (released, expired) = (AtomicU32::new(0), AtomicU32::new(0));
    let taken = AtomicU32::new(0);
    each_thread_count(|t| {
        for i in 0..OPS / 4 {
            // Time runs 0..1000 in every thread, so epochs turn under the race.
            let now = u64::from(i) * 1000 / u64::from(OPS / 4);
            if let Ok(s) = b.try_acquire(Priority::Normal, now) {
                taken.fetch_add(1, Ordering::Relaxed);
                assert!(b.in_use() <= 8);
                // Every third slot is lost, the others come back a bit later.
                if (i + t as u32) % 3 != 0 {
                    match b.release(s, now + (u64::from(i) % 7) * 10) {
                        Ok(()) => released.fetch_add(1, Ordering::Relaxed),
                        Err(ReleaseError::Expired) => expired.fetch_add(1, Ordering::Relaxed),
                        Err(e) => panic!("{e}"),
                    };
                }
            }
        }
    });
    // Two leases after the last acquisition (one suffices), every lost
    // slot has been freed.
    b.expire(1000 + 100);
    assert_eq!(b.in_use(), 0);
    let (taken, released, expired) = (
        u64::from(taken.into_inner()),
        u64::from(released.into_inner()),
        u64::from(expired.into_inner()),
    );
    // Each slot left exactly once: by its release or by its lease.
    assert_eq!(released + b.reclaimed(), taken);
    assert_eq!((b.expired_releases(), b.extra_releases()), (expired, 0));
}
