//! Chaos and the endpoint pools through their `extern "C"` functions, as C
//! calls them (also under Miri): the core's answers, the statuses for
//! misuse, and events written into the caller's buffer.

use core::mem::MaybeUninit;
use core::ptr::{null, null_mut};

use super::*;
use fusewire::{Chaos, ChaosConfig, Pool, PoolConfig, Ratio, TickUnit};
use fusewire_status as S;

fn zeroed<T>() -> T {
    // SAFETY: the C structs are plain integers; all-zero is valid for them.
    unsafe { MaybeUninit::zeroed().assume_init() }
}

fn err() -> fusewire_config_error {
    fusewire_config_error {
        field: 0,
        problem: 0,
    }
}

#[test]
fn chaos_answers_as_the_core_and_names_bad_fields() {
    let c = fusewire_chaos_config {
        fault_rate_ppm: 200_000,
        latency_rate_ppm: 500_000,
        latency_min: 10,
        latency_max: 500,
        substitute_rate_ppm: 300_000,
        behavior_rate_ppm: 100_000,
        seed: 20_261_204,
        enabled: 1,
    };
    let mut core = Chaos::new(ChaosConfig {
        fault_rate: Ratio::from_ppm(200_000),
        latency_rate: Ratio::from_ppm(500_000),
        latency_min: 10,
        latency_max: 500,
        substitute_rate: Ratio::from_ppm(300_000),
        behavior_rate: Ratio::from_ppm(100_000),
        seed: 20_261_204,
        enabled: true,
    })
    .unwrap();
    let mut ch: fusewire_chaos = zeroed();
    let mut i: fusewire_injection = zeroed();
    unsafe {
        assert_eq!(fusewire_chaos_inject(&mut ch, &mut i), S::NotInitialized);
        assert_eq!(fusewire_chaos_init(&mut ch, &c, null_mut()), S::Ok);
        for n in 0..20u64 {
            assert_eq!(fusewire_chaos_inject(&mut ch, &mut i), S::Ok);
            assert_eq!(i, core.inject().into());
            assert_eq!(fusewire_chaos_decide(&ch, n, &mut i), S::Ok);
            assert_eq!(i, core.config().decide(n).into());
        }
        let (mut calls, mut on) = (0, 0);
        assert_eq!(fusewire_chaos_set_enabled(&mut ch, 0), S::Ok);
        assert_eq!(fusewire_chaos_inject(&mut ch, &mut i), S::Ok);
        assert_eq!((i.delay, i.outcome, i.behavior), (0, 0, 0));
        assert_eq!(fusewire_chaos_calls(&ch, &mut calls, &mut on), S::Ok);
        assert_eq!((calls, on), (20, 0));
        assert_eq!(fusewire_chaos_inject(&mut ch, null_mut()), S::NullArgument);
        assert_eq!(fusewire_chaos_decide(null(), 0, &mut i), S::NullArgument);

        let mut e = err();
        let bad = fusewire_chaos_config {
            latency_max: 5,
            ..c
        };
        assert_eq!(
            fusewire_chaos_set_config(&mut ch, &bad, &mut e),
            S::InvalidConfig
        );
        assert_eq!(
            (e.field, e.problem),
            (
                fusewire_field::ChaosLatencyMax as u32,
                fusewire_problem::Inconsistent as u32
            )
        );
        let bad = fusewire_chaos_config {
            behavior_rate_ppm: 1_000_001,
            ..c
        };
        assert_eq!(fusewire_chaos_init(&mut ch, &bad, &mut e), S::InvalidConfig);
        assert_eq!(e.field, fusewire_field::ChaosBehaviorRate as u32);
        // Unchanged by the refusals: still off, 20 calls.
        assert_eq!(fusewire_chaos_calls(&ch, &mut calls, &mut on), S::Ok);
        assert_eq!((calls, on), (20, 0));
    }
}

#[test]
fn a_pool_answers_as_the_core_and_writes_events_into_the_buffer() {
    let mut c: fusewire_pool_config = zeroed();
    unsafe { fusewire_pool_config_default(&mut c) };
    assert_eq!(
        (c.interval, c.base_ejection_time, c.max_ejection_percent),
        (10_000, 30_000, 10)
    );
    c.consecutive_failures = 2;
    c.max_ejection_percent = 50;
    c.seed = 3;
    let mut core = Pool::<4>::new(
        PoolConfig {
            consecutive_failures: 2,
            max_ejection_percent: 50,
            seed: 3,
            ..PoolConfig::new(TickUnit::MILLIS)
        },
        4,
    )
    .unwrap();
    let mut p: fusewire_pool4 = zeroed();
    let mut k = fusewire_pool_pick::default();
    let mut ev = [fusewire_pool_event::NONE_FOR_TESTS; 4];
    let mut n = 0u32;
    unsafe {
        assert_eq!(fusewire_pool4_init(&mut p, &c, 4, null_mut()), S::Ok);
        for t in 0..50u64 {
            assert_eq!(fusewire_pool4_pick(&mut p, tick(t), &mut k), S::Ok);
            let want = core.pick(t);
            assert_eq!(k.endpoint, u32::from(want.endpoint));
            let mut e = fusewire_pool_event::NONE_FOR_TESTS;
            let result = u32::from(k.endpoint == 2);
            assert_eq!(
                fusewire_pool4_record(&mut p, tick(t), k, result, &mut e),
                S::Ok
            );
            let got = core.record(
                want,
                if result == 1 {
                    fusewire::CallResult::Failure
                } else {
                    fusewire::CallResult::Success
                },
                t,
            );
            assert_eq!(
                e,
                got.map_or(fusewire_pool_event::NONE_FOR_TESTS, Into::into)
            );
        }
        // Endpoint 2 was ejected (two failures in a row) for 30 s.
        let mut s = fusewire_endpoint_stats::default();
        assert_eq!(fusewire_pool4_stats(&p, tick(60), 2, &mut s), S::Ok);
        assert_eq!((s.ejected, s.ejections), (1, 1));
        // Too small a buffer: refused, nothing changed (the return is kept).
        assert_eq!(
            fusewire_pool4_poll(&mut p, tick(40_000), ev.as_mut_ptr(), 3, &mut n),
            S::InvalidArgument
        );
        assert_eq!(
            fusewire_pool4_poll(&mut p, tick(40_000), ev.as_mut_ptr(), 4, &mut n),
            S::Ok
        );
        let want = core.poll(40_000);
        assert_eq!(n as usize, want.len());
        assert!(want
            .iter()
            .zip(ev.iter())
            .all(|(w, g)| fusewire_pool_event::from(*w) == *g));
        assert!(ev[..n as usize]
            .iter()
            .any(|e| e.kind == fusewire_pool_event_kind::Returned as u32 && e.endpoint == 2));
        // Misuse: unknown endpoint, unknown result, NULLs, another type.
        k.endpoint = 4;
        assert_eq!(fusewire_pool4_release(&mut p, k), S::InvalidArgument);
        k.endpoint = 0;
        assert_eq!(
            fusewire_pool4_record(&mut p, tick(1), k, 3, null_mut()),
            S::InvalidArgument
        );
        assert_eq!(
            fusewire_pool4_pick(&mut p, tick(1), null_mut()),
            S::NullArgument
        );
        assert_eq!(
            fusewire_pool4_pick(null_mut(), tick(1), &mut k),
            S::NullArgument
        );
        assert_eq!(
            fusewire_pool4_poll(&mut p, tick(1), null_mut(), 4, &mut n),
            S::NullArgument
        );
        let mut big: fusewire_pool16 = zeroed();
        assert_eq!(
            fusewire_pool16_pick(&mut big, tick(1), &mut k),
            S::NotInitialized
        );
        let mut e = err();
        assert_eq!(
            fusewire_pool16_init(&mut big, &c, 17, &mut e),
            S::InvalidConfig
        );
        assert_eq!(
            (e.field, e.problem),
            (
                fusewire_field::PoolEndpoints as u32,
                fusewire_problem::OutOfRange as u32
            )
        );
        assert_eq!(fusewire_pool16_init(&mut big, &c, 16, &mut e), S::Ok);
        let (mut count, mut max) = (0, 0);
        assert_eq!(fusewire_pool16_endpoints(&big, &mut count, &mut max), S::Ok);
        assert_eq!((count, max), (16, 8));
    }
}
