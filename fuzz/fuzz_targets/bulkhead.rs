//! Bulkhead against per-priority held counts kept in the target.
#![no_main]

use core::num::NonZeroU32;

use arbitrary::Arbitrary;
use fusewire::{Bulkhead, Full, Priority, Problem, ReleaseError, Slot};
use fusewire_fuzz::{check_config, Num};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input {
    limit: Num,
    reserve_critical: Num,
    reserve_normal: Num,
    unreserved: bool,
    ops: Vec<(bool, u8)>,
}

const PRIORITIES: [Priority; 3] = [Priority::Critical, Priority::Normal, Priority::Sheddable];

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
    let mut b = if input.unreserved {
        Bulkhead::unreserved(limit)
    } else {
        let want = if rc >= l {
            Some(("reserve_critical", Problem::Inconsistent))
        } else if rn >= l - rc {
            Some(("reserve_normal", Problem::Inconsistent))
        } else {
            None
        };
        let Some(b) = check_config(Bulkhead::new(limit, rc, rn), want) else {
            return;
        };
        b
    };
    let threshold = [l, l - rc, l - rc - rn];
    let mut held = [0u64; 3];
    let mut extra = 0u64;
    for (acquire, p) in input.ops {
        let i = usize::from(p % 3);
        let priority = PRIORITIES[i];
        let in_use: u64 = held.iter().sum();
        if acquire {
            match b.try_acquire(priority) {
                Ok(slot) => {
                    assert!(
                        in_use < u64::from(threshold[i]),
                        "admitted over its threshold"
                    );
                    assert_eq!(slot.priority(), priority);
                    held[i] += 1;
                    drop(slot); // released later by priority, as bindings do
                }
                Err(full) => {
                    assert!(
                        in_use >= u64::from(threshold[i]),
                        "refused under its threshold"
                    );
                    assert_eq!(
                        full,
                        Full {
                            priority,
                            in_use: in_use as u32
                        }
                    );
                }
            }
        } else {
            let got = b.release(Slot::from_priority(priority));
            if held[i] > 0 {
                assert_eq!(got, Ok(()));
                held[i] -= 1;
            } else {
                assert_eq!(got, Err(ReleaseError::NotHeld));
                extra += 1;
            }
        }
        let in_use: u64 = held.iter().sum();
        assert!(in_use <= u64::from(l), "slots above the limit");
        assert_eq!(u64::from(b.in_use()), in_use);
        for (j, p) in PRIORITIES.iter().enumerate() {
            assert_eq!(u64::from(b.in_use_by(*p)), held[j]);
            assert_eq!(
                u64::from(b.available_for(*p)),
                u64::from(threshold[j]).saturating_sub(in_use)
            );
        }
        assert_eq!(u64::from(b.available()), u64::from(l) - in_use);
        assert_eq!(b.extra_releases(), extra);
        assert_eq!(b.limit(), limit);
    }
});
