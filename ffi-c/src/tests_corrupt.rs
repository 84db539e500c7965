//! Live objects with one byte overwritten: every call answers with a
//! status (a corrupted enum, flag, divisor or index is CORRUPT, the tag
//! NOT_INITIALIZED), none crashes or panics. The fuzz target `ffi_corrupt`
//! does the same with arbitrary writes and calls.

use core::mem::{size_of, MaybeUninit};
use core::ptr::null_mut;

use super::*;
use fusewire_status as S;

fn zeroed<T>() -> T {
    // SAFETY: the C structs are arrays of integers; all-zero is valid for them.
    unsafe { MaybeUninit::zeroed().assume_init() }
}

/// Under Miri every 7th byte (the loops are slow there), else all.
const STRIDE: usize = if cfg!(miri) { 7 } else { 1 };

/// For each byte after the tag and each of `values`: `init` the object,
/// write the byte, run `calls`; returns how many writes made a call say
/// CORRUPT. No call may return PANIC or an undefined status.
fn each_byte<T>(values: &[u8], init: impl Fn(&mut T), calls: impl Fn(&mut T) -> Vec<S>) -> usize {
    each_byte_by(STRIDE, values, init, calls)
}

/// As `each_byte`, every `stride`-th byte.
fn each_byte_by<T>(
    stride: usize,
    values: &[u8],
    init: impl Fn(&mut T),
    calls: impl Fn(&mut T) -> Vec<S>,
) -> usize {
    let mut obj: T = zeroed();
    let mut corrupt = 0;
    for at in (4..size_of::<T>()).step_by(stride) {
        for &v in values {
            init(&mut obj);
            // SAFETY: inside the object, which is plain words to C.
            unsafe { (&mut obj as *mut T).cast::<u8>().add(at).write(v) };
            let got = calls(&mut obj);
            for s in &got {
                assert!(
                    (*s as u32) <= S::Corrupt as u32 && *s as u32 != 13,
                    "byte {at} = {v:#x}: {s:?}"
                );
            }
            corrupt += usize::from(got.contains(&S::Corrupt));
        }
    }
    corrupt
}

fn breaker_calls(b: &mut fusewire_breaker) -> Vec<S> {
    let (mut p, mut r, mut st) = (0, 0, 0);
    let mut s: fusewire_breaker_stats = zeroed();
    // SAFETY: valid pointers.
    unsafe {
        vec![
            fusewire_breaker_state(b, &mut st),
            fusewire_breaker_acquire(b, tick(5), pout(&mut p), &mut r, null_mut()),
            fusewire_breaker_record(b, tick(6), pm(p), 1, 3, null_mut()),
            fusewire_breaker_trip(b, tick(7), null_mut()),
            fusewire_breaker_acquire(b, tick(2000), pout(&mut p), &mut r, null_mut()),
            fusewire_breaker_snapshot(b, tick(2001), &mut s),
            fusewire_breaker_reset(b, tick(2002), null_mut()),
        ]
    }
}

#[test]
fn a_scribbled_breaker_is_corrupt_not_a_crash() {
    let mut c: fusewire_breaker_config = zeroed();
    unsafe { fusewire_breaker_config_default(&mut c) };
    c.open_backoff.jitter = 4; // proportional: its percent is checked too
    c.open_backoff.jitter_percent = 10;
    let init = |b: &mut fusewire_breaker| {
        assert_eq!(unsafe { fusewire_breaker_init(b, &c, null_mut()) }, S::Ok);
    };
    let n = each_byte(&[0xFF, 0x00, 0x05], init, breaker_calls);
    assert!(n > 0, "no byte of a breaker is checked");
    // Some byte (the state's, among others) makes every call CORRUPT.
    let every = (4..size_of::<fusewire_breaker>()).any(|at| {
        let mut b: fusewire_breaker = zeroed();
        init(&mut b);
        unsafe {
            (&mut b as *mut fusewire_breaker)
                .cast::<u8>()
                .add(at)
                .write(0xFF)
        };
        breaker_calls(&mut b).iter().all(|s| *s == S::Corrupt)
    });
    assert!(every);
}

#[test]
fn a_scribbled_timed_breaker_is_corrupt_not_a_crash() {
    let mut c: fusewire_breaker_config = zeroed();
    unsafe { fusewire_breaker_config_default(&mut c) };
    let n = each_byte(
        &[0xFF, 0x00],
        |b: &mut fusewire_timed_breaker| {
            assert_eq!(
                unsafe { fusewire_timed_breaker_init(b, &c, 1000, 4, null_mut()) },
                S::Ok
            );
        },
        |b| {
            let (mut p, mut r) = (0, 0);
            // SAFETY: valid pointers.
            unsafe {
                vec![
                    fusewire_timed_breaker_acquire(b, tick(5), pout(&mut p), &mut r, null_mut()),
                    fusewire_timed_breaker_record(b, tick(6), pm(p), 1, 3, null_mut()),
                    fusewire_timed_breaker_poll(b, tick(5000), null_mut()),
                ]
            }
        },
    );
    assert!(n > 0);
}

#[test]
fn a_scribbled_backoff_or_retry_is_corrupt_not_a_crash() {
    let mut c: fusewire_backoff_config = zeroed();
    unsafe { fusewire_backoff_config_default(&mut c) };
    c.jitter = 4;
    c.jitter_percent = 50;
    let n = each_byte(
        &[0xFF, 0x00],
        |b: &mut fusewire_backoff| {
            assert_eq!(
                unsafe { fusewire_backoff_init(b, &c, 1, null_mut()) },
                S::Ok
            )
        },
        |b| {
            let mut d = 0;
            // SAFETY: valid pointers.
            unsafe {
                vec![
                    fusewire_backoff_next(b, &mut d),
                    fusewire_backoff_delay(b, 3, 10, &mut d),
                ]
            }
        },
    );
    assert!(n > 0);
    let rc = fusewire_retry_config {
        backoff: c,
        seed: 1,
        max_elapsed: 0,
        max_attempts: 3,
    };
    let n = each_byte(
        &[0xFF, 0x00],
        |r: &mut fusewire_retry| {
            assert_eq!(unsafe { fusewire_retry_init(r, &rc, null_mut()) }, S::Ok)
        },
        |r| {
            let mut d = 0;
            // SAFETY: valid pointers.
            unsafe {
                vec![
                    fusewire_retry_start(r, tick(0)),
                    fusewire_retry_next(r, tick(1), 0, &mut d),
                ]
            }
        },
    );
    assert!(n > 0);
}

#[test]
fn a_bucket_with_a_zeroed_divisor_is_corrupt_not_a_panic() {
    let c = fusewire_bucket_config {
        burst: 5,
        tokens: 3,
        period: 7,
    };
    let n = each_byte(
        &[0x00, 0xFF],
        |b: &mut fusewire_bucket| {
            assert_eq!(unsafe { fusewire_bucket_init(b, &c, null_mut()) }, S::Ok)
        },
        |b| {
            let (mut r, mut a) = (0, 0);
            // SAFETY: valid pointers.
            unsafe {
                vec![
                    fusewire_bucket_acquire(b, tick(10), 2, &mut r),
                    fusewire_bucket_available(b, tick(11), &mut a),
                    fusewire_bucket_set_rate(b, tick(12), 2, 9, null_mut()),
                    fusewire_bucket_refund(b, tick(13), 1),
                ]
            }
        },
    );
    assert!(n > 0);
}

#[test]
fn a_scribbled_bulkhead_is_corrupt_not_a_crash() {
    let c = fusewire_bulkhead_config {
        limit: 3,
        reserve_critical: 1,
        reserve_normal: 0,
        lease: 0,
    };
    // Every byte, under Miri too: the object is small.
    let n = each_byte_by(
        1,
        &[0x00],
        |b: &mut fusewire_bulkhead| {
            assert_eq!(unsafe { fusewire_bulkhead_init(b, &c, null_mut()) }, S::Ok)
        },
        |b| {
            let (mut i, mut a) = (0, 0);
            // SAFETY: valid pointers.
            unsafe {
                vec![
                    fusewire_bulkhead_acquire(
                        b,
                        tick(0),
                        1,
                        &mut fusewire_bulkhead_slot::default(),
                    ),
                    fusewire_bulkhead_usage(b, 1, &mut i, &mut a),
                ]
            }
        },
    );
    assert!(n > 0);
}

#[test]
fn lite_objects_answer_and_a_scribbled_one_is_corrupt_not_a_crash() {
    let bc = fusewire_lite_breaker_config {
        threshold: 2,
        open_ticks: 100,
    };
    let t = |ticks| fusewire_tick32 { ticks };
    let calls = |b: &mut fusewire_lite_breaker| {
        let (mut p, mut w, mut st) = (fusewire_lite_permit::default(), 0, 0);
        // SAFETY: valid pointers.
        unsafe {
            vec![
                fusewire_lite_breaker_acquire(b, t(u32::MAX - 1), &mut p, &mut w),
                fusewire_lite_breaker_record(b, t(u32::MAX), p, 1, &mut st),
                fusewire_lite_breaker_record(b, t(3), p, 1, &mut st),
                fusewire_lite_breaker_acquire(b, t(50), &mut p, &mut w),
                fusewire_lite_breaker_state(b, &mut st),
            ]
        }
    };
    let init = |b: &mut fusewire_lite_breaker| {
        assert_eq!(
            unsafe { fusewire_lite_breaker_init(b, &bc, null_mut()) },
            S::Ok
        );
    };
    // Untouched: two failures across the wrap open it, and 50 ticks later
    // it still refuses, with the rest of the open time.
    let mut b: fusewire_lite_breaker = zeroed();
    init(&mut b);
    assert_eq!(
        calls(&mut b),
        vec![S::Ok, S::Ok, S::Ok, S::Rejected, S::Ok],
        "the permit's second report is not checked by the lite breaker"
    );
    let n = each_byte_by(1, &[0xFF], init, calls);
    assert!(n > 0, "the state byte is checked");
    let bad = fusewire_lite_bucket_config {
        interval: 1 << 16,
        burst: 1 << 15,
    };
    let mut k: fusewire_lite_bucket = zeroed();
    let mut e = fusewire_config_error {
        field: 0,
        problem: 0,
    };
    assert_eq!(
        unsafe { fusewire_lite_bucket_init(&mut k, &bad, &mut e) },
        S::InvalidConfig
    );
    assert_eq!(
        (e.field, e.problem),
        (
            fusewire_field::LiteBucketBurst as u32,
            fusewire_problem::OutOfRange as u32
        )
    );
}

#[test]
fn a_scribbled_chaos_is_corrupt_not_a_crash() {
    let c = fusewire_chaos_config {
        fault_rate_ppm: 300_000,
        latency_rate_ppm: 500_000,
        latency_min: 1,
        latency_max: 9,
        substitute_rate_ppm: 100_000,
        behavior_rate_ppm: 100_000,
        seed: 7,
        enabled: 1,
    };
    let n = each_byte_by(
        1,
        &[0xFF, 0x02],
        |ch: &mut fusewire_chaos| {
            assert_eq!(unsafe { fusewire_chaos_init(ch, &c, null_mut()) }, S::Ok)
        },
        |ch| {
            let mut i: fusewire_injection = zeroed();
            let (mut calls, mut on) = (0, 0);
            // SAFETY: valid pointers.
            unsafe {
                vec![
                    fusewire_chaos_inject(ch, &mut i),
                    fusewire_chaos_decide(ch, 3, &mut i),
                    fusewire_chaos_calls(ch, &mut calls, &mut on),
                    fusewire_chaos_set_enabled(ch, 1),
                ]
            }
        },
    );
    assert!(n > 0, "the enabled flag is checked");
}

#[test]
fn a_scribbled_pool_is_corrupt_not_a_crash() {
    let mut c: fusewire_pool_config = zeroed();
    unsafe { fusewire_pool_config_default(&mut c) };
    c.consecutive_failures = 1;
    c.max_ejection_percent = 50;
    c.ejection_jitter = 5;
    let bc = fusewire_budget_config {
        max_tokens: 10,
        token_ratio_milli: 100,
    };
    // Under Miri every 5th byte: that stride lands on the endpoint count
    // (bytes 96..100) and the ejection percentage (48..52).
    let n = each_byte_by(
        if cfg!(miri) { 5 } else { 1 },
        &[0xFF, 0x00],
        |p: &mut fusewire_pool4| {
            assert_eq!(unsafe { fusewire_pool4_init(p, &c, 3, null_mut()) }, S::Ok)
        },
        |p| {
            let mut k = fusewire_pool_pick::default();
            let mut ev = [fusewire_pool_event {
                until: 0,
                kind: 0,
                reason: 0,
                endpoint: 0,
            }; 4];
            let (mut n, mut m) = (0, 0);
            let mut st = fusewire_endpoint_stats::default();
            let mut budget: fusewire_budget = zeroed();
            let b = &mut budget;
            // SAFETY: valid pointers.
            unsafe {
                assert_eq!(fusewire_budget_init(b, &bc, null_mut()), S::Ok);
                vec![
                    fusewire_pool4_pick(p, tick(1), &mut k),
                    fusewire_pool4_record(p, tick(2), k, 1, null_mut()),
                    fusewire_pool4_pick_avoiding(p, tick(3), 0, &mut k),
                    fusewire_pool4_release(p, k),
                    fusewire_pool4_failover(p, tick(4), 1, b, &mut k),
                    fusewire_pool4_poll(p, tick(40_000), ev.as_mut_ptr(), 4, &mut n),
                    fusewire_pool4_stats(p, tick(5), 0, &mut st),
                    fusewire_pool4_endpoints(p, &mut n, &mut m),
                ]
            }
        },
    );
    assert!(n > 0, "the endpoint count is checked");
}
