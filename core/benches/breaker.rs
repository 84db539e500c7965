//! The breaker's hot paths: admission + outcome on the closed path, and a
//! rejection on the open path. The clock is excluded: `now` is a counter.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use fusewire::{Breaker, BreakerConfig, CountWindow, Outcome, TimeWindow};

fn closed_path(c: &mut Criterion) {
    let mut g = c.benchmark_group("breaker");
    let mut count: Breaker<CountWindow<100>> =
        Breaker::new(BreakerConfig::new(fusewire::TickUnit::MILLIS)).unwrap();
    let mut now = 0u64;
    g.bench_function("closed acquire+success, count window 100", |b| {
        b.iter(|| {
            now += 1;
            let p = count.try_acquire(black_box(now)).unwrap();
            black_box(count.record(p, Outcome::Success, 3, now))
        })
    });
    let window = TimeWindow::<10, 0>::new(10_000_000, 10).unwrap();
    let mut time =
        Breaker::with_window(BreakerConfig::new(fusewire::TickUnit::MILLIS), window).unwrap();
    g.bench_function("closed acquire+success, time window 10 buckets", |b| {
        b.iter(|| {
            now += 1;
            let p = time.try_acquire(black_box(now)).unwrap();
            black_box(time.record(p, Outcome::Success, 3, now))
        })
    });
    let window = TimeWindow::<10, 128>::new(10_000_000, 10).unwrap();
    let mut timed =
        Breaker::with_window(BreakerConfig::new(fusewire::TickUnit::MILLIS), window).unwrap();
    g.bench_function(
        "closed acquire+success, time window + 128-bin latency",
        |b| {
            b.iter(|| {
                now += 1;
                let p = timed.try_acquire(black_box(now)).unwrap();
                black_box(timed.record(p, Outcome::Success, 1234, now))
            })
        },
    );
    let mut open: Breaker<CountWindow<100>> =
        Breaker::new(BreakerConfig::new(fusewire::TickUnit::MILLIS)).unwrap();
    open.force_open(0);
    g.bench_function("open rejection", |b| {
        b.iter(|| {
            now += 1;
            black_box(open.try_acquire(black_box(now)).unwrap_err())
        })
    });
    g.finish();
}

criterion_group!(benches, closed_path);
criterion_main!(benches);
