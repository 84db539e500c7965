//! The shared bulkhead: per-priority concurrency limits in atomic counts.

use core::num::NonZeroU32;

use super::atomic::{
    AtomicU32, AtomicU64,
    Ordering::{AcqRel, Acquire, Relaxed, Release},
};
use crate::bulkhead::{Bulkhead, Full, Priority, ReleaseError, Slot};
use crate::error::ConfigResult;

/// A bulkhead that many threads share through `&self`: the admission rule,
/// reserves and release checks of [`Bulkhead`](crate::Bulkhead).
///
/// Admission is a compare-and-swap on the in-use count against the
/// priority's threshold, so `in_use` never exceeds the limit (nor a
/// priority's threshold) however many threads race; a refusal writes
/// nothing. A release first takes the slot from its priority's count
/// (refused, and counted, when none is held), then from `in_use`.
///
/// Layout: `#[repr(C)]`, pointer-free: `in_use`, the three per-priority
/// counts (Critical, Normal, Sheddable), the extra-release count, the three
/// thresholds and the limit.
#[derive(Debug)]
#[repr(C)]
pub struct SharedBulkhead {
    in_use: AtomicU32,
    held: [AtomicU32; 3],
    extra_releases: AtomicU64,
    thresholds: [u32; 3],
    limit: NonZeroU32,
}

impl SharedBulkhead {
    /// An empty bulkhead; validated as [`Bulkhead::new`] (same errors).
    pub fn new(
        limit: NonZeroU32,
        reserve_critical: u32,
        reserve_normal: u32,
    ) -> ConfigResult<Self> {
        Ok(Self::from_rule(&Bulkhead::new(
            limit,
            reserve_critical,
            reserve_normal,
        )?))
    }

    /// A bulkhead with no reserves.
    pub fn unreserved(limit: NonZeroU32) -> Self {
        Self::from_rule(&Bulkhead::unreserved(limit))
    }

    /// The thresholds are what an empty single-owner bulkhead would admit.
    fn from_rule(empty: &Bulkhead) -> Self {
        Self {
            in_use: AtomicU32::new(0),
            held: core::array::from_fn(|_| AtomicU32::new(0)),
            extra_releases: AtomicU64::new(0),
            thresholds: [
                empty.available_for(Priority::Critical),
                empty.available_for(Priority::Normal),
                empty.available_for(Priority::Sheddable),
            ],
            limit: empty.limit(),
        }
    }

    fn threshold(&self, priority: Priority) -> u32 {
        self.thresholds.get(priority as usize).copied().unwrap_or(0)
    }

    fn held(&self, priority: Priority) -> Option<&AtomicU32> {
        self.held.get(priority as usize)
    }

    /// Takes a slot for a request of `priority`, if its rule admits it.
    pub fn try_acquire(&self, priority: Priority) -> Result<Slot, Full> {
        let threshold = self.threshold(priority);
        match self
            .in_use
            .fetch_update(AcqRel, Acquire, |n| (n < threshold).then_some(n + 1))
        {
            Ok(_) => {
                if let Some(h) = self.held(priority) {
                    h.fetch_add(1, Relaxed);
                }
                Ok(Slot::from_priority(priority))
            }
            Err(in_use) => Err(Full { priority, in_use }),
        }
    }

    /// Gives a slot back. Refused, and counted in
    /// [`SharedBulkhead::extra_releases`], when no slot of its priority is held.
    pub fn release(&self, slot: Slot) -> Result<(), ReleaseError> {
        let taken = self.held(slot.priority()).is_some_and(|h| {
            h.fetch_update(Relaxed, Relaxed, |n| n.checked_sub(1))
                .is_ok()
        });
        if !taken {
            let _ = self
                .extra_releases
                .fetch_update(Relaxed, Relaxed, |n| n.checked_add(1));
            return Err(ReleaseError::NotHeld);
        }
        // A held slot was counted in in_use first, so this cannot go below 0.
        let _ = self
            .in_use
            .fetch_update(Release, Relaxed, |n| n.checked_sub(1));
        Ok(())
    }

    /// Slots held, `0..=limit`.
    pub fn in_use(&self) -> u32 {
        self.in_use.load(Acquire)
    }

    /// Slots held by requests of `priority`.
    pub fn in_use_by(&self, priority: Priority) -> u32 {
        self.held(priority).map_or(0, |h| h.load(Relaxed))
    }

    /// Free slots, reserved ones included (`limit - in_use`).
    pub fn available(&self) -> u32 {
        self.limit.get().saturating_sub(self.in_use())
    }

    /// Free slots a request of `priority` could take now.
    pub fn available_for(&self, priority: Priority) -> u32 {
        self.threshold(priority).saturating_sub(self.in_use())
    }

    /// The limit.
    pub const fn limit(&self) -> NonZeroU32 {
        self.limit
    }

    /// Releases refused so far.
    pub fn extra_releases(&self) -> u64 {
        self.extra_releases.load(Relaxed)
    }
}

impl crate::intact::Intact for SharedBulkhead {
    /// The limit (`NonZeroU32`), which no method changes.
    #[inline(always)]
    fn intact(read: &impl Fn(usize) -> u8, at: usize) -> bool {
        crate::intact::nonzero(read, at + core::mem::offset_of!(Self, limit), 4)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserves_and_extra_releases() {
        let b = SharedBulkhead::new(NonZeroU32::new(3).unwrap(), 1, 1).unwrap();
        let s = b.try_acquire(Priority::Sheddable).unwrap();
        assert_eq!(
            b.try_acquire(Priority::Sheddable),
            Err(Full {
                priority: Priority::Sheddable,
                in_use: 1
            })
        );
        let n = b.try_acquire(Priority::Normal).unwrap();
        assert_eq!(b.available_for(Priority::Critical), 1);
        b.release(s).unwrap();
        b.release(n).unwrap();
        let e = b.release(Slot::from_priority(Priority::Normal));
        assert_eq!(
            (e, b.extra_releases(), b.in_use()),
            (Err(ReleaseError::NotHeld), 1, 0)
        );
        assert!(SharedBulkhead::new(NonZeroU32::new(2).unwrap(), 1, 1).is_err());
    }
}
