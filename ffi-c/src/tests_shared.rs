//! The shared forms' extern "C" functions called as C would call them (also
//! under Miri): every function and error code, the same scenarios run
//! against the single-owner C form with identical answers required, and a
//! few threads racing on one object.

use core::mem::{align_of, size_of, MaybeUninit};
use core::ptr::{addr_of, addr_of_mut, null, null_mut};

use super::*;
use fusewire_status as S;

fn zeroed<T>() -> T {
    // SAFETY: the C structs are arrays of integers (or of cells of them);
    // all-zero is valid for them.
    unsafe { MaybeUninit::zeroed().assume_init() }
}

fn all_zero<T>(x: &T) -> bool {
    // SAFETY: reads the bytes of a live value of plain integers.
    let bytes =
        unsafe { core::slice::from_raw_parts((x as *const T).cast::<u8>(), size_of::<T>()) };
    bytes.iter().all(|b| *b == 0)
}

fn no_error() -> fusewire_config_error {
    fusewire_config_error {
        field: 0,
        problem: 0,
    }
}

/// One object shared by reference between test threads, as C shares a
/// pointer (the C structs hold cells, so they are not `Sync` in Rust).
struct Share<T>(T);
// SAFETY: every access after init goes through the lock-free functions.
unsafe impl<T> Sync for Share<T> {}

fn breaker_cfg(min_calls: u32, probes: u32) -> fusewire_breaker_config {
    let mut c: fusewire_breaker_config = zeroed();
    assert_eq!(unsafe { fusewire_breaker_config_default(&mut c) }, S::Ok);
    c.min_calls = min_calls;
    c.half_open_probes = probes;
    c
}

#[test]
fn sizes_are_pinned() {
    assert_eq!(size_of::<fusewire_shared_breaker>(), 200);
    assert_eq!(size_of::<fusewire_shared_bucket>(), 40);
    assert_eq!(size_of::<fusewire_shared_budget>(), 40);
    assert_eq!(size_of::<fusewire_shared_bulkhead>(), 120);
    assert_eq!(align_of::<fusewire_shared_breaker>(), 8);
    assert_eq!(align_of::<fusewire_shared_bucket>(), 8);
    assert_eq!(align_of::<fusewire_shared_budget>(), 8);
    assert_eq!(align_of::<fusewire_shared_bulkhead>(), 8);
}

/// A breaker's C functions, single-owner or shared, behind one face so one
/// script drives both.
trait Door {
    unsafe fn acquire(
        &mut self,
        now: u64,
        p: *mut u64,
        wait: *mut u64,
        t: *mut fusewire_transition,
    ) -> S;
    unsafe fn record(&mut self, p: u64, o: u32, d: u64, now: u64, t: *mut fusewire_transition)
        -> S;
    unsafe fn release(&mut self, p: u64, now: u64, t: *mut fusewire_transition) -> S;
    /// 0 poll, 1 trip, 2 close, 3 force_open, 4 disable, 5 reset.
    unsafe fn command(&mut self, which: u8, now: u64, t: *mut fusewire_transition) -> S;
    unsafe fn state(&mut self, s: *mut u32) -> S;
    unsafe fn snapshot(&mut self, now: u64, s: *mut fusewire_breaker_stats) -> S;
}

struct Single(fusewire_breaker);
struct Shared(fusewire_shared_breaker);

impl Door for Single {
    unsafe fn acquire(
        &mut self,
        now: u64,
        p: *mut u64,
        w: *mut u64,
        t: *mut fusewire_transition,
    ) -> S {
        unsafe { fusewire_breaker_acquire(&mut self.0, tick(now), p.cast(), w, t) }
    }
    unsafe fn record(
        &mut self,
        p: u64,
        o: u32,
        d: u64,
        now: u64,
        t: *mut fusewire_transition,
    ) -> S {
        unsafe { fusewire_breaker_record(&mut self.0, tick(now), pm(p), o, d, t) }
    }
    unsafe fn release(&mut self, p: u64, now: u64, t: *mut fusewire_transition) -> S {
        unsafe { fusewire_breaker_release(&mut self.0, tick(now), pm(p), t) }
    }
    unsafe fn command(&mut self, which: u8, now: u64, t: *mut fusewire_transition) -> S {
        let b = &mut self.0;
        unsafe {
            match which {
                0 => fusewire_breaker_poll(b, tick(now), t),
                1 => fusewire_breaker_trip(b, tick(now), t),
                2 => fusewire_breaker_close(b, tick(now), t),
                3 => fusewire_breaker_force_open(b, tick(now), t),
                4 => fusewire_breaker_disable(b, tick(now), t),
                _ => fusewire_breaker_reset(b, tick(now), t),
            }
        }
    }
    unsafe fn state(&mut self, s: *mut u32) -> S {
        unsafe { fusewire_breaker_state(&self.0, s) }
    }
    unsafe fn snapshot(&mut self, now: u64, s: *mut fusewire_breaker_stats) -> S {
        unsafe { fusewire_breaker_snapshot(&mut self.0, tick(now), s) }
    }
}

impl Door for Shared {
    unsafe fn acquire(
        &mut self,
        now: u64,
        p: *mut u64,
        w: *mut u64,
        t: *mut fusewire_transition,
    ) -> S {
        unsafe { fusewire_shared_breaker_acquire(&self.0, tick(now), p.cast(), w, t) }
    }
    unsafe fn record(
        &mut self,
        p: u64,
        o: u32,
        d: u64,
        now: u64,
        t: *mut fusewire_transition,
    ) -> S {
        unsafe { fusewire_shared_breaker_record(&self.0, tick(now), pm(p), o, d, t) }
    }
    unsafe fn release(&mut self, p: u64, now: u64, t: *mut fusewire_transition) -> S {
        unsafe { fusewire_shared_breaker_release(&self.0, tick(now), pm(p), t) }
    }
    unsafe fn command(&mut self, which: u8, now: u64, t: *mut fusewire_transition) -> S {
        let b = &self.0;
        unsafe {
            match which {
                0 => fusewire_shared_breaker_poll(b, tick(now), t),
                1 => fusewire_shared_breaker_trip(b, tick(now), t),
                2 => fusewire_shared_breaker_close(b, tick(now), t),
                3 => fusewire_shared_breaker_force_open(b, tick(now), t),
                4 => fusewire_shared_breaker_disable(b, tick(now), t),
                _ => fusewire_shared_breaker_reset(b, tick(now), t),
            }
        }
    }
    unsafe fn state(&mut self, s: *mut u32) -> S {
        unsafe { fusewire_shared_breaker_state(&self.0, s) }
    }
    unsafe fn snapshot(&mut self, now: u64, s: *mut fusewire_breaker_stats) -> S {
        unsafe { fusewire_shared_breaker_snapshot(&self.0, tick(now), s) }
    }
}

/// Everything a breaker said, in order.
#[derive(Debug, PartialEq)]
enum Said {
    Acquire(S, u64, u64, fusewire_transition),
    Record(S, fusewire_transition),
    Command(S, fusewire_transition),
    State(S, u32),
    Snapshot(S, fusewire_breaker_stats),
}

/// The scenario both forms must answer identically: the core doc example
/// (four failures, rejected with 990 left), two probes with a release and
/// an ignored probe giving slots back, a failed probe reopening with a
/// longer exponential wait, probes passing, a stale permit, a timeout with a
/// slow call, every host command, and snapshots along the way.
fn breaker_script(d: &mut dyn Door) -> Vec<Said> {
    let mut log = Vec::new();
    let acquire = |d: &mut dyn Door, log: &mut Vec<Said>, now| {
        let (mut p, mut w, mut t) = (0u64, 0u64, fusewire_transition::default());
        let s = unsafe { d.acquire(now, &mut p, &mut w, &mut t) };
        // The generation and probe bits: the ticket and check tag above
        // them are the single-owner form's (the shared form tags only).
        log.push(Said::Acquire(s, p & 0x1_FFFF, w, t));
        p
    };
    let record = |d: &mut dyn Door, log: &mut Vec<Said>, p, o, dur, now| {
        let mut t = fusewire_transition::default();
        let s = unsafe { d.record(p, o, dur, now, &mut t) };
        log.push(Said::Record(s, t));
    };
    let command = |d: &mut dyn Door, log: &mut Vec<Said>, which, now| {
        let mut t = fusewire_transition::default();
        let s = unsafe { d.command(which, now, &mut t) };
        log.push(Said::Command(s, t));
    };
    let look = |d: &mut dyn Door, log: &mut Vec<Said>, now| {
        let (mut st, mut sn) = (9u32, zeroed::<fusewire_breaker_stats>());
        let s = unsafe { d.state(&mut st) };
        log.push(Said::State(s, st));
        let s = unsafe { d.snapshot(now, &mut sn) };
        // Permit bookkeeping is the single-owner form's only (the shared
        // form reports no permits out and refuses only made-up permits).
        let sn = fusewire_breaker_stats {
            permits_out: 0,
            refused_permits: 0,
            ..sn
        };
        log.push(Said::Snapshot(s, sn));
    };
    let mut now = 0;
    for _ in 0..4 {
        let p = acquire(d, &mut log, now);
        record(d, &mut log, p, 1, 5, now);
        now += 10;
    }
    acquire(d, &mut log, now);
    look(d, &mut log, now);
    // Half-open at 1030: two probes, a third refused; released and ignored
    // probes give their slots back.
    let p1 = acquire(d, &mut log, 1030);
    let p2 = acquire(d, &mut log, 1031);
    acquire(d, &mut log, 1032);
    let mut t = fusewire_transition::default();
    let s = unsafe { d.release(p2, 1033, &mut t) };
    log.push(Said::Command(s, t));
    let p3 = acquire(d, &mut log, 1034);
    record(d, &mut log, p3, 3, 1, 1035);
    let p4 = acquire(d, &mut log, 1036);
    look(d, &mut log, 1036);
    // A failed probe reopens (second opening: 2000 ticks).
    record(d, &mut log, p1, 1, 1, 1040);
    record(d, &mut log, p4, 0, 1, 1041);
    acquire(d, &mut log, 1050);
    look(d, &mut log, 1050);
    command(d, &mut log, 0, 3039);
    command(d, &mut log, 0, 3040);
    let q1 = acquire(d, &mut log, 3041);
    let q2 = acquire(d, &mut log, 3042);
    record(d, &mut log, q1, 0, 1, 3043);
    record(d, &mut log, q2, 0, 1, 3044);
    // A made-up permit: refused by both forms (a second record of p1 would
    // be refused by the single-owner form only: permits count once there).
    record(d, &mut log, 0xDEAD_BEEF, 1, 1, 3045);
    let p = acquire(d, &mut log, 3046);
    record(d, &mut log, p, 2, 900, 3047);
    look(d, &mut log, 3048);
    for (which, at) in [
        (1, 4000),
        (1, 4001),
        (3, 4002),
        (4, 4004),
        (2, 4006),
        (5, 4007),
        (0, 4008),
    ] {
        command(d, &mut log, which, at);
        acquire(d, &mut log, at);
        look(d, &mut log, at);
    }
    log
}

#[test]
fn shared_breaker_answers_as_the_single_owner_one() {
    let mut cfg = breaker_cfg(4, 2);
    cfg.open_backoff.schedule = fusewire_schedule::Exponential as u32;
    cfg.open_backoff.factor_milli = 2000;
    cfg.open_backoff.cap = 8000;
    cfg.slow_call_duration = 500;
    let mut single = Single(zeroed());
    let mut shared = Shared(zeroed());
    unsafe {
        assert_eq!(
            fusewire_breaker_init(&mut single.0, &cfg, null_mut()),
            S::Ok
        );
        assert_eq!(
            fusewire_shared_breaker_init(&mut shared.0, &cfg, null_mut()),
            S::Ok
        );
    }
    let a = breaker_script(&mut single);
    let b = breaker_script(&mut shared);
    assert_eq!(a.len(), b.len());
    for (i, (x, y)) in a.iter().zip(&b).enumerate() {
        assert_eq!(x, y, "step {i}");
    }
    // Not vacuous: the doc example's numbers, and the probe limit.
    let t = |moved, from, to, reason| fusewire_transition {
        moved,
        from,
        to,
        reason,
    };
    assert_eq!(b[7], Said::Record(S::Ok, t(1, 0, 1, 0)));
    assert!(matches!(b[8], Said::Acquire(S::Rejected, _, 990, _)));
    assert!(matches!(b[11], Said::Acquire(S::Ok, _, _, tr) if tr == t(1, 1, 2, 3)));
    assert!(matches!(b[13], Said::Acquire(S::Rejected, ..)));
    assert!(b.contains(&Said::Record(S::Ok, t(1, 2, 1, 5))));
    assert!(b.contains(&Said::Record(S::Ok, t(1, 2, 0, 4))));
}

#[test]
fn shared_breaker_every_function_and_error() {
    let mut b: fusewire_shared_breaker = zeroed();
    let cfg = breaker_cfg(4, 1);
    let mut t = fusewire_transition {
        moved: 7,
        from: 7,
        to: 7,
        reason: 7,
    };
    let untouched = t;
    let mut e = no_error();
    let (mut p, mut w, mut st) = (5u64, 6u64, 9u32);
    let mut sn: fusewire_breaker_stats = zeroed();
    unsafe {
        // Zeroed (never initialised): every call refuses, writes nothing.
        let bp = addr_of!(b);
        assert_eq!(
            fusewire_shared_breaker_acquire(bp, tick(0), pout(&mut p), &mut w, &mut t),
            S::NotInitialized
        );
        assert_eq!(
            fusewire_shared_breaker_record(bp, tick(0), pm(0), 0, 0, &mut t),
            S::NotInitialized
        );
        assert_eq!(
            fusewire_shared_breaker_release(bp, tick(0), pm(0), &mut t),
            S::NotInitialized
        );
        for f in [
            fusewire_shared_breaker_poll,
            fusewire_shared_breaker_trip,
            fusewire_shared_breaker_close,
            fusewire_shared_breaker_force_open,
            fusewire_shared_breaker_disable,
            fusewire_shared_breaker_reset,
        ] {
            assert_eq!(f(bp, tick(0), &mut t), S::NotInitialized);
            assert_eq!(f(null(), tick(0), &mut t), S::NullArgument);
        }
        assert_eq!(
            fusewire_shared_breaker_state(bp, &mut st),
            S::NotInitialized
        );
        assert_eq!(
            fusewire_shared_breaker_snapshot(bp, tick(0), &mut sn),
            S::NotInitialized
        );
        assert_eq!((p, w, st, t), (5, 6, 9, untouched));
        // NULL objects and configs.
        assert_eq!(
            fusewire_shared_breaker_acquire(null(), tick(0), pout(&mut p), null_mut(), null_mut()),
            S::NullArgument
        );
        assert_eq!(
            fusewire_shared_breaker_record(null(), tick(0), pm(0), 0, 0, null_mut()),
            S::NullArgument
        );
        assert_eq!(
            fusewire_shared_breaker_release(null(), tick(0), pm(0), null_mut()),
            S::NullArgument
        );
        assert_eq!(
            fusewire_shared_breaker_state(null(), &mut st),
            S::NullArgument
        );
        assert_eq!(
            fusewire_shared_breaker_snapshot(null(), tick(0), &mut sn),
            S::NullArgument
        );
        assert_eq!(
            fusewire_shared_breaker_init(null_mut(), &cfg, null_mut()),
            S::NullArgument
        );
        assert_eq!(
            fusewire_shared_breaker_init(&mut b, null(), null_mut()),
            S::NullArgument
        );
        // Bad configs: the single-owner checks, plus at most 127 probes.
        let mut bad = cfg;
        bad.half_open_probes = 128;
        assert_eq!(
            fusewire_shared_breaker_init(&mut b, &bad, &mut e),
            S::InvalidConfig
        );
        assert_eq!(
            (e.field, e.problem),
            (
                fusewire_field::BreakerHalfOpenProbes as u32,
                fusewire_problem::OutOfRange as u32
            )
        );
        bad.half_open_probes = 0;
        assert_eq!(
            fusewire_shared_breaker_init(&mut b, &bad, &mut e),
            S::InvalidConfig
        );
        assert_eq!(
            (e.field, e.problem),
            (
                fusewire_field::BreakerHalfOpenProbes as u32,
                fusewire_problem::Zero as u32
            )
        );
        bad = cfg;
        bad.dwell_expiry = 2;
        assert_eq!(
            fusewire_shared_breaker_init(&mut b, &bad, &mut e),
            S::InvalidConfig
        );
        assert_eq!(e.field, fusewire_field::BreakerDwellExpiry as u32);
        bad = cfg;
        bad.failure_rate_ppm = 1_000_001;
        assert_eq!(
            fusewire_shared_breaker_init(&mut b, &bad, null_mut()),
            S::InvalidConfig
        );
        bad = cfg;
        bad.open_backoff.base = 0;
        assert_eq!(
            fusewire_shared_breaker_init(&mut b, &bad, &mut e),
            S::InvalidConfig
        );
        assert_eq!(e.field, fusewire_field::BackoffBase as u32);
        assert!(all_zero(&b), "a failed init writes nothing");
        bad.half_open_probes = 127;
        bad.open_backoff.base = 1000;
        assert_eq!(
            fusewire_shared_breaker_init(&mut b, &bad, null_mut()),
            S::Ok
        );

        let bp = addr_of!(b);
        // Required out-parameters, unknown outcome.
        assert_eq!(
            fusewire_shared_breaker_acquire(bp, tick(0), null_mut(), &mut w, &mut t),
            S::NullArgument
        );
        assert_eq!(
            fusewire_shared_breaker_state(bp, null_mut()),
            S::NullArgument
        );
        assert_eq!(
            fusewire_shared_breaker_snapshot(bp, tick(0), null_mut()),
            S::NullArgument
        );
        assert_eq!(
            fusewire_shared_breaker_acquire(bp, tick(0), pout(&mut p), null_mut(), null_mut()),
            S::Ok
        );
        assert_eq!(
            fusewire_shared_breaker_record(bp, tick(0), pm(p), 4, 0, &mut t),
            S::InvalidArgument
        );
        assert_eq!(t, untouched);
        assert_eq!(
            fusewire_shared_breaker_record(bp, tick(0), pm(p), 0, 1, null_mut()),
            S::Ok
        );
        assert_eq!(fusewire_shared_breaker_state(bp, &mut st), S::Ok);
        assert_eq!(st, fusewire_state::Closed as u32);
        assert_eq!(
            fusewire_shared_breaker_snapshot(bp, tick(1), &mut sn),
            S::Ok
        );
        assert_eq!((sn.successes, sn.state, sn.generation), (1, 0, 0));
        // Host commands, each reported once.
        assert_eq!(fusewire_shared_breaker_trip(bp, tick(5), &mut t), S::Ok);
        assert_eq!((t.moved, t.from, t.to, t.reason), (1, 0, 1, 7));
        assert_eq!(fusewire_shared_breaker_trip(bp, tick(5), &mut t), S::Ok);
        assert_eq!(t.moved, 0);
        // A snapshot does not move time-driven state (poll does).
        assert_eq!(
            fusewire_shared_breaker_snapshot(bp, tick(5000), &mut sn),
            S::Ok
        );
        assert_eq!((sn.state, sn.open_until), (1, 1005));
        assert_eq!(fusewire_shared_breaker_poll(bp, tick(5000), &mut t), S::Ok);
        assert_eq!((t.moved, t.to, t.reason), (1, 2, 3));
        assert_eq!(
            fusewire_shared_breaker_force_open(bp, tick(5001), &mut t),
            S::Ok
        );
        assert_eq!(
            fusewire_shared_breaker_acquire(bp, tick(5002), pout(&mut p), &mut w, null_mut()),
            S::Rejected
        );
        assert_eq!(w, u64::MAX);
        assert_eq!(
            fusewire_shared_breaker_disable(bp, tick(5003), &mut t),
            S::Ok
        );
        assert_eq!(t.to, fusewire_state::Disabled as u32 as u8);
        assert_eq!(
            fusewire_shared_breaker_acquire(bp, tick(5004), pout(&mut p), null_mut(), null_mut()),
            S::Ok
        );
        assert_eq!(
            fusewire_shared_breaker_release(bp, tick(5004), pm(p), &mut t),
            S::Ok
        );
        assert_eq!(t.moved, 0);
        assert_eq!(fusewire_shared_breaker_close(bp, tick(5005), &mut t), S::Ok);
        assert_eq!(t.to, 0);
        assert_eq!(fusewire_shared_breaker_reset(bp, tick(5006), &mut t), S::Ok);
        assert_eq!(
            fusewire_shared_breaker_snapshot(bp, tick(5006), &mut sn),
            S::Ok
        );
        assert_eq!((sn.successes, sn.state, sn.reopens), (0, 0, 0));
    }
}

#[test]
fn shared_objects_check_alignment_and_tags() {
    let mut words = [0u64; 40];
    let base = words.as_mut_ptr().cast::<u8>();
    let cb = fusewire_bucket_config {
        period: 1,
        tokens: 1,
        burst: 1,
    };
    let cg = fusewire_budget_config {
        max_tokens: 1,
        token_ratio_milli: 1,
    };
    let ck = fusewire_bulkhead_config {
        limit: 1,
        reserve_critical: 0,
        reserve_normal: 0,
        lease: 0,
    };
    unsafe {
        let odd = base.add(4);
        assert_eq!(
            fusewire_shared_breaker_init(odd.cast(), &breaker_cfg(4, 1), null_mut()),
            S::InvalidArgument
        );
        assert_eq!(
            fusewire_shared_bucket_init(odd.cast(), &cb, null_mut()),
            S::InvalidArgument
        );
        assert_eq!(
            fusewire_shared_budget_init(odd.cast(), &cg, null_mut()),
            S::InvalidArgument
        );
        assert_eq!(
            fusewire_shared_bulkhead_init(odd.cast(), &ck, null_mut()),
            S::InvalidArgument
        );
        assert_eq!(
            fusewire_shared_breaker_poll(odd.cast(), tick(0), null_mut()),
            S::InvalidArgument
        );
        assert_eq!(
            fusewire_shared_bucket_refund(odd.cast(), tick(0), 1),
            S::InvalidArgument
        );
        assert_eq!(
            fusewire_shared_budget_record_success(odd.cast()),
            S::InvalidArgument
        );
        assert_eq!(
            fusewire_shared_bulkhead_acquire(
                odd.cast(),
                tick(0),
                0,
                &mut fusewire_bulkhead_slot::default()
            ),
            S::InvalidArgument
        );
        assert!(words.iter().all(|w| *w == 0));

        // Garbage, and every other type's tag: not initialised.
        let p = words.as_mut_ptr();
        core::ptr::write_bytes(p, 0xA5, words.len());
        assert_eq!(
            fusewire_shared_breaker_poll(p.cast(), tick(0), null_mut()),
            S::NotInitialized
        );
        assert_eq!(
            fusewire_shared_bucket_refund(p.cast(), tick(0), 1),
            S::NotInitialized
        );
        assert_eq!(
            fusewire_shared_budget_record_failure(p.cast()),
            S::NotInitialized
        );
        assert_eq!(
            fusewire_shared_bulkhead_release(p.cast(), tick(0), fusewire_bulkhead_slot { raw: 0 }),
            S::NotInitialized
        );
        let p = words.as_mut_ptr();
        assert_eq!(fusewire_bucket_init(p.cast(), &cb, null_mut()), S::Ok);
        assert_eq!(
            fusewire_shared_bucket_refund(p.cast(), tick(0), 1),
            S::NotInitialized
        );
        assert_eq!(
            fusewire_shared_bucket_init(p.cast(), &cb, null_mut()),
            S::Ok
        );
        assert_eq!(
            fusewire_bucket_refund(p.cast(), tick(0), 1),
            S::NotInitialized
        );
        assert_eq!(
            fusewire_shared_budget_try_retry(p.cast()),
            S::NotInitialized
        );
        assert_eq!(
            fusewire_shared_breaker_poll(p.cast(), tick(0), null_mut()),
            S::NotInitialized
        );
        assert_eq!(
            fusewire_shared_bulkhead_acquire(
                p.cast(),
                tick(0),
                0,
                &mut fusewire_bulkhead_slot::default()
            ),
            S::NotInitialized
        );
        assert_eq!(
            fusewire_breaker_init(p.cast(), &breaker_cfg(4, 1), null_mut()),
            S::Ok
        );
        assert_eq!(
            fusewire_shared_breaker_poll(p.cast(), tick(0), null_mut()),
            S::NotInitialized
        );
        assert_eq!(
            fusewire_shared_breaker_init(p.cast(), &breaker_cfg(4, 1), null_mut()),
            S::Ok
        );
        assert_eq!(
            fusewire_breaker_poll(p.cast(), tick(0), null_mut()),
            S::NotInitialized
        );
        assert_eq!(
            fusewire_shared_budget_init(p.cast(), &cg, null_mut()),
            S::Ok
        );
        assert_eq!(fusewire_budget_record_failure(p.cast()), S::NotInitialized);
        assert_eq!(
            fusewire_shared_bulkhead_release(p.cast(), tick(0), fusewire_bulkhead_slot { raw: 0 }),
            S::NotInitialized
        );
        assert_eq!(
            fusewire_shared_bulkhead_init(p.cast(), &ck, null_mut()),
            S::Ok
        );
        assert_eq!(
            fusewire_bulkhead_acquire(p.cast(), tick(0), 0, &mut fusewire_bulkhead_slot::default()),
            S::NotInitialized
        );
        assert_eq!(
            fusewire_shared_budget_record_success(p.cast()),
            S::NotInitialized
        );
    }
}

/// A bucket's answers as C sees them.
fn bucket_script(
    acquire: &dyn Fn(u32, u64) -> (S, u64),
    refund: &dyn Fn(u32, u64) -> S,
    available: &dyn Fn(u64) -> (S, u32),
) -> Vec<(S, u64)> {
    let mut log = Vec::new();
    let steps: &[(u8, u32, u64)] = &[
        (2, 0, 0),
        (0, 1, 0),
        (0, 1, 0),
        (0, 1, 0),
        (0, 1, 0),
        (0, 1, 99),
        (0, 1, 100),
        (2, 0, 100),
        (2, 0, 400),
        (0, 4, 400),
        (0, 0, 400),
        (0, 3, 400),
        (1, 2, 400),
        (2, 0, 400),
        (0, 3, 400),
        (0, 2, 450),
        (1, 9, 460),
        (2, 0, 460),
        (2, 0, 1 << 40),
    ];
    for &(op, n, now) in steps {
        log.push(match op {
            0 => acquire(n, now),
            1 => (refund(n, now), 0),
            _ => {
                let (s, a) = available(now);
                (s, u64::from(a))
            }
        });
    }
    log
}

#[test]
fn shared_bucket_answers_as_the_single_owner_one() {
    // core bucket tests: starts_full_drains_and_says_when,
    // zero_is_free_and_more_than_burst_is_never, refund.
    let cfg = fusewire_bucket_config {
        period: 100,
        tokens: 1,
        burst: 3,
    };
    let mut single: fusewire_bucket = zeroed();
    let mut shared: fusewire_shared_bucket = zeroed();
    unsafe {
        assert_eq!(fusewire_bucket_init(&mut single, &cfg, null_mut()), S::Ok);
        assert_eq!(
            fusewire_shared_bucket_init(&mut shared, &cfg, null_mut()),
            S::Ok
        );
    }
    let sp = addr_of_mut!(single);
    let a = bucket_script(
        &|n, now| {
            let mut w = 0;
            (
                unsafe { fusewire_bucket_acquire(sp, tick(now), n, &mut w) },
                w,
            )
        },
        &|n, now| unsafe { fusewire_bucket_refund(sp, tick(now), n) },
        &|now| {
            let mut a = 0;
            (
                unsafe { fusewire_bucket_available(sp, tick(now), &mut a) },
                a,
            )
        },
    );
    let hp = addr_of!(shared);
    let b = bucket_script(
        &|n, now| {
            let mut w = 0;
            (
                unsafe { fusewire_shared_bucket_acquire(hp, tick(now), n, &mut w) },
                w,
            )
        },
        &|n, now| unsafe { fusewire_shared_bucket_refund(hp, tick(now), n) },
        &|now| {
            let mut a = 0;
            (
                unsafe { fusewire_shared_bucket_available(hp, tick(now), &mut a) },
                a,
            )
        },
    );
    assert_eq!(a, b);
    assert_eq!(b[4], (S::RateLimited, 100));
    assert_eq!(b[5], (S::RateLimited, 1));
    assert_eq!(b[9], (S::ExceedsBurst, 0));
    assert_eq!(b[13], (S::Ok, 2));
}

#[test]
fn shared_bucket_every_error() {
    let cfg = fusewire_bucket_config {
        period: 10,
        tokens: 1,
        burst: 5,
    };
    let mut b: fusewire_shared_bucket = zeroed();
    let mut e = no_error();
    let (mut w, mut n) = (7u64, 7u32);
    unsafe {
        let bp = addr_of!(b);
        assert_eq!(
            fusewire_shared_bucket_acquire(bp, tick(0), 1, &mut w),
            S::NotInitialized
        );
        assert_eq!(
            fusewire_shared_bucket_refund(bp, tick(0), 1),
            S::NotInitialized
        );
        assert_eq!(
            fusewire_shared_bucket_available(bp, tick(0), &mut n),
            S::NotInitialized
        );
        assert_eq!(
            fusewire_shared_bucket_acquire(null(), tick(0), 1, &mut w),
            S::NullArgument
        );
        assert_eq!(
            fusewire_shared_bucket_refund(null(), tick(0), 1),
            S::NullArgument
        );
        assert_eq!(
            fusewire_shared_bucket_available(null(), tick(0), &mut n),
            S::NullArgument
        );
        assert_eq!(
            fusewire_shared_bucket_init(null_mut(), &cfg, null_mut()),
            S::NullArgument
        );
        assert_eq!(
            fusewire_shared_bucket_init(&mut b, null(), null_mut()),
            S::NullArgument
        );
        assert_eq!((w, n), (7, 7));
        let mut bad = cfg;
        bad.burst = 0;
        assert_eq!(
            fusewire_shared_bucket_init(&mut b, &bad, &mut e),
            S::InvalidConfig
        );
        assert_eq!(
            (e.field, e.problem),
            (fusewire_field::BucketBurst as u32, 1)
        );
        bad = cfg;
        bad.tokens = 0;
        assert_eq!(
            fusewire_shared_bucket_init(&mut b, &bad, &mut e),
            S::InvalidConfig
        );
        assert_eq!(
            (e.field, e.problem),
            (fusewire_field::BucketTokens as u32, 1)
        );
        bad = cfg;
        bad.period = 0;
        assert_eq!(
            fusewire_shared_bucket_init(&mut b, &bad, &mut e),
            S::InvalidConfig
        );
        assert_eq!(e.field, fusewire_field::BucketPeriod as u32);
        // The shared form's own limit: burst * period below 2^63.
        bad = fusewire_bucket_config {
            period: 1 << 62,
            tokens: 1,
            burst: 2,
        };
        assert_eq!(
            fusewire_shared_bucket_init(&mut b, &bad, &mut e),
            S::InvalidConfig
        );
        assert_eq!(
            (e.field, e.problem),
            (fusewire_field::BucketBurst as u32, 2)
        );
        assert!(all_zero(&b), "a failed init writes nothing");
        assert_eq!(fusewire_bucket_init(&mut zeroed(), &bad, null_mut()), S::Ok);
        assert_eq!(fusewire_shared_bucket_init(&mut b, &cfg, null_mut()), S::Ok);
        let bp = addr_of!(b);
        assert_eq!(
            fusewire_shared_bucket_available(bp, tick(0), null_mut()),
            S::NullArgument
        );
        assert_eq!(
            fusewire_shared_bucket_acquire(bp, tick(0), 6, &mut w),
            S::ExceedsBurst
        );
        assert_eq!(w, 7);
        assert_eq!(
            fusewire_shared_bucket_acquire(bp, tick(0), 5, null_mut()),
            S::Ok
        );
        assert_eq!(
            fusewire_shared_bucket_acquire(bp, tick(0), 1, null_mut()),
            S::RateLimited
        );
    }
}

#[test]
fn shared_budget_answers_as_the_single_owner_one() {
    // core budget tests: follows_the_grpc_example.
    let cfg = fusewire_budget_config {
        max_tokens: 10,
        token_ratio_milli: 100,
    };
    let mut single: fusewire_budget = zeroed();
    let mut shared: fusewire_shared_budget = zeroed();
    let ops = b"FFFFRFRTSSSRTSFFFFFFFFFFFFRTSSSSSSSSSSSSSSR";
    let mut a = Vec::new();
    let mut b = Vec::new();
    unsafe {
        assert_eq!(fusewire_budget_init(&mut single, &cfg, null_mut()), S::Ok);
        assert_eq!(
            fusewire_shared_budget_init(&mut shared, &cfg, null_mut()),
            S::Ok
        );
        for op in ops {
            let (mut m, mut t) = (0, 0);
            let s = match op {
                b'F' => fusewire_budget_record_failure(&mut single),
                b'S' => fusewire_budget_record_success(&mut single),
                b'R' => fusewire_budget_try_retry(&mut single),
                _ => fusewire_budget_tokens(&single, &mut m, &mut t),
            };
            a.push((s, m, t));
        }
        let hp = addr_of!(shared);
        for op in ops {
            let (mut m, mut t) = (0, 0);
            let s = match op {
                b'F' => fusewire_shared_budget_record_failure(hp),
                b'S' => fusewire_shared_budget_record_success(hp),
                b'R' => fusewire_shared_budget_try_retry(hp),
                _ => fusewire_shared_budget_tokens(hp, &mut m, &mut t),
            };
            b.push((s, m, t));
        }
        assert_eq!(a, b);
        let (mut m1, mut t1, mut m2, mut t2) = (0, 0, 0, 0);
        assert_eq!(fusewire_budget_tokens(&single, &mut m1, &mut t1), S::Ok);
        assert_eq!(
            fusewire_shared_budget_tokens(&shared, &mut m2, &mut t2),
            S::Ok
        );
        assert_eq!((m1, t1), (m2, t2));
        assert_eq!((m2, t2), (1400, 3));
        assert_eq!(b[6], (S::Throttled, 0, 0));
        assert_eq!(b[7], (S::Ok, 5000, 1));
    }
}

#[test]
fn shared_budget_every_error() {
    let mut b: fusewire_shared_budget = zeroed();
    let mut e = no_error();
    let (mut m, mut t) = (7u64, 7u64);
    let cfg = fusewire_budget_config {
        max_tokens: 10,
        token_ratio_milli: 100,
    };
    unsafe {
        let bp = addr_of!(b);
        assert_eq!(fusewire_shared_budget_record_success(bp), S::NotInitialized);
        assert_eq!(fusewire_shared_budget_record_failure(bp), S::NotInitialized);
        assert_eq!(fusewire_shared_budget_try_retry(bp), S::NotInitialized);
        assert_eq!(
            fusewire_shared_budget_tokens(bp, &mut m, &mut t),
            S::NotInitialized
        );
        assert_eq!(
            fusewire_shared_budget_record_success(null()),
            S::NullArgument
        );
        assert_eq!(
            fusewire_shared_budget_record_failure(null()),
            S::NullArgument
        );
        assert_eq!(fusewire_shared_budget_try_retry(null()), S::NullArgument);
        assert_eq!(
            fusewire_shared_budget_tokens(null(), &mut m, &mut t),
            S::NullArgument
        );
        assert_eq!(
            fusewire_shared_budget_init(null_mut(), &cfg, null_mut()),
            S::NullArgument
        );
        assert_eq!(
            fusewire_shared_budget_init(&mut b, null(), null_mut()),
            S::NullArgument
        );
        assert_eq!((m, t), (7, 7));
        let bad = fusewire_budget_config {
            max_tokens: 0,
            token_ratio_milli: 1,
        };
        assert_eq!(
            fusewire_shared_budget_init(&mut b, &bad, &mut e),
            S::InvalidConfig
        );
        assert_eq!(
            (e.field, e.problem),
            (fusewire_field::BudgetMaxTokens as u32, 1)
        );
        let bad = fusewire_budget_config {
            max_tokens: 1,
            token_ratio_milli: 1001,
        };
        assert_eq!(
            fusewire_shared_budget_init(&mut b, &bad, &mut e),
            S::InvalidConfig
        );
        assert_eq!(
            (e.field, e.problem),
            (fusewire_field::BudgetTokenRatioMilli as u32, 2)
        );
        assert!(all_zero(&b), "a failed init writes nothing");
        assert_eq!(fusewire_shared_budget_init(&mut b, &cfg, null_mut()), S::Ok);
        assert_eq!(
            fusewire_shared_budget_tokens(&b, null_mut(), null_mut()),
            S::Ok
        );
        assert_eq!(fusewire_shared_budget_tokens(&b, &mut m, null_mut()), S::Ok);
        assert_eq!((m, t), (10_000, 7));
    }
}

#[test]
fn shared_bulkhead_answers_as_the_single_owner_one() {
    // core bulkhead tests: reserves_keep_the_last_slots_for_higher_priorities,
    // extra_release_is_reported_not_obeyed.
    let cfg = fusewire_bulkhead_config {
        limit: 5,
        reserve_critical: 1,
        reserve_normal: 1,
        lease: 0,
    };
    let mut single: fusewire_bulkhead = zeroed();
    let mut shared: fusewire_shared_bulkhead = zeroed();
    // (op, priority): 0 acquire, 1 release, 2 usage.
    let ops: &[(u8, u32)] = &[
        (0, 2),
        (0, 2),
        (0, 2),
        (0, 2),
        (2, 1),
        (0, 1),
        (0, 1),
        (0, 0),
        (0, 0),
        (0, 3),
        (1, 3),
        (2, 3),
        (2, 0),
        (1, 2),
        (1, 2),
        (1, 2),
        (1, 1),
        (1, 0),
        (1, 1),
        (2, 0),
        (2, 2),
    ];
    let mut a = Vec::new();
    let mut b = Vec::new();
    unsafe {
        assert_eq!(fusewire_bulkhead_init(&mut single, &cfg, null_mut()), S::Ok);
        assert_eq!(
            fusewire_shared_bulkhead_init(&mut shared, &cfg, null_mut()),
            S::Ok
        );
        for &(op, p) in ops {
            let (mut u, mut v) = (99, 99);
            let s = match op {
                0 => fusewire_bulkhead_acquire(
                    &mut single,
                    tick(0),
                    p,
                    &mut fusewire_bulkhead_slot::default(),
                ),
                1 => fusewire_bulkhead_release(
                    &mut single,
                    tick(0),
                    fusewire_bulkhead_slot { raw: u64::from(p) },
                ),
                _ => fusewire_bulkhead_usage(&single, p, &mut u, &mut v),
            };
            a.push((s, u, v));
        }
        let hp = addr_of!(shared);
        for &(op, p) in ops {
            let (mut u, mut v) = (99, 99);
            let s = match op {
                0 => fusewire_shared_bulkhead_acquire(
                    hp,
                    tick(0),
                    p,
                    &mut fusewire_bulkhead_slot::default(),
                ),
                1 => fusewire_shared_bulkhead_release(
                    hp,
                    tick(0),
                    fusewire_bulkhead_slot { raw: u64::from(p) },
                ),
                _ => fusewire_shared_bulkhead_usage(hp, p, &mut u, &mut v),
            };
            b.push((s, u, v));
        }
    }
    assert_eq!(a, b);
    assert_eq!(b[3].0, S::BulkheadFull);
    assert_eq!(b[4], (S::Ok, 3, 1));
    assert_eq!(b[9].0, S::InvalidArgument);
    assert_eq!(b[18].0, S::NotHeld);
    assert_eq!(b[19], (S::Ok, 0, 5));
}

#[test]
fn shared_bulkhead_every_error() {
    let mut b: fusewire_shared_bulkhead = zeroed();
    let mut e = no_error();
    let (mut u, mut v) = (7u32, 7u32);
    unsafe {
        let bp = addr_of!(b);
        assert_eq!(
            fusewire_shared_bulkhead_acquire(
                bp,
                tick(0),
                0,
                &mut fusewire_bulkhead_slot::default()
            ),
            S::NotInitialized
        );
        assert_eq!(
            fusewire_shared_bulkhead_release(bp, tick(0), fusewire_bulkhead_slot { raw: 0 }),
            S::NotInitialized
        );
        assert_eq!(
            fusewire_shared_bulkhead_usage(bp, 0, &mut u, &mut v),
            S::NotInitialized
        );
        assert_eq!(
            fusewire_shared_bulkhead_acquire(
                null(),
                tick(0),
                0,
                &mut fusewire_bulkhead_slot::default()
            ),
            S::NullArgument
        );
        assert_eq!(
            fusewire_shared_bulkhead_release(null(), tick(0), fusewire_bulkhead_slot { raw: 0 }),
            S::NullArgument
        );
        assert_eq!(
            fusewire_shared_bulkhead_usage(null(), 0, &mut u, &mut v),
            S::NullArgument
        );
        let mut cfg = fusewire_bulkhead_config {
            limit: 4,
            reserve_critical: 4,
            reserve_normal: 0,
            lease: 0,
        };
        assert_eq!(
            fusewire_shared_bulkhead_init(null_mut(), &cfg, null_mut()),
            S::NullArgument
        );
        assert_eq!(
            fusewire_shared_bulkhead_init(&mut b, null(), null_mut()),
            S::NullArgument
        );
        assert_eq!(
            fusewire_shared_bulkhead_init(&mut b, &cfg, &mut e),
            S::InvalidConfig
        );
        assert_eq!(
            (e.field, e.problem),
            (fusewire_field::BulkheadReserveCritical as u32, 4)
        );
        cfg.reserve_critical = 2;
        cfg.reserve_normal = 2;
        assert_eq!(
            fusewire_shared_bulkhead_init(&mut b, &cfg, &mut e),
            S::InvalidConfig
        );
        assert_eq!(
            (e.field, e.problem),
            (fusewire_field::BulkheadReserveNormal as u32, 4)
        );
        cfg.limit = 0;
        assert_eq!(
            fusewire_shared_bulkhead_init(&mut b, &cfg, &mut e),
            S::InvalidConfig
        );
        assert_eq!(
            (e.field, e.problem),
            (fusewire_field::BulkheadLimit as u32, 1)
        );
        assert!(all_zero(&b), "a failed init writes nothing");
        cfg = fusewire_bulkhead_config {
            limit: 2,
            reserve_critical: 0,
            reserve_normal: 0,
            lease: 0,
        };
        assert_eq!(
            fusewire_shared_bulkhead_init(&mut b, &cfg, null_mut()),
            S::Ok
        );
        let bp = addr_of!(b);
        assert_eq!(
            fusewire_shared_bulkhead_acquire(
                bp,
                tick(0),
                3,
                &mut fusewire_bulkhead_slot::default()
            ),
            S::InvalidArgument
        );
        assert_eq!(
            fusewire_shared_bulkhead_release(bp, tick(0), fusewire_bulkhead_slot { raw: 3 }),
            S::NotHeld // a slot's priority is part of it: 3 is made up
        );
        assert_eq!(
            fusewire_shared_bulkhead_usage(bp, 3, &mut u, &mut v),
            S::InvalidArgument
        );
        assert_eq!((u, v), (7, 7));
        assert_eq!(
            fusewire_shared_bulkhead_usage(bp, 0, null_mut(), null_mut()),
            S::Ok
        );
    }
}

/// Four threads on one object of each form, with the clock injected.
#[test]
fn threads_share_one_object_of_each_form() {
    let per: u64 = if cfg!(miri) { 6 } else { 200 };
    // Bucket: burst 3, one token per 10 ticks; each thread asks at every
    // tick up to `per`, so the grants are exactly 3 + per / 10.
    let bucket = Share(zeroed::<fusewire_shared_bucket>());
    let bulkhead = Share(zeroed::<fusewire_shared_bulkhead>());
    let budget = Share(zeroed::<fusewire_shared_budget>());
    let breaker = Share(zeroed::<fusewire_shared_breaker>());
    unsafe {
        let c = fusewire_bucket_config {
            period: 10,
            tokens: 1,
            burst: 3,
        };
        assert_eq!(
            fusewire_shared_bucket_init(addr_of!(bucket.0).cast_mut(), &c, null_mut()),
            S::Ok
        );
        let c = fusewire_bulkhead_config {
            limit: 3,
            reserve_critical: 0,
            reserve_normal: 0,
            lease: 0,
        };
        assert_eq!(
            fusewire_shared_bulkhead_init(addr_of!(bulkhead.0).cast_mut(), &c, null_mut()),
            S::Ok
        );
        let c = fusewire_budget_config {
            max_tokens: 1000,
            token_ratio_milli: 1000,
        };
        assert_eq!(
            fusewire_shared_budget_init(addr_of!(budget.0).cast_mut(), &c, null_mut()),
            S::Ok
        );
        let mut c = breaker_cfg(4, 3);
        c.use_failure_rate = 0;
        c.manual = 1; // no trip rule: only the host would open it
        c.half_open_max_dwell = u64::MAX; // probes out for good: the limit is all
        assert_eq!(
            fusewire_shared_breaker_init(addr_of!(breaker.0).cast_mut(), &c, null_mut()),
            S::Ok
        );
        // Half-open, so the probe limit is what the threads race for.
        assert_eq!(
            fusewire_shared_breaker_trip(&breaker.0, tick(0), null_mut()),
            S::Ok
        );
        assert_eq!(
            fusewire_shared_breaker_poll(&breaker.0, tick(1000), null_mut()),
            S::Ok
        );
    }
    let (grants, probes) = std::thread::scope(|s| {
        let hs: Vec<_> = (0..4)
            .map(|_| {
                let (bu, bk, bg, br) = (&bucket, &bulkhead, &budget, &breaker);
                s.spawn(move || unsafe {
                    let (mut grants, mut probes) = (0u64, 0u32);
                    for _ in 0..per {
                        // One instant for every thread: a clock that each thread
                        // reads on its own runs backwards for the others, and
                        // the core re-anchors a bucket on such a regression.
                        if fusewire_shared_bucket_acquire(&bu.0, tick(0), 1, null_mut()) == S::Ok {
                            grants += 1;
                        }
                        if fusewire_shared_bulkhead_acquire(
                            &bk.0,
                            tick(0),
                            1,
                            &mut fusewire_bulkhead_slot::default(),
                        ) == S::Ok
                        {
                            let mut u = 0;
                            fusewire_shared_bulkhead_usage(&bk.0, 1, &mut u, null_mut());
                            assert!((1..=3).contains(&u));
                            assert_eq!(
                                fusewire_shared_bulkhead_release(
                                    &bk.0,
                                    tick(0),
                                    fusewire_bulkhead_slot { raw: 1 }
                                ),
                                S::Ok
                            );
                        }
                        fusewire_shared_budget_record_failure(&bg.0);
                        let mut p = 0;
                        if fusewire_shared_breaker_acquire(
                            &br.0,
                            tick(1000),
                            pout(&mut p),
                            null_mut(),
                            null_mut(),
                        ) == S::Ok
                        {
                            probes += 1;
                        }
                    }
                    (grants, probes)
                })
            })
            .collect();
        hs.into_iter()
            .map(|h| h.join().unwrap())
            .fold((0, 0), |(g, p), (a, b)| (g + a, p + b))
    });
    assert_eq!(grants, 3, "racing takers got exactly the burst");
    assert_eq!(probes, 3);
    let (mut u, mut m) = (9, 0);
    unsafe {
        assert_eq!(
            fusewire_shared_bulkhead_usage(&bulkhead.0, 0, &mut u, null_mut()),
            S::Ok
        );
        assert_eq!(
            fusewire_shared_budget_tokens(&budget.0, &mut m, null_mut()),
            S::Ok
        );
    }
    assert_eq!(u, 0);
    assert_eq!(m, 1_000_000 - 4 * 1000 * per);
}

#[test]
fn snapshots_apply_no_time_driven_move_in_either_form() {
    // The core's snapshot only reads (both forms): an open breaker past its
    // open duration stays open in the snapshot until a call or poll moves it.
    let cfg = breaker_cfg(4, 1);
    let mut single: fusewire_breaker = zeroed();
    let mut shared: fusewire_shared_breaker = zeroed();
    let (mut a, mut b) = (zeroed::<fusewire_breaker_stats>(), zeroed());
    unsafe {
        assert_eq!(fusewire_breaker_init(&mut single, &cfg, null_mut()), S::Ok);
        assert_eq!(
            fusewire_shared_breaker_init(&mut shared, &cfg, null_mut()),
            S::Ok
        );
        assert_eq!(
            fusewire_breaker_trip(&mut single, tick(5), null_mut()),
            S::Ok
        );
        assert_eq!(
            fusewire_shared_breaker_trip(&shared, tick(5), null_mut()),
            S::Ok
        );
        assert_eq!(
            fusewire_breaker_snapshot(&mut single, tick(5000), &mut a),
            S::Ok
        );
        assert_eq!(
            fusewire_shared_breaker_snapshot(&shared, tick(5000), &mut b),
            S::Ok
        );
    }
    assert_eq!(a, b);
    assert_eq!((a.state, a.open_until), (fusewire_state::Open as u32, 1005));
}
