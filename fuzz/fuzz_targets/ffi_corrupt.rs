//! Live C objects with stray writes: every kind of object the C door has
//! is initialised from a valid config, used, then has bytes anywhere in it
//! overwritten (as a wild pointer or a buffer overrun in the firmware
//! would), and used again. No call may crash or reach the panic boundary;
//! every status is one the door defines (a corrupted enum, flag, divisor
//! or index is `FUSEWIRE_STATUS_CORRUPT`, a corrupted tag
//! `FUSEWIRE_STATUS_NOT_INITIALIZED`, anything else an answer).
//!
//! One table, `KINDS`, lists every kind: how it is built from the input
//! and which call each op byte makes; `live` runs them all the same way.
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

/// Initialises a zeroed `T` with `init` (a status other than OK: the
/// input's config is not one to run), then drives it: each op byte makes
/// the call `call` picks, whose status must be one the door defines, or
/// (top bit set) scribbles on the object.
fn live<T>(
    u: &mut Unstructured,
    what: &str,
    init: impl FnOnce(&mut T, &mut Unstructured) -> fusewire_status,
    mut call: impl FnMut(&mut T, u8, &mut Unstructured) -> fusewire_status,
) {
    let mut obj = zeroed::<T>();
    if init(&mut obj, u) != fusewire_status::Ok {
        return;
    }
    drive(&mut *obj, u, |o, op, u| check(call(o, op, u), what));
}

/// The breaker verbs, one per op, on any breaker form; the call's status.
macro_rules! paste_ops {
    ($acq:path, $rec:path, $rel:path, $poll:path, $trip:path, $close:path, $force:path,
     $disable:path, $reset:path, $snap:path, $state:path, $b:expr, $op:expr, $u:expr) => {{
        let b = $b;
        let u = $u;
        let now = tick(arg(u));
        let mut t = *zeroed::<fusewire_transition>();
        // SAFETY: valid, aligned object and out-pointers.
        unsafe {
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
        }
    }};
}

// Every function below passes only valid, aligned pointers to objects it
// owns and to its own out-parameters (the SAFETY of each `unsafe`).

fn breaker(u: &mut Unstructured) {
    let c = breaker_config(u);
    live(
        u,
        "breaker",
        // SAFETY: see above.
        |b: &mut fusewire_breaker, _| unsafe { fusewire_breaker_init(b, &c, null_mut()) },
        |b, op, u| {
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
        },
    );
}

fn timed_breaker(u: &mut Unstructured) {
    let c = breaker_config(u);
    let buckets = u32::from(arg::<u8>(u) % 16) + 1;
    live(
        u,
        "timed breaker",
        // SAFETY: see above.
        |b: &mut fusewire_timed_breaker, _| unsafe {
            fusewire_timed_breaker_init(b, &c, 1000, buckets, null_mut())
        },
        |b, op, u| {
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
        },
    );
}

fn shared_breaker(u: &mut Unstructured) {
    let c = breaker_config(u);
    live(
        u,
        "shared breaker",
        // SAFETY: see above.
        |b: &mut fusewire_shared_breaker, _| unsafe {
            fusewire_shared_breaker_init(b, &c, null_mut())
        },
        |b, op, u| {
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
        },
    );
}

fn backoff_config(u: &mut Unstructured) -> fusewire_backoff_config {
    let mut c = *zeroed::<fusewire_backoff_config>();
    // SAFETY: a valid out-pointer.
    unsafe { fusewire_backoff_config_default(&mut c) };
    c.schedule = u32::from(arg::<u8>(u)) % 3;
    c.jitter = u32::from(arg::<u8>(u)) % 5;
    c.jitter_percent = 30;
    c.factor_milli = 1500;
    c.step = 10;
    c.cap = 1 << 30;
    c
}

fn backoff(u: &mut Unstructured) {
    let c = backoff_config(u);
    let seed: u64 = arg(u);
    live(
        u,
        "backoff",
        // SAFETY: see above.
        |b: &mut fusewire_backoff, _| unsafe { fusewire_backoff_init(b, &c, seed, null_mut()) },
        |b, op, u| {
            let (mut d, mut a) = (0u64, 0u32);
            // SAFETY: see above.
            unsafe {
                match op % 5 {
                    0 => fusewire_backoff_next(b, &mut d),
                    1 => fusewire_backoff_reset(b),
                    2 => fusewire_backoff_attempt(b, &mut a),
                    3 => fusewire_backoff_raw(b, arg(u), &mut d),
                    _ => fusewire_backoff_delay(b, arg(u), arg(u), &mut d),
                }
            }
        },
    );
}

fn retry(u: &mut Unstructured) {
    let mut rc = *zeroed::<fusewire_retry_config>();
    rc.backoff = backoff_config(u);
    rc.max_attempts = 5;
    rc.max_elapsed = 10_000;
    rc.seed = arg(u);
    live(
        u,
        "retry",
        // SAFETY: see above.
        |r: &mut fusewire_retry, _| unsafe { fusewire_retry_init(r, &rc, null_mut()) },
        |r, op, u| {
            let (mut d, mut a) = (0u64, 0u32);
            // SAFETY: see above.
            unsafe {
                match op % 3 {
                    0 => fusewire_retry_start(r, tick(arg(u))),
                    1 => fusewire_retry_next(r, tick(arg(u)), arg(u), &mut d),
                    _ => fusewire_retry_attempts(r, &mut a),
                }
            }
        },
    );
}

fn bucket_config(u: &mut Unstructured) -> fusewire_bucket_config {
    fusewire_bucket_config {
        burst: u32::from(arg::<u8>(u)) + 1,
        tokens: u32::from(arg::<u8>(u)) + 1,
        period: u64::from(arg::<u16>(u)) + 1,
    }
}

fn bucket(u: &mut Unstructured) {
    let c = bucket_config(u);
    live(
        u,
        "bucket",
        // SAFETY: see above.
        |b: &mut fusewire_bucket, _| unsafe { fusewire_bucket_init(b, &c, null_mut()) },
        |b, op, u| {
            let (mut r, mut n) = (0u64, 0u32);
            // SAFETY: see above.
            unsafe {
                match op % 4 {
                    0 => fusewire_bucket_acquire(b, tick(arg(u)), arg(u), &mut r),
                    1 => fusewire_bucket_refund(b, tick(arg(u)), arg(u)),
                    2 => fusewire_bucket_available(b, tick(arg(u)), &mut n),
                    _ => fusewire_bucket_set_rate(b, tick(arg(u)), arg(u), arg(u), null_mut()),
                }
            }
        },
    );
}

fn shared_bucket(u: &mut Unstructured) {
    let c = bucket_config(u);
    live(
        u,
        "shared bucket",
        // SAFETY: see above.
        |b: &mut fusewire_shared_bucket, _| unsafe {
            fusewire_shared_bucket_init(b, &c, null_mut())
        },
        |b, op, u| {
            let (mut r, mut n) = (0u64, 0u32);
            // SAFETY: see above.
            unsafe {
                match op % 3 {
                    0 => fusewire_shared_bucket_acquire(b, tick(arg(u)), arg(u), &mut r),
                    1 => fusewire_shared_bucket_refund(b, tick(arg(u)), arg(u)),
                    _ => fusewire_shared_bucket_available(b, tick(arg(u)), &mut n),
                }
            }
        },
    );
}

fn budget_config(u: &mut Unstructured) -> fusewire_budget_config {
    fusewire_budget_config {
        max_tokens: u32::from(arg::<u8>(u)) + 1,
        token_ratio_milli: u32::from(arg::<u16>(u)) + 1,
    }
}

fn budget(u: &mut Unstructured) {
    let c = budget_config(u);
    live(
        u,
        "budget",
        // SAFETY: see above.
        |b: &mut fusewire_budget, _| unsafe { fusewire_budget_init(b, &c, null_mut()) },
        |b, op, _| {
            let (mut t, mut th) = (0u64, 0u64);
            // SAFETY: see above.
            unsafe {
                match op % 4 {
                    0 => fusewire_budget_record_success(b),
                    1 => fusewire_budget_record_failure(b),
                    2 => fusewire_budget_try_retry(b),
                    _ => fusewire_budget_tokens(b, &mut t, &mut th),
                }
            }
        },
    );
}

fn shared_budget(u: &mut Unstructured) {
    let c = budget_config(u);
    live(
        u,
        "shared budget",
        // SAFETY: see above.
        |b: &mut fusewire_shared_budget, _| unsafe {
            fusewire_shared_budget_init(b, &c, null_mut())
        },
        |b, op, _| {
            let (mut t, mut th) = (0u64, 0u64);
            // SAFETY: see above.
            unsafe {
                match op % 4 {
                    0 => fusewire_shared_budget_record_success(b),
                    1 => fusewire_shared_budget_record_failure(b),
                    2 => fusewire_shared_budget_try_retry(b),
                    _ => fusewire_shared_budget_tokens(b, &mut t, &mut th),
                }
            }
        },
    );
}

fn bulkhead_config(u: &mut Unstructured) -> fusewire_bulkhead_config {
    fusewire_bulkhead_config {
        limit: u32::from(arg::<u8>(u)) + 3,
        reserve_critical: 1,
        reserve_normal: 1,
        lease: u64::from(arg::<u8>(u)),
    }
}

fn bulkhead(u: &mut Unstructured) {
    let c = bulkhead_config(u);
    live(
        u,
        "bulkhead",
        // SAFETY: see above.
        |b: &mut fusewire_bulkhead, _| unsafe { fusewire_bulkhead_init(b, &c, null_mut()) },
        |b, op, u| {
            let (mut i, mut a) = (0u32, 0u32);
            let pr = u32::from(arg::<u8>(u) % 3);
            let mut slot = fusewire_bulkhead_slot::default();
            // SAFETY: see above.
            unsafe {
                match op % 3 {
                    0 => fusewire_bulkhead_acquire(b, tick(arg(u)), pr, &mut slot),
                    1 => fusewire_bulkhead_release(
                        b,
                        tick(arg(u)),
                        fusewire_bulkhead_slot { raw: arg(u) },
                    ),
                    _ => fusewire_bulkhead_usage(b, pr, &mut i, &mut a),
                }
            }
        },
    );
}

fn shared_bulkhead(u: &mut Unstructured) {
    let c = bulkhead_config(u);
    live(
        u,
        "shared bulkhead",
        // SAFETY: see above.
        |b: &mut fusewire_shared_bulkhead, _| unsafe {
            fusewire_shared_bulkhead_init(b, &c, null_mut())
        },
        |b, op, u| {
            let (mut i, mut a) = (0u32, 0u32);
            let pr = u32::from(arg::<u8>(u) % 3);
            let mut slot = fusewire_bulkhead_slot::default();
            // SAFETY: see above.
            unsafe {
                match op % 3 {
                    0 => fusewire_shared_bulkhead_acquire(b, tick(arg(u)), pr, &mut slot),
                    1 => fusewire_shared_bulkhead_release(
                        b,
                        tick(arg(u)),
                        fusewire_bulkhead_slot { raw: arg(u) },
                    ),
                    _ => fusewire_shared_bulkhead_usage(b, pr, &mut i, &mut a),
                }
            }
        },
    );
}

fn lite_breaker(u: &mut Unstructured) {
    let c = fusewire_lite_breaker_config {
        threshold: u32::from(arg::<u8>(u) % 4) + 1,
        open_ticks: u32::from(arg::<u16>(u)) + 1,
    };
    live(
        u,
        "lite breaker",
        // SAFETY: see above.
        |b: &mut fusewire_lite_breaker, _| unsafe { fusewire_lite_breaker_init(b, &c, null_mut()) },
        |b, op, u| {
            let now = fusewire_tick32 { ticks: arg(u) };
            let (mut p, mut w, mut st) = (fusewire_lite_permit::default(), 0u32, 0u32);
            // SAFETY: see above.
            unsafe {
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
            }
        },
    );
}

fn lite_backoff(u: &mut Unstructured) {
    let c = fusewire_lite_backoff_config {
        base: u32::from(arg::<u8>(u)) + 1,
        cap: 1 << 20,
        seed: arg(u),
    };
    live(
        u,
        "lite backoff",
        // SAFETY: see above.
        |o: &mut fusewire_lite_backoff, _| unsafe { fusewire_lite_backoff_init(o, &c, null_mut()) },
        |o, op, _| {
            let mut d = 0u32;
            // SAFETY: see above.
            unsafe {
                if op % 2 == 0 {
                    fusewire_lite_backoff_next(o, &mut d)
                } else {
                    fusewire_lite_backoff_reset(o)
                }
            }
        },
    );
}

fn lite_bucket(u: &mut Unstructured) {
    let c = fusewire_lite_bucket_config {
        interval: u32::from(arg::<u8>(u)) + 1,
        burst: u32::from(arg::<u8>(u)) + 1,
    };
    live(
        u,
        "lite bucket",
        // SAFETY: see above.
        |k: &mut fusewire_lite_bucket, _| unsafe { fusewire_lite_bucket_init(k, &c, null_mut()) },
        |k, _, u| {
            let mut w = 0u32;
            // SAFETY: see above.
            unsafe {
                fusewire_lite_bucket_acquire(
                    k,
                    fusewire_tick32 { ticks: arg(u) },
                    arg::<u8>(u).into(),
                    &mut w,
                )
            }
        },
    );
}

fn chaos(u: &mut Unstructured) {
    let c = fusewire_chaos_config {
        fault_rate_ppm: arg::<u32>(u) % 1_000_001,
        latency_rate_ppm: arg::<u32>(u) % 1_000_001,
        latency_min: u64::from(arg::<u8>(u)),
        latency_max: 256 + u64::from(arg::<u16>(u)),
        substitute_rate_ppm: arg::<u32>(u) % 1_000_001,
        behavior_rate_ppm: arg::<u32>(u) % 1_000_001,
        seed: arg(u),
        enabled: arg(u),
    };
    live(
        u,
        "chaos",
        // SAFETY: see above.
        |ch: &mut fusewire_chaos, _| unsafe { fusewire_chaos_init(ch, &c, null_mut()) },
        |ch, op, u| {
            let mut j = *zeroed::<fusewire_injection>();
            let (mut calls, mut on) = (0u64, 0u8);
            // SAFETY: see above.
            let st = unsafe {
                match op % 5 {
                    0 => fusewire_chaos_inject(ch, &mut j),
                    1 => fusewire_chaos_decide(ch, arg(u), &mut j),
                    2 => fusewire_chaos_set_enabled(ch, arg(u)),
                    3 => fusewire_chaos_calls(ch, &mut calls, &mut on),
                    _ => fusewire_chaos_set_config(ch, &c, null_mut()),
                }
            };
            // An answer is in range even from a scribbled object.
            if st == fusewire_status::Ok {
                assert!(
                    j.outcome < 3 && j.behavior < 2 && on < 2,
                    "chaos output out of range"
                );
            }
            st
        },
    );
}

/// A pool of either capacity (`$t`, its functions `$f_*`), scribbled on:
/// an answer from a pool that was not refused is in range (an endpoint it
/// has, at most one event per endpoint).
macro_rules! pool_kind {
    ($name:ident, $t:ty, $cap:expr, $init:ident, $pick:ident, $avoid:ident, $failover:ident,
     $record:ident, $release:ident, $poll:ident, $stats:ident, $endpoints:ident) => {
        fn $name(u: &mut Unstructured) {
            let mut c = *zeroed::<fusewire_pool_config>();
            // SAFETY: a valid out-pointer.
            unsafe { fusewire_pool_config_default(&mut c) };
            c.consecutive_failures = u32::from(arg::<u8>(u) % 4);
            c.consecutive_gateway_failures = u32::from(arg::<u8>(u) % 4);
            c.interval = u64::from(arg::<u16>(u)) + 1;
            c.base_ejection_time = u64::from(arg::<u16>(u)) + 1;
            c.max_ejection_time = c.base_ejection_time * 4;
            c.ejection_jitter = u64::from(arg::<u8>(u));
            c.max_ejection_percent = u32::from(arg::<u8>(u) % 101);
            c.success_rate_minimum_hosts = u32::from(arg::<u8>(u) % 4);
            c.success_rate_request_volume = u32::from(arg::<u8>(u) % 8);
            c.seed = arg(u);
            let n = u32::from(arg::<u8>(u)) % $cap + 1;
            let mut budget = zeroed::<fusewire_budget>();
            let bc = fusewire_budget_config {
                max_tokens: 10,
                token_ratio_milli: 100,
            };
            // SAFETY: see above.
            unsafe { fusewire_budget_init(&mut *budget, &bc, null_mut()) };
            live(
                u,
                stringify!($name),
                // SAFETY: see above.
                |p: &mut $t, _| unsafe { $init(p, &c, n, null_mut()) },
                |p, op, u| {
                    let mut k = fusewire_pool_pick::default();
                    let mut evs = [fusewire_pool_event::default(); $cap as usize];
                    let mut s = fusewire_endpoint_stats::default();
                    let (mut got, mut max) = (0u32, 0u32);
                    let i = u32::from(arg::<u8>(u));
                    // SAFETY: see above.
                    let st = unsafe {
                        match op % 8 {
                            0 => $pick(p, tick(arg(u)), &mut k),
                            1 => $avoid(p, tick(arg(u)), i, &mut k),
                            2 => $failover(p, tick(arg(u)), i, &mut *budget, &mut k),
                            3 => $record(
                                p,
                                tick(arg(u)),
                                fusewire_pool_pick {
                                    endpoint: i,
                                    panic: arg(u),
                                },
                                u32::from(arg::<u8>(u) % 4),
                                null_mut(),
                            ),
                            4 => $release(
                                p,
                                fusewire_pool_pick {
                                    endpoint: i,
                                    panic: 0,
                                },
                            ),
                            5 => $poll(p, tick(arg(u)), evs.as_mut_ptr(), $cap, &mut got),
                            6 => $stats(p, tick(arg(u)), i, &mut s),
                            _ => $endpoints(p, &mut got, &mut max),
                        }
                    };
                    if st == fusewire_status::Ok {
                        assert!(k.endpoint < $cap && k.panic < 2, "pick out of range");
                        assert!(got <= $cap && max < $cap, "counts out of range");
                        assert!(evs
                            .iter()
                            .all(|e| e.endpoint < $cap && e.kind < 3 && e.reason < 3));
                    }
                    st
                },
            );
        }
    };
}
pool_kind!(
    pool4,
    fusewire_pool4,
    FUSEWIRE_POOL4_CAPACITY,
    fusewire_pool4_init,
    fusewire_pool4_pick,
    fusewire_pool4_pick_avoiding,
    fusewire_pool4_failover,
    fusewire_pool4_record,
    fusewire_pool4_release,
    fusewire_pool4_poll,
    fusewire_pool4_stats,
    fusewire_pool4_endpoints
);
pool_kind!(
    pool16,
    fusewire_pool16,
    FUSEWIRE_POOL16_CAPACITY,
    fusewire_pool16_init,
    fusewire_pool16_pick,
    fusewire_pool16_pick_avoiding,
    fusewire_pool16_failover,
    fusewire_pool16_record,
    fusewire_pool16_release,
    fusewire_pool16_poll,
    fusewire_pool16_stats,
    fusewire_pool16_endpoints
);

/// Every kind of object the C door has, picked by the input's first byte.
const KINDS: &[fn(&mut Unstructured)] = &[
    breaker,
    timed_breaker,
    shared_breaker,
    backoff,
    retry,
    bucket,
    shared_bucket,
    budget,
    shared_budget,
    bulkhead,
    shared_bulkhead,
    lite_breaker,
    lite_backoff,
    lite_bucket,
    chaos,
    pool4,
    pool16,
];

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let kind: u8 = arg(&mut u);
    KINDS[usize::from(kind) % KINDS.len()](&mut u);
});
