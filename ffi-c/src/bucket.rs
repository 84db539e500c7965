//! Token bucket (GCRA): a rate limit with a burst.

use core::num::NonZeroU32;

use fusewire::{Bucket, Rate, Refused};

use crate::boundary::{
    boundary, fits, install, invalid, object, object_ref, put, read_in, slot, Object, Outcome,
};
use crate::status::{
    fusewire_config_error, fusewire_field, fusewire_problem, fusewire_status, Invalid, Scope,
};

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

crate::boundary::read_c_fields!(fusewire_bucket_config {
    period,
    tokens,
    burst
});

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
/// # Safety
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
#[repr(C)]
#[allow(non_camel_case_types)]
pub struct fusewire_bucket {
    _opaque: [u64; 7],
}

/// `packed(8)`: the core's state is a `u128`, 16-aligned on x86-64 but the
/// C struct only promises 8, so the bucket is copied in and out by value.
#[repr(C, packed(8))]
pub(crate) struct BucketObj {
    tag: u32,
    bucket: Bucket,
}

// SAFETY: repr(C), tag first; size and alignment checked below.
unsafe impl Object for BucketObj {
    type C = fusewire_bucket;
    const TAG: u32 = 0x4657_4255; // "FWBU"
}
const _: () = assert!(fits::<BucketObj>());

/// Runs `f` on a copy of the bucket and stores the copy back.
unsafe fn with_bucket<R>(
    p: *mut fusewire_bucket,
    f: impl FnOnce(&mut Bucket) -> Result<R, fusewire_status>,
) -> Result<R, fusewire_status> {
    // SAFETY: forwarded contract.
    let o = unsafe { object::<BucketObj>(p) }?;
    let mut b = o.bucket;
    let r = f(&mut b);
    o.bucket = b;
    r
}

/// Initialises `*bucket` in place, full, from `*config`.
///
/// Returns `FUSEWIRE_STATUS_INVALID_CONFIG` (writing `*error` if not NULL)
/// and leaves `*bucket` untouched if the config is bad.
///
/// Thread/ISR safety: writes `*bucket`; no other caller may use it meanwhile.
///
/// # Safety
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
        let c = unsafe { read_in(config) }?;
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
/// per bucket; guard with a critical section if an ISR shares it.
///
/// # Safety
/// `bucket` is NULL or points to a `fusewire_bucket` not used concurrently;
/// `retry_after` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fusewire_bucket_acquire(
    bucket: *mut fusewire_bucket,
    n: u32,
    now: u64,
    retry_after: *mut u64,
) -> fusewire_status {
    boundary(|| {
        // SAFETY: the caller's contract.
        unsafe { with_bucket(bucket, |b| taken(b.try_acquire(n, now), retry_after)) }
    })
}

/// Gives back `n` tokens at `now` (the operation that took them did not
/// happen); never above the burst.
///
/// Thread/ISR safety: as `fusewire_bucket_acquire`.
///
/// # Safety
/// As `fusewire_bucket_acquire`.
#[no_mangle]
pub unsafe extern "C" fn fusewire_bucket_refund(
    bucket: *mut fusewire_bucket,
    n: u32,
    now: u64,
) -> fusewire_status {
    boundary(|| {
        // SAFETY: the caller's contract.
        unsafe {
            with_bucket(bucket, |b| {
                b.refund(n, now);
                Ok(fusewire_status::Ok)
            })
        }
    })
}

/// Whole tokens available at `now`, `0..=burst`. Writes `*available` on OK.
///
/// Thread/ISR safety: reads `*bucket`; must not race a writer.
///
/// # Safety
/// `bucket` is NULL or points to a `fusewire_bucket`; `available` is NULL
/// or writable.
#[no_mangle]
pub unsafe extern "C" fn fusewire_bucket_available(
    bucket: *const fusewire_bucket,
    now: u64,
    available: *mut u32,
) -> fusewire_status {
    boundary(|| {
        // SAFETY: the caller's contract.
        let o = unsafe { object_ref::<BucketObj>(bucket) }?;
        if available.is_null() {
            return Err(fusewire_status::NullArgument);
        }
        let b = o.bucket;
        // SAFETY: non-NULL; the caller's contract.
        unsafe { put(available, b.available(now)) };
        Ok(fusewire_status::Ok)
    })
}

/// Changes the rate to `tokens` per `period` at `now`, keeping the fill
/// level. On `FUSEWIRE_STATUS_INVALID_CONFIG` writes `*error` (if not NULL,
/// field `FUSEWIRE_FIELD_BUCKET_TOKENS` or `_PERIOD`) and changes nothing.
///
/// Thread/ISR safety: as `fusewire_bucket_acquire`.
///
/// # Safety
/// As `fusewire_bucket_acquire`; `error` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fusewire_bucket_set_rate(
    bucket: *mut fusewire_bucket,
    tokens: u32,
    period: u64,
    now: u64,
    error: *mut fusewire_config_error,
) -> fusewire_status {
    boundary(|| {
        // SAFETY: the caller's contract.
        unsafe {
            with_bucket(bucket, |b| match b.set_rate(tokens, period, now) {
                Ok(()) => Ok(fusewire_status::Ok),
                Err(e) => invalid(error, Invalid::from_core(Scope::Bucket, e)),
            })
        }
    })
}
