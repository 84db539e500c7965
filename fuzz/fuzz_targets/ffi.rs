//! The C entry points of `ffi-c` called the way C could: configs and object
//! memory from arbitrary bytes, arbitrary enum values, NULL and misaligned
//! pointers. Nothing may panic (`FUSEWIRE_STATUS_PANIC` means the boundary
//! caught one), every status is one the function documents, and every
//! output is in its range.
#![no_main]
// Every call is wrapped as `(call as u32)` to read the status enum.
#![allow(unused_parens)]
use core::mem::{size_of, MaybeUninit};
use core::ptr::{null, null_mut};

use arbitrary::Unstructured;
use fusewire_ffi::*;
use libfuzzer_sys::fuzz_target;

const OK: u32 = 0;
const NULL_ARGUMENT: u32 = 1;
const INVALID_CONFIG: u32 = 2;
const INVALID_ARGUMENT: u32 = 3;
const NOT_INITIALIZED: u32 = 4;
const PANIC: u32 = 13;

/// A value of a plain C struct (integers and floats only) from raw bytes.
fn from_bytes<T>(u: &mut Unstructured) -> T {
    let mut v = MaybeUninit::<T>::zeroed();
    let bytes = u.bytes(size_of::<T>().min(u.len())).unwrap_or(&[]);
    // SAFETY: T is a repr(C) struct of integers and floats: every bit pattern is valid.
    unsafe {
        core::ptr::copy_nonoverlapping(bytes.as_ptr(), v.as_mut_ptr().cast::<u8>(), bytes.len());
        v.assume_init()
    }
}

/// A zeroed C value: the door's objects (arrays of u64 words) and its plain
/// integer structs (errors, stats) are valid all-zero.
fn zeroed<T>() -> T {
    // SAFETY: used only for the types above, valid when all zero.
    unsafe { MaybeUninit::<T>::zeroed().assume_init() }
}

fn tick(ticks: u64) -> fusewire_tick {
    fusewire_tick { ticks }
}

fn pm(raw: u64) -> fusewire_permit {
    fusewire_permit { raw }
}

fn check(status: u32, allowed: &[u32], what: &str) {
    assert_ne!(status, PANIC, "{what}: the panic boundary caught a panic");
    assert!(
        allowed.contains(&status),
        "{what}: undocumented status {status}"
    );
}

fn check_error(status: u32, e: &fusewire_config_error, what: &str) {
    check(status, &[OK, INVALID_CONFIG], what);
    if status == INVALID_CONFIG {
        assert!(
            (1..=45).contains(&e.field),
            "{what}: error field {}",
            e.field
        );
        assert!(
            (1..=7).contains(&e.problem),
            "{what}: error problem {}",
            e.problem
        );
    }
}

/// Object memory that is garbage: a call on it must say NOT_INITIALIZED.
/// The type tag is the first 4 bytes; garbage that happens to carry it
/// (the documented 1-in-2^32 case) is changed so it cannot.
fn garbage<T>(u: &mut Unstructured, real: &T) -> T {
    let mut g: T = from_bytes(u);
    // SAFETY: both are plain words; compare and flip the first byte.
    unsafe {
        let gp = (&mut g as *mut T).cast::<u32>();
        let rp = (real as *const T).cast::<u32>();
        if *gp == *rp {
            *gp ^= 1;
        }
    }
    g
}

/// The C breakers' common verbs (count, timed and shared forms have the
/// same signatures but for the object type), so one op loop drives all.
trait CBreaker {
    unsafe fn acquire(
        &mut self,
        now: u64,
        p: *mut u64,
        r: *mut u64,
        t: *mut fusewire_transition,
    ) -> u32;
    unsafe fn record(
        &mut self,
        p: u64,
        o: u32,
        d: u64,
        now: u64,
        t: *mut fusewire_transition,
    ) -> u32;
    unsafe fn release(&mut self, p: u64, now: u64, t: *mut fusewire_transition) -> u32;
    /// `0..6`: poll, trip, close, force_open, disable, reset.
    unsafe fn command(&mut self, which: u8, now: u64, t: *mut fusewire_transition) -> u32;
    unsafe fn snapshot(&mut self, now: u64, s: *mut fusewire_breaker_stats) -> u32;
    unsafe fn state(&self, s: *mut u32) -> u32;
}

macro_rules! c_breaker {
    ($t:ty: $acquire:ident, $record:ident, $release:ident,
     [$poll:ident, $trip:ident, $close:ident, $force_open:ident, $disable:ident, $reset:ident],
     $snapshot:ident, $state:ident) => {
        impl CBreaker for $t {
            unsafe fn acquire(
                &mut self,
                now: u64,
                p: *mut u64,
                r: *mut u64,
                t: *mut fusewire_transition,
            ) -> u32 {
                ($acquire(self, tick(now), p.cast(), r, t) as u32)
            }
            unsafe fn record(
                &mut self,
                p: u64,
                o: u32,
                d: u64,
                now: u64,
                t: *mut fusewire_transition,
            ) -> u32 {
                ($record(self, tick(now), pm(p), o, d, t) as u32)
            }
            unsafe fn release(&mut self, p: u64, now: u64, t: *mut fusewire_transition) -> u32 {
                ($release(self, tick(now), pm(p), t) as u32)
            }
            unsafe fn command(&mut self, which: u8, now: u64, t: *mut fusewire_transition) -> u32 {
                (match which % 6 {
                    0 => $poll(self, tick(now), t),
                    1 => $trip(self, tick(now), t),
                    2 => $close(self, tick(now), t),
                    3 => $force_open(self, tick(now), t),
                    4 => $disable(self, tick(now), t),
                    _ => $reset(self, tick(now), t),
                } as u32)
            }
            unsafe fn snapshot(&mut self, now: u64, s: *mut fusewire_breaker_stats) -> u32 {
                ($snapshot(self, tick(now), s) as u32)
            }
            unsafe fn state(&self, s: *mut u32) -> u32 {
                ($state(self, s) as u32)
            }
        }
    };
}

c_breaker!(fusewire_breaker: fusewire_breaker_acquire, fusewire_breaker_record, fusewire_breaker_release,
    [fusewire_breaker_poll, fusewire_breaker_trip, fusewire_breaker_close, fusewire_breaker_force_open,
     fusewire_breaker_disable, fusewire_breaker_reset],
    fusewire_breaker_snapshot, fusewire_breaker_state);
c_breaker!(fusewire_timed_breaker: fusewire_timed_breaker_acquire, fusewire_timed_breaker_record,
    fusewire_timed_breaker_release,
    [fusewire_timed_breaker_poll, fusewire_timed_breaker_trip, fusewire_timed_breaker_close,
     fusewire_timed_breaker_force_open, fusewire_timed_breaker_disable, fusewire_timed_breaker_reset],
    fusewire_timed_breaker_snapshot, fusewire_timed_breaker_state);
c_breaker!(fusewire_shared_breaker: fusewire_shared_breaker_acquire, fusewire_shared_breaker_record,
    fusewire_shared_breaker_release,
    [fusewire_shared_breaker_poll, fusewire_shared_breaker_trip, fusewire_shared_breaker_close,
     fusewire_shared_breaker_force_open, fusewire_shared_breaker_disable, fusewire_shared_breaker_reset],
    fusewire_shared_breaker_snapshot, fusewire_shared_breaker_state);

/// Arbitrary operations on an initialised breaker of any form: every
/// status documented, every output in range, permits handed back or forged.
unsafe fn drive<B: CBreaker>(b: &mut B, ops: Vec<(u8, u32, u64, u64)>) {
    let mut permits: Vec<u64> = Vec::new();
    for (op, a, now, x) in ops {
        let mut t = fusewire_transition {
            moved: 0,
            from: 0,
            to: 0,
            reason: 0,
        };
        let st = match op % 5 {
            0 => {
                let (mut p, mut r) = (0u64, 0u64);
                let rp: *mut u64 = if a & 1 == 0 { &mut r } else { null_mut() };
                let st = b.acquire(now, &mut p, rp, &mut t);
                check(st, &[OK, 5], "acquire");
                if st == OK {
                    permits.push(p);
                }
                st
            }
            1 => {
                let p = if permits.is_empty() || a & 2 != 0 {
                    x
                } else {
                    permits.swap_remove(a as usize % permits.len())
                };
                let st = b.record(p, a >> 2, x, now, &mut t);
                check(st, &[OK, INVALID_ARGUMENT], "record");
                if a >> 2 < 4 {
                    assert_eq!(st, OK, "a valid outcome was refused");
                }
                st
            }
            2 => b.release(x, now, if a & 1 == 0 { &mut t } else { null_mut() }),
            3 => b.command((a % 6) as u8, now, &mut t),
            _ => {
                let mut snap: fusewire_breaker_stats = zeroed();
                let st = b.snapshot(now, &mut snap);
                check(st, &[OK], "snapshot");
                assert!(snap.state < 5);
                check(
                    b.snapshot(now, null_mut()),
                    &[NULL_ARGUMENT],
                    "snapshot(NULL)",
                );
                st
            }
        };
        check(st, &[OK, 5, INVALID_ARGUMENT], "breaker op");
        if t.moved != 0 {
            assert!(
                t.from < 5 && t.to < 5 && t.reason < 8,
                "transition out of range"
            );
        }
        let mut s = 9u32;
        check(b.state(&mut s), &[OK], "state");
        assert!(s < 5);
    }
}

/// `fusewire_chaos` from an arbitrary config: every injection in range
/// (outcome, behaviour flag, delay 0 or within the latency bounds), none
/// while off, `inject`'s k-th answer is `decide(k)`'s (replay), the count
/// moves by one per call while on only, and a refused `set_config` changes
/// nothing.
unsafe fn chaos(u: &mut Unstructured, ops: Vec<(u8, u32, u64, u64)>) {
    let mut cfg: fusewire_chaos_config = from_bytes(u);
    if u.arbitrary::<bool>().unwrap_or(false) {
        // Half the inputs: a config in range, so the ops run.
        for r in [
            &mut cfg.fault_rate_ppm,
            &mut cfg.latency_rate_ppm,
            &mut cfg.substitute_rate_ppm,
            &mut cfg.behavior_rate_ppm,
        ] {
            *r %= 1_000_001;
        }
        cfg.latency_max = cfg.latency_max.max(cfg.latency_min).max(1);
    }
    let mut c: fusewire_chaos = zeroed();
    let mut e: fusewire_config_error = zeroed();
    let st = (fusewire_chaos_init(&mut c, &cfg, &mut e) as u32);
    check_error(st, &e, "chaos_init");
    let mut j: fusewire_injection = zeroed();
    if st != OK {
        check(
            (fusewire_chaos_inject(&mut c, &mut j) as u32),
            &[NOT_INITIALIZED],
            "inject after a failed init",
        );
        return;
    }
    let g = garbage(u, &c);
    check(
        (fusewire_chaos_decide(&g, 0, &mut j) as u32),
        &[NOT_INITIALIZED],
        "decide on garbage",
    );
    check(
        (fusewire_chaos_inject(&mut c, null_mut()) as u32),
        &[NULL_ARGUMENT],
        "inject(NULL)",
    );
    let in_range = |j: &fusewire_injection, cfg: &fusewire_chaos_config| {
        assert!(j.outcome < 3 && j.behavior < 2, "injection out of range");
        assert!(
            j.delay == 0 || (cfg.latency_min..=cfg.latency_max).contains(&j.delay),
            "delay {} outside {}..={}",
            j.delay,
            cfg.latency_min,
            cfg.latency_max
        );
    };
    let (mut calls, mut on) = (0u64, 0u8);
    check(
        (fusewire_chaos_calls(&c, &mut calls, &mut on) as u32),
        &[OK],
        "calls",
    );
    for (op, a, index, x) in ops {
        let before = calls;
        match op % 5 {
            0 | 1 => {
                let mut want: fusewire_injection = zeroed();
                check(
                    (fusewire_chaos_decide(&c, calls, &mut want) as u32),
                    &[OK],
                    "decide",
                );
                check(
                    (fusewire_chaos_inject(&mut c, &mut j) as u32),
                    &[OK],
                    "inject",
                );
                in_range(&j, &cfg);
                assert_eq!(j, want, "inject is not decide(calls)");
                if on == 0 {
                    assert_eq!(
                        (j.delay, j.outcome, j.behavior),
                        (0, 0, 0),
                        "injected while off"
                    );
                }
            }
            2 => {
                check(
                    (fusewire_chaos_decide(&c, index, &mut j) as u32),
                    &[OK],
                    "decide",
                );
                in_range(&j, &cfg);
            }
            3 => {
                check(
                    (fusewire_chaos_set_enabled(&mut c, a as u8) as u32),
                    &[OK],
                    "set_enabled",
                );
            }
            _ => {
                let mut next = cfg;
                next.fault_rate_ppm = a;
                next.latency_min = x & 0xFFFF;
                next.latency_max = index & 0xFFFF;
                next.latency_rate_ppm = a.rotate_left(7);
                next.enabled = (x >> 40) as u8;
                let mut e: fusewire_config_error = zeroed();
                let st = (fusewire_chaos_set_config(&mut c, &next, &mut e) as u32);
                check_error(st, &e, "chaos_set_config");
                if st == OK {
                    cfg = next;
                }
            }
        }
        let was_on = on;
        check(
            (fusewire_chaos_calls(&c, &mut calls, &mut on) as u32),
            &[OK],
            "calls",
        );
        let moved = calls.wrapping_sub(before);
        assert!(
            moved == u64::from(op % 5 < 2 && was_on != 0),
            "the count moved by {moved}"
        );
        assert!(on < 2);
    }
}

/// One pool capacity's functions, so one driver runs both.
trait CPool {
    const CAP: u32;
    unsafe fn init(
        &mut self,
        c: *const fusewire_pool_config,
        n: u32,
        e: *mut fusewire_config_error,
    ) -> u32;
    unsafe fn pick(&mut self, now: u64, avoid: Option<u32>, k: *mut fusewire_pool_pick) -> u32;
    unsafe fn failover(
        &mut self,
        now: u64,
        prev: u32,
        b: *mut fusewire_budget,
        k: *mut fusewire_pool_pick,
    ) -> u32;
    unsafe fn record(
        &mut self,
        now: u64,
        k: fusewire_pool_pick,
        r: u32,
        e: *mut fusewire_pool_event,
    ) -> u32;
    unsafe fn release(&mut self, k: fusewire_pool_pick) -> u32;
    unsafe fn poll(&mut self, now: u64, e: *mut fusewire_pool_event, cap: u32, n: *mut u32) -> u32;
    unsafe fn stats(&self, now: u64, i: u32, s: *mut fusewire_endpoint_stats) -> u32;
    unsafe fn endpoints(&self, n: *mut u32, m: *mut u32) -> u32;
}

macro_rules! c_pool {
    ($t:ty, $cap:expr, $init:ident, $pick:ident, $avoid:ident, $failover:ident, $record:ident,
     $release:ident, $poll:ident, $stats:ident, $endpoints:ident) => {
        impl CPool for $t {
            const CAP: u32 = $cap;
            unsafe fn init(
                &mut self,
                c: *const fusewire_pool_config,
                n: u32,
                e: *mut fusewire_config_error,
            ) -> u32 {
                ($init(self, c, n, e) as u32)
            }
            unsafe fn pick(
                &mut self,
                now: u64,
                avoid: Option<u32>,
                k: *mut fusewire_pool_pick,
            ) -> u32 {
                (match avoid {
                    Some(a) => $avoid(self, tick(now), a, k),
                    None => $pick(self, tick(now), k),
                } as u32)
            }
            unsafe fn failover(
                &mut self,
                now: u64,
                prev: u32,
                b: *mut fusewire_budget,
                k: *mut fusewire_pool_pick,
            ) -> u32 {
                ($failover(self, tick(now), prev, b, k) as u32)
            }
            unsafe fn record(
                &mut self,
                now: u64,
                k: fusewire_pool_pick,
                r: u32,
                e: *mut fusewire_pool_event,
            ) -> u32 {
                ($record(self, tick(now), k, r, e) as u32)
            }
            unsafe fn release(&mut self, k: fusewire_pool_pick) -> u32 {
                ($release(self, k) as u32)
            }
            unsafe fn poll(
                &mut self,
                now: u64,
                e: *mut fusewire_pool_event,
                cap: u32,
                n: *mut u32,
            ) -> u32 {
                ($poll(self, tick(now), e, cap, n) as u32)
            }
            unsafe fn stats(&self, now: u64, i: u32, s: *mut fusewire_endpoint_stats) -> u32 {
                ($stats(self, tick(now), i, s) as u32)
            }
            unsafe fn endpoints(&self, n: *mut u32, m: *mut u32) -> u32 {
                ($endpoints(self, n, m) as u32)
            }
        }
    };
}
c_pool!(
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
c_pool!(
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

/// A pool of either capacity from an arbitrary config and endpoint count,
/// driven with arbitrary picks, failovers, records, releases and polls
/// (time moves forward or is passed stale; the pool clamps it). After
/// every call: never more than `max_ejected` endpoints ejected (and never
/// all); a pick that is not panic routing is a healthy endpoint, and panic
/// routing only when none is; a failover or an avoiding pick never returns
/// to the endpoint avoided while another is healthy; every ejection ends
/// within `max_ejection_time + ejection_jitter` ticks and is reported by
/// the first poll at or after its end (or replaced by a new ejection);
/// after the input, a poll past every end returns them all.
unsafe fn pool<P: CPool>(u: &mut Unstructured, ops: Vec<(u8, u32, u64, u64)>) {
    let mut cfg: fusewire_pool_config = from_bytes(u);
    if u.arbitrary::<bool>().unwrap_or(false) {
        // Half the inputs: a config in range with times that ops reach, so
        // ejections start and end within the input.
        cfg.interval = cfg.interval % 50_000 + 1;
        cfg.base_ejection_time = cfg.base_ejection_time % 50_000 + 1;
        cfg.max_ejection_time = cfg.base_ejection_time + cfg.max_ejection_time % 200_000;
        cfg.ejection_jitter %= 1000;
        cfg.max_ejection_percent %= 101;
        cfg.consecutive_failures %= 6;
        cfg.consecutive_gateway_failures %= 6;
        cfg.success_rate_minimum_hosts %= 6;
        cfg.success_rate_request_volume %= 20;
    }
    let n_in: u32 = u32::from(u.arbitrary::<u8>().unwrap_or(0)) % (P::CAP + 2);
    let mut p: P = zeroed();
    let mut e: fusewire_config_error = zeroed();
    let st = p.init(&cfg, n_in, &mut e);
    check_error(st, &e, "pool_init");
    let mut k = fusewire_pool_pick::default();
    if st != OK {
        check(
            p.pick(0, None, &mut k),
            &[NOT_INITIALIZED],
            "pick after a failed init",
        );
        return;
    }
    let n = n_in;
    let (mut count, mut max) = (0u32, 0u32);
    check(p.endpoints(&mut count, &mut max), &[OK], "endpoints");
    assert_eq!(count, n);
    assert!(
        max <= n.saturating_sub(1) && (n == 1 || max >= 1),
        "max_ejected {max} of {n}"
    );
    let longest = cfg
        .max_ejection_time
        .max(1)
        .saturating_add(cfg.ejection_jitter);
    let mut budget: fusewire_budget = zeroed();
    let bc = fusewire_budget_config {
        max_tokens: 10,
        token_ratio_milli: 100,
    };
    check(
        (fusewire_budget_init(&mut budget, &bc, null_mut()) as u32),
        &[OK],
        "budget",
    );
    // Ejections not yet reported as ended: endpoint -> until.
    let mut pending: Vec<Option<u64>> = vec![None; n as usize];
    let mut picks: Vec<fusewire_pool_pick> = Vec::new();
    let mut t = 0u64; // the pool's clock: the newest now passed
    let mut evs = vec![fusewire_pool_event::default(); P::CAP as usize];
    let healthy = |p: &P, t: u64| -> Vec<bool> {
        (0..n)
            .map(|i| {
                let mut s = fusewire_endpoint_stats::default();
                check(p.stats(t, i, &mut s), &[OK], "stats");
                assert!(s.ejected < 2);
                s.ejected == 0
            })
            .collect()
    };
    let ejected = |pending: &mut Vec<Option<u64>>, ev: &fusewire_pool_event, t: u64| {
        assert_eq!(ev.kind, fusewire_pool_event_kind::Ejected as u32);
        assert!(ev.endpoint < n && ev.reason < 3, "event out of range");
        assert!(
            ev.until > t && ev.until <= t.saturating_add(longest),
            "ejection to {} at {t}",
            ev.until
        );
        pending[ev.endpoint as usize] = Some(ev.until);
    };
    for (op, a, now, x) in ops {
        // Mostly forward by a little; sometimes a stale or a far reading.
        let now = match op >> 5 {
            0 => now,
            1 => t.saturating_sub(x % 1000),
            _ => t.saturating_add(now % 40_000),
        };
        // The pool's clock moves only on the calls that reach the core.
        let tn = t.max(now);
        let before = healthy(&p, tn);
        match op % 6 {
            0 | 1 => {
                let avoid = (op % 6 == 1).then_some(a % (n + 1));
                let st = p.pick(now, avoid, &mut k);
                if avoid.is_some_and(|v| v >= n) {
                    check(st, &[INVALID_ARGUMENT], "avoid out of range");
                    continue;
                }
                check(st, &[OK], "pick");
                t = tn;
                assert!(k.endpoint < n && k.panic < 2);
                let any = before.iter().any(|h| *h);
                assert_eq!(k.panic == 1, !any, "panic routing iff none is healthy");
                if k.panic == 0 {
                    assert!(
                        before[k.endpoint as usize],
                        "picked ejected endpoint {}",
                        k.endpoint
                    );
                }
                if let Some(v) = avoid {
                    let others = (0..n).any(|i| i != v && before[i as usize]);
                    assert!(
                        !(others && k.endpoint == v),
                        "returned to the avoided endpoint"
                    );
                }
                picks.push(k);
            }
            2 => {
                let prev = a % n;
                let st = p.failover(now, prev, &mut budget, &mut k);
                check(st, &[OK, 8], "failover");
                if st == OK {
                    t = tn;
                    let others = (0..n).any(|i| i != prev && before[i as usize]);
                    assert!(
                        !(others && k.endpoint == prev),
                        "failover returned to {prev}"
                    );
                    assert!(k.panic == 1 || before[k.endpoint as usize]);
                    picks.push(k);
                }
                if x & 1 == 0 {
                    fusewire_budget_record_success(&mut budget);
                }
            }
            3 => {
                let k = if picks.is_empty() || a & 8 != 0 {
                    fusewire_pool_pick {
                        endpoint: a % (n + 1),
                        panic: 0,
                    }
                } else {
                    picks.swap_remove(a as usize % picks.len())
                };
                let mut ev = fusewire_pool_event::default();
                let st = p.record(now, k, (x % 4) as u32, &mut ev);
                if k.endpoint >= n || x % 4 == 3 {
                    check(st, &[INVALID_ARGUMENT], "record out of range");
                } else {
                    check(st, &[OK], "record");
                    t = tn;
                    if ev.kind != 0 {
                        assert_eq!(ev.endpoint, k.endpoint, "record ejected another endpoint");
                        ejected(&mut pending, &ev, t);
                    }
                }
            }
            4 => {
                if let Some(k) = picks.pop() {
                    check(p.release(k), &[OK], "release");
                }
            }
            _ => {
                let mut got = 0u32;
                let small = a % (n + 1);
                if small < n {
                    check(
                        p.poll(now, evs.as_mut_ptr(), small, &mut got),
                        &[INVALID_ARGUMENT],
                        "poll small",
                    );
                }
                check(
                    p.poll(now, evs.as_mut_ptr(), P::CAP, &mut got),
                    &[OK],
                    "poll",
                );
                t = tn;
                assert!(got <= n);
                let list = &evs[..got as usize];
                let mut seen = vec![false; n as usize];
                for ev in list {
                    assert!(ev.endpoint < n);
                    assert!(
                        !seen[ev.endpoint as usize],
                        "two events for {}",
                        ev.endpoint
                    );
                    seen[ev.endpoint as usize] = true;
                    if ev.kind == fusewire_pool_event_kind::Returned as u32 {
                        let until = pending[ev.endpoint as usize].take();
                        assert!(
                            until.is_some_and(|u| u <= t),
                            "returned {} early",
                            ev.endpoint
                        );
                    } else {
                        ejected(&mut pending, ev, t);
                    }
                }
                for (i, until) in pending.iter().enumerate() {
                    assert!(
                        until.is_none_or(|u| u > t),
                        "ejection of {i} ended unreported"
                    );
                }
            }
        }
        let after = healthy(&p, t);
        let out = after.iter().filter(|h| !**h).count() as u32;
        assert!(out <= max, "{out} ejected, max {max}");
    }
    // Every ejection ends: a poll past the longest returns them all (one
    // may be ejected again by that poll's success-rate check, whose counts
    // then restart, so a second round past that one ends it too).
    for _ in 0..3 {
        let Some(end) = pending.iter().flatten().max().copied() else {
            break;
        };
        if end == u64::MAX {
            return; // the end of time: nothing can be asked after it
        }
        let mut got = 0u32;
        check(
            p.poll(end, evs.as_mut_ptr(), P::CAP, &mut got),
            &[OK],
            "last poll",
        );
        t = t.max(end);
        for ev in &evs[..got as usize] {
            if ev.kind == fusewire_pool_event_kind::Returned as u32 {
                pending[ev.endpoint as usize] = None;
            } else {
                ejected(&mut pending, ev, t);
            }
        }
    }
    assert!(
        pending.iter().all(Option::is_none),
        "an ejection never ended"
    );
    assert!(healthy(&p, t).iter().all(|h| *h));
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let which: u8 = u.arbitrary().unwrap_or(0);
    let ops: Vec<(u8, u32, u64, u64)> = u.arbitrary().unwrap_or_default();
    // SAFETY: every pointer passed is valid for the call or deliberately NULL.
    unsafe {
        match which % 10 {
            0 => {
                let cfg: fusewire_breaker_config = from_bytes(&mut u);
                let mut b: fusewire_breaker = zeroed();
                let mut e: fusewire_config_error = zeroed();
                let st = (fusewire_breaker_init(&mut b, &cfg, &mut e) as u32);
                check_error(st, &e, "breaker_init");
                check(
                    (fusewire_breaker_init(null_mut(), &cfg, null_mut()) as u32),
                    &[NULL_ARGUMENT],
                    "breaker_init(NULL)",
                );
                if st != OK {
                    let mut s = 0u32;
                    check(
                        (fusewire_breaker_state(&b, &mut s) as u32),
                        &[NOT_INITIALIZED],
                        "state of a failed init",
                    );
                    return;
                }
                let g = garbage(&mut u, &b);
                let mut s = 0u32;
                check(
                    (fusewire_breaker_state(&g, &mut s) as u32),
                    &[NOT_INITIALIZED],
                    "state of garbage",
                );
                // Misaligned: the same bytes one byte further on.
                let mut buf = [0u64; 40];
                let p = (buf.as_mut_ptr() as *mut u8).add(1) as *mut fusewire_breaker;
                check(
                    (fusewire_breaker_poll(p, tick(0), null_mut()) as u32),
                    &[INVALID_ARGUMENT, NOT_INITIALIZED],
                    "poll misaligned",
                );
                drive(&mut b, ops);
            }
            1 => {
                let cfg: fusewire_bucket_config = from_bytes(&mut u);
                let mut b: fusewire_bucket = zeroed();
                let mut e: fusewire_config_error = zeroed();
                let st = (fusewire_bucket_init(&mut b, &cfg, &mut e) as u32);
                check_error(st, &e, "bucket_init");
                if st != OK {
                    return;
                }
                let g = garbage(&mut u, &b);
                let mut avail = 0u32;
                check(
                    (fusewire_bucket_available(&g, tick(0), &mut avail) as u32),
                    &[NOT_INITIALIZED],
                    "available of garbage",
                );
                let mut wait = 0u64;
                for (op, a, now, x) in ops {
                    let st = match op % 4 {
                        0 => {
                            (fusewire_bucket_acquire(
                                &mut b,
                                tick(now),
                                a,
                                if x & 1 == 0 { &mut wait } else { null_mut() },
                            ) as u32)
                        }
                        1 => (fusewire_bucket_refund(&mut b, tick(now), a) as u32),
                        2 => {
                            let mut e: fusewire_config_error = zeroed();
                            let st =
                                (fusewire_bucket_set_rate(&mut b, tick(now), a, x, &mut e) as u32);
                            check_error(st, &e, "set_rate");
                            st
                        }
                        _ => (fusewire_bucket_available(&b, tick(now), null_mut()) as u32),
                    };
                    check(st, &[OK, INVALID_CONFIG, 6, 7, NULL_ARGUMENT], "bucket op");
                    check(
                        (fusewire_bucket_available(&b, tick(now), &mut avail) as u32),
                        &[OK],
                        "available",
                    );
                    assert!(avail <= cfg.burst, "more tokens than the burst");
                }
            }
            2 => {
                let cfg: fusewire_budget_config = from_bytes(&mut u);
                let mut b: fusewire_budget = zeroed();
                let mut e: fusewire_config_error = zeroed();
                let st = (fusewire_budget_init(&mut b, &cfg, &mut e) as u32);
                check_error(st, &e, "budget_init");
                if st != OK {
                    return;
                }
                for (op, ..) in ops {
                    let st = match op % 3 {
                        0 => (fusewire_budget_record_success(&mut b) as u32),
                        1 => (fusewire_budget_record_failure(&mut b) as u32),
                        _ => (fusewire_budget_try_retry(&mut b) as u32),
                    };
                    check(st, &[OK, 8], "budget op");
                    let (mut t, mut th) = (0u64, 0u64);
                    check(
                        (fusewire_budget_tokens(&b, &mut t, &mut th) as u32),
                        &[OK],
                        "tokens",
                    );
                    assert!(t <= u64::from(cfg.max_tokens) * 1000);
                }
            }
            3 => {
                let cfg: fusewire_bulkhead_config = from_bytes(&mut u);
                let mut b: fusewire_bulkhead = zeroed();
                let mut e: fusewire_config_error = zeroed();
                let st = (fusewire_bulkhead_init(&mut b, &cfg, &mut e) as u32);
                check_error(st, &e, "bulkhead_init");
                if st != OK {
                    return;
                }
                let mut slots: Vec<fusewire_bulkhead_slot> = Vec::new();
                for (op, a, now, x) in ops {
                    let st = if op & 1 == 0 {
                        let mut s = fusewire_bulkhead_slot::default();
                        let st =
                            (fusewire_bulkhead_acquire(&mut b, tick(now), a % 4, &mut s) as u32);
                        if st == OK {
                            slots.push(s);
                        }
                        if a % 4 == 3 {
                            assert_eq!(st, INVALID_ARGUMENT, "priority 3 accepted");
                        }
                        st
                    } else {
                        let s = if slots.is_empty() || a & 4 != 0 {
                            fusewire_bulkhead_slot { raw: x }
                        } else {
                            slots.swap_remove(a as usize % slots.len())
                        };
                        (fusewire_bulkhead_release(&mut b, tick(now), s) as u32)
                    };
                    check(st, &[OK, INVALID_ARGUMENT, 9, 10, 15], "bulkhead op");
                    let (mut in_use, mut avail) = (0u32, 0u32);
                    check(
                        (fusewire_bulkhead_usage(&b, 0, &mut in_use, &mut avail) as u32),
                        &[OK],
                        "usage",
                    );
                    assert!(in_use <= cfg.limit && avail <= cfg.limit - in_use);
                }
            }
            4 => {
                let cfg: fusewire_retry_config = from_bytes(&mut u);
                let mut r: fusewire_retry = zeroed();
                let mut e: fusewire_config_error = zeroed();
                let st = (fusewire_retry_init(&mut r, &cfg, &mut e) as u32);
                check_error(st, &e, "retry_init");
                if st != OK {
                    return;
                }
                for (op, _, now, x) in ops {
                    let mut d = 0u64;
                    let st = if op & 1 == 0 {
                        (fusewire_retry_start(&mut r, tick(now)) as u32)
                    } else {
                        (fusewire_retry_next(&mut r, tick(now), x, &mut d) as u32)
                    };
                    check(st, &[OK, 11, 12, 16], "retry op");
                    if st == OK && op & 1 == 1 {
                        assert!(d <= cfg.backoff.cap.max(x), "delay above cap and hint");
                    }
                    let mut n = 0u32;
                    check(
                        (fusewire_retry_attempts(&r, &mut n) as u32),
                        &[OK],
                        "attempts",
                    );
                    assert!(n <= cfg.max_attempts);
                }
            }
            5 => {
                let cfg: fusewire_breaker_config = from_bytes(&mut u);
                let span: u64 = u.arbitrary().unwrap_or(0);
                let buckets: u32 = u.arbitrary().unwrap_or(0);
                let mut b: fusewire_timed_breaker = zeroed();
                let mut e: fusewire_config_error = zeroed();
                let st = (fusewire_timed_breaker_init(&mut b, &cfg, span, buckets, &mut e) as u32);
                check_error(st, &e, "timed_breaker_init");
                if st == OK {
                    drive(&mut b, ops);
                }
            }
            6 => {
                let cfg: fusewire_breaker_config = from_bytes(&mut u);
                let mut b: fusewire_shared_breaker = zeroed();
                let mut e: fusewire_config_error = zeroed();
                let st = (fusewire_shared_breaker_init(&mut b, &cfg, &mut e) as u32);
                check_error(st, &e, "shared_breaker_init");
                if st == OK {
                    drive(&mut b, ops);
                }
            }
            8 => chaos(&mut u, ops),
            9 => {
                if ops.first().is_some_and(|o| o.0 & 1 == 0) {
                    pool::<fusewire_pool4>(&mut u, ops);
                } else {
                    pool::<fusewire_pool16>(&mut u, ops);
                }
            }
            _ => {
                let cfg: fusewire_backoff_config = from_bytes(&mut u);
                let seed: u64 = u.arbitrary().unwrap_or(0);
                let mut b: fusewire_backoff = zeroed();
                let mut e: fusewire_config_error = zeroed();
                let st = (fusewire_backoff_init(&mut b, &cfg, seed, &mut e) as u32);
                check_error(st, &e, "backoff_init");
                check(
                    (fusewire_backoff_init(&mut b, null(), seed, null_mut()) as u32),
                    &[NULL_ARGUMENT],
                    "backoff_init(NULL config)",
                );
                if st != OK {
                    return;
                }
                for (op, a, _, x) in ops {
                    let mut d = 0u64;
                    let st = match op & 7 {
                        0 => (fusewire_backoff_reset(&mut b) as u32),
                        1 => (fusewire_backoff_raw(&b, a, &mut d) as u32),
                        2 => (fusewire_backoff_delay(&mut b, a, x, &mut d) as u32),
                        _ => (fusewire_backoff_next(&mut b, &mut d) as u32),
                    };
                    check(st, &[OK], "backoff op");
                    assert!(d <= cfg.cap, "delay above cap");
                }
            }
        }
        for s in 0..20u32 {
            assert!(!fusewire_status_text(s).is_null());
            assert!(!fusewire_field_text(s).is_null());
            assert!(!fusewire_problem_text(s).is_null());
        }
    }
});
