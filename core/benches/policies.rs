//! Hot paths of the core policies, side by side with peers in the same run.
//!
//! - Bucket vs `governor` (direct, not keyed). Both read the same clock, a
//!   `governor::clock::FakeRelativeClock`, advanced 1 ns per call, so clock
//!   cost is identical and the difference is the limiter itself. Note the
//!   peer pays for thread safety (an atomic compare-and-swap per call);
//!   `Bucket` is `&mut self` and leaves sharing to the host.
//! - Retry schedule vs `backon`'s `ExponentialBackoff` iterator: ten
//!   jittered exponential delays from a fresh start.
use std::hint::black_box;
use std::num::NonZeroU32;
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use criterion::{criterion_group, criterion_main, Criterion};
use fusewire::{
    Backoff, Bucket, Budget, Bulkhead, Jitter, Priority, Rate, Retry, RetryPolicy, Schedule,
    TickUnit,
};
use governor::clock::{Clock as _, FakeRelativeClock};
use governor::{Quota, RateLimiter};

fn nanos(clock: &FakeRelativeClock) -> u64 {
    Duration::from(clock.now()).as_nanos() as u64
}

fn bucket(c: &mut Criterion) {
    let burst = NonZeroU32::new(10).unwrap();
    let mut g = c.benchmark_group("bucket_allow");
    {
        let clock = FakeRelativeClock::default();
        let mut b = Bucket::new(burst, Rate::new(1, 1).unwrap());
        g.bench_function("fusewire", |bench| {
            bench.iter(|| {
                clock.advance(Duration::from_nanos(1));
                black_box(b.try_acquire_one(nanos(&clock)).is_ok())
            })
        });
    }
    {
        let clock = FakeRelativeClock::default();
        let quota = Quota::with_period(Duration::from_nanos(1))
            .unwrap()
            .allow_burst(burst);
        let lim = RateLimiter::direct_with_clock(quota, clock.clone());
        g.bench_function("governor", |bench| {
            bench.iter(|| {
                clock.advance(Duration::from_nanos(1));
                black_box(lim.check().is_ok())
            })
        });
    }
    g.finish();

    // Denials on a frozen clock: the empty bucket answers "not until".
    let mut g = c.benchmark_group("bucket_deny");
    {
        let clock = FakeRelativeClock::default();
        let mut b = Bucket::new(burst, Rate::new(1, 1_000_000_000).unwrap());
        let _ = b.try_acquire(10, 0);
        g.bench_function("fusewire", |bench| {
            bench.iter(|| black_box(b.try_acquire_one(nanos(&clock)).is_err()))
        });
    }
    {
        let clock = FakeRelativeClock::default();
        let quota = Quota::with_period(Duration::from_secs(1))
            .unwrap()
            .allow_burst(burst);
        let lim = RateLimiter::direct_with_clock(quota, clock.clone());
        let _ = lim.check_n(burst);
        g.bench_function("governor", |bench| {
            bench.iter(|| black_box(lim.check().is_err()))
        });
    }
    g.finish();
}

fn retry(c: &mut Criterion) {
    let backoff = Backoff::new(
        Schedule::Exponential {
            base: 100_000_000,
            factor_milli: 2000,
        },
        Jitter::Full,
        60_000_000_000,
    )
    .unwrap();
    let policy = RetryPolicy::new(backoff, 11, None, 42).unwrap();
    let mut g = c.benchmark_group("retry_10_delays");
    {
        let mut r = Retry::new(policy);
        g.bench_function("fusewire", |bench| {
            bench.iter(|| {
                r.start(0);
                let mut sum = 0u64;
                for _ in 0..10 {
                    if let fusewire::Decision::RetryAfter(d) = r.next(black_box(0), None) {
                        sum = sum.wrapping_add(d);
                    }
                }
                black_box(sum)
            })
        });
    }
    {
        let builder = ExponentialBuilder::new()
            .with_min_delay(Duration::from_millis(100))
            .with_max_delay(Duration::from_secs(60))
            .with_factor(2.0)
            .with_max_times(10)
            .with_jitter()
            .with_jitter_seed(42);
        g.bench_function("backon", |bench| {
            bench.iter(|| {
                let mut sum = Duration::ZERO;
                for d in black_box(builder).build() {
                    sum += d;
                }
                black_box(sum)
            })
        });
    }
    g.finish();
}

fn budget_and_bulkhead(c: &mut Criterion) {
    let mut budget = Budget::new(10, 100).unwrap();
    c.bench_function("budget_failure_success_try", |bench| {
        bench.iter(|| {
            budget.record_failure();
            budget.record_success();
            black_box(budget.try_retry().is_ok())
        })
    });
    let mut bulkhead = Bulkhead::new(NonZeroU32::new(64).unwrap(), 4, 8, TickUnit::MILLIS).unwrap();
    c.bench_function("bulkhead_acquire_release", |bench| {
        bench.iter(|| {
            if let Ok(slot) = bulkhead.try_acquire(black_box(Priority::Normal), black_box(0)) {
                let _ = bulkhead.release(slot, black_box(0));
            }
        })
    });
}

criterion_group!(benches, bucket, retry, budget_and_bulkhead);
criterion_main!(benches);
