//! Live C objects with stray writes: every kind of object the C door has
//! is initialised from a valid config, used, then has bytes anywhere in it
//! overwritten (as a wild pointer or a buffer overrun in the firmware
//! would), and used again. No call may crash or reach the panic boundary;
//! every status is one the door defines (a corrupted enum, flag, divisor
//! or index is `FUSEWIRE_STATUS_CORRUPT`, a corrupted tag
//! `FUSEWIRE_STATUS_NOT_INITIALIZED`, anything else an answer).
#![no_main]
use core::mem::{size_of, MaybeUninit};
use core::ptr::null_mut;

use arbitrary::Unstructured;
use fusewire_ffi::*;
use libfuzzer_sys::fuzz_target;

const PANIC: u32 = 13;
/// The highest status this version defines (GIVE_UP_WAIT_TOO_LONG).
const LAST: u32 = 16;

fn zeroed<T>() -> Box<T> {
    // SAFETY: only the door's C structs: arrays of integer words, and
    // plain integer/float structs, all valid when zero.
    Box::new(unsafe { MaybeUninit::<T>::zeroed().assume_init() })
}

/// Every status a call on a corrupted object may return: any defined one
/// but the panic boundary's.
fn check(status: fusewire_status, what: &str) {
    let s = status as u32;
    assert_ne!(s, PANIC, "{what}: the panic boundary caught a panic");
    assert!(s <= LAST, "{what}: undefined status {s}");
}

/// Overwrites `len` bytes of the object at an offset the input picks.
fn scribble<T>(obj: &mut T, u: &mut Unstructured) {
    let size = size_of::<T>();
    let at = usize::from(u.arbitrary::<u16>().unwrap_or(0)) % size;
    let len = usize::from(u.arbitrary::<u8>().unwrap_or(1) % 8).max(1);
    let p = (obj as *mut T).cast::<u8>();
    for i in 0..len.min(size - at) {
        let v: u8 = u.arbitrary().unwrap_or(0xFF);
        // SAFETY: inside the object; the C struct is plain words.
        unsafe { p.add(at + i).write(v) };
    }
}

/// Runs `call(op, u)` for each op byte; an op with the top bit set
/// scribbles on the object instead.
fn drive<T>(
    obj: &mut T,
    u: &mut Unstructured,
    mut call: impl FnMut(&mut T, u8, &mut Unstructured),
) {
    while !u.is_empty() {
        let op: u8 = u.arbitrary().unwrap_or(0);
        if op & 0x80 != 0 {
            scribble(obj, u);
        } else {
            call(obj, op, u);
        }
    }
}

fn tick(ticks: u64) -> fusewire_tick {
    fusewire_tick { ticks }
}

fn pm(raw: u64) -> fusewire_permit {
    fusewire_permit { raw }
}

fn arg<A: for<'a> arbitrary::Arbitrary<'a> + Default>(u: &mut Unstructured) -> A {
    u.arbitrary().unwrap_or_default()
}

fn breaker_config(u: &mut Unstructured) -> fusewire_breaker_config {
    let mut c = *zeroed::<fusewire_breaker_config>();
    // SAFETY: a valid out-pointer.
    unsafe { fusewire_breaker_config_default(&mut c) };
    let b: u8 = arg(u);
    c.comparison = u32::from(b & 1);
    c.rate_basis = u32::from(b >> 1 & 1);
    c.half_open_rule = u32::from(b >> 2 & 1);
    c.dwell_expiry = u32::from(b >> 3 & 1);
    c.open_backoff.jitter = u32::from(b >> 4) % 5;
    c.open_backoff.jitter_percent = 20;
    c.open_backoff.schedule = u32::from(arg::<u8>(u)) % 3;
    c.open_backoff.factor_milli = 2000;
    c.open_backoff.cap = 1 << 20;
    c.use_slow_call_rate = b >> 7;
    c.slow_call_rate_ppm = 500_000;
    c.slow_call_duration = 100;
    c.min_calls = 4;
    c
}

/// The breaker verbs, one per op, on any breaker form.
macro_rules! paste_ops {
    ($acq:path, $rec:path, $rel:path, $poll:path, $trip:path, $close:path, $force:path,
     $disable:path, $reset:path, $snap:path, $state:path, $b:expr, $op:expr, $u:expr) => {{
        let b = $b;
        let u = $u;
        let now = tick(arg(u));
        let mut t = *zeroed::<fusewire_transition>();
        // SAFETY: valid, aligned object and out-pointers.
        let st = unsafe {
            match $op % 11 {
                0 => {
                    let (mut p, mut r) = (fusewire_permit { raw: 0 }, 0u64);
                    $acq(b, now, &mut p, &mut r, &mut t)
                }
                1 => $rec(
                    b,
                    now,
                    pm(arg::<u64>(u)),
                    u32::from(arg::<u8>(u) % 4),
                    arg::<u16>(u).into(),
                    &mut t,
                ),
                2 => $rel(b, now, pm(arg::<u64>(u)), &mut t),
                3 => $poll(b, now, &mut t),
                4 => $trip(b, now, &mut t),
                5 => $close(b, now, &mut t),
                6 => $force(b, now, &mut t),
                7 => $disable(b, now, &mut t),
                8 => $reset(b, now, &mut t),
                9 => {
                    let mut s = *zeroed::<fusewire_breaker_stats>();
                    $snap(b, now, &mut s)
                }
                _ => {
                    let mut s = 0u32;
                    $state(b, &mut s)
                }
            }
        };
        check(st, "breaker");
    }};
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let kind: u8 = arg(&mut u);
    let u = &mut u;
    match kind % 14 {
        0 => {
            let mut b = zeroed::<fusewire_breaker>();
            let c = breaker_config(u);
            // SAFETY: valid pointers.
            if unsafe { fusewire_breaker_init(&mut *b, &c, null_mut()) } != fusewire_status::Ok {
                return;
            }
            drive(&mut *b, u, |b, op, u| {
                paste_ops!(
                    fusewire_breaker_acquire,
                    fusewire_breaker_record,
                    fusewire_breaker_release,
                    fusewire_breaker_poll,
                    fusewire_breaker_trip,
                    fusewire_breaker_close,
                    fusewire_breaker_force_open,
                    fusewire_breaker_disable,
                    fusewire_breaker_reset,
                    fusewire_breaker_snapshot,
                    fusewire_breaker_state,
                    b,
                    op,
                    u
                )
            });
        }
        1 => {
            let mut b = zeroed::<fusewire_timed_breaker>();
            let c = breaker_config(u);
            let buckets = u32::from(arg::<u8>(u) % 16) + 1;
            // SAFETY: valid pointers.
            let st = unsafe { fusewire_timed_breaker_init(&mut *b, &c, 1000, buckets, null_mut()) };
            if st != fusewire_status::Ok {
                return;
            }
            drive(&mut *b, u, |b, op, u| {
                paste_ops!(
                    fusewire_timed_breaker_acquire,
                    fusewire_timed_breaker_record,
                    fusewire_timed_breaker_release,
                    fusewire_timed_breaker_poll,
                    fusewire_timed_breaker_trip,
                    fusewire_timed_breaker_close,
                    fusewire_timed_breaker_force_open,
                    fusewire_timed_breaker_disable,
                    fusewire_timed_breaker_reset,
                    fusewire_timed_breaker_snapshot,
                    fusewire_timed_breaker_state,
                    b,
                    op,
                    u
                )
            });
        }
        2 => {
            let mut b = zeroed::<fusewire_shared_breaker>();
            let c = breaker_config(u);
            // SAFETY: valid pointers.
            if unsafe { fusewire_shared_breaker_init(&mut *b, &c, null_mut()) }
                != fusewire_status::Ok
            {
                return;
            }
            drive(&mut *b, u, |b, op, u| {
                paste_ops!(
                    fusewire_shared_breaker_acquire,
                    fusewire_shared_breaker_record,
                    fusewire_shared_breaker_release,
                    fusewire_shared_breaker_poll,
                    fusewire_shared_breaker_trip,
                    fusewire_shared_breaker_close,
                    fusewire_shared_breaker_force_open,
                    fusewire_shared_breaker_disable,
                    fusewire_shared_breaker_reset,
                    fusewire_shared_breaker_snapshot,
                    fusewire_shared_breaker_state,
                    &*b,
                    op,
                    u
                )
            });
        }
        3 | 4 => {
            let mut c = *zeroed::<fusewire_backoff_config>();
            // SAFETY: valid out-pointer.
            unsafe { fusewire_backoff_config_default(&mut c) };
            c.schedule = u32::from(arg::<u8>(u)) % 3;
            c.jitter = u32::from(arg::<u8>(u)) % 5;
            c.jitter_percent = 30;
            c.factor_milli = 1500;
            c.step = 10;
            c.cap = 1 << 30;
            if kind % 14 == 3 {
                let mut b = zeroed::<fusewire_backoff>();
                // SAFETY: valid pointers.
                if unsafe { fusewire_backoff_init(&mut *b, &c, arg(u), null_mut()) }
                    != fusewire_status::Ok
                {
                    return;
                }
                drive(&mut *b, u, |b, op, u| {
                    let mut d = 0u64;
                    let mut a = 0u32;
                    // SAFETY: valid pointers.
                    let st = unsafe {
                        match op % 5 {
                            0 => fusewire_backoff_next(b, &mut d),
                            1 => fusewire_backoff_reset(b),
                            2 => fusewire_backoff_attempt(b, &mut a),
                            3 => fusewire_backoff_raw(b, arg(u), &mut d),
                            _ => fusewire_backoff_delay(b, arg(u), arg(u), &mut d),
                        }
                    };
                    check(st, "backoff");
                });
            } else {
                let mut rc = *zeroed::<fusewire_retry_config>();
                rc.backoff = c;
                rc.max_attempts = 5;
                rc.max_elapsed = 10_000;
                rc.seed = arg(u);
                let mut r = zeroed::<fusewire_retry>();
                // SAFETY: valid pointers.
                if unsafe { fusewire_retry_init(&mut *r, &rc, null_mut()) } != fusewire_status::Ok {
                    return;
                }
                drive(&mut *r, u, |r, op, u| {
                    let (mut d, mut a) = (0u64, 0u32);
                    // SAFETY: valid pointers.
                    let st = unsafe {
                        match op % 3 {
                            0 => fusewire_retry_start(r, tick(arg(u))),
                            1 => fusewire_retry_next(r, tick(arg(u)), arg(u), &mut d),
                            _ => fusewire_retry_attempts(r, &mut a),
                        }
                    };
                    check(st, "retry");
                });
            }
        }
        5 | 6 => {
            let c = fusewire_bucket_config {
                burst: u32::from(arg::<u8>(u)) + 1,
                tokens: u32::from(arg::<u8>(u)) + 1,
                period: u64::from(arg::<u16>(u)) + 1,
            };
            if kind % 14 == 5 {
                let mut b = zeroed::<fusewire_bucket>();
                // SAFETY: valid pointers.
                if unsafe { fusewire_bucket_init(&mut *b, &c, null_mut()) } != fusewire_status::Ok {
                    return;
                }
                drive(&mut *b, u, |b, op, u| {
                    let (mut r, mut n) = (0u64, 0u32);
                    // SAFETY: valid pointers.
                    let st = unsafe {
                        match op % 4 {
                            0 => fusewire_bucket_acquire(b, tick(arg(u)), arg(u), &mut r),
                            1 => fusewire_bucket_refund(b, tick(arg(u)), arg(u)),
                            2 => fusewire_bucket_available(b, tick(arg(u)), &mut n),
                            _ => fusewire_bucket_set_rate(
                                b,
                                tick(arg(u)),
                                arg(u),
                                arg(u),
                                null_mut(),
                            ),
                        }
                    };
                    check(st, "bucket");
                });
            } else {
                let mut b = zeroed::<fusewire_shared_bucket>();
                // SAFETY: valid pointers.
                if unsafe { fusewire_shared_bucket_init(&mut *b, &c, null_mut()) }
                    != fusewire_status::Ok
                {
                    return;
                }
                drive(&mut *b, u, |b, op, u| {
                    let (mut r, mut n) = (0u64, 0u32);
                    // SAFETY: valid pointers.
                    let st = unsafe {
                        match op % 3 {
                            0 => fusewire_shared_bucket_acquire(b, tick(arg(u)), arg(u), &mut r),
                            1 => fusewire_shared_bucket_refund(b, tick(arg(u)), arg(u)),
                            _ => fusewire_shared_bucket_available(b, tick(arg(u)), &mut n),
                        }
                    };
                    check(st, "shared bucket");
                });
            }
        }
        7 | 8 => {
            let c = fusewire_budget_config {
                max_tokens: u32::from(arg::<u8>(u)) + 1,
                token_ratio_milli: u32::from(arg::<u16>(u)) + 1,
            };
            let mut b = zeroed::<fusewire_budget>();
            // SAFETY: valid pointers.
            if unsafe { fusewire_budget_init(&mut *b, &c, null_mut()) } != fusewire_status::Ok {
                return;
            }
            drive(&mut *b, u, |b, op, _| {
                let (mut t, mut th) = (0u64, 0u64);
                // SAFETY: valid pointers.
                let st = unsafe {
                    match op % 4 {
                        0 => fusewire_budget_record_success(b),
                        1 => fusewire_budget_record_failure(b),
                        2 => fusewire_budget_try_retry(b),
                        _ => fusewire_budget_tokens(b, &mut t, &mut th),
                    }
                };
                check(st, "budget");
            });
        }
        11 => {
            let c = fusewire_lite_breaker_config {
                threshold: u32::from(arg::<u8>(u) % 4) + 1,
                open_ticks: u32::from(arg::<u16>(u)) + 1,
            };
            let mut b = zeroed::<fusewire_lite_breaker>();
            // SAFETY: valid pointers.
            if unsafe { fusewire_lite_breaker_init(&mut *b, &c, null_mut()) } != fusewire_status::Ok
            {
                return;
            }
            drive(&mut *b, u, |b, op, u| {
                let now = fusewire_tick32 { ticks: arg(u) };
                let (mut p, mut w, mut st) = (fusewire_lite_permit::default(), 0u32, 0u32);
                // SAFETY: valid pointers.
                let r = unsafe {
                    match op % 3 {
                        0 => fusewire_lite_breaker_acquire(b, now, &mut p, &mut w),
                        1 => fusewire_lite_breaker_record(
                            b,
                            now,
                            fusewire_lite_permit { raw: arg(u) },
                            u32::from(arg::<u8>(u) % 5),
                            &mut st,
                        ),
                        _ => fusewire_lite_breaker_state(b, &mut st),
                    }
                };
                check(r, "lite breaker");
            });
        }
        12 | 13 => {
            let mut o = zeroed::<fusewire_lite_backoff>();
            let mut k = zeroed::<fusewire_lite_bucket>();
            let oc = fusewire_lite_backoff_config {
                base: u32::from(arg::<u8>(u)) + 1,
                cap: 1 << 20,
                seed: arg(u),
            };
            let kc = fusewire_lite_bucket_config {
                interval: u32::from(arg::<u8>(u)) + 1,
                burst: u32::from(arg::<u8>(u)) + 1,
            };
            // SAFETY: valid pointers.
            unsafe {
                if fusewire_lite_backoff_init(&mut *o, &oc, null_mut()) != fusewire_status::Ok
                    || fusewire_lite_bucket_init(&mut *k, &kc, null_mut()) != fusewire_status::Ok
                {
                    return;
                }
            }
            if kind % 14 == 12 {
                drive(&mut *o, u, |o, op, _| {
                    let mut d = 0u32;
                    // SAFETY: valid pointers.
                    let r = unsafe {
                        if op % 2 == 0 {
                            fusewire_lite_backoff_next(o, &mut d)
                        } else {
                            fusewire_lite_backoff_reset(o)
                        }
                    };
                    check(r, "lite backoff");
                });
            } else {
                drive(&mut *k, u, |k, _, u| {
                    let mut w = 0u32;
                    // SAFETY: valid pointers.
                    let r = unsafe {
                        fusewire_lite_bucket_acquire(
                            k,
                            fusewire_tick32 { ticks: arg(u) },
                            arg::<u8>(u).into(),
                            &mut w,
                        )
                    };
                    check(r, "lite bucket");
                });
            }
        }
        _ => {
            let c = fusewire_bulkhead_config {
                limit: u32::from(arg::<u8>(u)) + 3,
                reserve_critical: 1,
                reserve_normal: 1,
                lease: u64::from(arg::<u8>(u)),
            };
            if kind.is_multiple_of(2) {
                let mut b = zeroed::<fusewire_bulkhead>();
                // SAFETY: valid pointers.
                if unsafe { fusewire_bulkhead_init(&mut *b, &c, null_mut()) } != fusewire_status::Ok
                {
                    return;
                }
                drive(&mut *b, u, |b, op, u| {
                    let (mut i, mut a) = (0u32, 0u32);
                    let pr = u32::from(arg::<u8>(u) % 3);
                    // SAFETY: valid pointers.
                    let st = unsafe {
                        match op % 3 {
                            0 => fusewire_bulkhead_acquire(
                                b,
                                tick(arg(u)),
                                pr,
                                &mut fusewire_bulkhead_slot::default(),
                            ),
                            1 => fusewire_bulkhead_release(
                                b,
                                tick(arg(u)),
                                fusewire_bulkhead_slot { raw: arg(u) },
                            ),
                            _ => fusewire_bulkhead_usage(b, pr, &mut i, &mut a),
                        }
                    };
                    check(st, "bulkhead");
                });
            } else {
                let mut b = zeroed::<fusewire_shared_bulkhead>();
                // SAFETY: valid pointers.
                if unsafe { fusewire_shared_bulkhead_init(&mut *b, &c, null_mut()) }
                    != fusewire_status::Ok
                {
                    return;
                }
                drive(&mut *b, u, |b, op, u| {
                    let (mut i, mut a) = (0u32, 0u32);
                    let pr = u32::from(arg::<u8>(u) % 3);
                    // SAFETY: valid pointers.
                    let st = unsafe {
                        match op % 3 {
                            0 => fusewire_shared_bulkhead_acquire(
                                b,
                                tick(arg(u)),
                                pr,
                                &mut fusewire_bulkhead_slot::default(),
                            ),
                            1 => fusewire_shared_bulkhead_release(
                                b,
                                tick(arg(u)),
                                fusewire_bulkhead_slot { raw: arg(u) },
                            ),
                            _ => fusewire_shared_bulkhead_usage(b, pr, &mut i, &mut a),
                        }
                    };
                    check(st, "shared bulkhead");
                });
            }
        }
    }
});
