//! The shared token bucket: `fusewire::SharedBucket` (GCRA, one atomic
//! arrival time).

use core::cell::UnsafeCell;

use fusewire::SharedBucket;

use crate::boundary::{borrow_in, boundary, fits, install, invalid, put, shared, slot, Object};
use crate::bucket::{fusewire_bucket_config, taken};
use crate::status::{fusewire_config_error, fusewire_status, Invalid, Scope};
use crate::tick::fusewire_tick;

/// A token bucket that several threads, or an interrupt and the main loop,
/// share without a lock: the rule and answers of `fusewire_bucket`, with
/// the arrival time in one atomic `uint64_t`. Its rate is fixed at init
/// (no `set_rate`). Configured by a `fusewire_bucket_config` whose
/// `burst * period` (in lowest terms) is below 2^63. Its answers equal
/// `fusewire_bucket`'s while `now` stays within 2^63 / `tokens` ticks of
/// the last admission (292 years of nanoseconds at one token per tick);
/// past that an idle bucket may refuse where it should admit, never grant
/// more than the burst.
///
/// Declare it `static` (or in memory that outlives every user) and
/// initialise it with `fusewire_shared_bucket_init` before sharing it.
/// Every other `fusewire_shared_bucket_*` call is lock-free and may run
/// from any thread or interrupt handler at the same time as the others.
/// Targets without native 64-bit atomics have these functions only in a
/// single-core build (see the README). Do not copy an initialised bucket.
#[repr(C, align(8))]
#[allow(non_camel_case_types)]
pub struct fusewire_shared_bucket {
    _opaque: [UnsafeCell<u64>; 5],
}

/// `sizeof(fusewire_shared_bucket)`: 40 bytes (alignment `FUSEWIRE_OBJECT_ALIGN`).
pub const FUSEWIRE_SHARED_BUCKET_SIZE: usize = 40;
const _: () =
    assert!(core::mem::size_of::<fusewire_shared_bucket>() == FUSEWIRE_SHARED_BUCKET_SIZE);
const _: () =
    assert!(core::mem::align_of::<fusewire_shared_bucket>() == crate::FUSEWIRE_OBJECT_ALIGN);

#[repr(C)]
pub(crate) struct SharedBucketObj {
    tag: u32,
    bucket: SharedBucket,
}

// SAFETY: repr(C), tag first; size and alignment checked below.
unsafe impl Object for SharedBucketObj {
    type C = fusewire_shared_bucket;
    const TAG: u32 = 0x4657_5355; // "FWSU"
    crate::boundary::intact_field!(bucket: SharedBucket);
}
const _: () = assert!(fits::<SharedBucketObj>());

/// The initialised shared bucket behind a C pointer.
unsafe fn bucket<'a>(
    p: *const fusewire_shared_bucket,
) -> Result<&'a SharedBucket, fusewire_status> {
    // SAFETY: forwarded contract.
    unsafe { shared::<SharedBucketObj>(p) }.map(|o| &o.bucket)
}

/// Initialises `*bucket` in place, full, from `*config`.
///
/// Returns `FUSEWIRE_STATUS_INVALID_CONFIG` (writing `*error` if not NULL)
/// and leaves `*bucket` untouched if the config is bad; besides the
/// single-owner checks, `burst * period` of 2^63 or more is
/// `FUSEWIRE_FIELD_BUCKET_BURST`, `FUSEWIRE_PROBLEM_OUT_OF_RANGE`.
///
/// Thread/ISR safety: not concurrent. Writes `*bucket`; no other call on it
/// may run meanwhile, and init must happen-before every other call on it
/// (initialise before starting the threads or enabling the interrupt that
/// share it).
///
/// Pointers:
/// `bucket` and `config` are NULL or valid for the access; `error` is NULL
/// or writable.
#[no_mangle]
pub unsafe extern "C" fn fusewire_shared_bucket_init(
    bucket: *mut fusewire_shared_bucket,
    config: *const fusewire_bucket_config,
    error: *mut fusewire_config_error,
) -> fusewire_status {
    boundary(|| {
        let p = slot::<SharedBucketObj>(bucket)?;
        // SAFETY: the caller's contract for `config`.
        let c = unsafe { borrow_in(config) }?;
        let built = c.parts().and_then(|(burst, rate)| {
            SharedBucket::new(burst, rate).map_err(|e| Invalid::from_core(Scope::Bucket, e))
        });
        match built {
            // SAFETY: `p` checked by `slot`; writable by contract.
            Ok(b) => unsafe {
                install(
                    p,
                    SharedBucketObj {
                        tag: SharedBucketObj::TAG,
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

/// Takes `n` tokens at `now`, all or none (`n == 0` always succeeds), as
/// `fusewire_bucket_acquire`; racing callers together never take more than
/// the bucket holds.
///
/// - `FUSEWIRE_STATUS_RATE_LIMITED`: writes `*retry_after` (if not NULL):
///   at `now + retry_after` the same request succeeds if nothing else
///   happened. A refusal writes nothing to the bucket.
/// - `FUSEWIRE_STATUS_EXCEEDS_BURST`: `n` is above the burst; never possible.
///
/// Thread/ISR safety: lock-free (one compare-and-swap loop); any thread or
/// interrupt handler, concurrently with any call on the same bucket except
/// its init.
///
/// Pointers:
/// `bucket` is NULL or points to a `fusewire_shared_bucket` initialised
/// before this call; `retry_after` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fusewire_shared_bucket_acquire(
    bucket: *const fusewire_shared_bucket,
    now: fusewire_tick,
    n: u32,
    retry_after: *mut u64,
) -> fusewire_status {
    let now = now.ticks;
    boundary(|| {
        // SAFETY: the caller's contract.
        let b = unsafe { self::bucket(bucket) }?;
        // SAFETY: the caller's contract for `retry_after`.
        unsafe { taken(b.try_acquire(n, now), retry_after) }
    })
}

/// Gives back `n` tokens at `now` (the operation that took them did not
/// happen); never above the burst.
///
/// Thread/ISR safety: lock-free (one compare-and-swap loop); any thread or
/// interrupt handler, concurrently with any call on the same bucket except
/// its init.
///
/// Pointers:
/// `bucket` is NULL or points to a `fusewire_shared_bucket` initialised
/// before this call.
#[no_mangle]
pub unsafe extern "C" fn fusewire_shared_bucket_refund(
    bucket: *const fusewire_shared_bucket,
    now: fusewire_tick,
    n: u32,
) -> fusewire_status {
    let now = now.ticks;
    boundary(|| {
        // SAFETY: the caller's contract.
        unsafe { self::bucket(bucket) }?.refund(n, now);
        Ok(fusewire_status::Ok)
    })
}

/// Whole tokens available at `now`, `0..=burst`. Writes `*available` on OK.
///
/// Thread/ISR safety: lock-free (one atomic load); any thread or interrupt
/// handler, concurrently with any call on the same bucket except its init.
/// A racing acquire may take the tokens the moment after.
///
/// Pointers:
/// `bucket` is NULL or points to a `fusewire_shared_bucket` initialised
/// before this call; `available` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fusewire_shared_bucket_available(
    bucket: *const fusewire_shared_bucket,
    now: fusewire_tick,
    available: *mut u32,
) -> fusewire_status {
    let now = now.ticks;
    boundary(|| {
        // SAFETY: the caller's contract.
        let b = unsafe { self::bucket(bucket) }?;
        if available.is_null() {
            return Err(fusewire_status::NullArgument);
        }
        // SAFETY: non-NULL; the caller's contract.
        unsafe { put(available, b.available(now)) };
        Ok(fusewire_status::Ok)
    })
}
