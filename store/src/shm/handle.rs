//! What a bound name gives a process: a reference to the shared form in
//! the region, kept mapped by an `Arc` of the region.

use std::mem::{align_of, size_of};
use std::ops::Deref;
use std::ptr::NonNull;
use std::sync::Arc;

use fusewire::{
    Outcome, Permit, Rejected, SharedBreaker, SharedBucket, SharedBudget, SharedBulkhead, Snapshot,
    State, TickUnit, Transition,
};

use super::region::Region;
use super::ShmError;
use crate::config::{Config, Kind, Window};

/// A shared form in a region; dereferences to it.
pub struct Shared<T: ?Sized> {
    _region: Arc<Region>,
    ptr: NonNull<T>,
}

// SAFETY: `T` is one of the core's `Sync` shared forms, reached only
// through `&T`; the region stays mapped while this lives.
unsafe impl<T: ?Sized + Sync> Send for Shared<T> {}
// SAFETY: as above.
unsafe impl<T: ?Sized + Sync> Sync for Shared<T> {}

impl<T: ?Sized> Deref for Shared<T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: constructed in place by `place` (or by another process of
        // the same build), aligned, within the mapping the `Arc` keeps.
        unsafe { self.ptr.as_ref() }
    }
}

/// A policy bound in a region.
pub enum Handle {
    /// A token bucket.
    Bucket(Shared<SharedBucket>),
    /// A bulkhead.
    Bulkhead(Shared<SharedBulkhead>),
    /// A retry budget.
    Budget(Shared<SharedBudget>),
    /// A circuit breaker.
    Breaker(BreakerHandle),
}

/// A shared breaker of any supported window size, with this process's
/// watch for a transition another process left half made.
pub struct BreakerHandle {
    shared: Shared<dyn BreakerOps>,
    watch: StallWatch,
}

impl Deref for BreakerHandle {
    type Target = dyn BreakerOps;
    fn deref(&self) -> &(dyn BreakerOps + 'static) {
        &*self.shared
    }
}

impl BreakerHandle {
    /// Repairs a transition pending for longer than [`STALL_GRACE`]
    /// (its process was killed mid-way), then nothing: two loads when none is.
    fn watch(&self, now: u64) {
        if let Some(g) = self.watch.due(self.shared.pending(), now) {
            self.shared.repair(g, now);
        }
    }

    /// [`SharedBreaker::try_acquire`], after the stall watch.
    pub fn try_acquire(&self, now: u64) -> Result<Permit, Rejected> {
        self.watch(now);
        self.shared.try_acquire(now)
    }

    /// [`SharedBreaker::record`], after the stall watch.
    pub fn record(
        &self,
        permit: Permit,
        outcome: Outcome,
        duration: u64,
        now: u64,
    ) -> Option<Transition> {
        self.watch(now);
        self.shared.record(permit, outcome, duration, now)
    }

    /// [`SharedBreaker::release`], after the stall watch.
    pub fn release(&self, permit: Permit, now: u64) -> Option<Transition> {
        self.watch(now);
        self.shared.release(permit, now)
    }

    /// [`SharedBreaker::poll`], after the stall watch.
    pub fn poll(&self, now: u64) -> Option<Transition> {
        self.watch(now);
        self.shared.poll(now)
    }
}

/// How long a transition may stay pending (decided, not published) before
/// a process repairs it: one second. A live transition publishes within
/// microseconds; one pending this long was made by a process that died.
pub const STALL_GRACE: u64 = 1_000_000_000;

/// When this process first saw the pending generation: one word, the
/// generation in the high half and the time (ns >> 20, about a
/// millisecond) in the low half, so threads racing on it never pair one
/// stall's generation with another's time.
pub struct StallWatch {
    seen: std::sync::atomic::AtomicU64,
}

impl Default for StallWatch {
    fn default() -> Self {
        Self {
            seen: std::sync::atomic::AtomicU64::new(u64::MAX),
        }
    }
}

impl StallWatch {
    /// The generation to repair now, given the breaker's pending one.
    pub fn due(&self, pending: Option<u32>, now: u64) -> Option<u32> {
        use std::sync::atomic::Ordering::Relaxed;
        let g = pending?;
        let tick = (now >> 20) as u32;
        let seen = self.seen.load(Relaxed);
        if (seen >> 32) as u32 != g || seen == u64::MAX {
            self.seen
                .store(u64::from(g) << 32 | u64::from(tick), Relaxed);
            return None;
        }
        (tick.wrapping_sub(seen as u32) >= (STALL_GRACE >> 20) as u32).then_some(g)
    }
}

/// The operations of [`SharedBreaker`], whatever its window size.
pub trait BreakerOps: Sync {
    /// [`SharedBreaker::try_acquire`].
    fn try_acquire(&self, now: u64) -> Result<Permit, Rejected>;
    /// [`SharedBreaker::record`].
    fn record(
        &self,
        permit: Permit,
        outcome: Outcome,
        duration: u64,
        now: u64,
    ) -> Option<Transition>;
    /// [`SharedBreaker::release`].
    fn release(&self, permit: Permit, now: u64) -> Option<Transition>;
    /// [`SharedBreaker::permit_into_raw`].
    fn permit_into_raw(&self, permit: Permit) -> u64;
    /// [`SharedBreaker::poll`].
    fn poll(&self, now: u64) -> Option<Transition>;
    /// [`SharedBreaker::trip`].
    fn trip(&self, now: u64) -> Option<Transition>;
    /// [`SharedBreaker::close`].
    fn close(&self, now: u64) -> Option<Transition>;
    /// [`SharedBreaker::force_open`].
    fn force_open(&self, now: u64) -> Option<Transition>;
    /// [`SharedBreaker::disable`].
    fn disable(&self, now: u64) -> Option<Transition>;
    /// [`SharedBreaker::reset`].
    fn reset(&self, now: u64) -> Option<Transition>;
    /// [`SharedBreaker::snapshot`].
    fn snapshot(&self, now: u64) -> Snapshot;
    /// [`SharedBreaker::state`].
    fn state(&self) -> State;
    /// [`SharedBreaker::pending`].
    fn pending(&self) -> Option<u32>;
    /// [`SharedBreaker::repair`].
    fn repair(&self, generation: u32, now: u64) -> bool;
}

impl<const N: usize> BreakerOps for SharedBreaker<N> {
    fn try_acquire(&self, now: u64) -> Result<Permit, Rejected> {
        SharedBreaker::try_acquire(self, now)
    }
    fn record(
        &self,
        permit: Permit,
        outcome: Outcome,
        duration: u64,
        now: u64,
    ) -> Option<Transition> {
        SharedBreaker::record(self, permit, outcome, duration, now)
    }
    fn release(&self, permit: Permit, now: u64) -> Option<Transition> {
        SharedBreaker::release(self, permit, now)
    }
    fn permit_into_raw(&self, permit: Permit) -> u64 {
        SharedBreaker::permit_into_raw(self, permit)
    }
    fn poll(&self, now: u64) -> Option<Transition> {
        SharedBreaker::poll(self, now)
    }
    fn trip(&self, now: u64) -> Option<Transition> {
        SharedBreaker::trip(self, now)
    }
    fn close(&self, now: u64) -> Option<Transition> {
        SharedBreaker::close(self, now)
    }
    fn force_open(&self, now: u64) -> Option<Transition> {
        SharedBreaker::force_open(self, now)
    }
    fn disable(&self, now: u64) -> Option<Transition> {
        SharedBreaker::disable(self, now)
    }
    fn reset(&self, now: u64) -> Option<Transition> {
        SharedBreaker::reset(self, now)
    }
    fn snapshot(&self, now: u64) -> Snapshot {
        SharedBreaker::snapshot(self, now)
    }
    fn state(&self) -> State {
        SharedBreaker::state(self)
    }
    fn pending(&self) -> Option<u32> {
        SharedBreaker::pending(self)
    }
    fn repair(&self, generation: u32, now: u64) -> bool {
        SharedBreaker::repair(self, generation, now)
    }
}

/// The count-window sizes a shared breaker can have (its window is a
/// fixed-size array in the region).
pub const WINDOW_SIZES: &[u32] = &[5, 10, 20, 25, 50, 100, 200, 250, 500, 1000];

/// Calls `$body` with `$t` the `SharedBreaker<N>` type of window size `$n`.
macro_rules! by_size {
    ($n:expr, $t:ident => $body:expr, $other:expr) => {
        match $n {
            5 => {
                type $t = SharedBreaker<5>;
                $body
            }
            10 => {
                type $t = SharedBreaker<10>;
                $body
            }
            20 => {
                type $t = SharedBreaker<20>;
                $body
            }
            25 => {
                type $t = SharedBreaker<25>;
                $body
            }
            50 => {
                type $t = SharedBreaker<50>;
                $body
            }
            100 => {
                type $t = SharedBreaker<100>;
                $body
            }
            200 => {
                type $t = SharedBreaker<200>;
                $body
            }
            250 => {
                type $t = SharedBreaker<250>;
                $body
            }
            500 => {
                type $t = SharedBreaker<500>;
                $body
            }
            1000 => {
                type $t = SharedBreaker<1000>;
                $body
            }
            _ => $other,
        }
    };
}

/// The size and alignment of the largest breaker, for the build fingerprint.
pub(super) fn breaker_shape() -> (usize, usize) {
    (
        size_of::<SharedBreaker<1000>>(),
        align_of::<SharedBreaker<1000>>(),
    )
}

/// How much room a config's payload takes.
pub(super) struct Layout {
    pub(super) size: usize,
}

fn window_size(config: &Config) -> Result<u32, ShmError> {
    let (_, window) = config.as_breaker().map_err(|e| ShmError::Unsupported {
        field: e.field,
        reason: e.reason,
    })?;
    match window {
        Window::Count { size } if WINDOW_SIZES.contains(&size) => Ok(size),
        Window::Count { size } => Err(ShmError::Unsupported {
            field: "window_size",
            reason: format!(
                "a breaker in a host store counts the last {} calls, not {size}",
                WINDOW_SIZES
                    .iter()
                    .map(u32::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }),
        Window::Time { .. } => Err(ShmError::Unsupported {
            field: "window_duration",
            reason: "a breaker in a host store has a count window (window_size); \
                     a time window cannot be shared between processes yet"
                .into(),
        }),
    }
}

pub(super) fn layout_of(config: &Config) -> Result<Layout, ShmError> {
    let size = match config.kind {
        Kind::Bucket => size_of::<SharedBucket>(),
        Kind::Bulkhead => size_of::<SharedBulkhead>(),
        Kind::Budget => size_of::<SharedBudget>(),
        Kind::Breaker => {
            let n = window_size(config)?;
            by_size!(n, B => size_of::<B>(), 0)
        }
    };
    Ok(Layout { size })
}

fn core_error(e: fusewire::ConfigError) -> ShmError {
    ShmError::Unsupported {
        field: e.field,
        reason: format!("{e}"),
    }
}

fn plain_error(e: crate::config::PlainError) -> ShmError {
    ShmError::Unsupported {
        field: e.field,
        reason: e.reason,
    }
}

/// Constructs the payload of `config` at `at`.
///
/// # Safety
/// `at` must be 64-byte aligned, within a live mapping, with room for
/// `layout_of(config).size` bytes that nothing else uses.
pub(super) unsafe fn place(at: NonNull<u8>, config: &Config) -> Result<(), ShmError> {
    let at = at.as_ptr();
    // SAFETY (every write below): the caller's contract.
    match config.kind {
        Kind::Bucket => {
            let (burst, tokens, period) = config.as_bucket().map_err(plain_error)?;
            let rate = fusewire::Rate::new(tokens, period).map_err(core_error)?;
            let b = SharedBucket::new(burst, rate).map_err(core_error)?;
            unsafe { at.cast::<SharedBucket>().write(b) };
        }
        Kind::Bulkhead => {
            let (limit, rc, rn, lease) = config.as_bulkhead().map_err(plain_error)?;
            let b = SharedBulkhead::new(limit, rc, rn, TickUnit::NANOS)
                .and_then(|b| b.with_lease(lease))
                .map_err(core_error)?;
            unsafe { at.cast::<SharedBulkhead>().write(b) };
        }
        Kind::Budget => {
            let (max, milli) = config.as_budget().map_err(plain_error)?;
            let b = SharedBudget::new(max, milli).map_err(core_error)?;
            unsafe { at.cast::<SharedBudget>().write(b) };
        }
        Kind::Breaker => {
            let (c, _) = config.as_breaker().map_err(plain_error)?;
            let n = window_size(config)?;
            by_size!(
                n,
                B => {
                    let b = B::new(c).map_err(core_error)?;
                    unsafe { at.cast::<B>().write(b) };
                },
                unreachable!("checked by window_size")
            )
        }
    }
    Ok(())
}

/// A handle on the payload of `config` at `at`.
///
/// # Safety
/// `at` must hold a payload that `place` constructed for this kind and
/// window size, in `region`'s mapping.
pub(super) unsafe fn attach(region: Arc<Region>, at: NonNull<u8>, config: &Config) -> Handle {
    match config.kind {
        Kind::Bucket => Handle::Bucket(Shared {
            _region: region,
            ptr: at.cast(),
        }),
        Kind::Bulkhead => Handle::Bulkhead(Shared {
            _region: region,
            ptr: at.cast(),
        }),
        Kind::Budget => Handle::Budget(Shared {
            _region: region,
            ptr: at.cast(),
        }),
        Kind::Breaker => {
            let n = window_size(config).unwrap_or(0);
            let ptr: NonNull<dyn BreakerOps> = by_size!(
                n,
                B => at.cast::<B>(),
                at.cast::<SharedBreaker<5>>()
            );
            Handle::Breaker(BreakerHandle {
                shared: Shared {
                    _region: region,
                    ptr,
                },
                watch: StallWatch::default(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stall_is_repaired_after_the_grace_and_only_then() {
        let w = StallWatch::default();
        let s = 1_000_000_000u64;
        assert_eq!(w.due(None, 5 * s), None);
        assert_eq!(w.due(Some(7), 5 * s), None, "first seen");
        assert_eq!(w.due(Some(7), 5 * s + s / 2), None, "within the grace");
        assert_eq!(
            w.due(Some(8), 5 * s + s + s / 2),
            None,
            "another stall starts over"
        );
        assert_eq!(w.due(Some(8), 7 * s), None, "0.5 s after it was seen");
        assert_eq!(w.due(Some(8), 8 * s), Some(8), "past the grace");
    }
}
