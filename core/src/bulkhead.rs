//! Bulkhead: a concurrency limit where the last slots are kept for the
//! traffic that matters most, and where a slot nobody gives back is freed
//! by its lease.
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
//! priority can be admitted into an idle bulkhead.
//!
//! # Leases: every slot has a bounded life
//!
//! A slot that is never released (an early return, a cancelled task, a
//! binding's object collected without its `release`) would hold a slot
//! until the bulkhead is rebuilt. So every slot is leased: time is cut into
//! epochs of half a lease (`span = lease / 2` ticks), a slot is stamped
//! with the epoch it was taken in, and the bulkhead keeps counts for two
//! epochs only, the current one and the previous one, per priority (O(1)
//! memory, nothing per slot):
//!
//! ```text
//! epoch k          the ticks [k * span, (k + 1) * span)     (from `now` alone)
//! acquire at now   stamp = current epoch; count[current][priority] += 1
//! epoch turns      to the epoch of `now`: one on, the previous epoch's counts
//!                  are freed (counted in `reclaimed`) and current becomes
//!                  previous; two or more on, both are freed
//! release(slot)    stamp == current or previous: that count -= 1   (NotHeld when 0)
//!                  older: refused, Expired, counted in `expired_releases`
//! ```
//!
//! **A slot's life** is therefore at most one lease and more than half of
//! one, counted on the newest `now` the bulkhead has seen (epochs only
//! turn forward), from its acquisition to the first call (acquire, release
//! or [`Bulkhead::expire`]) at or after the start of the epoch two on from
//! its own: a lost slot (its holder killed, its release forgotten) is free
//! again within its lease, without anyone releasing it. (A lease of one
//! tick has one-tick epochs: at most two ticks. A lease of `u64::MAX` is
//! one epoch forever: slots never expire.)
//!
//! **What a long call costs.** A call that holds its slot longer than half
//! its lease may lose it (between half a lease and a lease after it
//! started): from then on the bulkhead admits one more call than the limit
//! while it still runs, and its late release is refused (`Expired`),
//! counted, never freeing a second slot. So set `lease` to at least twice
//! the longest call you allow (its timeout); the default is
//! [`Bulkhead::DEFAULT_LEASE`], one minute, turned into ticks by the
//! [`TickUnit`] the bulkhead is built with.
//!
//! Releases are checked per priority and epoch, so `in_use` stays in
//! `0..=limit` and no slot is freed twice: an extra release (`NotHeld`) and
//! an expired one (`Expired`) are reported and counted instead. A slot is
//! a plain value for bindings ([`Slot::into_raw`], below 2^53 so it is exact
//! in a JavaScript number); a forged value is refused like an extra release.
//! Slots of one priority and epoch are interchangeable (nothing is stored
//! per slot): one slot value released twice while another of the same
//! priority and epoch is held frees that other's place, and its own release
//! is then refused; in total, frees never exceed acquisitions.
//!
//! A clock that goes backwards does not turn epochs (they only turn
//! forward), so it frees nothing early.

use core::fmt;
use core::num::NonZeroU32;
use core::time::Duration;

use crate::error::{ConfigError, ConfigResult, Field, Problem};
use crate::unit::TickUnit;

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

impl Priority {
    const fn from_bits(bits: u64) -> Option<Priority> {
        match bits {
            0 => Some(Priority::Critical),
            1 => Some(Priority::Normal),
            2 => Some(Priority::Sheddable),
            _ => None,
        }
    }
}

/// Epoch stamps are kept modulo 2^48 in a slot, so its raw value stays
/// below 2^50 (exact in an `f64`); a stamp is compared by its distance to
/// the current epoch, which only aliases after 2^48 epochs.
pub(crate) const EPOCH_MASK: u64 = (1 << 48) - 1;

/// The ticks of one epoch for `lease`: half of it, so that a slot (counted
/// in its own epoch and the next) lives more than half a lease and at most
/// one; 1 for a lease of one tick; `u64::MAX` (one epoch forever) for the
/// lease that never expires.
pub(crate) const fn span_of(lease: u64) -> u64 {
    if lease == u64::MAX {
        u64::MAX
    } else if lease < 2 {
        1
    } else {
        lease / 2
    }
}

/// The epoch `now` falls in: epoch `k` is the ticks `[k * lease,
/// (k + 1) * lease)` (`lease` here is an epoch's span,
/// [`span_of`]), so every form of the bulkhead agrees on the
/// boundaries from `now` alone. Binary long division, so no 64-bit
/// division routine is linked on targets without one (it runs once per
/// epoch turn, not per call).
pub(crate) const fn epoch_of(now: u64, lease: u64) -> u64 {
    if lease == 1 {
        return now;
    }
    let (mut q, mut r) = (0u64, 0u64);
    let mut i = 64;
    while i > 0 {
        i -= 1;
        // r < lease <= u64::MAX, so the shifted remainder fits in 65 bits:
        // keep its top bit apart.
        let top = r >> 63;
        r = r << 1 | (now >> i) & 1;
        if top == 1 || r >= lease {
            r = r.wrapping_sub(lease);
            q |= 1 << i;
        }
    }
    q
}

/// The last tick of epoch `epoch`, saturating: an epoch reaching
/// `u64::MAX` never ends.
pub(crate) const fn last_of(epoch: u64, lease: u64) -> u64 {
    let end = (epoch as u128 + 1) * lease as u128 - 1;
    if end > u64::MAX as u128 {
        u64::MAX
    } else {
        end as u64
    }
}

/// A held slot: give it back with [`Bulkhead::release`].
///
/// Not `Clone`, so Rust code cannot release one slot twice; bindings that
/// carry slots across a language boundary keep [`Slot::into_raw`] and
/// rebuild the slot with [`Slot::from_raw`], and the bulkhead then catches
/// extra, forged and expired releases.
#[derive(Debug, PartialEq, Eq, Hash)]
#[must_use = "a slot that is never released holds its place until its lease runs out"]
#[repr(C)]
pub struct Slot {
    /// Bits 0..2 the priority (3 only in a forged value), bits 2..50 the
    /// epoch stamp modulo 2^48.
    raw: u64,
}

impl Slot {
    pub(crate) const fn new(priority: Priority, epoch: u64) -> Self {
        Self {
            raw: (epoch & EPOCH_MASK) << 2 | priority as u64,
        }
    }

    /// The slot as a plain number below 2^50, for bindings.
    pub const fn into_raw(self) -> u64 {
        self.raw
    }

    /// A slot from [`Slot::into_raw`]. Never fails: a value that was not
    /// handed out is refused by `release` (and counted).
    pub const fn from_raw(raw: u64) -> Self {
        Self { raw }
    }

    /// The priority it was acquired with; `None` for a forged value.
    pub const fn priority(&self) -> Option<Priority> {
        if self.raw >> 50 != 0 {
            return None;
        }
        Priority::from_bits(self.raw & 3)
    }

    /// The epoch stamp, modulo 2^48.
    pub(crate) const fn epoch(&self) -> u64 {
        (self.raw >> 2) & EPOCH_MASK
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
    /// No slot of that priority and epoch was held: a slot was released
    /// twice, or the value was forged.
    NotHeld = 0,
    /// The slot's lease ran out and it was already freed.
    Expired = 1,
}

impl fmt::Display for ReleaseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ReleaseError::NotHeld => "released a bulkhead slot that was not held",
            ReleaseError::Expired => "released a bulkhead slot whose lease had run out",
        })
    }
}

impl core::error::Error for ReleaseError {}

/// A concurrency limit with per-priority reserves and leased slots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub struct Bulkhead {
    extra_releases: u64,
    expired_releases: u64,
    reclaimed: u64,
    lease: u64,
    /// The last tick of the current epoch (`last_of(epoch)`, kept so the
    /// hot path compares instead of multiplying).
    epoch_last: u64,
    /// The current epoch's number.
    epoch: u64,
    limit: NonZeroU32,
    /// Admission thresholds: `in_use` must be below these.
    normal_limit: u32,
    sheddable_limit: u32,
    /// Held slots by epoch parity (`epoch & 1`), then priority
    /// (Critical, Normal, Sheddable).
    held: [[u32; 3]; 2],
    in_use: u32,
}

impl Bulkhead {
    /// The lease of [`Bulkhead::new`]: one minute, in the ticks of the
    /// [`TickUnit`] it is given (60 000 millisecond ticks).
    pub const DEFAULT_LEASE: Duration = Duration::from_secs(60);

    /// Validates and builds an empty bulkhead whose slots are leased for
    /// [`Bulkhead::DEFAULT_LEASE`] in ticks of `unit` (the unit of the
    /// `now` you will pass; [`Bulkhead::with_lease`] sets another lease).
    /// `reserve_critical + reserve_normal` must be below `limit`; otherwise
    /// the error names `"reserve_normal"` (`Inconsistent`), or
    /// `"reserve_critical"` when it alone reaches the limit.
    pub const fn new(
        limit: NonZeroU32,
        reserve_critical: u32,
        reserve_normal: u32,
        unit: TickUnit,
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
        Ok(Self::build(
            limit,
            normal_limit,
            normal_limit - reserve_normal,
            unit.ticks(Self::DEFAULT_LEASE),
        ))
    }

    /// A bulkhead with no reserves and the default lease in ticks of
    /// `unit`: every priority may use every slot.
    pub const fn unreserved(limit: NonZeroU32, unit: TickUnit) -> Self {
        Self::build(
            limit,
            limit.get(),
            limit.get(),
            unit.ticks(Self::DEFAULT_LEASE),
        )
    }

    const fn build(limit: NonZeroU32, normal: u32, sheddable: u32, lease: u64) -> Self {
        Self {
            extra_releases: 0,
            expired_releases: 0,
            reclaimed: 0,
            lease,
            epoch_last: last_of(0, span_of(lease)),
            epoch: 0,
            limit,
            normal_limit: normal,
            sheddable_limit: sheddable,
            held: [[0; 3]; 2],
            in_use: 0,
        }
    }

    /// The same bulkhead (empty) with slots leased for `lease` ticks
    /// (module docs: a lost slot is free again within its lease).
    /// Errors with field `"lease"` (`Zero`) when 0. `u64::MAX` is the
    /// explicit "slots never expire".
    pub const fn with_lease(self, lease: u64) -> ConfigResult<Self> {
        if lease == 0 {
            return Err(ConfigError::of(Field::Lease, Problem::Zero));
        }
        Ok(Self::build(
            self.limit,
            self.normal_limit,
            self.sheddable_limit,
            lease,
        ))
    }

    const fn threshold(&self, priority: Priority) -> u32 {
        match priority {
            Priority::Critical => self.limit.get(),
            Priority::Normal => self.normal_limit,
            Priority::Sheddable => self.sheddable_limit,
        }
    }

    /// Turns the epochs up to `now`; returns the slots it freed.
    #[inline]
    pub fn expire(&mut self, now: u64) -> u32 {
        if now <= self.epoch_last {
            return 0;
        }
        self.turn(now)
    }

    #[cold]
    fn turn(&mut self, now: u64) -> u32 {
        // now > last_of(epoch), so the new epoch is at least one on.
        let next = epoch_of(now, span_of(self.lease));
        let mut freed = 0;
        for parity in [next, next.wrapping_sub(1)] {
            // The new epoch reuses the parity of the one before the previous,
            // and after two or more turns the previous one is empty too.
            if parity == next || next - self.epoch >= 2 {
                let counts = &mut self.held[(parity & 1) as usize];
                freed += counts[0] + counts[1] + counts[2];
                *counts = [0; 3];
            }
        }
        self.epoch = next;
        self.epoch_last = last_of(next, span_of(self.lease));
        self.in_use -= freed;
        self.reclaimed = self.reclaimed.saturating_add(u64::from(freed));
        freed
    }

    /// Takes a slot at `now` for a request of `priority`, if its rule
    /// admits it (after freeing the slots whose lease ran out).
    #[inline]
    pub fn try_acquire(&mut self, priority: Priority, now: u64) -> Result<Slot, Full> {
        self.expire(now);
        if self.in_use < self.threshold(priority) {
            // in_use < threshold <= limit <= u32::MAX, so neither count overflows.
            self.in_use += 1;
            self.held[(self.epoch & 1) as usize][priority as usize] += 1;
            Ok(Slot::new(priority, self.epoch))
        } else {
            Err(Full {
                priority,
                in_use: self.in_use,
            })
        }
    }

    /// Gives a slot back at `now`. Refused, and counted, when its lease ran
    /// out ([`ReleaseError::Expired`], [`Bulkhead::expired_releases`]) or no
    /// slot of its priority and epoch is held ([`ReleaseError::NotHeld`],
    /// [`Bulkhead::extra_releases`]).
    #[inline]
    pub fn release(&mut self, slot: Slot, now: u64) -> Result<(), ReleaseError> {
        self.expire(now);
        let raw = slot.raw;
        let p = (raw & 3) as usize;
        if p == 3 || raw >> 50 != 0 {
            // Not a value `into_raw` makes: forged.
            return Err(self.not_held());
        }
        let stamp = raw >> 2;
        if self.epoch.wrapping_sub(stamp) & EPOCH_MASK > 1 {
            self.expired_releases = self.expired_releases.saturating_add(1);
            return Err(ReleaseError::Expired);
        }
        // The stamp's parity is its epoch's (the mask keeps bit 0).
        let held = &mut self.held[(stamp & 1) as usize][p];
        if *held == 0 {
            return Err(self.not_held());
        }
        *held -= 1;
        // Every held slot is counted in in_use, so it is at least 1 here.
        self.in_use -= 1;
        Ok(())
    }

    #[cold]
    fn not_held(&mut self) -> ReleaseError {
        self.extra_releases = self.extra_releases.saturating_add(1);
        ReleaseError::NotHeld
    }

    /// Slots held, `0..=limit`, as of the last call that took `now`.
    pub const fn in_use(&self) -> u32 {
        self.in_use
    }

    /// Slots held by requests of `priority`.
    pub const fn in_use_by(&self, priority: Priority) -> u32 {
        let p = priority as usize;
        self.held[0][p] + self.held[1][p]
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

    /// Ticks a slot is leased for (module docs).
    pub const fn lease(&self) -> u64 {
        self.lease
    }

    /// Releases refused as not held (extra or forged) so far.
    pub const fn extra_releases(&self) -> u64 {
        self.extra_releases
    }

    /// Releases refused because the slot's lease had run out, so far.
    pub const fn expired_releases(&self) -> u64 {
        self.expired_releases
    }

    /// Slots freed by their lease running out (never released in time), so far.
    pub const fn reclaimed(&self) -> u64 {
        self.reclaimed
    }
}

impl crate::intact::Intact for Bulkhead {
    /// The limit (`NonZeroU32`) and the lease (the epochs' divisor).
    #[inline(always)]
    fn intact(read: &impl Fn(usize) -> u8, at: usize) -> bool {
        crate::intact::nonzero(read, at + core::mem::offset_of!(Self, limit), 4)
            && crate::intact::nonzero(read, at + core::mem::offset_of!(Self, lease), 8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::unit::TickUnit;
    use proptest::prelude::*;

    fn nz(n: u32) -> NonZeroU32 {
        NonZeroU32::new(n).unwrap()
    }

    #[test]
    fn config_errors_name_the_field() {
        let e = Bulkhead::new(nz(4), 4, 0, TickUnit::MILLIS).unwrap_err();
        assert_eq!(
            (e.field, e.problem),
            ("reserve_critical", Problem::Inconsistent)
        );
        let e = Bulkhead::new(nz(4), 2, 2, TickUnit::MILLIS).unwrap_err();
        assert_eq!(
            (e.field, e.problem),
            ("reserve_normal", Problem::Inconsistent)
        );
        assert!(Bulkhead::new(nz(4), 2, 1, TickUnit::MILLIS).is_ok());
        assert_eq!(
            Bulkhead::new(nz(4), 0, 0, TickUnit::MILLIS).unwrap(),
            Bulkhead::unreserved(nz(4), TickUnit::MILLIS)
        );
        let e = Bulkhead::unreserved(nz(4), TickUnit::MILLIS)
            .with_lease(0)
            .unwrap_err();
        assert_eq!((e.field, e.problem), ("lease", Problem::Zero));
        assert_eq!(
            Bulkhead::unreserved(nz(4), TickUnit::MILLIS).lease(),
            60_000
        );
        let b = Bulkhead::new(nz(4), 2, 1, TickUnit::MILLIS)
            .unwrap()
            .with_lease(7)
            .unwrap();
        assert_eq!((b.lease(), b.available_for(Priority::Sheddable)), (7, 1));
    }

    #[test]
    fn reserves_keep_the_last_slots_for_higher_priorities() {
        // 5 slots: 1 only for critical, 1 more for normal or critical.
        let mut b = Bulkhead::new(nz(5), 1, 1, TickUnit::MILLIS).unwrap();
        let mut held = [const { None }; 5];
        for slot in held.iter_mut().take(3) {
            *slot = Some(b.try_acquire(Priority::Sheddable, 0).unwrap());
        }
        assert_eq!(
            b.try_acquire(Priority::Sheddable, 0),
            Err(Full {
                priority: Priority::Sheddable,
                in_use: 3
            })
        );
        assert_eq!(b.available_for(Priority::Normal), 1);
        held[3] = Some(b.try_acquire(Priority::Normal, 0).unwrap());
        assert!(b.try_acquire(Priority::Normal, 0).is_err());
        held[4] = Some(b.try_acquire(Priority::Critical, 0).unwrap());
        assert!(b.try_acquire(Priority::Critical, 0).is_err());
        assert_eq!((b.in_use(), b.available()), (5, 0));
        assert_eq!(b.in_use_by(Priority::Sheddable), 3);
        for slot in held.iter_mut() {
            assert_eq!(b.release(slot.take().unwrap(), 0), Ok(()));
        }
        assert_eq!((b.in_use(), b.available()), (0, 5));
    }

    #[test]
    fn extra_and_forged_releases_are_reported_not_obeyed() {
        let mut b = Bulkhead::unreserved(nz(2), TickUnit::MILLIS);
        let s = b.try_acquire(Priority::Normal, 0).unwrap();
        assert_eq!(s.priority(), Some(Priority::Normal));
        let raw = s.into_raw();
        b.release(Slot::from_raw(raw), 0).unwrap();
        assert_eq!(
            b.release(Slot::from_raw(raw), 0),
            Err(ReleaseError::NotHeld)
        );
        // A critical slot held does not make a stray normal release valid.
        let c = b.try_acquire(Priority::Critical, 0).unwrap();
        assert_eq!(
            b.release(Slot::from_raw(raw), 0),
            Err(ReleaseError::NotHeld)
        );
        // Forged values: priority bits 3, bits above 50.
        for forged in [3, 1 << 50 | 1, u64::MAX] {
            assert_eq!(Slot::from_raw(forged).priority(), None);
            assert_eq!(
                b.release(Slot::from_raw(forged), 0),
                Err(ReleaseError::NotHeld)
            );
        }
        assert_eq!((b.in_use(), b.extra_releases()), (1, 5));
        b.release(c, 0).unwrap();
    }

    #[test]
    fn a_lost_slot_is_freed_after_more_than_half_a_lease_and_at_most_one() {
        let mut b = Bulkhead::unreserved(nz(2), TickUnit::MILLIS)
            .with_lease(100)
            .unwrap();
        // Epochs of half the lease: epoch 0 is [0, 50). A slot taken at 0
        // and one taken at 49.
        let early = b.try_acquire(Priority::Normal, 0).unwrap();
        let late = b.try_acquire(Priority::Normal, 49).unwrap();
        assert!(b.try_acquire(Priority::Normal, 75).is_err());
        // Both live until the second boundary, 100: one lease and 51 ticks.
        assert_eq!(b.expire(99), 0);
        assert_eq!(b.in_use(), 2);
        assert_eq!(b.expire(100), 2);
        assert_eq!((b.in_use(), b.reclaimed()), (0, 2));
        // Their late releases are refused and counted, never freeing a second slot.
        let fresh = b.try_acquire(Priority::Normal, 100).unwrap();
        assert_eq!(b.release(early, 101), Err(ReleaseError::Expired));
        assert_eq!(b.release(late, 101), Err(ReleaseError::Expired));
        assert_eq!(
            (b.in_use(), b.expired_releases(), b.extra_releases()),
            (1, 2, 0)
        );
        b.release(fresh, 125).unwrap();
        assert_eq!(b.in_use(), 0);
    }

    #[test]
    fn a_slot_released_in_the_next_epoch_is_still_its_own() {
        let mut b = Bulkhead::unreserved(nz(3), TickUnit::MILLIS)
            .with_lease(10)
            .unwrap();
        // epochs of 5 ticks: a in [0, 5), c in [5, 10)
        let a = b.try_acquire(Priority::Critical, 3).unwrap();
        let c = b.try_acquire(Priority::Critical, 6).unwrap();
        assert_eq!((b.in_use_by(Priority::Critical), b.in_use()), (2, 2));
        b.release(a, 9).unwrap();
        b.release(c, 14).unwrap();
        assert_eq!((b.in_use(), b.reclaimed()), (0, 0));
    }

    #[test]
    fn a_long_silence_frees_everything_and_restarts_the_epochs() {
        let mut b = Bulkhead::unreserved(nz(2), TickUnit::MILLIS)
            .with_lease(10)
            .unwrap();
        let s = b.try_acquire(Priority::Sheddable, 3).unwrap();
        let _lost = b.try_acquire(Priority::Sheddable, 3).unwrap();
        let t = b.try_acquire(Priority::Sheddable, 1_000_000);
        assert!(t.is_ok());
        assert_eq!((b.in_use(), b.reclaimed()), (1, 2));
        assert_eq!(b.release(s, 1_000_000), Err(ReleaseError::Expired));
        // The new epoch started at 1_000_000: the new slot lives to 1_000_010.
        assert_eq!(b.expire(1_000_009), 0);
        assert_eq!(b.expire(1_000_010), 1);
        // A clock that goes back turns nothing.
        let u = b.try_acquire(Priority::Sheddable, 1_000_010).unwrap();
        assert_eq!(b.expire(0), 0);
        b.release(u, 0).unwrap();
    }

    #[test]
    fn a_lease_of_forever_never_expires_and_the_end_of_time_is_defined() {
        let mut b = Bulkhead::unreserved(nz(1), TickUnit::MILLIS)
            .with_lease(u64::MAX)
            .unwrap();
        let s = b.try_acquire(Priority::Normal, u64::MAX - 1).unwrap();
        assert!(b.try_acquire(Priority::Normal, u64::MAX - 1).is_err());
        b.release(s, u64::MAX - 1).unwrap();
        let mut b = Bulkhead::unreserved(nz(1), TickUnit::MILLIS)
            .with_lease(5)
            .unwrap();
        let s = b.try_acquire(Priority::Normal, u64::MAX).unwrap();
        assert_eq!(b.expire(u64::MAX), 0);
        b.release(s, u64::MAX).unwrap();
    }

    #[test]
    fn the_largest_limit_works() {
        let mut b = Bulkhead::new(nz(u32::MAX), u32::MAX - 1, 0, TickUnit::MILLIS).unwrap();
        assert_eq!(b.available_for(Priority::Sheddable), 1);
        let s = b.try_acquire(Priority::Sheddable, 0).unwrap();
        assert!(b.try_acquire(Priority::Normal, 0).is_err());
        b.release(s, 0).unwrap();
    }

    #[test]
    fn slot_raw_values_are_exact_in_a_double() {
        let raw = Slot::new(Priority::Sheddable, u64::MAX).into_raw();
        assert!(raw < 1 << 53);
        assert_eq!(Slot::from_raw(raw).priority(), Some(Priority::Sheddable));
    }

    #[test]
    fn epoch_boundaries_at_the_extremes() {
        for lease in [1, 2, 3, 7, 1 << 32, (1 << 63) + 1, u64::MAX - 1, u64::MAX] {
            for now in [0, 1, lease - 1, lease, u64::MAX - 1, u64::MAX] {
                let e = epoch_of(now, lease);
                assert_eq!(e, now / lease, "{now} {lease}");
                assert!(now <= last_of(e, lease));
            }
        }
        assert_eq!(last_of(u64::MAX, 1), u64::MAX);
        assert_eq!(last_of(1, u64::MAX), u64::MAX);
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
        fn epoch_of_is_the_quotient(now: u64, lease in 1u64..) {
            let e = epoch_of(now, lease);
            prop_assert_eq!(e, now / lease);
            prop_assert!(now <= last_of(e, lease));
            prop_assert!(e == 0 || now > last_of(e - 1, lease));
        }
    }

    proptest! {
        #![proptest_config(crate::testing::proptest_config())]
        /// Against a model that keeps every slot with its acquisition time:
        /// admission by the rule, `in_use <= limit`, a slot is never freed
        /// twice, and every slot is gone (released or reclaimed) once its
        /// lease passed since it was taken (two ticks for a lease of one),
        /// and never before half of it.
        #[test]
        fn matches_a_model_of_leased_slots(
            limit in 1u32..12,
            rc in 0u32..12,
            rn in 0u32..12,
            lease in 1u64..50,
            ops in proptest::collection::vec((0u8..3, priority(), 0u64..30, any::<prop::sample::Index>()), 0..120),
        ) {
            let rc = rc % limit;
            let rn = rn % (limit - rc);
            let mut b = Bulkhead::new(nz(limit), rc, rn, TickUnit::MILLIS).unwrap().with_lease(lease).unwrap();
            let span = span_of(lease);
            prop_assert!(2 * span <= lease.max(2) && 2 * span > lease / 2);
            // (raw, priority, taken at, still counted)
            let mut slots: Vec<(u64, Priority, u64, bool)> = Vec::new();
            let mut now = 0u64;
            let (mut extra, mut expired) = (0u64, 0u64);
            for (op, p, dt, pick) in ops {
                now += dt;
                b.expire(now);
                // Every slot is gone within its lease of its acquisition.
                for s in slots.iter_mut().filter(|s| s.3) {
                    if now - s.2 >= 2 * span { s.3 = false; }
                }
                let counted = slots.iter().filter(|s| s.3).count() as u32;
                prop_assert!(b.in_use() <= counted, "{} > {}", b.in_use(), counted);
                if op == 0 {
                    let before = b.in_use();
                    let threshold = match p {
                        Priority::Critical => limit,
                        Priority::Normal => limit - rc,
                        Priority::Sheddable => limit - rc - rn,
                    };
                    let got = b.try_acquire(p, now);
                    prop_assert_eq!(got.is_ok(), before < threshold);
                    if let Ok(s) = got {
                        slots.push((s.into_raw(), p, now, true));
                    }
                } else {
                    // A slot handed out, or a made-up one of this epoch
                    // (identical to any real one of its priority and epoch).
                    let raw = if op == 1 && !slots.is_empty() {
                        slots[pick.index(slots.len())].0
                    } else {
                        Slot::new(p, b.epoch).into_raw()
                    };
                    let held = b.in_use();
                    let same = slots.iter().position(|s| s.3 && s.0 == raw);
                    match b.release(Slot::from_raw(raw), now) {
                        Ok(()) => {
                            let Some(i) = same else {
                                return Err(TestCaseError::fail("freed a slot nobody held"));
                            };
                            prop_assert_eq!(b.in_use(), held - 1);
                            slots[i].3 = false;
                        }
                        Err(ReleaseError::Expired) => {
                            expired += 1;
                            for s in slots.iter_mut().filter(|s| s.0 == raw) {
                                prop_assert!(now - s.2 > span);
                                s.3 = false;
                            }
                        }
                        Err(ReleaseError::NotHeld) => {
                            prop_assert!(same.is_none());
                            extra += 1;
                        }
                    }
                }
                // Slots younger than half a lease are never reclaimed.
                let young = slots.iter().filter(|s| s.3 && now - s.2 <= span).count() as u32;
                prop_assert!(b.in_use() >= young);
                prop_assert!(b.in_use() <= limit);
                prop_assert_eq!(b.available(), limit - b.in_use());
                prop_assert_eq!(b.extra_releases(), extra);
                prop_assert_eq!(b.expired_releases(), expired);
            }
        }
    }
}
