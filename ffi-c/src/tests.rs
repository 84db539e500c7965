//! The extern "C" functions called as C would call them (also under Miri).
//! Scenarios repeat core unit tests: same config, same steps, same numbers.

use core::mem::MaybeUninit;
use core::ptr::{null, null_mut};

use super::*;
use fusewire_status as S;

fn zeroed<T>() -> T {
    // SAFETY: the C structs are arrays of integers; all-zero is valid for them.
    unsafe { MaybeUninit::zeroed().assume_init() }
}

fn backoff_cfg(schedule: u32, base: u64, factor_milli: u32, cap: u64) -> fusewire_backoff_config {
    fusewire_backoff_config {
        base,
        step: 0,
        cap,
        schedule,
        factor_milli,
        jitter: 0,
        jitter_percent: 0,
    }
}

fn breaker_cfg(min_calls: u32) -> fusewire_breaker_config {
    let mut c: fusewire_breaker_config = zeroed();
    assert_eq!(unsafe { fusewire_breaker_config_default(&mut c) }, S::Ok);
    c.min_calls = min_calls;
    c
}

#[test]
fn texts_are_static_and_never_null() {
    for code in 0..=20u32 {
        for f in [
            fusewire_status_text,
            fusewire_field_text,
            fusewire_problem_text,
        ] {
            let p = f(code);
            assert!(!p.is_null());
            // SAFETY: static NUL-terminated strings.
            let s = unsafe { core::ffi::CStr::from_ptr(p) };
            assert!(!s.to_bytes().is_empty());
        }
    }
    let v = unsafe { core::ffi::CStr::from_ptr(fusewire_version()) };
    assert_eq!(v.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
    let t = unsafe { core::ffi::CStr::from_ptr(fusewire_status_text(S::Rejected as u32)) };
    assert_eq!(t.to_str().unwrap(), "rejected by the circuit breaker");
}

#[test]
fn breaker_matches_the_core_doc_example() {
    // core/src/lib.rs: min_calls 4, four failures 10 ticks apart, then
    // rejected with 990 ticks left, and a half-open probe at +990.
    let mut b: fusewire_breaker = zeroed();
    let cfg = breaker_cfg(4);
    unsafe {
        assert_eq!(fusewire_breaker_init(&mut b, &cfg, null_mut()), S::Ok);
        let mut now = 0;
        let mut t = fusewire_transition::default();
        for _ in 0..4 {
            let mut p = 0;
            assert_eq!(
                fusewire_breaker_acquire(&mut b, tick(now), pout(&mut p), null_mut(), null_mut()),
                S::Ok
            );
            assert_eq!(
                fusewire_breaker_record(&mut b, tick(now), pm(p), 1, 5, &mut t),
                S::Ok
            );
            now += 10;
        }
        assert_eq!((t.moved, t.from, t.to, t.reason), (1, 0, 1, 0)); // Closed -> Open, FailureRate
        let (mut p, mut wait) = (7u64, 0u64);
        assert_eq!(
            fusewire_breaker_acquire(&mut b, tick(now), pout(&mut p), &mut wait, null_mut()),
            S::Rejected
        );
        assert_eq!((wait, p), (990, 7), "permit untouched on rejection");
        assert_eq!(
            fusewire_breaker_acquire(&mut b, tick(now + 990), pout(&mut p), null_mut(), &mut t),
            S::Ok
        );
        assert_eq!((t.moved, t.to, t.reason), (1, 2, 3)); // -> HalfOpen, OpenElapsed
        let mut state = 9;
        assert_eq!(fusewire_breaker_state(&b, &mut state), S::Ok);
        assert_eq!(state, 2);
        assert_eq!(
            fusewire_breaker_record(&mut b, tick(now + 991), pm(p), 0, 1, &mut t),
            S::Ok
        );
        assert_eq!((t.moved, t.to, t.reason), (1, 0, 4)); // -> Closed, ProbesPassed
    }
}

#[test]
fn breaker_trips_at_threshold_after_min_calls() {
    // core breaker tests: failure_rate_waits_for_min_calls_then_trips_at_threshold.
    let mut b: fusewire_breaker = zeroed();
    unsafe {
        assert_eq!(
            fusewire_breaker_init(&mut b, &breaker_cfg(4), null_mut()),
            S::Ok
        );
        let mut t = fusewire_transition::default();
        for outcome in [1, 1, 0, 1] {
            let mut p = 0;
            assert_eq!(
                fusewire_breaker_acquire(&mut b, tick(0), pout(&mut p), null_mut(), null_mut()),
                S::Ok
            );
            assert_eq!(
                fusewire_breaker_record(&mut b, tick(0), pm(p), outcome, 1, &mut t),
                S::Ok
            );
        }
        assert_eq!((t.moved, t.to, t.reason), (1, 1, 0));
        let mut s: fusewire_breaker_stats = zeroed();
        assert_eq!(fusewire_breaker_snapshot(&mut b, tick(0), &mut s), S::Ok);
        assert_eq!(
            (s.state, s.failures, s.successes, s.open_until, s.reopens),
            (1, 3, 1, 1000, 1)
        );
    }
}

#[test]
fn breaker_host_commands_and_bad_arguments() {
    let mut b: fusewire_breaker = zeroed();
    let mut t = fusewire_transition::default();
    unsafe {
        // Not initialised (all zero) and NULL.
        assert_eq!(
            fusewire_breaker_poll(&mut b, tick(0), &mut t),
            S::NotInitialized
        );
        assert_eq!(
            fusewire_breaker_poll(null_mut(), tick(0), &mut t),
            S::NullArgument
        );
        assert_eq!(
            fusewire_breaker_init(null_mut(), &breaker_cfg(4), null_mut()),
            S::NullArgument
        );
        assert_eq!(
            fusewire_breaker_init(&mut b, null(), null_mut()),
            S::NullArgument
        );
        assert_eq!(fusewire_breaker_config_default(null_mut()), S::NullArgument);
        // Bad config: field and problem reported, object untouched.
        let mut cfg = breaker_cfg(4);
        cfg.failure_rate_ppm = 1_500_000;
        let mut e = fusewire_config_error {
            field: 0,
            problem: 0,
        };
        assert_eq!(
            fusewire_breaker_init(&mut b, &cfg, &mut e),
            S::InvalidConfig
        );
        assert_eq!(
            (e.field, e.problem),
            (fusewire_field::BreakerFailureRate as u32, 2)
        );
        assert_eq!(
            fusewire_breaker_poll(&mut b, tick(0), &mut t),
            S::NotInitialized
        );
        cfg = breaker_cfg(4);
        cfg.comparison = 9;
        assert_eq!(
            fusewire_breaker_init(&mut b, &cfg, &mut e),
            S::InvalidConfig
        );
        assert_eq!(e.field, fusewire_field::BreakerComparison as u32);
        cfg = breaker_cfg(4);
        cfg.open_backoff.cap = 1;
        assert_eq!(
            fusewire_breaker_init(&mut b, &cfg, &mut e),
            S::InvalidConfig
        );
        assert_eq!((e.field, e.problem), (fusewire_field::BackoffCap as u32, 4));

        assert_eq!(
            fusewire_breaker_init(&mut b, &breaker_cfg(4), null_mut()),
            S::Ok
        );
        assert_eq!(
            fusewire_breaker_record(&mut b, tick(0), pm(0), 4, 0, &mut t),
            S::InvalidArgument
        );
        assert_eq!(
            fusewire_breaker_acquire(&mut b, tick(0), null_mut(), null_mut(), null_mut()),
            S::NullArgument
        );
        assert_eq!(fusewire_breaker_state(&b, null_mut()), S::NullArgument);
        assert_eq!(
            fusewire_breaker_snapshot(&mut b, tick(0), null_mut()),
            S::NullArgument
        );

        assert_eq!(fusewire_breaker_trip(&mut b, tick(5), &mut t), S::Ok);
        assert_eq!((t.moved, t.to, t.reason), (1, 1, 7));
        assert_eq!(fusewire_breaker_force_open(&mut b, tick(6), &mut t), S::Ok);
        let (mut p, mut wait) = (0, 0);
        assert_eq!(
            fusewire_breaker_acquire(&mut b, tick(7), pout(&mut p), &mut wait, null_mut()),
            S::Rejected
        );
        assert_eq!(wait, u64::MAX);
        assert_eq!(fusewire_breaker_disable(&mut b, tick(8), &mut t), S::Ok);
        assert_eq!(t.to, 4);
        assert_eq!(
            fusewire_breaker_acquire(&mut b, tick(9), pout(&mut p), null_mut(), null_mut()),
            S::Ok
        );
        assert_eq!(
            fusewire_breaker_release(&mut b, tick(9), pm(p), &mut t),
            S::Ok
        );
        assert_eq!(t.moved, 0);
        assert_eq!(fusewire_breaker_close(&mut b, tick(10), &mut t), S::Ok);
        assert_eq!(t.to, 0);
        assert_eq!(fusewire_breaker_reset(&mut b, tick(11), null_mut()), S::Ok);
        // Another type's object is not a breaker.
        let mut bu: fusewire_bucket = zeroed();
        let bc = fusewire_bucket_config {
            period: 1,
            tokens: 1,
            burst: 1,
        };
        assert_eq!(fusewire_bucket_init(&mut bu, &bc, null_mut()), S::Ok);
        let as_breaker = (&mut bu as *mut fusewire_bucket).cast::<fusewire_breaker>();
        // Only the tag is read, and the bucket is smaller than a breaker:
        // read through a breaker-sized copy to stay in bounds.
        let mut big: fusewire_breaker = zeroed();
        core::ptr::copy_nonoverlapping(
            as_breaker.cast::<u8>(),
            (&mut big as *mut fusewire_breaker).cast::<u8>(),
            core::mem::size_of::<fusewire_bucket>(),
        );
        assert_eq!(
            fusewire_breaker_poll(&mut big, tick(0), null_mut()),
            S::NotInitialized
        );
    }
}

#[test]
fn misaligned_object_is_an_invalid_argument() {
    let mut words: [u64; 40] = [0; 40];
    let p = unsafe { words.as_mut_ptr().cast::<u8>().add(4) }.cast::<fusewire_breaker>();
    assert_eq!(
        unsafe { fusewire_breaker_init(p, &breaker_cfg(4), null_mut()) },
        S::InvalidArgument
    );
    assert!(words.iter().all(|w| *w == 0));
}

#[test]
fn misaligned_config_is_an_invalid_argument() {
    // A config is borrowed where it lies, so it must be aligned like any
    // C object of its type; a misaligned one is refused, not read.
    let mut words: [u64; 20] = [0; 20];
    let cfg = breaker_cfg(4);
    let p = unsafe { words.as_mut_ptr().cast::<u8>().add(4) }.cast::<fusewire_breaker_config>();
    unsafe { core::ptr::write_unaligned(p, cfg) };
    let mut b: fusewire_breaker = zeroed();
    assert_eq!(
        unsafe { fusewire_breaker_init(&mut b, p, null_mut()) },
        S::InvalidArgument
    );
    let mut bo: fusewire_backoff = zeroed();
    let q = unsafe { words.as_mut_ptr().cast::<u8>().add(4) }.cast::<fusewire_backoff_config>();
    unsafe { core::ptr::write_unaligned(q, backoff_cfg(2, 100, 2000, 1000)) };
    assert_eq!(
        unsafe { fusewire_backoff_init(&mut bo, q, 0, null_mut()) },
        S::InvalidArgument
    );
}

#[test]
fn backoff_raw_and_delay_match_the_core() {
    // core backoff tests: exponential_doubles_then_caps, on raw(n) and
    // delay(n, prev) with the same seed as next().
    use fusewire::{Backoff, Jitter, Rng, Schedule};
    let mut cfg = backoff_cfg(2, 100, 2000, 5000);
    cfg.jitter = 3; // decorrelated: delay depends on prev
    let core = Backoff::new(
        Schedule::Exponential {
            base: 100,
            factor_milli: 2000,
        },
        Jitter::Decorrelated,
        5000,
    )
    .unwrap();
    let mut rng = Rng::new(9);
    let mut bo: fusewire_backoff = zeroed();
    unsafe {
        assert_eq!(fusewire_backoff_init(&mut bo, &cfg, 9, null_mut()), S::Ok);
        let mut prev = 0;
        for n in [0u32, 5, 1, 40, 2] {
            let (mut raw, mut d) = (0, 0);
            assert_eq!(fusewire_backoff_raw(&bo, n, &mut raw), S::Ok);
            assert_eq!(raw, core.raw(n));
            assert_eq!(fusewire_backoff_delay(&mut bo, n, prev, &mut d), S::Ok);
            assert_eq!(d, core.delay(n, prev, &mut rng));
            prev = d;
        }
        let mut attempt = 9;
        assert_eq!(fusewire_backoff_attempt(&bo, &mut attempt), S::Ok);
        assert_eq!(attempt, 0, "delay(n) does not move next()'s sequence");
        assert_eq!(fusewire_backoff_raw(&bo, 0, null_mut()), S::NullArgument);
        assert_eq!(
            fusewire_backoff_delay(&mut bo, 0, 0, null_mut()),
            S::NullArgument
        );
        let blank: fusewire_backoff = zeroed();
        let mut d = 0;
        assert_eq!(fusewire_backoff_raw(&blank, 0, &mut d), S::NotInitialized);
    }
}

#[test]
fn backoff_doubles_then_caps() {
    // core backoff tests: exponential_doubles_then_caps.
    let mut bo: fusewire_backoff = zeroed();
    let cfg = backoff_cfg(2, 100, 2000, 1000);
    unsafe {
        assert_eq!(fusewire_backoff_init(&mut bo, &cfg, 0, null_mut()), S::Ok);
        let mut got = [0u64; 6];
        for d in got.iter_mut() {
            assert_eq!(fusewire_backoff_next(&mut bo, d), S::Ok);
        }
        assert_eq!(got, [100, 200, 400, 800, 1000, 1000]);
        let mut n = 0;
        assert_eq!(fusewire_backoff_attempt(&bo, &mut n), S::Ok);
        assert_eq!(n, 6);
        assert_eq!(fusewire_backoff_reset(&mut bo), S::Ok);
        let mut d = 0;
        assert_eq!(fusewire_backoff_next(&mut bo, &mut d), S::Ok);
        assert_eq!(d, 100);
        assert_eq!(fusewire_backoff_next(&mut bo, null_mut()), S::NullArgument);
        let mut e = fusewire_config_error {
            field: 0,
            problem: 0,
        };
        let bad = backoff_cfg(2, 100, 999, 1000);
        assert_eq!(
            fusewire_backoff_init(&mut bo, &bad, 0, &mut e),
            S::InvalidConfig
        );
        assert_eq!(
            (e.field, e.problem),
            (fusewire_field::BackoffFactorMilli as u32, 2)
        );
        let mut bad = backoff_cfg(0, 5, 0, 5);
        bad.jitter = 4;
        bad.jitter_percent = 1000;
        assert_eq!(
            fusewire_backoff_init(&mut bo, &bad, 0, &mut e),
            S::InvalidConfig
        );
        assert_eq!(e.field, fusewire_field::BackoffJitterPercent as u32);
        bad.jitter = 5;
        assert_eq!(
            fusewire_backoff_init(&mut bo, &bad, 0, &mut e),
            S::InvalidConfig
        );
        assert_eq!(e.field, fusewire_field::BackoffJitter as u32);
        bad.schedule = 3;
        assert_eq!(
            fusewire_backoff_init(&mut bo, &bad, 0, &mut e),
            S::InvalidConfig
        );
        assert_eq!(e.field, fusewire_field::BackoffSchedule as u32);
        let mut c: fusewire_backoff_config = zeroed();
        assert_eq!(fusewire_backoff_config_default(&mut c), S::Ok);
        assert_eq!((c.schedule, c.base, c.cap), (0, 1000, 1000));
    }
}

#[test]
fn bucket_starts_full_drains_and_says_when() {
    // core bucket tests: starts_full_drains_and_says_when, zero_is_free...
    let mut b: fusewire_bucket = zeroed();
    let cfg = fusewire_bucket_config {
        period: 100,
        tokens: 1,
        burst: 3,
    };
    unsafe {
        assert_eq!(fusewire_bucket_init(&mut b, &cfg, null_mut()), S::Ok);
        let mut n = 0;
        assert_eq!(fusewire_bucket_available(&b, tick(0), &mut n), S::Ok);
        assert_eq!(n, 3);
        for _ in 0..3 {
            assert_eq!(
                fusewire_bucket_acquire(&mut b, tick(0), 1, null_mut()),
                S::Ok
            );
        }
        let mut wait = 0;
        assert_eq!(
            fusewire_bucket_acquire(&mut b, tick(0), 1, &mut wait),
            S::RateLimited
        );
        assert_eq!(wait, 100);
        assert_eq!(
            fusewire_bucket_acquire(&mut b, tick(99), 1, &mut wait),
            S::RateLimited
        );
        assert_eq!(wait, 1);
        assert_eq!(
            fusewire_bucket_acquire(&mut b, tick(100), 1, &mut wait),
            S::Ok
        );
        assert_eq!(fusewire_bucket_available(&b, tick(100), &mut n), S::Ok);
        assert_eq!(n, 0);
        assert_eq!(fusewire_bucket_available(&b, tick(400), &mut n), S::Ok);
        assert_eq!(n, 3);
        assert_eq!(
            fusewire_bucket_acquire(&mut b, tick(400), 4, &mut wait),
            S::ExceedsBurst
        );
        assert_eq!(
            fusewire_bucket_acquire(&mut b, tick(400), 3, null_mut()),
            S::Ok
        );
        assert_eq!(fusewire_bucket_refund(&mut b, tick(400), 2), S::Ok);
        assert_eq!(fusewire_bucket_available(&b, tick(400), &mut n), S::Ok);
        assert_eq!(n, 2);
        let mut e = fusewire_config_error {
            field: 0,
            problem: 0,
        };
        assert_eq!(
            fusewire_bucket_set_rate(&mut b, tick(400), 0, 5, &mut e),
            S::InvalidConfig
        );
        assert_eq!(
            (e.field, e.problem),
            (fusewire_field::BucketTokens as u32, 1)
        );
        assert_eq!(
            fusewire_bucket_set_rate(&mut b, tick(400), 1, 10, &mut e),
            S::Ok
        );
        assert_eq!(
            fusewire_bucket_available(&b, tick(400), null_mut()),
            S::NullArgument
        );
        let zero = fusewire_bucket_config {
            period: 1,
            tokens: 1,
            burst: 0,
        };
        let mut fresh: fusewire_bucket = zeroed();
        assert_eq!(
            fusewire_bucket_init(&mut fresh, &zero, &mut e),
            S::InvalidConfig
        );
        assert_eq!(e.field, fusewire_field::BucketBurst as u32);
        assert_eq!(
            fusewire_bucket_refund(&mut fresh, tick(0), 1),
            S::NotInitialized
        );
    }
}

#[test]
fn budget_follows_the_grpc_example() {
    // core budget tests: follows_the_grpc_example.
    let mut b: fusewire_budget = zeroed();
    let cfg = fusewire_budget_config {
        max_tokens: 10,
        token_ratio_milli: 100,
    };
    unsafe {
        assert_eq!(fusewire_budget_init(&mut b, &cfg, null_mut()), S::Ok);
        for _ in 0..4 {
            assert_eq!(fusewire_budget_record_failure(&mut b), S::Ok);
        }
        assert_eq!(fusewire_budget_try_retry(&mut b), S::Ok);
        assert_eq!(fusewire_budget_record_failure(&mut b), S::Ok);
        assert_eq!(fusewire_budget_try_retry(&mut b), S::Throttled);
        let (mut milli, mut throttled) = (0, 0);
        assert_eq!(
            fusewire_budget_tokens(&b, &mut milli, &mut throttled),
            S::Ok
        );
        assert_eq!((milli, throttled), (5000, 1));
        assert_eq!(fusewire_budget_record_success(&mut b), S::Ok);
        assert_eq!(fusewire_budget_tokens(&b, &mut milli, null_mut()), S::Ok);
        assert_eq!(milli, 5100);
        assert_eq!(fusewire_budget_try_retry(&mut b), S::Ok);
        let mut e = fusewire_config_error {
            field: 0,
            problem: 0,
        };
        let bad = fusewire_budget_config {
            max_tokens: 1,
            token_ratio_milli: 1001,
        };
        assert_eq!(fusewire_budget_init(&mut b, &bad, &mut e), S::InvalidConfig);
        assert_eq!(
            (e.field, e.problem),
            (fusewire_field::BudgetTokenRatioMilli as u32, 2)
        );
    }
}

#[test]
fn bulkhead_reserves_the_last_slots() {
    // core bulkhead tests: reserves_keep_the_last_slots_for_higher_priorities.
    let mut b: fusewire_bulkhead = zeroed();
    let cfg = fusewire_bulkhead_config {
        limit: 5,
        reserve_critical: 1,
        reserve_normal: 1,
        lease: 1000,
    };
    let take = |b: &mut fusewire_bulkhead, p: u32, slots: &mut Vec<fusewire_bulkhead_slot>| {
        let mut s = fusewire_bulkhead_slot { raw: 77 };
        let st = unsafe { fusewire_bulkhead_acquire(b, tick(10), p, &mut s) };
        if st == S::Ok {
            slots.push(s);
        } else {
            assert_eq!(s.raw, 77, "slot written only on OK");
        }
        st
    };
    let mut slots = Vec::new();
    unsafe {
        assert_eq!(fusewire_bulkhead_init(&mut b, &cfg, null_mut()), S::Ok);
        for _ in 0..3 {
            assert_eq!(take(&mut b, 2, &mut slots), S::Ok);
        }
        assert_eq!(take(&mut b, 2, &mut slots), S::BulkheadFull);
        let (mut in_use, mut avail) = (0, 0);
        assert_eq!(
            fusewire_bulkhead_usage(&b, 1, &mut in_use, &mut avail),
            S::Ok
        );
        assert_eq!((in_use, avail), (3, 1));
        assert_eq!(take(&mut b, 1, &mut slots), S::Ok);
        assert_eq!(take(&mut b, 1, &mut slots), S::BulkheadFull);
        assert_eq!(take(&mut b, 0, &mut slots), S::Ok);
        assert_eq!(take(&mut b, 0, &mut slots), S::BulkheadFull);
        assert_eq!(take(&mut b, 3, &mut slots), S::InvalidArgument);
        assert_eq!(
            fusewire_bulkhead_acquire(&mut b, tick(10), 0, null_mut()),
            S::NullArgument
        );
        for s in &slots {
            assert_eq!(fusewire_bulkhead_release(&mut b, tick(20), *s), S::Ok);
        }
        // Given back twice, or made up: refused, counted, nothing freed.
        assert_eq!(
            fusewire_bulkhead_release(&mut b, tick(20), slots[0]),
            S::NotHeld
        );
        assert_eq!(
            fusewire_bulkhead_release(&mut b, tick(20), fusewire_bulkhead_slot { raw: 1 << 60 }),
            S::NotHeld
        );
        assert_eq!(
            fusewire_bulkhead_usage(&b, 0, &mut in_use, &mut avail),
            S::Ok
        );
        assert_eq!((in_use, avail), (0, 5));
        // A slot never given back is freed within its lease; its late
        // release is refused as expired.
        slots.clear();
        assert_eq!(take(&mut b, 0, &mut slots), S::Ok);
        let mut s = fusewire_bulkhead_slot::default();
        assert_eq!(
            fusewire_bulkhead_acquire(&mut b, tick(2500), 0, &mut s),
            S::Ok
        );
        assert_eq!(
            fusewire_bulkhead_usage(&b, 0, &mut in_use, &mut avail),
            S::Ok
        );
        assert_eq!(in_use, 1, "the lost slot was reclaimed");
        assert_eq!(
            fusewire_bulkhead_release(&mut b, tick(2600), slots[0]),
            S::SlotExpired
        );
        let mut n = fusewire_bulkhead_counters::default();
        assert_eq!(fusewire_bulkhead_counts(&b, &mut n), S::Ok);
        assert_eq!(
            (n.extra_releases, n.expired_releases, n.reclaimed),
            (2, 1, 1),
            "two refused as not held, one as expired, one lost slot reclaimed"
        );
        assert_eq!(fusewire_bulkhead_counts(&b, null_mut()), S::NullArgument);
        let mut freed = 9;
        assert_eq!(
            fusewire_bulkhead_expire(&mut b, tick(2600), &mut freed),
            S::Ok
        );
        assert_eq!(freed, 0, "nothing left to reclaim yet");
        assert_eq!(
            fusewire_bulkhead_expire(&mut b, tick(9000), &mut freed),
            S::Ok
        );
        assert_eq!(freed, 1, "the slot taken at 2500 lapses");
        let mut e = fusewire_config_error {
            field: 0,
            problem: 0,
        };
        let bad = fusewire_bulkhead_config {
            limit: 4,
            reserve_critical: 2,
            reserve_normal: 2,
            lease: 0,
        };
        assert_eq!(
            fusewire_bulkhead_init(&mut b, &bad, &mut e),
            S::InvalidConfig
        );
        assert_eq!(
            (e.field, e.problem),
            (fusewire_field::BulkheadReserveNormal as u32, 4)
        );
        let bad = fusewire_bulkhead_config {
            limit: 0,
            reserve_critical: 0,
            reserve_normal: 0,
            lease: 0,
        };
        assert_eq!(
            fusewire_bulkhead_init(&mut b, &bad, &mut e),
            S::InvalidConfig
        );
        assert_eq!(
            (e.field, e.problem),
            (fusewire_field::BulkheadLimit as u32, 1)
        );
    }
}

fn retry_cfg(max_attempts: u32, max_elapsed: u64) -> fusewire_retry_config {
    fusewire_retry_config {
        backoff: backoff_cfg(2, 100, 2000, 10_000),
        max_elapsed,
        seed: 7,
        max_attempts,
    }
}

#[test]
fn retry_counts_attempts_and_keeps_the_deadline() {
    // core retry tests: backoff_attempt_number_is_retries_already_scheduled
    // and deadline_caps_delay_and_server_hint.
    let mut r: fusewire_retry = zeroed();
    unsafe {
        assert_eq!(
            fusewire_retry_init(&mut r, &retry_cfg(5, 0), null_mut()),
            S::Ok
        );
        assert_eq!(fusewire_retry_start(&mut r, tick(0)), S::Ok);
        let mut d = 0;
        for want in [100, 200, 400, 800] {
            assert_eq!(fusewire_retry_next(&mut r, tick(0), 0, &mut d), S::Ok);
            assert_eq!(d, want);
        }
        assert_eq!(
            fusewire_retry_next(&mut r, tick(0), 0, &mut d),
            S::GiveUpMaxAttempts
        );
        let mut n = 0;
        assert_eq!(fusewire_retry_attempts(&r, &mut n), S::Ok);
        assert_eq!(n, 5);

        assert_eq!(
            fusewire_retry_init(&mut r, &retry_cfg(10, 1000), null_mut()),
            S::Ok
        );
        assert_eq!(fusewire_retry_start(&mut r, tick(500)), S::Ok);
        assert_eq!(fusewire_retry_next(&mut r, tick(500), 0, &mut d), S::Ok);
        assert_eq!(d, 100);
        assert_eq!(fusewire_retry_next(&mut r, tick(1300), 0, &mut d), S::Ok);
        assert_eq!(d, 200);
        assert_eq!(
            fusewire_retry_next(&mut r, tick(1000), 501, &mut d),
            S::GiveUpWaitTooLong // the server asks for more than the 500 left
        );
        // Under a budget of 4 tokens (retry while more than 2 are left):
        // the first failure's retry is allowed, the second's throttled.
        let mut bg: fusewire_budget = zeroed();
        let bc = fusewire_budget_config {
            max_tokens: 4,
            token_ratio_milli: 1000,
        };
        assert_eq!(fusewire_budget_init(&mut bg, &bc, null_mut()), S::Ok);
        let mut rb: fusewire_retry = zeroed();
        assert_eq!(
            fusewire_retry_init(&mut rb, &retry_cfg(5, 0), null_mut()),
            S::Ok
        );
        assert_eq!(fusewire_retry_start(&mut rb, tick(0)), S::Ok);
        assert_eq!(
            fusewire_retry_next_with_budget(&mut rb, tick(0), 0, &mut bg, &mut d),
            S::Ok
        );
        assert_eq!(
            fusewire_retry_next_with_budget(&mut rb, tick(100), 0, &mut bg, &mut d),
            S::Throttled
        );
        assert_eq!(
            fusewire_retry_next_with_budget(&mut rb, tick(100), 0, null_mut(), &mut d),
            S::NullArgument
        );
        let (mut tokens, mut throttled) = (0, 0);
        assert_eq!(
            fusewire_budget_tokens(&bg, &mut tokens, &mut throttled),
            S::Ok
        );
        assert_eq!((tokens, throttled), (2000, 1));
        assert_eq!(
            fusewire_retry_next(&mut r, tick(1500), 0, &mut d),
            S::GiveUpDeadline
        );
        assert_eq!(
            fusewire_retry_next(&mut r, tick(1200), 0, &mut d),
            S::GiveUpDeadline
        );
        assert_eq!(
            fusewire_retry_next(&mut r, tick(0), 0, null_mut()),
            S::NullArgument
        );
        let mut e = fusewire_config_error {
            field: 0,
            problem: 0,
        };
        assert_eq!(
            fusewire_retry_init(&mut r, &retry_cfg(0, 0), &mut e),
            S::InvalidConfig
        );
        assert_eq!(
            (e.field, e.problem),
            (fusewire_field::RetryMaxAttempts as u32, 1)
        );
    }
}

// The time-window breaker: the same bodies as fusewire_breaker over the
// core's TimeWindow<16>.

/// A zeroed timed breaker initialised in place: never moved afterwards,
/// since the object has padding that a typed copy would read as integers.
fn timed(b: &mut fusewire_timed_breaker, cfg: &fusewire_breaker_config, span: u64, buckets: u32) {
    *b = zeroed();
    assert_eq!(
        unsafe { fusewire_timed_breaker_init(b, cfg, span, buckets, null_mut()) },
        S::Ok
    );
}

/// One admitted call ending with `outcome` (a `fusewire_outcome`) at `now`;
/// the transition it caused.
fn timed_call(
    b: &mut fusewire_timed_breaker,
    outcome: u32,
    duration: u64,
    now: u64,
) -> fusewire_transition {
    let (mut p, mut t) = (0, fusewire_transition::default());
    unsafe {
        assert_eq!(
            fusewire_timed_breaker_acquire(b, tick(now), pout(&mut p), null_mut(), null_mut()),
            S::Ok
        );
        assert_eq!(
            fusewire_timed_breaker_record(b, tick(now), pm(p), outcome, duration, &mut t),
            S::Ok
        );
    }
    t
}

fn timed_stats(b: &mut fusewire_timed_breaker, now: u64) -> fusewire_breaker_stats {
    let mut s: fusewire_breaker_stats = zeroed();
    assert_eq!(
        unsafe { fusewire_timed_breaker_snapshot(b, tick(now), &mut s) },
        S::Ok
    );
    s
}

#[test]
fn timed_breaker_forgets_old_failures() {
    // core breaker tests: time_window_forgets_old_failures (min_calls 4, a
    // 1000-tick window of 10 buckets; C keeps no latency, so its mean and
    // percentile lines have no counterpart here).
    let mut b: fusewire_timed_breaker = zeroed();
    timed(&mut b, &breaker_cfg(4), 1000, 10);
    for t in [0, 10, 20] {
        assert_eq!(timed_call(&mut b, 1, 7, t).moved, 0);
    }
    // Still in the window at 999 (as core window/time.rs
    // counts_and_latency_roll_out_together: bucket 0 leaves at 1000).
    assert_eq!(timed_stats(&mut b, 999).failures, 3);
    assert_eq!(timed_stats(&mut b, 1000).failures, 0);
    // the three failures have left the window by 1100
    for t in [1100, 1110, 1120] {
        assert_eq!(timed_call(&mut b, 0, 3, t).moved, 0);
    }
    assert_eq!(timed_call(&mut b, 1, 3, 1130).moved, 0, "1/4 failed");
    let s = timed_stats(&mut b, 1130);
    assert_eq!((s.state, s.successes, s.failures), (0, 3, 1));
    let mut state = 9;
    assert_eq!(
        unsafe { fusewire_timed_breaker_state(&b, &mut state) },
        S::Ok
    );
    assert_eq!(state, 0);

    // The count breaker, fed the same calls, still holds the old failures:
    // it trips on the last one (4 of 7 failed).
    let mut c: fusewire_breaker = zeroed();
    unsafe {
        assert_eq!(
            fusewire_breaker_init(&mut c, &breaker_cfg(4), null_mut()),
            S::Ok
        );
        let mut t = fusewire_transition::default();
        for (outcome, now) in [
            (1, 0),
            (1, 10),
            (1, 20),
            (0, 1100),
            (0, 1110),
            (0, 1120),
            (1, 1130),
        ] {
            let mut p = 0;
            assert_eq!(
                fusewire_breaker_acquire(&mut c, tick(now), pout(&mut p), null_mut(), null_mut()),
                S::Ok
            );
            assert_eq!(
                fusewire_breaker_record(&mut c, tick(now), pm(p), outcome, 3, &mut t),
                S::Ok
            );
        }
        assert_eq!((t.moved, t.to, t.reason), (1, 1, 0));
    }
}

#[test]
fn timed_breaker_answers_as_the_count_breaker_within_its_window() {
    // breaker_matches_the_core_doc_example, every call inside one span:
    // same statuses, outputs and snapshot as fusewire_breaker.
    let cfg = breaker_cfg(4);
    let mut b: fusewire_timed_breaker = zeroed();
    timed(&mut b, &cfg, 10_000, 16);
    let mut c: fusewire_breaker = zeroed();
    unsafe {
        assert_eq!(fusewire_breaker_init(&mut c, &cfg, null_mut()), S::Ok);
        let mut now = 0;
        for _ in 0..4 {
            let (mut p, mut q) = (0, 0);
            let (mut t, mut u) = (
                fusewire_transition::default(),
                fusewire_transition::default(),
            );
            assert_eq!(
                fusewire_timed_breaker_acquire(
                    &mut b,
                    tick(now),
                    pout(&mut p),
                    null_mut(),
                    null_mut()
                ),
                fusewire_breaker_acquire(&mut c, tick(now), pout(&mut q), null_mut(), null_mut())
            );
            assert_eq!(p, q);
            assert_eq!(
                fusewire_timed_breaker_record(&mut b, tick(now), pm(p), 1, 5, &mut t),
                fusewire_breaker_record(&mut c, tick(now), pm(q), 1, 5, &mut u)
            );
            assert_eq!(t, u);
            now += 10;
        }
        let (mut p, mut wait, mut t) = (7u64, 0u64, fusewire_transition::default());
        assert_eq!(
            fusewire_timed_breaker_acquire(&mut b, tick(now), pout(&mut p), &mut wait, &mut t),
            S::Rejected
        );
        assert_eq!(
            (wait, p, t.moved),
            (990, 7, 0),
            "permit untouched on rejection"
        );
        let mut cs: fusewire_breaker_stats = zeroed();
        assert_eq!(fusewire_breaker_snapshot(&mut c, tick(now), &mut cs), S::Ok);
        // The count breaker records the rejection too.
        let (mut q, mut cwait) = (0, 0);
        assert_eq!(
            fusewire_breaker_acquire(&mut c, tick(now), pout(&mut q), &mut cwait, null_mut()),
            S::Rejected
        );
        assert_eq!(cwait, wait);
        assert_eq!(fusewire_breaker_snapshot(&mut c, tick(now), &mut cs), S::Ok);
        assert_eq!(timed_stats(&mut b, now), cs);
        assert_eq!(
            fusewire_timed_breaker_poll(&mut b, tick(now + 990), &mut t),
            S::Ok
        );
        assert_eq!((t.moved, t.to, t.reason), (1, 2, 3)); // -> HalfOpen, OpenElapsed
        assert_eq!(
            fusewire_timed_breaker_acquire(
                &mut b,
                tick(now + 990),
                pout(&mut p),
                null_mut(),
                &mut t
            ),
            S::Ok
        );
        assert_eq!(t.moved, 0);
        assert_eq!(
            fusewire_timed_breaker_record(&mut b, tick(now + 991), pm(p), 0, 1, &mut t),
            S::Ok
        );
        assert_eq!((t.moved, t.to, t.reason), (1, 0, 4)); // -> Closed, ProbesPassed
    }
}

#[test]
fn timed_breaker_host_commands() {
    let mut b: fusewire_timed_breaker = zeroed();
    timed(&mut b, &breaker_cfg(4), 1000, 4);
    let mut t = fusewire_transition::default();
    unsafe {
        assert_eq!(fusewire_timed_breaker_trip(&mut b, tick(5), &mut t), S::Ok);
        assert_eq!((t.moved, t.to, t.reason), (1, 1, 7));
        assert_eq!(
            fusewire_timed_breaker_force_open(&mut b, tick(6), &mut t),
            S::Ok
        );
        assert_eq!(t.to, 3);
        let (mut p, mut wait) = (0, 0);
        assert_eq!(
            fusewire_timed_breaker_acquire(&mut b, tick(7), pout(&mut p), &mut wait, null_mut()),
            S::Rejected
        );
        assert_eq!(wait, u64::MAX);
        assert_eq!(
            fusewire_timed_breaker_disable(&mut b, tick(8), &mut t),
            S::Ok
        );
        assert_eq!(t.to, 4);
        assert_eq!(
            fusewire_timed_breaker_acquire(&mut b, tick(9), pout(&mut p), null_mut(), null_mut()),
            S::Ok
        );
        assert_eq!(
            fusewire_timed_breaker_release(&mut b, tick(9), pm(p), &mut t),
            S::Ok
        );
        assert_eq!(t.moved, 0);
        assert_eq!(
            fusewire_timed_breaker_close(&mut b, tick(10), &mut t),
            S::Ok
        );
        assert_eq!((t.moved, t.to, t.reason), (1, 0, 7));
        assert_eq!(timed_call(&mut b, 1, 1, 11).moved, 0);
        assert_eq!(timed_stats(&mut b, 11).failures, 1);
        assert_eq!(
            fusewire_timed_breaker_reset(&mut b, tick(12), null_mut()),
            S::Ok
        );
        let s = timed_stats(&mut b, 12);
        assert_eq!((s.state, s.failures, s.consecutive_failures), (0, 0, 0));
        // Optional transitions may be NULL on every command.
        assert_eq!(
            fusewire_timed_breaker_poll(&mut b, tick(13), null_mut()),
            S::Ok
        );
    }
}

#[test]
fn timed_breaker_bad_window_config_and_arguments() {
    let mut b: fusewire_timed_breaker = zeroed();
    let mut e = fusewire_config_error {
        field: 0,
        problem: 0,
    };
    let cfg = breaker_cfg(4);
    let mut t = fusewire_transition::default();
    unsafe {
        // The window: field and problem reported, object untouched.
        let span = fusewire_field::BreakerSpan as u32;
        let buckets = fusewire_field::BreakerBuckets as u32;
        for (s, n, want) in [
            (0, 4, (span, fusewire_problem::Zero as u32)),
            (3, 4, (span, fusewire_problem::Inconsistent as u32)),
            (100, 0, (buckets, fusewire_problem::Zero as u32)),
            (100, 17, (buckets, fusewire_problem::OutOfRange as u32)),
            (
                100,
                u32::MAX,
                (buckets, fusewire_problem::OutOfRange as u32),
            ),
        ] {
            assert_eq!(
                fusewire_timed_breaker_init(&mut b, &cfg, s, n, &mut e),
                S::InvalidConfig
            );
            assert_eq!((e.field, e.problem), want, "span {s} buckets {n}");
            assert_eq!(
                fusewire_timed_breaker_init(&mut b, &cfg, s, n, null_mut()),
                S::InvalidConfig
            );
        }
        assert_eq!(
            fusewire_timed_breaker_init(
                &mut b,
                &cfg,
                16,
                FUSEWIRE_TIMED_BREAKER_BUCKETS,
                null_mut()
            ),
            S::Ok
        );
        b = zeroed();
        // A bad config is reported before a bad window.
        let mut bad = breaker_cfg(4);
        bad.failure_rate_ppm = 1_500_000;
        assert_eq!(
            fusewire_timed_breaker_init(&mut b, &bad, 0, 0, &mut e),
            S::InvalidConfig
        );
        assert_eq!(
            (e.field, e.problem),
            (fusewire_field::BreakerFailureRate as u32, 2)
        );
        bad = breaker_cfg(4);
        bad.half_open_rule = 7;
        assert_eq!(
            fusewire_timed_breaker_init(&mut b, &bad, 1000, 10, &mut e),
            S::InvalidConfig
        );
        assert_eq!(e.field, fusewire_field::BreakerHalfOpenRule as u32);
        bad = breaker_cfg(4);
        bad.open_backoff.base = 0;
        assert_eq!(
            fusewire_timed_breaker_init(&mut b, &bad, 1000, 10, &mut e),
            S::InvalidConfig
        );
        assert_eq!(
            (e.field, e.problem),
            (fusewire_field::BackoffBase as u32, 1)
        );
        // None of it touched the object: still uninitialised (all zero).
        let words: &[u64; 74] = &*(&b as *const fusewire_timed_breaker).cast();
        assert!(words.iter().all(|w| *w == 0));
        let mut state = 9;
        assert_eq!(
            fusewire_timed_breaker_state(&b, &mut state),
            S::NotInitialized
        );
        assert_eq!(state, 9);
        let mut p = 0;
        assert_eq!(
            fusewire_timed_breaker_acquire(&mut b, tick(0), pout(&mut p), null_mut(), null_mut()),
            S::NotInitialized
        );
        assert_eq!(
            fusewire_timed_breaker_record(&mut b, tick(0), pm(0), 0, 0, &mut t),
            S::NotInitialized
        );
        assert_eq!(
            fusewire_timed_breaker_release(&mut b, tick(0), pm(0), &mut t),
            S::NotInitialized
        );
        for f in [
            fusewire_timed_breaker_poll,
            fusewire_timed_breaker_trip,
            fusewire_timed_breaker_close,
            fusewire_timed_breaker_force_open,
            fusewire_timed_breaker_disable,
            fusewire_timed_breaker_reset,
        ] {
            assert_eq!(f(&mut b, tick(0), &mut t), S::NotInitialized);
            assert_eq!(f(null_mut(), tick(0), &mut t), S::NullArgument);
        }
        let mut s: fusewire_breaker_stats = zeroed();
        assert_eq!(
            fusewire_timed_breaker_snapshot(&mut b, tick(0), &mut s),
            S::NotInitialized
        );

        // NULL objects, config and required out-parameters.
        assert_eq!(
            fusewire_timed_breaker_init(null_mut(), &cfg, 1000, 10, null_mut()),
            S::NullArgument
        );
        assert_eq!(
            fusewire_timed_breaker_init(&mut b, null(), 1000, 10, null_mut()),
            S::NullArgument
        );
        assert_eq!(
            fusewire_timed_breaker_acquire(
                null_mut(),
                tick(0),
                pout(&mut p),
                null_mut(),
                null_mut()
            ),
            S::NullArgument
        );
        assert_eq!(
            fusewire_timed_breaker_record(null_mut(), tick(0), pm(0), 0, 0, null_mut()),
            S::NullArgument
        );
        assert_eq!(
            fusewire_timed_breaker_release(null_mut(), tick(0), pm(0), null_mut()),
            S::NullArgument
        );
        assert_eq!(
            fusewire_timed_breaker_state(null(), &mut state),
            S::NullArgument
        );
        assert_eq!(
            fusewire_timed_breaker_snapshot(null_mut(), tick(0), &mut s),
            S::NullArgument
        );
        timed(&mut b, &cfg, 1000, 10);
        assert_eq!(
            fusewire_timed_breaker_acquire(&mut b, tick(0), null_mut(), null_mut(), null_mut()),
            S::NullArgument
        );
        assert_eq!(
            fusewire_timed_breaker_state(&b, null_mut()),
            S::NullArgument
        );
        assert_eq!(
            fusewire_timed_breaker_snapshot(&mut b, tick(0), null_mut()),
            S::NullArgument
        );
        // An unknown outcome changes nothing.
        assert_eq!(
            fusewire_timed_breaker_acquire(&mut b, tick(0), pout(&mut p), null_mut(), null_mut()),
            S::Ok
        );
        t.moved = 9;
        assert_eq!(
            fusewire_timed_breaker_record(&mut b, tick(0), pm(p), 4, 0, &mut t),
            S::InvalidArgument
        );
        assert_eq!(t.moved, 9, "transition untouched");
        let s = timed_stats(&mut b, 0);
        assert_eq!(s.successes + s.failures + s.ignored, 0);

        // The two breakers' objects are not each other's: a count breaker
        // (copied into a timed-sized buffer, as only the tag is read) and
        // a timed breaker read as a count breaker.
        let mut c: fusewire_breaker = zeroed();
        assert_eq!(fusewire_breaker_init(&mut c, &cfg, null_mut()), S::Ok);
        let mut big: fusewire_timed_breaker = zeroed();
        core::ptr::copy_nonoverlapping(
            (&c as *const fusewire_breaker).cast::<u8>(),
            (&mut big as *mut fusewire_timed_breaker).cast::<u8>(),
            core::mem::size_of::<fusewire_breaker>(),
        );
        assert_eq!(
            fusewire_timed_breaker_poll(&mut big, tick(0), null_mut()),
            S::NotInitialized
        );
        let as_count = (&mut b as *mut fusewire_timed_breaker).cast::<fusewire_breaker>();
        assert_eq!(
            fusewire_breaker_poll(as_count, tick(0), null_mut()),
            S::NotInitialized
        );
    }
}

#[test]
fn timed_breaker_misaligned_object_or_config_is_an_invalid_argument() {
    let mut words: [u64; 130] = [0; 130];
    let p = unsafe { words.as_mut_ptr().cast::<u8>().add(4) }.cast::<fusewire_timed_breaker>();
    assert_eq!(
        unsafe { fusewire_timed_breaker_init(p, &breaker_cfg(4), 1000, 10, null_mut()) },
        S::InvalidArgument
    );
    assert!(words.iter().all(|w| *w == 0));
    let q = unsafe { words.as_mut_ptr().cast::<u8>().add(4) }.cast::<fusewire_breaker_config>();
    unsafe { core::ptr::write_unaligned(q, breaker_cfg(4)) };
    let mut b: fusewire_timed_breaker = zeroed();
    assert_eq!(
        unsafe { fusewire_timed_breaker_init(&mut b, q, 1000, 10, null_mut()) },
        S::InvalidArgument
    );
    // A misaligned object on every other call.
    let mut t = fusewire_transition::default();
    assert_eq!(
        unsafe { fusewire_timed_breaker_poll(p, tick(0), &mut t) },
        S::InvalidArgument
    );
}

#[test]
fn timed_breaker_field_texts() {
    for (f, text) in [
        (fusewire_field::BreakerSpan, "breaker.span"),
        (fusewire_field::BreakerBuckets, "breaker.buckets"),
    ] {
        // SAFETY: static NUL-terminated strings.
        let s = unsafe { core::ffi::CStr::from_ptr(fusewire_field_text(f as u32)) };
        assert_eq!(s.to_str().unwrap(), text);
    }
    // Appended: the codes before them keep their numbers.
    assert_eq!(fusewire_field::BulkheadReserveNormal as u32, 25);
    assert_eq!(fusewire_field::BreakerSpan as u32, 26);
    assert_eq!(fusewire_field::BreakerBuckets as u32, 27);
}

#[test]
fn tick_widener_carries_the_wrap_and_ignores_stale_ticks() {
    let mut w: fusewire_tick_widener = zeroed();
    let mut now = tick(7);
    unsafe {
        assert_eq!(
            fusewire_tick_widener_widen(&mut w, 1, &mut now),
            S::NotInitialized
        );
        assert_eq!(now, tick(7), "nothing written");
        assert_eq!(fusewire_tick_widener_init(&mut w), S::Ok);
        assert_eq!(
            fusewire_tick_widener_widen(&mut w, 0xFFFF_FFF0, &mut now),
            S::Ok
        );
        assert_eq!(now, tick(0xFFFF_FFF0));
        assert_eq!(fusewire_tick_widener_widen(&mut w, 0x10, &mut now), S::Ok);
        assert_eq!(now, tick(0x1_0000_0010), "the wrap carries into bit 32");
        assert_eq!(
            fusewire_tick_widener_widen(&mut w, 0xFFFF_FFF5, &mut now),
            S::Ok
        );
        assert_eq!(now, tick(0x1_0000_0010), "a stale tick keeps the newest");
        assert_eq!(
            fusewire_tick_widener_widen(&mut w, 0x20, null_mut()),
            S::NullArgument
        );
        assert_eq!(
            fusewire_tick_widener_widen(null_mut(), 0x20, &mut now),
            S::NullArgument
        );
        let mut s: fusewire_shared_tick_widener = zeroed();
        assert_eq!(fusewire_shared_tick_widener_init(&mut s), S::Ok);
        for (raw, want) in [
            (0xFFFF_FFF0u32, 0xFFFF_FFF0u64),
            (0x10, 0x1_0000_0010),
            (5, 0x1_0000_0010),
        ] {
            assert_eq!(fusewire_shared_tick_widener_widen(&s, raw, &mut now), S::Ok);
            assert_eq!(now, tick(want));
        }
    }
}
