//! Chaos decisions (on and off) and the endpoint pool's pick + record path
//! against its floor, a plain round-robin counter.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use fusewire::{CallResult, Chaos, ChaosConfig, Pool, PoolConfig, Ratio, SharedChaos, TickUnit};

fn chaos(c: &mut Criterion) {
    let mut g = c.benchmark_group("chaos");
    let on = ChaosConfig {
        fault_rate: Ratio::percent(10),
        latency_rate: Ratio::percent(20),
        latency_min: 1,
        latency_max: 100,
        substitute_rate: Ratio::percent(5),
        behavior_rate: Ratio::percent(1),
        seed: 1,
        enabled: true,
    };
    let mut off = Chaos::new(ChaosConfig::OFF).unwrap();
    g.bench_function("decision, switched off", |b| {
        b.iter(|| black_box(off.inject()))
    });
    let mut chaos = Chaos::new(on).unwrap();
    g.bench_function("decision, every rate on", |b| {
        b.iter(|| black_box(chaos.inject()))
    });
    let shared = SharedChaos::new(on).unwrap();
    g.bench_function("shared decision, every rate on", |b| {
        b.iter(|| black_box(shared.inject()))
    });
    g.finish();
}

fn pool(c: &mut Criterion) {
    let mut g = c.benchmark_group("pool");
    let mut next = 0usize;
    g.bench_function("floor: round-robin over 8", |b| {
        b.iter(|| {
            next = (next + 1) % 8;
            black_box(next)
        })
    });
    let mut pool = Pool::<8>::new(PoolConfig::new(TickUnit::NANOS), 8).unwrap();
    let mut now = 0u64;
    g.bench_function("pick + record(success) over 8", |b| {
        b.iter(|| {
            now += 100;
            let p = pool.pick(black_box(now));
            black_box(pool.record(p, CallResult::Success, now))
        })
    });
    g.finish();
}

criterion_group!(benches, chaos, pool);
criterion_main!(benches);
