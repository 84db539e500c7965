//! Token bucket (GCRA): a rate limit with a burst.

use core::num::NonZeroU32;

use fusewire::{Bucket, Rate, Refused};

use crate::boundary::{
    borrow_in, boundary, fits, install, invalid, object, object_ref, put, slot, Object, Outcome,
};
use crate::status::{
    fusewire_config_error, fusewire_field, fusewire_problem, fusewire_status, Invalid, Scope,
};
use crate::tick::fusewire_tick;

/// A token bucket: `burst` tokens, refilled at `tokens` per `period` ticks.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub struct fusewire_bucket_config {
    /// Ticks per `tokens` tokens; not 0.
    pub period: u64,
    /// Tokens added per `period`; not 0.
    pub tokens: u32,
    /// Capacity; the bucket starts full; not 0.
    pub burst: u32,
}

impl fusewire_bucket_config {
    /// Validates the config into the burst and the rate that both bucket
    /// forms are built from; errors name the C field.
    #[inline(always)]
    pub(crate) fn parts(&self) -> Result<(NonZeroU32, Rate), Invalid> {
        let rate =
            Rate::new(self.tokens, self.period).map_err(|e| Invalid::from_core(Scope::Bucket, e));
        match NonZeroU32::new(self.burst) {
            None => Err(Invalid::new(
                fusewire_field::BucketBurst,
                fusewire_problem::Zero,
            )),
            Some(burst) => rate.map(|rate| (burst, rate)),
        }
    }
}

/// A take's answer for C: OK, RATE_LIMITED (writing `*retry_after` if not
/// NULL) or EXCEEDS_BURST.
///
/// Pointers:
/// `retry_after` is NULL or writable.
#[inline(always)]
pub(crate) unsafe fn taken(r: Result<(), Refused>, retry_after: *mut u64) -> Outcome {
    match r {
        Ok(()) => Ok(fusewire_status::Ok),
        Err(Refused::Denied(d)) => {
            // SAFETY: the caller's contract.
            unsafe { put(retry_after, d.retry_after) };
            Err(fusewire_status::RateLimited)
        }
        Err(_) => Err(fusewire_status::ExceedsBurst),
    }
}

/// A token bucket. Declare it `static` or on the stack; initialise with
/// `fusewire_bucket_init`.
#[repr(C, align(8))]
#[allow(non_camel_case_types)]
pub struct fusewire_bucket {
    _opaque: [u64; 5],
}

/// `sizeof(fusewire_bucket)`: 40 bytes (alignment `FUSEWIRE_OBJECT_ALIGN`).
pub const FUSEWIRE_BUCKET_SIZE: usize = 40;
const _: () = assert!(core::mem::size_of::<fusewire_bucket>() == FUSEWIRE_BUCKET_SIZE);
const _: () = assert!(core::mem::align_of::<fusewire_bucket>() == crate::FUSEWIRE_OBJECT_ALIGN);

/// The core's `Bucket` is at most 8-aligned (it caps its `u128` at 8), so it
/// lives in the C struct as is and is updated in place: a refusal writes
/// nothing.
#[repr(C)]
pub(crate) struct BucketObj {
    tag: u32,
    bucket: Bucket,
}

// SAFETY: repr(C), tag first; size and alignment checked below.
unsafe impl Object for BucketObj {
    type C = fusewire_bucket;
    const TAG: u32 = 0x4657_4255; // "FWBU"
    crate::boundary::intact_field!(bucket: Bucket);
}
const _: () = assert!(fits::<BucketObj>());

/// Initialises `*bucket` in place, full, from `*config`.
///
/// Returns `FUSEWIRE_STATUS_INVALID_CONFIG` (writing `*error` if not NULL)
/// and leaves `*bucket` untouched if the config is bad.
///
/// Thread/ISR safety: writes `*bucket`; no other caller may use it meanwhile.
///
/// Pointers:
/// `bucket` and `config` are NULL or valid for the access; `error` is NULL
/// or writable.
#[no_mangle]
pub unsafe extern "C" fn fusewire_bucket_init(
    bucket: *mut fusewire_bucket,
    config: *const fusewire_bucket_config,
    error: *mut fusewire_config_error,
) -> fusewire_status {
    boundary(|| {
        let p = slot::<BucketObj>(bucket)?;
        // SAFETY: the caller's contract for `config`.
        let c = unsafe { borrow_in(config) }?;
        match c.parts().map(|(burst, rate)| Bucket::new(burst, rate)) {
            // SAFETY: `p` checked by `slot`; writable by contract.
            Ok(b) => unsafe {
                install(
                    p,
                    BucketObj {
                        tag: BucketObj::TAG,
                        bucket: b,
                    },
                )
            },
            // SAFETY: the caller's contract for `error`.
            Err(e) => return unsafe { invalid(error, e) },
        }
        Ok(fusewire_status::Ok)
    })
}

/// Takes `n` tokens at `now`, all or none (`n == 0` always succeeds).
///
/// - `FUSEWIRE_STATUS_RATE_LIMITED`: writes `*retry_after` (if not NULL):
///   at `now + retry_after` the same request succeeds if nothing else
///   happened.
/// - `FUSEWIRE_STATUS_EXCEEDS_BURST`: `n` is above the burst; never possible.
///
/// Thread/ISR safety: mutates `*bucket` (single owner): one caller at a time
/// per bucket; guard with a critical section if an ISR shares it, or use
/// `fusewire_shared_bucket` (lock-free).
///
/// Pointers:
/// `bucket` is NULL or points to a `fusewire_bucket` not used concurrently;
/// `retry_after` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fusewire_bucket_acquire(
    bucket: *mut fusewire_bucket,
    now: fusewire_tick,
    n: u32,
    retry_after: *mut u64,
) -> fusewire_status {
    let now = now.ticks;
    boundary(|| {
        // SAFETY: the caller's contract.
        let b = &mut unsafe { object::<BucketObj>(bucket) }?.bucket;
        // SAFETY: the caller's contract for `retry_after`.
        unsafe { taken(b.try_acquire(n, now), retry_after) }
    })
}

/// Gives back `n` tokens at `now` (the operation that took them did not
/// happen); never above the burst.
///
/// Thread/ISR safety: as `fusewire_bucket_acquire`.
///
/// Pointers:
/// As `fusewire_bucket_acquire`.
#[no_mangle]
pub unsafe extern "C" fn fusewire_bucket_refund(
    bucket: *mut fusewire_bucket,
    now: fusewire_tick,
    n: u32,
) -> fusewire_status {
    let now = now.ticks;
    boundary(|| {
        // SAFETY: the caller's contract.
        unsafe { object::<BucketObj>(bucket) }?
            .bucket
            .refund(n, now);
        Ok(fusewire_status::Ok)
    })
}

/// Whole tokens available at `now`, `0..=burst`. Writes `*available` on OK.
///
/// Thread/ISR safety: reads `*bucket`; must not race a writer.
///
/// Pointers:
/// `bucket` is NULL or points to a `fusewire_bucket`; `available` is NULL
/// or writable.
#[no_mangle]
pub unsafe extern "C" fn fusewire_bucket_available(
    bucket: *const fusewire_bucket,
    now: fusewire_tick,
    available: *mut u32,
) -> fusewire_status {
    let now = now.ticks;
    boundary(|| {
        // SAFETY: the caller's contract.
        let o = unsafe { object_ref::<BucketObj>(bucket) }?;
        if available.is_null() {
            return Err(fusewire_status::NullArgument);
        }
        // SAFETY: non-NULL; the caller's contract.
        unsafe { put(available, o.bucket.available(now)) };
        Ok(fusewire_status::Ok)
    })
}

/// Changes the rate to `tokens` per `period` at `now`, keeping the fill
/// level. On `FUSEWIRE_STATUS_INVALID_CONFIG` writes `*error` (if not NULL,
/// field `FUSEWIRE_FIELD_BUCKET_TOKENS` or `_PERIOD`) and changes nothing.
///
/// Thread/ISR safety: as `fusewire_bucket_acquire`.
///
/// Pointers:
/// As `fusewire_bucket_acquire`; `error` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fusewire_bucket_set_rate(
    bucket: *mut fusewire_bucket,
    now: fusewire_tick,
    tokens: u32,
    period: u64,
    error: *mut fusewire_config_error,
) -> fusewire_status {
    let now = now.ticks;
    boundary(|| {
        // SAFETY: the caller's contract.
        let b = &mut unsafe { object::<BucketObj>(bucket) }?.bucket;
        match b.set_rate(tokens, period, now) {
            Ok(()) => Ok(fusewire_status::Ok),
            // SAFETY: the caller's contract for `error`.
            Err(e) => unsafe { invalid(error, Invalid::from_core(Scope::Bucket, e)) },
        }
    })
}

#[cfg(test)]
mod tests {
    use core::ptr::null_mut;

    use super::*;

    /// A bucket at an address that is 8- but not 16-aligned, as C may place
    /// it (Miri checks every access); a refusal leaves it as it was.
    #[test]
    fn works_in_place_at_8_byte_alignment_and_refusal_changes_nothing() {
        let mut slots = [
            fusewire_bucket { _opaque: [0; 5] },
            fusewire_bucket { _opaque: [0; 5] },
        ];
        let b = if (&slots[0] as *const fusewire_bucket as usize) % 16 == 8 {
            &mut slots[0]
        } else {
            &mut slots[1]
        };
        let cfg = fusewire_bucket_config {
            period: 10,
            tokens: 3,
            burst: 2,
        };
        unsafe {
            assert_eq!(
                fusewire_bucket_init(b, &cfg, null_mut()),
                fusewire_status::Ok
            );
            for _ in 0..2 {
                assert_eq!(
                    fusewire_bucket_acquire(b, crate::tick(5), 1, null_mut()),
                    fusewire_status::Ok
                );
            }
            let state = |b: &fusewire_bucket| object_ref::<BucketObj>(b).map(|o| o.bucket);
            let before = state(b);
            let mut wait = 0;
            assert_eq!(
                fusewire_bucket_acquire(b, crate::tick(5), 1, &mut wait),
                fusewire_status::RateLimited
            );
            assert_eq!(wait, 4);
            assert_eq!(state(b), before);
            assert_eq!(
                fusewire_bucket_acquire(b, crate::tick(9), 1, null_mut()),
                fusewire_status::Ok
            );
        }
    }
}
