//! The endpoint pool against its invariants: never more ejected than the
//! cap (and never all), no ejected endpoint picked while a healthy one is
//! left, every ejection ends within its bound, outstanding counts exact.
#![no_main]

use arbitrary::Arbitrary;
use fusewire::{CallResult, Pick, Pool, PoolConfig, PoolEvent};
use fusewire_fuzz::{Num, Tick};
use libfuzzer_sys::fuzz_target;

const N: usize = 8;

#[derive(Arbitrary, Debug)]
struct Input {
    endpoints: u8,
    consecutive: u8,
    gateway: u8,
    interval: Num,
    base: Num,
    max: Num,
    jitter: Num,
    percent: u8,
    min_hosts: u8,
    volume: u8,
    factor: u16,
    seed: u64,
    ops: Vec<(u8, u8, Tick)>,
}

fuzz_target!(|input: Input| {
    let config = PoolConfig {
        consecutive_failures: input.consecutive.into(),
        consecutive_gateway_failures: input.gateway.into(),
        interval: input.interval.get(),
        base_ejection_time: input.base.get(),
        max_ejection_time: input.max.get(),
        ejection_jitter: input.jitter.get(),
        max_ejection_percent: input.percent.into(),
        success_rate_minimum_hosts: input.min_hosts.into(),
        success_rate_request_volume: input.volume.into(),
        success_rate_stdev_factor_milli: input.factor.into(),
        seed: input.seed,
    };
    let n = usize::from(input.endpoints);
    let Ok(mut pool) = Pool::<N>::new(config, n) else {
        // Refused configs are the documented ones only.
        assert!(
            n == 0
                || n > N
                || config.interval == 0
                || config.base_ejection_time == 0
                || config.max_ejection_time < config.base_ejection_time
                || config.max_ejection_percent > 100
        );
        return;
    };
    let bound = config
        .max_ejection_time
        .saturating_add(config.ejection_jitter)
        .max(1);
    let mut held: Vec<Pick> = Vec::new();
    let mut outstanding = [0u32; N];
    let mut now = 0u64;
    let mut latest = 0u64;
    for (op, arg, tick) in input.ops {
        now = tick.apply(now);
        // The newest `now` the pool has seen (a release takes none).
        let seen = |latest: u64| latest.max(now);
        let events: Vec<PoolEvent> = match op % 5 {
            0 | 1 => {
                latest = seen(latest);
                let avoid = (op % 5 == 1).then_some(u16::from(arg) % n as u16);
                let p = pool.pick_avoiding(now, avoid);
                let i = usize::from(p.endpoint);
                assert!(i < n);
                let healthy = (0..n).filter(|&j| !pool.is_ejected(j, latest)).count();
                if healthy > 0 {
                    assert!(!p.panic, "panic routing with {healthy} healthy");
                    assert!(
                        !pool.is_ejected(i, latest),
                        "picked ejected {i} with {healthy} healthy"
                    );
                    if let Some(a) = avoid {
                        let others =
                            (0..n).any(|j| j != usize::from(a) && !pool.is_ejected(j, latest));
                        assert!(!others || p.endpoint != a, "failover went back to {a}");
                    }
                }
                outstanding[i] += 1;
                held.push(p);
                vec![]
            }
            2 | 3 if !held.is_empty() => {
                let p = held.swap_remove(usize::from(arg) % held.len());
                outstanding[usize::from(p.endpoint)] -= 1;
                if op % 5 == 3 && arg % 7 == 0 {
                    pool.release(p);
                    vec![]
                } else {
                    latest = seen(latest);
                    let r = [
                        CallResult::Success,
                        CallResult::Failure,
                        CallResult::GatewayFailure,
                    ][usize::from(arg) % 3];
                    pool.record(p, r, now).into_iter().collect()
                }
            }
            _ => {
                latest = seen(latest);
                pool.poll(now).into_iter().collect()
            }
        };
        if std::env::var_os("POOL_TRACE").is_some() {
            eprintln!("op {op} arg {arg} now {now} latest {latest} -> {events:?}");
        }
        for e in events {
            if let PoolEvent::Ejected { until, .. } = e {
                assert!(
                    until > latest,
                    "an ejection that is already over: {e:?} at {latest}"
                );
                assert!(until - latest <= bound, "an ejection beyond max + jitter");
            }
        }
        let ejected = (0..n).filter(|&j| pool.is_ejected(j, latest)).count();
        assert!(
            ejected <= pool.max_ejected(),
            "{ejected} ejected, cap {}",
            pool.max_ejected()
        );
        assert!(ejected < n || n == 0, "everything ejected");
        for (j, want) in outstanding.iter().enumerate().take(n) {
            assert_eq!(pool.stats(j).unwrap().outstanding, *want);
        }
    }
});
