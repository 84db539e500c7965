//! The shared bulkhead: per-priority concurrency limits and slot leases in
//! atomic counts.

use core::num::NonZeroU32;

use super::atomic::{
    AtomicU32, AtomicU64,
    Ordering::{AcqRel, Acquire, Relaxed, Release},
};
use crate::bulkhead::{
    epoch_of, last_of, span_of, Bulkhead, Full, Priority, ReleaseError, Slot, EPOCH_MASK,
};
use crate::error::ConfigResult;
use crate::unit::TickUnit;

/// A held count word: the epoch it counts for (low 32 bits of its number)
/// in the high half, the count in the low half.
const fn word(epoch: u64, count: u32) -> u64 {
    (epoch as u32 as u64) << 32 | count as u64
}

const fn tag(w: u64) -> u32 {
    (w >> 32) as u32
}

const fn count(w: u64) -> u32 {
    w as u32
}

/// A bulkhead that many threads share through `&self`: the admission rule,
/// reserves, slot leases and release checks of [`Bulkhead`](crate::Bulkhead)
/// (its module docs: a slot lives at most one lease, more than half of one).
///
/// Admission is a compare-and-swap on the in-use count against the
/// priority's threshold, so `in_use` never exceeds the limit (nor a
/// priority's threshold) however many threads race; a refusal writes
/// nothing. Each slot is then counted in one of six words, one per epoch
/// parity and priority, each tagged with the epoch it counts for. A
/// release takes the slot from its word (refused when the word counts
/// another epoch or none is held), then from `in_use`. When the epoch turns
/// (the thread whose `now` reaches its end moves it with one CAS), a word
/// whose epoch has passed is reset by one CAS, by whichever thread gets
/// there first, and only that thread takes its count from `in_use`; so
/// every slot leaves `in_use` exactly once, by its release or by its lease.
///
/// The epoch is one word and its boundaries follow from its number, so a
/// slot's life is the single-owner form's, counted on the newest `now`
/// seen: at most one lease, more than half of one (loom checks a release racing
/// the turn that reclaims its slot). Word tags keep the epoch number
/// modulo 2^32: a turn that jumps a multiple of 2^32 epochs at once (after
/// a silence of 2^32 leases) could keep a stale count one epoch longer,
/// which only admits fewer.
///
/// Layout: `#[repr(C)]`, pointer-free: `in_use`, the six tagged count
/// words (parity 0 then 1, each Critical, Normal, Sheddable), the epoch
/// number, the three release and reclaim counters, the three
/// thresholds, the limit and the lease.
#[derive(Debug)]
#[repr(C)]
pub struct SharedBulkhead {
    in_use: AtomicU32,
    held: [[AtomicU64; 3]; 2],
    epoch: AtomicU64,
    extra_releases: AtomicU64,
    expired_releases: AtomicU64,
    reclaimed: AtomicU64,
    thresholds: [u32; 3],
    limit: NonZeroU32,
    lease: u64,
}

impl SharedBulkhead {
    /// An empty bulkhead with the default lease; validated as
    /// [`Bulkhead::new`] (same errors).
    pub fn new(
        limit: NonZeroU32,
        reserve_critical: u32,
        reserve_normal: u32,
        unit: TickUnit,
    ) -> ConfigResult<Self> {
        Ok(Self::from_rule(&Bulkhead::new(
            limit,
            reserve_critical,
            reserve_normal,
            unit,
        )?))
    }

    /// A bulkhead with no reserves and the default lease in ticks of `unit`.
    pub fn unreserved(limit: NonZeroU32, unit: TickUnit) -> Self {
        Self::from_rule(&Bulkhead::unreserved(limit, unit))
    }

    /// The same bulkhead (empty) with slots leased for `lease` ticks; errors
    /// as [`Bulkhead::with_lease`].
    pub fn with_lease(self, lease: u64) -> ConfigResult<Self> {
        let rule = Bulkhead::new(
            self.limit,
            self.limit.get() - self.threshold(Priority::Normal),
            self.threshold(Priority::Normal) - self.threshold(Priority::Sheddable),
            TickUnit::SECONDS,
        )?
        .with_lease(lease)?;
        Ok(Self::from_rule(&rule))
    }

    /// The thresholds are what an empty single-owner bulkhead would admit.
    fn from_rule(empty: &Bulkhead) -> Self {
        Self {
            in_use: AtomicU32::new(0),
            // Epoch 0 is current (parity 0); parity 1 counts epoch -1.
            held: [
                core::array::from_fn(|_| AtomicU64::new(word(0, 0))),
                core::array::from_fn(|_| AtomicU64::new(word(u64::MAX, 0))),
            ],
            epoch: AtomicU64::new(0),
            extra_releases: AtomicU64::new(0),
            expired_releases: AtomicU64::new(0),
            reclaimed: AtomicU64::new(0),
            thresholds: [
                empty.available_for(Priority::Critical),
                empty.available_for(Priority::Normal),
                empty.available_for(Priority::Sheddable),
            ],
            limit: empty.limit(),
            lease: empty.lease(),
        }
    }

    fn threshold(&self, priority: Priority) -> u32 {
        self.thresholds.get(priority as usize).copied().unwrap_or(0)
    }

    fn word(&self, epoch: u64, priority: Priority) -> &AtomicU64 {
        &self.held[(epoch & 1) as usize][priority as usize]
    }

    fn bump(counter: &AtomicU64, by: u64) {
        let _ = counter.fetch_update(Relaxed, Relaxed, |n| n.checked_add(by));
    }

    /// Turns the epochs up to `now` (the same boundaries as
    /// [`Bulkhead::expire`]); returns the slots this call freed.
    ///
    /// The epoch number is the only word that says where time is, and its
    /// boundaries follow from it (`last_of`), so a thread that sees the
    /// epoch also sees its end: after this returns, the epoch is at least
    /// the one `now` falls in, and a slot is never stamped with an epoch
    /// older than its acquisition time.
    pub fn expire(&self, now: u64) -> u32 {
        let mut epoch = self.epoch.load(Acquire);
        loop {
            if now <= last_of(epoch, span_of(self.lease)) {
                return 0;
            }
            let next = epoch_of(now, span_of(self.lease));
            match self
                .epoch
                .compare_exchange_weak(epoch, next, AcqRel, Acquire)
            {
                Ok(_) => return self.sweep(next),
                Err(seen) => epoch = seen,
            }
        }
    }

    /// Resets every word whose epoch has passed at `epoch`; returns the
    /// slots freed by this thread's resets.
    fn sweep(&self, epoch: u64) -> u32 {
        let mut freed = 0;
        for (parity, words) in self.held.iter().enumerate() {
            // The epoch this parity stands for now: `epoch` or the one before.
            let stands_for = if (epoch & 1) as usize == parity {
                epoch
            } else {
                epoch.wrapping_sub(1)
            };
            for w in words {
                freed += self.renew(w, stands_for, 0).unwrap_or(0);
            }
        }
        freed
    }

    /// If `w` counts an epoch older than `epoch`, resets it to count `add`
    /// slots of `epoch` and takes its old count from `in_use`: `Some(freed)`.
    /// `None` when it already counts `epoch` or a newer one.
    fn renew(&self, w: &AtomicU64, epoch: u64, add: u32) -> Option<u32> {
        let mut cur = w.load(Acquire);
        loop {
            let behind = (epoch as u32).wrapping_sub(tag(cur));
            if behind == 0 || behind >= 1 << 31 {
                return None;
            }
            match w.compare_exchange_weak(cur, word(epoch, add), AcqRel, Acquire) {
                Ok(_) => {
                    let freed = count(cur);
                    if freed > 0 {
                        let _ = self
                            .in_use
                            .fetch_update(Release, Relaxed, |n| n.checked_sub(freed));
                        Self::bump(&self.reclaimed, u64::from(freed));
                    }
                    return Some(freed);
                }
                Err(seen) => cur = seen,
            }
        }
    }

    /// Takes a slot at `now` for a request of `priority`, if its rule
    /// admits it (after freeing the slots whose lease ran out).
    pub fn try_acquire(&self, priority: Priority, now: u64) -> Result<Slot, Full> {
        self.expire(now);
        let threshold = self.threshold(priority);
        if let Err(in_use) = self
            .in_use
            .fetch_update(AcqRel, Acquire, |n| (n < threshold).then_some(n + 1))
        {
            return Err(Full { priority, in_use });
        }
        loop {
            let epoch = self.epoch.load(Acquire);
            let w = self.word(epoch, priority);
            let mut cur = w.load(Acquire);
            loop {
                let t = tag(cur);
                if t == epoch as u32 {
                    match w.compare_exchange_weak(cur, cur + 1, AcqRel, Acquire) {
                        Ok(_) => return Ok(Slot::new(priority, epoch)),
                        Err(seen) => cur = seen,
                    }
                } else if (epoch as u32).wrapping_sub(t) < 1 << 31 {
                    // The word still counts a passed epoch: reset it with
                    // this slot in it.
                    if self.renew(w, epoch, 1).is_some() {
                        return Ok(Slot::new(priority, epoch));
                    }
                    cur = w.load(Acquire);
                } else if self.epoch.load(Acquire) == epoch {
                    // A tag ahead of every epoch this bulkhead has reached:
                    // no transition leaves that (memory a stray write
                    // changed). Count this epoch in it again rather than
                    // spinning; its garbage count is dropped.
                    match w.compare_exchange_weak(cur, word(epoch, 1), AcqRel, Acquire) {
                        Ok(_) => return Ok(Slot::new(priority, epoch)),
                        Err(seen) => cur = seen,
                    }
                } else {
                    // The epoch moved on while we were here: count in the new one.
                    break;
                }
            }
        }
    }

    /// Gives a slot back at `now`; refused and counted as
    /// [`Bulkhead::release`] refuses.
    pub fn release(&self, slot: Slot, now: u64) -> Result<(), ReleaseError> {
        self.expire(now);
        let Some(priority) = slot.priority() else {
            Self::bump(&self.extra_releases, 1);
            return Err(ReleaseError::NotHeld);
        };
        let stamp = slot.epoch();
        let epoch = self.epoch.load(Acquire);
        let expired = || {
            Self::bump(&self.expired_releases, 1);
            Err(ReleaseError::Expired)
        };
        if epoch.wrapping_sub(stamp) & EPOCH_MASK > 1 {
            return expired();
        }
        let w = self.word(stamp, priority);
        let taken = w.fetch_update(AcqRel, Acquire, |cur| {
            (tag(cur) == stamp as u32 && count(cur) > 0).then(|| cur - 1)
        });
        match taken {
            Ok(_) => {
                // A counted slot is in in_use until this, so it is at least 1.
                let _ = self
                    .in_use
                    .fetch_update(Release, Relaxed, |n| n.checked_sub(1));
                Ok(())
            }
            // The word moved on to a later epoch: this one was reclaimed.
            Err(cur)
                if (tag(cur).wrapping_sub(stamp as u32)) != 0
                    && tag(cur).wrapping_sub(stamp as u32) < 1 << 31 =>
            {
                expired()
            }
            Err(_) => {
                Self::bump(&self.extra_releases, 1);
                Err(ReleaseError::NotHeld)
            }
        }
    }

    /// Slots held, `0..=limit`.
    pub fn in_use(&self) -> u32 {
        self.in_use.load(Acquire)
    }

    /// Slots held by requests of `priority` (both live epochs).
    pub fn in_use_by(&self, priority: Priority) -> u32 {
        let epoch = self.epoch.load(Acquire);
        [epoch, epoch.wrapping_sub(1)]
            .iter()
            .map(|&e| {
                let w = self.word(e, priority).load(Relaxed);
                if tag(w) == e as u32 {
                    count(w)
                } else {
                    0
                }
            })
            .sum()
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

    /// Ticks a slot is leased for.
    pub const fn lease(&self) -> u64 {
        self.lease
    }

    /// Releases refused as not held (extra or forged) so far.
    pub fn extra_releases(&self) -> u64 {
        self.extra_releases.load(Relaxed)
    }

    /// Releases refused because the slot's lease had run out, so far.
    pub fn expired_releases(&self) -> u64 {
        self.expired_releases.load(Relaxed)
    }

    /// Slots freed by their lease running out, so far.
    pub fn reclaimed(&self) -> u64 {
        self.reclaimed.load(Relaxed)
    }
}

impl crate::intact::Intact for SharedBulkhead {
    /// The limit (`NonZeroU32`) and the lease (the epochs' divisor),
    /// which no method changes.
    #[inline(always)]
    fn intact(read: &impl Fn(usize) -> u8, at: usize) -> bool {
        crate::intact::nonzero(read, at + core::mem::offset_of!(Self, limit), 4)
            && crate::intact::nonzero(read, at + core::mem::offset_of!(Self, lease), 8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nz(n: u32) -> NonZeroU32 {
        NonZeroU32::new(n).unwrap()
    }

    #[test]
    fn reserves_and_extra_releases() {
        let b = SharedBulkhead::new(nz(3), 1, 1, TickUnit::MILLIS).unwrap();
        let s = b.try_acquire(Priority::Sheddable, 0).unwrap();
        assert_eq!(
            b.try_acquire(Priority::Sheddable, 0),
            Err(Full {
                priority: Priority::Sheddable,
                in_use: 1
            })
        );
        let n = b.try_acquire(Priority::Normal, 0).unwrap();
        assert_eq!(b.available_for(Priority::Critical), 1);
        let raw = n.into_raw();
        b.release(s, 0).unwrap();
        b.release(Slot::from_raw(raw), 0).unwrap();
        let e = b.release(Slot::from_raw(raw), 0);
        assert_eq!(
            (e, b.extra_releases(), b.in_use()),
            (Err(ReleaseError::NotHeld), 1, 0)
        );
        assert!(SharedBulkhead::new(nz(2), 1, 1, TickUnit::MILLIS).is_err());
        let e = SharedBulkhead::unreserved(nz(2), TickUnit::MILLIS)
            .with_lease(0)
            .unwrap_err();
        assert_eq!(e.field, "lease");
        let b = SharedBulkhead::new(nz(5), 2, 1, TickUnit::MILLIS)
            .unwrap()
            .with_lease(9)
            .unwrap();
        assert_eq!(
            (
                b.lease(),
                b.available_for(Priority::Normal),
                b.available_for(Priority::Sheddable)
            ),
            (9, 3, 2)
        );
    }

    #[test]
    fn lost_slots_are_reclaimed_like_the_single_owner_form() {
        let shared = SharedBulkhead::unreserved(nz(3), TickUnit::MILLIS)
            .with_lease(100)
            .unwrap();
        let mut single = Bulkhead::unreserved(nz(3), TickUnit::MILLIS)
            .with_lease(100)
            .unwrap();
        let mut raws = Vec::new();
        for now in [
            0, 99, 150, 199, 200, 250, 299, 310, 500, 1_000_000, 1_000_150,
        ] {
            let (a, b) = (
                shared.try_acquire(Priority::Normal, now),
                single.try_acquire(Priority::Normal, now),
            );
            assert_eq!(a.is_ok(), b.is_ok(), "{now}");
            if let (Ok(a), Ok(b)) = (a, b) {
                let (a, b) = (a.into_raw(), b.into_raw());
                assert_eq!(a, b);
                raws.push(a);
            }
            assert_eq!(shared.in_use(), single.in_use(), "{now}");
            assert_eq!(shared.reclaimed(), single.reclaimed(), "{now}");
            assert_eq!(
                shared.in_use_by(Priority::Normal),
                single.in_use_by(Priority::Normal)
            );
            if now % 2 == 1 {
                let raw = raws[raws.len() / 2];
                assert_eq!(
                    shared.release(Slot::from_raw(raw), now),
                    single.release(Slot::from_raw(raw), now),
                    "{now}"
                );
            }
        }
        for raw in raws {
            assert_eq!(
                shared.release(Slot::from_raw(raw), 1_000_199),
                single.release(Slot::from_raw(raw), 1_000_199)
            );
        }
        assert_eq!(
            (
                shared.in_use(),
                shared.extra_releases(),
                shared.expired_releases()
            ),
            (
                single.in_use(),
                single.extra_releases(),
                single.expired_releases()
            )
        );
        assert_eq!(shared.expire(2_000_000), single.expire(2_000_000));
    }
}
