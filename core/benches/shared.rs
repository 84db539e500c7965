//! The shared forms under contention: ns per operation per thread, at 1 and
//! 2 threads, next to `governor`'s direct limiter (also lock-free GCRA) in
//! the same run.
//!
//! - `breaker/*`: closed-path `try_acquire` + `record(Success)` on one
//!   `SharedBreaker<64>`; `single-owner` is `Breaker<CountWindow<64>>` on
//!   one thread, for the cost of sharing.
//! - `limiter/*`: one admitted token per call, `now` from `Instant` for both
//!   fusewire and governor (governor's `MonotonicClock` reads the same).
//!
//! Each thread runs every iteration; the time is wall time, so at 2 threads
//! it is the cost of one operation while another thread hammers the same
//! instance. `make bench` or `cargo bench -p fusewire --bench shared`.

use std::hint::black_box;
use std::num::NonZeroU32;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use fusewire::{Breaker, BreakerConfig, CountWindow, Outcome, Rate, SharedBreaker, SharedBucket};
use governor::{Quota, RateLimiter};

/// Runs `op(i)` `iters` times on each of `threads` threads; wall time.
fn contended(threads: usize, iters: u64, op: impl Fn(u64) + Sync) -> Duration {
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| (0..iters).for_each(&op));
        }
    });
    start.elapsed()
}

fn breaker(c: &mut Criterion) {
    let mut g = c.benchmark_group("breaker");
    let config = BreakerConfig::new(fusewire::TickUnit::MILLIS);
    g.bench_function("single-owner/1", |b| {
        let mut br: Breaker<CountWindow<64>> = Breaker::new(config).unwrap();
        let mut now = 0;
        b.iter(|| {
            now += 1;
            let p = br.try_acquire(now).unwrap();
            black_box(br.record(p, Outcome::Success, 1, now));
        })
    });
    for threads in [1, 2] {
        g.bench_function(format!("shared/{threads}"), |b| {
            let br = SharedBreaker::<64>::new(config).unwrap();
            b.iter_custom(|iters| {
                contended(threads, iters, |now| {
                    let p = br.try_acquire(now).unwrap();
                    black_box(br.record(p, Outcome::Success, 1, now));
                })
            })
        });
    }
    g.finish();
}

fn limiter(c: &mut Criterion) {
    let mut g = c.benchmark_group("limiter");
    let burst = NonZeroU32::new(1000).unwrap();
    for threads in [1, 2] {
        g.bench_function(format!("fusewire/{threads}"), |b| {
            let lim = SharedBucket::new(burst, Rate::new(1, 1).unwrap()).unwrap();
            let origin = Instant::now();
            b.iter_custom(|iters| {
                contended(threads, iters, |_| {
                    let now = origin.elapsed().as_nanos() as u64;
                    black_box(lim.try_acquire_one(now).is_ok());
                })
            })
        });
        g.bench_function(format!("governor/{threads}"), |b| {
            let quota = Quota::with_period(Duration::from_nanos(1))
                .unwrap()
                .allow_burst(burst);
            let lim = RateLimiter::direct(quota);
            b.iter_custom(|iters| {
                contended(threads, iters, |_| {
                    black_box(lim.check().is_ok());
                })
            })
        });
    }
    g.finish();
}

criterion_group!(benches, breaker, limiter);
criterion_main!(benches);
