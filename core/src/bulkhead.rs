//! Bulkhead: a concurrency limit where the last slots are kept for the
//! traffic that matters most.
//!
//! With `limit` slots, `reserve_critical` of them usable only by
//! [`Priority::Critical`] and `reserve_normal` more usable only by
//! `Critical` and [`Priority::Normal`], a request is admitted when:
//!
//! ```text
//! Critical   in_use < limit
//! Normal     in_use < limit - reserve_critical
//! Sheddable  in_use < limit - reserve_critical - reserve_normal
//! ```
//!
//! Config rule: `reserve_critical + reserve_normal < limit`, so every
//! priority can be admitted into an idle bulkhead. Slots are counted per
//! priority: a release is obeyed only if a slot of that priority is held,
//! so the count stays in `0..=limit`; an extra release is reported and
//! counted instead.

use core::fmt;
use core::num::NonZeroU32;

use crate::error::{ConfigError, ConfigResult, Field, Problem};

/// How much a request matters when slots run short.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Priority {
    /// May use every slot, the reserved ones included.
    Critical = 0,
    /// May use all but the critical reserve.
    Normal = 1,
    /// Shed first: only the unreserved slots.
    Sheddable = 2,
}

/// A held slot: give it back with [`Bulkhead::release`].
///
/// Not `Clone`, so Rust code cannot release one slot twice; bindings that
/// carry slots across a language boundary rebuild them with
/// [`Slot::from_priority`], and the bulkhead then catches extra releases.
#[derive(Debug, PartialEq, Eq, Hash)]
#[must_use = "a slot that is never released is lost until the bulkhead is rebuilt"]
#[repr(C)]
pub struct Slot {
    priority: Priority,
}

impl Slot {
    /// A slot of `priority`, for bindings that keep slots as plain values.
    pub const fn from_priority(priority: Priority) -> Self {
        Self { priority }
    }

    /// The priority it was acquired with.
    pub const fn priority(&self) -> Priority {
        self.priority
    }
}

/// No slot for this priority now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(C)]
pub struct Full {
    /// The priority that was refused.
    pub priority: Priority,
    /// Slots in use when it was refused.
    pub in_use: u32,
}

impl fmt::Display for Full {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "bulkhead full for {:?} requests ({} in use)",
            self.priority, self.in_use
        )
    }
}

impl core::error::Error for Full {}

/// A release that was not obeyed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
#[repr(u8)]
pub enum ReleaseError {
    /// No slot of that priority was held: a slot was released twice.
    NotHeld = 0,
}

impl fmt::Display for ReleaseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("released a bulkhead slot that was not held")
    }
}

impl core::error::Error for ReleaseError {}

/// A concurrency limit with per-priority reserves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub struct Bulkhead {
    extra_releases: u64,
    limit: NonZeroU32,
    /// Admission thresholds: `in_use` must be below these.
    normal_limit: u32,
    sheddable_limit: u32,
    /// Held slots, by priority (Critical, Normal, Sheddable).
    held: [u32; 3],
    in_use: u32,
}

impl Bulkhead {
    /// Validates and builds an empty bulkhead. `reserve_critical +
    /// reserve_normal` must be below `limit`; otherwise the error names
    /// `"reserve_normal"` (`Inconsistent`), or `"reserve_critical"` when it
    /// alone reaches the limit.
    pub const fn new(
        limit: NonZeroU32,
        reserve_critical: u32,
        reserve_normal: u32,
    ) -> ConfigResult<Self> {
        let l = limit.get();
        if reserve_critical >= l {
            return Err(ConfigError::of(
                Field::ReserveCritical,
                Problem::Inconsistent,
            ));
        }
        let normal_limit = l - reserve_critical;
        if reserve_normal >= normal_limit {
            return Err(ConfigError::of(Field::ReserveNormal, Problem::Inconsistent));
        }
        Ok(Self {
            extra_releases: 0,
            limit,
            normal_limit,
            sheddable_limit: normal_limit - reserve_normal,
            held: [0; 3],
            in_use: 0,
        })
    }

    /// A bulkhead with no reserves: every priority may use every slot.
    pub const fn unreserved(limit: NonZeroU32) -> Self {
        Self {
            extra_releases: 0,
            limit,
            normal_limit: limit.get(),
            sheddable_limit: limit.get(),
            held: [0; 3],
            in_use: 0,
        }
    }

    const fn threshold(&self, priority: Priority) -> u32 {
        match priority {
            Priority::Critical => self.limit.get(),
            Priority::Normal => self.normal_limit,
            Priority::Sheddable => self.sheddable_limit,
        }
    }

    fn held_mut(&mut self, priority: Priority) -> &mut u32 {
        let [c, n, s] = &mut self.held;
        match priority {
            Priority::Critical => c,
            Priority::Normal => n,
            Priority::Sheddable => s,
        }
    }

    /// Takes a slot for a request of `priority`, if its rule admits it.
    pub fn try_acquire(&mut self, priority: Priority) -> Result<Slot, Full> {
        if self.in_use < self.threshold(priority) {
            // in_use < threshold <= limit <= u32::MAX, so neither count overflows.
            self.in_use += 1;
            *self.held_mut(priority) += 1;
            Ok(Slot { priority })
        } else {
            Err(Full {
                priority,
                in_use: self.in_use,
            })
        }
    }

    /// Gives a slot back. Refused, and counted in
    /// [`Bulkhead::extra_releases`], when no slot of its priority is held.
    pub fn release(&mut self, slot: Slot) -> Result<(), ReleaseError> {
        let held = self.held_mut(slot.priority);
        if *held == 0 {
            self.extra_releases = self.extra_releases.saturating_add(1);
            return Err(ReleaseError::NotHeld);
        }
        *held -= 1;
        // Every held slot is counted in in_use, so it is at least 1 here.
        self.in_use = self.in_use.saturating_sub(1);
        Ok(())
    }

    /// Slots held, `0..=limit`.
    pub const fn in_use(&self) -> u32 {
        self.in_use
    }

    /// Slots held by requests of `priority`.
    pub const fn in_use_by(&self, priority: Priority) -> u32 {
        let [c, n, s] = self.held;
        match priority {
            Priority::Critical => c,
            Priority::Normal => n,
            Priority::Sheddable => s,
        }
    }

    /// Free slots, reserved ones included (`limit - in_use`).
    pub const fn available(&self) -> u32 {
        self.limit.get().saturating_sub(self.in_use)
    }

    /// Free slots a request of `priority` could take now.
    pub const fn available_for(&self, priority: Priority) -> u32 {
        self.threshold(priority).saturating_sub(self.in_use)
    }

    /// The limit.
    pub const fn limit(&self) -> NonZeroU32 {
        self.limit
    }

    /// Releases refused so far.
    pub const fn extra_releases(&self) -> u64 {
        self.extra_releases
    }
}

impl crate::intact::Intact for Bulkhead {
    /// The limit (`NonZeroU32`).
    #[inline(always)]
    fn intact(read: &impl Fn(usize) -> u8, at: usize) -> bool {
        crate::intact::nonzero(read, at + core::mem::offset_of!(Self, limit), 4)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn nz(n: u32) -> NonZeroU32 {
        NonZeroU32::new(n).unwrap()
    }

    #[test]
    fn config_errors_name_the_field() {
        let e = Bulkhead::new(nz(4), 4, 0).unwrap_err();
        assert_eq!(
            (e.field, e.problem),
            ("reserve_critical", Problem::Inconsistent)
        );
        let e = Bulkhead::new(nz(4), 2, 2).unwrap_err();
        assert_eq!(
            (e.field, e.problem),
            ("reserve_normal", Problem::Inconsistent)
        );
        assert!(Bulkhead::new(nz(4), 2, 1).is_ok());
        assert_eq!(
            Bulkhead::new(nz(4), 0, 0).unwrap(),
            Bulkhead::unreserved(nz(4))
        );
    }

    #[test]
    fn reserves_keep_the_last_slots_for_higher_priorities() {
        // 5 slots: 1 only for critical, 1 more for normal or critical.
        let mut b = Bulkhead::new(nz(5), 1, 1).unwrap();
        let mut held = [const { None }; 5];
        for slot in held.iter_mut().take(3) {
            *slot = Some(b.try_acquire(Priority::Sheddable).unwrap());
        }
        assert_eq!(
            b.try_acquire(Priority::Sheddable),
            Err(Full {
                priority: Priority::Sheddable,
                in_use: 3
            })
        );
        assert_eq!(b.available_for(Priority::Normal), 1);
        held[3] = Some(b.try_acquire(Priority::Normal).unwrap());
        assert!(b.try_acquire(Priority::Normal).is_err());
        held[4] = Some(b.try_acquire(Priority::Critical).unwrap());
        assert!(b.try_acquire(Priority::Critical).is_err());
        assert_eq!((b.in_use(), b.available()), (5, 0));
        assert_eq!(b.in_use_by(Priority::Sheddable), 3);
        for slot in held.iter_mut() {
            assert_eq!(b.release(slot.take().unwrap()), Ok(()));
        }
        assert_eq!((b.in_use(), b.available()), (0, 5));
    }

    #[test]
    fn extra_release_is_reported_not_obeyed() {
        let mut b = Bulkhead::unreserved(nz(2));
        let s = b.try_acquire(Priority::Normal).unwrap();
        assert_eq!(s.priority(), Priority::Normal);
        b.release(s).unwrap();
        assert_eq!(
            b.release(Slot::from_priority(Priority::Normal)),
            Err(ReleaseError::NotHeld)
        );
        // A critical slot held does not make a stray normal release valid.
        let c = b.try_acquire(Priority::Critical).unwrap();
        assert_eq!(
            b.release(Slot::from_priority(Priority::Normal)),
            Err(ReleaseError::NotHeld)
        );
        assert_eq!((b.in_use(), b.extra_releases()), (1, 2));
        b.release(c).unwrap();
    }

    #[test]
    fn the_largest_limit_works() {
        let mut b = Bulkhead::new(nz(u32::MAX), u32::MAX - 1, 0).unwrap();
        assert_eq!(b.available_for(Priority::Sheddable), 1);
        let s = b.try_acquire(Priority::Sheddable).unwrap();
        assert!(b.try_acquire(Priority::Normal).is_err());
        b.release(s).unwrap();
    }

    fn priority() -> impl Strategy<Value = Priority> {
        prop_oneof![
            Just(Priority::Critical),
            Just(Priority::Normal),
            Just(Priority::Sheddable)
        ]
    }

    proptest! {
        #![proptest_config(crate::testing::proptest_config())]
        #[test]
        fn matches_a_reference_model(
            limit in 1u32..12,
            rc in 0u32..12,
            rn in 0u32..12,
            ops in proptest::collection::vec((any::<bool>(), priority()), 0..100),
        ) {
            let rc = rc % limit;
            let rn = rn % (limit - rc);
            let mut b = Bulkhead::new(nz(limit), rc, rn).unwrap();
            // Model: counts per priority, thresholds written from the rule.
            let mut held = [0u32; 3];
            let mut extra = 0u64;
            for (acquire, p) in ops {
                let i = p as usize;
                let total: u32 = held.iter().sum();
                if acquire {
                    let threshold = match p {
                        Priority::Critical => limit,
                        Priority::Normal => limit - rc,
                        Priority::Sheddable => limit - rc - rn,
                    };
                    let got = b.try_acquire(p);
                    prop_assert_eq!(got.is_ok(), total < threshold);
                    if let Ok(slot) = got {
                        held[i] += 1;
                        let _held_by_the_model = slot;
                    }
                } else {
                    let got = b.release(Slot::from_priority(p));
                    prop_assert_eq!(got.is_ok(), held[i] > 0);
                    if held[i] > 0 { held[i] -= 1 } else { extra += 1 }
                }
                let total: u32 = held.iter().sum();
                prop_assert_eq!(b.in_use(), total);
                prop_assert!(b.in_use() <= limit);
                prop_assert_eq!(b.available(), limit - total);
                prop_assert_eq!(b.extra_releases(), extra);
            }
        }
    }
}
