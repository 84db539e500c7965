//! The one way into Rust from C: the panic boundary, pointer checks, and the
//! tagged caller-owned objects.
//!
//! Panic strategy: none can happen, and if one did the process stops.
//! - The core validates configs once and has no panicking paths after that;
//!   this crate adds none (no indexing, no unwrap, no arithmetic that can
//!   overflow), and objects whose bytes a stray write broke are refused
//!   before the core runs on them (`Object::intact`). So no panic is
//!   expected anywhere.
//! - The shipped libraries, host and firmware, are `no_std` with
//!   `panic = "abort"` (`make lib`, `make size`): the panic handler in
//!   `lib.rs` calls C's `abort()` on hosts and traps on Arm, without
//!   formatting. There is no panic status: catching one would link std
//!   (22 MB of host archive) for a path that cannot run.
//! - Rust builds with the `std` feature (the default, for `cargo test` and
//!   the fuzz targets) let std's handler report a panic as a test failure.

use core::ptr;

use crate::status::{fusewire_config_error, fusewire_status, Invalid};

/// What a body returns: `Ok` or the status to hand to C.
pub(crate) type Outcome = Result<fusewire_status, fusewire_status>;

/// Runs `body` and flattens its result (no unwinding crosses into C: see
/// the module docs).
#[inline(always)]
pub(crate) fn boundary(body: impl FnOnce() -> Outcome) -> fusewire_status {
    match body() {
        Ok(s) | Err(s) => s,
    }
}

/// A required pointer, checked for NULL.
#[inline(always)]
pub(crate) fn need<T>(p: *const T) -> Result<*const T, fusewire_status> {
    if p.is_null() {
        Err(fusewire_status::NullArgument)
    } else {
        Ok(p)
    }
}

/// A required input struct (a config), borrowed where it lies: checked for
/// NULL and alignment (a misaligned pointer is
/// `FUSEWIRE_STATUS_INVALID_ARGUMENT`, as for objects). Fields are then
/// loaded where they are used: a config is never copied whole, which on
/// firmware is a `memcpy` call (the 730-byte generic routine) or, read
/// field by field into a value, a run of register spills.
///
/// Pointers:
/// A non-NULL, aligned `p` must point to a readable, initialised `T` that
/// nothing writes during the call.
#[inline(always)]
pub(crate) unsafe fn borrow_in<'a, T>(p: *const T) -> Result<&'a T, fusewire_status> {
    let p = need(p)?;
    if (p as usize) % core::mem::align_of::<T>() != 0 {
        return Err(fusewire_status::InvalidArgument);
    }
    // SAFETY: non-NULL and aligned; readable by the caller's contract.
    Ok(unsafe { &*p })
}

/// Writes an optional out-parameter (NULL means "not wanted").
///
/// Pointers:
/// A non-NULL `p` must point to writable memory for a `T`.
#[inline(always)]
pub(crate) unsafe fn put<T>(p: *mut T, v: T) {
    if !p.is_null() {
        // SAFETY: non-NULL checked; writability is the caller's contract.
        unsafe { ptr::write_unaligned(p, v) }
    }
}

/// Writes a config error to its optional out-parameter and returns the status.
///
/// Pointers:
/// As [`put`].
pub(crate) unsafe fn invalid(err: *mut fusewire_config_error, e: Invalid) -> Outcome {
    // SAFETY: forwarded contract.
    unsafe {
        put(
            err,
            fusewire_config_error {
                field: e.field as u32,
                problem: e.problem as u32,
            },
        )
    };
    Err(fusewire_status::InvalidConfig)
}

/// A Rust object stored inside a caller-owned C struct: a 32-bit type tag
/// first, the state after it. `C` is the opaque struct the header declares
/// (an array of `uint64_t`, so C gives it 8-byte alignment).
///
/// Pointers:
/// Implementors are `repr(C)` with `tag: u32` as their first field, fit in
/// `C`, and need no more than 8-byte alignment (checked by [`fits`]).
pub(crate) unsafe trait Object: Sized {
    /// The opaque C struct holding it.
    type C;
    /// Tag written by init and checked by every other call.
    const TAG: u32;

    /// Whether the bytes after a matching tag are ones the core can run on
    /// (`fusewire::intact`): every enum tag, `bool`, divisor and index in
    /// range. `read(offset)` is the byte at `offset` from the object's
    /// start. Checked on every call after the tag; a failure is
    /// `FUSEWIRE_STATUS_CORRUPT`.
    fn intact(read: &impl Fn(usize) -> u8) -> bool;

    /// Whether the check is a byte or two (the lite objects): inlined into
    /// each entry point then, where a call would cost more than it; the
    /// full objects' checks are one out-of-line copy per type on firmware.
    const SMALL_CHECK: bool = false;
}

/// `Object::intact` for an object whose core value is field `$field` of
/// type `$t`: the core's own check at that field's offset.
macro_rules! intact_field {
    ($field:ident: $t:ty) => {
        #[inline(always)]
        fn intact(read: &impl Fn(usize) -> u8) -> bool {
            <$t as fusewire::intact::Intact>::intact(read, core::mem::offset_of!(Self, $field))
        }
    };
}
pub(crate) use intact_field;

/// Compile-time check that `O` fits in its C struct.
pub(crate) const fn fits<O: Object>() -> bool {
    core::mem::size_of::<O>() <= core::mem::size_of::<O::C>()
        && core::mem::align_of::<O>() <= 8
        && core::mem::align_of::<O::C>() == 8
}

/// Checks an object pointer (NULL, alignment) before init writes into it.
#[inline(always)]
pub(crate) fn slot<O: Object>(p: *mut O::C) -> Result<*mut O, fusewire_status> {
    if p.is_null() {
        return Err(fusewire_status::NullArgument);
    }
    let p = p.cast::<O>();
    if (p as usize) % core::mem::align_of::<O>() != 0 {
        return Err(fusewire_status::InvalidArgument);
    }
    Ok(p)
}

/// Checks NULL, alignment and the tag of an object pointer.
///
/// Pointers:
/// A non-NULL `p` must point to memory readable for an `O::C`.
#[inline(always)]
unsafe fn checked<O: Object>(p: *const O::C) -> Result<*const O, fusewire_status> {
    let p = slot::<O>(p.cast_mut())?;
    // SAFETY: p is non-NULL and aligned for O (so for u32); the caller
    // guarantees the memory is readable.
    if unsafe { ptr::read(p.cast::<u32>()) } != O::TAG {
        return Err(fusewire_status::NotInitialized);
    }
    // Before any reference to the object exists: its enum tags, bools,
    // divisors and indices, read as plain bytes (a stray write there
    // would otherwise be a wild jump or a panic in the core).
    // SAFETY: p is non-NULL, aligned and readable (checked above and the
    // caller's contract).
    let intact = if O::SMALL_CHECK {
        // SAFETY: as below; the same read, inlined.
        O::intact(&|off: usize| unsafe { ptr::read(p.cast::<u8>().add(off)) })
    } else {
        unsafe { intact::<O>(p) }
    };
    if !intact {
        return Err(fusewire_status::Corrupt);
    }
    Ok(p)
}

/// `O::intact` over the bytes at `p`. Out of line on bare metal: one copy
/// per object type, shared by all its entry points, instead of the checks
/// inlined into each (firmware `.text`).
///
/// Pointers:
/// `p` must be non-NULL, aligned and readable for an `O`.
#[cfg_attr(target_os = "none", inline(never))]
#[cfg_attr(not(target_os = "none"), inline(always))]
unsafe fn intact<O: Object>(p: *const O) -> bool {
    // SAFETY: the offsets `intact` reads are fields inside the `O` the
    // caller guarantees readable, never padding; the fields it reads are
    // written only by init or by the single owner, never concurrently.
    let read = |off: usize| unsafe { ptr::read(p.cast::<u8>().add(off)) };
    O::intact(&read)
}

/// The initialised object behind `p`.
///
/// Pointers:
/// A non-NULL `p` must point to a readable and writable `O::C`, not aliased
/// for the duration of the call; if its tag matches, the rest must be as the
/// matching init left it (the C code must not scribble over it).
#[inline(always)]
pub(crate) unsafe fn object<'a, O: Object>(p: *mut O::C) -> Result<&'a mut O, fusewire_status> {
    // SAFETY: forwarded contract; a matching tag means init wrote an O.
    unsafe { checked::<O>(p).map(|o| &mut *o.cast_mut()) }
}

/// Same, read-only.
///
/// Pointers:
/// As [`object`], without the writability requirement.
#[inline(always)]
pub(crate) unsafe fn object_ref<'a, O: Object>(p: *const O::C) -> Result<&'a O, fusewire_status> {
    // SAFETY: forwarded contract; a matching tag means init wrote an O.
    unsafe { checked::<O>(p).map(|o| &*o) }
}

/// The initialised shared-form object behind `p`, for calls through `&O`
/// that many threads (or an interrupt and the main loop) make at once. The
/// tag is read with a plain load: init wrote it before the object was
/// shared (the caller's contract), and nothing writes it afterwards.
///
/// Pointers:
/// A non-NULL `p` must point to a readable `O::C` that outlives the call;
/// if its tag matches, the rest must be as the matching init left it,
/// changed since only through this object's own calls (its state is
/// atomics, so those may run concurrently), and that init must
/// happen-before this call.
#[inline(always)]
#[cfg_attr(
    not(any(
        target_has_atomic = "64",
        feature = "critical-section",
        portable_atomic_unsafe_assume_single_core
    )),
    allow(dead_code) // no shared forms on this target (see lib.rs)
)]
pub(crate) unsafe fn shared<'a, O: Object + Sync>(
    p: *const O::C,
) -> Result<&'a O, fusewire_status> {
    // SAFETY: forwarded contract; a matching tag means init wrote an O,
    // and `O: Sync` makes a shared reference across threads sound.
    unsafe { checked::<O>(p).map(|o| &*o) }
}

/// Writes a freshly built object into its slot (init).
///
/// Pointers:
/// `p` came from [`slot`] and points to writable memory for an `O::C`.
#[inline(always)]
pub(crate) unsafe fn install<O: Object>(p: *mut O, o: O) {
    // SAFETY: forwarded contract; alignment checked by `slot`.
    unsafe { ptr::write(p, o) }
}
