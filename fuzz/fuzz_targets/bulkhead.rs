//! Bulkhead with leased slots, against a model that keeps every slot handed
//! out with the time it was taken: admission by the reserve rule, `in_use`
//! never above the limit, no slot freed twice, every lost slot freed within
//! its lease of its acquisition (epochs of half a lease; two ticks for a
//! lease of one) and none before half a lease.
#![no_main]

use core::num::NonZeroU32;

use arbitrary::Arbitrary;
use fusewire::{Bulkhead, Full, Priority, Problem, ReleaseError, Slot, TickUnit};
use fusewire_fuzz::{check_config, Num, Tick};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum Op {
    Acquire(u8, Tick),
    /// Release the slot the index picks among those handed out (again, if
    /// it was released already).
    Release(u16, Tick),
    /// Release a made-up raw value.
    Forge(u64, Tick),
    Expire(Tick),
}

#[derive(Arbitrary, Debug)]
struct Input {
    limit: Num,
    reserve_critical: Num,
    reserve_normal: Num,
    unreserved: bool,
    lease: Num,
    ops: Vec<Op>,
}

const PRIORITIES: [Priority; 3] = [Priority::Critical, Priority::Normal, Priority::Sheddable];

/// A slot handed out: raw value, priority index, when (the newest `now`
/// seen at its acquisition), whether the model
/// still counts it (not released, not yet certainly reclaimed).
struct Held {
    raw: u64,
    priority: usize,
    at: u64,
    live: bool,
}

fuzz_target!(|input: Input| {
    let Some(limit) = NonZeroU32::new(input.limit.get32()) else {
        return;
    };
    let l = limit.get();
    let (rc, rn) = if input.unreserved {
        (0, 0)
    } else {
        (input.reserve_critical.get32(), input.reserve_normal.get32())
    };
    let b = if input.unreserved {
        Bulkhead::unreserved(limit, TickUnit::MILLIS)
    } else {
        let want = if rc >= l {
            Some(("reserve_critical", Problem::Inconsistent))
        } else if rn >= l - rc {
            Some(("reserve_normal", Problem::Inconsistent))
        } else {
            None
        };
        let Some(b) = check_config(Bulkhead::new(limit, rc, rn, TickUnit::MILLIS), want) else {
            return;
        };
        b
    };
    assert_eq!(b.lease(), 60_000);
    let lease = input.lease.get();
    let want = (lease == 0).then_some(("lease", Problem::Zero));
    // the docs' epoch: half the lease (1 for a lease of one tick; one
    // epoch forever for u64::MAX)
    let span = match lease {
        u64::MAX => u64::MAX,
        0 | 1 => 1,
        l => l / 2,
    };
    let Some(mut b) = check_config(b.with_lease(lease), want) else {
        return;
    };
    let threshold = [l, l - rc, l - rc - rn];
    let mut slots: Vec<Held> = Vec::new();
    let (mut now, mut newest) = (0u64, 0u64);
    // Releases obeyed, refused as not held, refused as expired.
    let mut counters = [0u64; 3];
    for op in input.ops {
        let in_use_before = b.in_use();
        let reclaimed_before = b.reclaimed();
        match op {
            Op::Acquire(p, tick) => {
                now = tick.apply(now);
                let i = usize::from(p % 3);
                let priority = PRIORITIES[i];
                let got = b.try_acquire(priority, now);
                // The rule is judged on the count after the lease freed what it frees.
                let in_use = in_use_before - (b.reclaimed() - reclaimed_before) as u32;
                match got {
                    Ok(slot) => {
                        assert!(in_use < threshold[i], "admitted over its threshold");
                        assert_eq!(slot.priority(), Some(priority));
                        let raw = slot.into_raw();
                        assert!(raw < 1 << 50, "a slot is exact in a double");
                        // A slot's life runs on the newest clock the bulkhead
                        // has seen (epochs never turn back).
                        let at = newest.max(now);
                        slots.push(Held {
                            raw,
                            priority: i,
                            at,
                            live: true,
                        });
                    }
                    Err(full) => {
                        assert!(in_use >= threshold[i], "refused under its threshold");
                        assert_eq!(full, Full { priority, in_use });
                    }
                }
            }
            Op::Release(k, tick) => {
                now = tick.apply(now);
                if slots.is_empty() {
                    b.expire(now);
                } else {
                    let raw = slots[usize::from(k) % slots.len()].raw;
                    let newest = newest.max(now);
                    release(&mut b, raw, now, newest, &mut slots, &mut counters, span);
                }
            }
            Op::Forge(raw, tick) => {
                now = tick.apply(now);
                let newest = newest.max(now);
                release(&mut b, raw, now, newest, &mut slots, &mut counters, span);
            }
            Op::Expire(tick) => {
                now = tick.apply(now);
                let freed = b.expire(now);
                assert_eq!(u64::from(freed), b.reclaimed() - reclaimed_before);
            }
        }
        newest = newest.max(now);
        // Every slot is gone two epochs, at most its lease, after it was
        // taken (on the newest clock: epochs only turn forward).
        for s in slots.iter_mut().filter(|s| s.live) {
            if u128::from(newest) >= u128::from(s.at) + 2 * u128::from(span) {
                s.live = false;
            }
        }
        let live = slots.iter().filter(|s| s.live).count() as u64;
        // Never before half a lease: a slot taken less than an epoch ago (on
        // the newest clock) is still counted unless released.
        let young = slots
            .iter()
            .filter(|s| s.live && u128::from(newest) <= u128::from(s.at) + u128::from(span))
            .count() as u64;
        let in_use = u64::from(b.in_use());
        assert!(in_use <= u64::from(l), "slots above the limit");
        assert!(
            in_use <= live,
            "a slot held past its lease: {in_use} > {live}"
        );
        assert!(
            in_use >= young,
            "a slot freed within half a lease: {in_use} < {young}"
        );
        // No slot is freed twice: every slot taken is released once, or
        // reclaimed once, or still held.
        assert_eq!(
            counters[0] + b.reclaimed() + in_use,
            slots.len() as u64,
            "slots not conserved"
        );
        assert_eq!(u64::from(b.available()), u64::from(l) - in_use);
        for (j, p) in PRIORITIES.iter().enumerate() {
            assert_eq!(
                u64::from(b.available_for(*p)),
                u64::from(threshold[j]).saturating_sub(in_use)
            );
        }
        let by: u64 = PRIORITIES.iter().map(|p| u64::from(b.in_use_by(*p))).sum();
        assert_eq!(by, in_use);
        assert_eq!(b.extra_releases(), counters[1]);
        assert_eq!(b.expired_releases(), counters[2]);
        assert_eq!(b.limit(), limit);
    }
});

fn release(
    b: &mut Bulkhead,
    raw: u64,
    now: u64,
    newest: u64,
    slots: &mut [Held],
    counters: &mut [u64; 3],
    span: u64,
) {
    let held = b.in_use();
    let reclaimed = b.reclaimed();
    let got = b.release(Slot::from_raw(raw), now);
    let after_lease = held - (b.reclaimed() - reclaimed) as u32;
    match got {
        Ok(()) => {
            assert_eq!(b.in_use(), after_lease - 1);
            counters[0] += 1;
            // Slots of one priority and epoch are interchangeable: one of
            // them is no longer held.
            let s = slots
                .iter_mut()
                .find(|s| s.live && s.raw == raw)
                .expect("freed a slot nobody holds");
            assert!(PRIORITIES.get(s.priority).is_some());
            s.live = false;
        }
        Err(ReleaseError::Expired) => {
            counters[2] += 1;
            assert_eq!(b.in_use(), after_lease);
            for s in slots.iter_mut().filter(|s| s.raw == raw) {
                assert!(
                    u128::from(newest) > u128::from(s.at) + u128::from(span),
                    "a slot expired within half a lease"
                );
                s.live = false;
            }
        }
        Err(ReleaseError::NotHeld) => {
            counters[1] += 1;
            assert_eq!(b.in_use(), after_lease);
        }
        Err(e) => panic!("unexpected {e:?}"),
    }
}
