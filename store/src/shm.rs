//! The host tier: a named POSIX shared-memory region holding the core's
//! lock-free shared forms, for the processes of one machine.
//!
//! ```text
//! offset 0     Header (512 bytes): magic, layout version, build fingerprint,
//!              region size, entry capacity, payload cursor
//! offset 512   Entry table: `capacity` fixed entries (name, kind, config
//!              words, payload offset and length, state)
//! then         payloads, each 64-byte aligned: SharedBucket, SharedBulkhead,
//!              SharedBudget or SharedBreaker<N>, constructed in place
//! ```
//!
//! **Registration** (opening the region, binding a name) takes an exclusive
//! `flock` on the region's file descriptor: short, once per policy per
//! process, and released by the kernel if the process dies holding it.
//! **Decisions** take no lock: they are the core's atomics on the payload
//! (`SharedBucket::try_acquire` is one compare-and-swap loop).
//!
//! **Time**: every process of a region reads the same clock in the same
//! unit, [`now`]: `CLOCK_MONOTONIC` in nanoseconds, system-wide on Linux
//! (the clock of Python's `time.monotonic_ns()` and Node's
//! `process.hrtime.bigint()`). Policies bound to a region never use a
//! door's own clock.
//!
//! Crate choice: `libc` only (`shm_open`, `ftruncate`, `mmap`, `flock`,
//! `clock_gettime`): the thinnest well-kept binding of exactly these calls;
//! `memmap2` maps files but not `shm_open` names, and `shared_memory`
//! brings its own locking and naming we would have to work around.

mod handle;
mod region;

pub use handle::{
    BreakerHandle, BreakerOps, Handle, Shared, StallWatch, STALL_GRACE, WINDOW_SIZES,
};
pub use region::{Region, DEFAULT_SIZE, MAX_NAME};

use core::fmt;

use crate::config::{Kind, Value};

/// The clock of every process sharing a region: `CLOCK_MONOTONIC`, in
/// nanoseconds.
pub fn now() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_MONOTONIC always
    // exists on Linux (the call cannot fail with these arguments).
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    (ts.tv_sec as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(ts.tv_nsec as u64)
}

/// Why a region could not be opened or a name bound.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ShmError {
    /// A region or entry name that is empty, too long or has a character
    /// that is not allowed.
    BadName {
        /// `"store"` for the region's name, `"name"` for a policy's.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The region has no free entry or no room for the payload.
    Full {
        /// The region's name.
        region: String,
        /// What ran out (`"entries"` or `"bytes"`).
        what: &'static str,
    },
    /// The name is bound to another kind of policy.
    KindMismatch {
        /// The policy's name.
        name: String,
        /// The kind asked for.
        wanted: Kind,
        /// The kind the region holds.
        found: Kind,
    },
    /// The name is bound with a different config.
    ConfigMismatch {
        /// The policy's name.
        name: String,
        /// The first field that differs (the plain config's name).
        field: &'static str,
        /// This process's value.
        ours: Value,
        /// The value the region holds.
        theirs: Value,
    },
    /// A config this tier cannot hold (a time window, an unsupported
    /// window size).
    Unsupported {
        /// The plain config's field at fault.
        field: &'static str,
        /// Why.
        reason: String,
    },
    /// The region was made by another fusewire build (or is not a fusewire
    /// region): sharing it would read memory laid out differently.
    BuildMismatch {
        /// The region's name.
        region: String,
        /// This build's fingerprint.
        ours: String,
        /// The region's.
        theirs: String,
    },
    /// The operating system refused access to the region.
    PermissionDenied {
        /// The region's name.
        region: String,
    },
    /// Any other system call failure.
    Os {
        /// The call.
        call: &'static str,
        /// `errno`'s text.
        reason: String,
    },
}

impl fmt::Display for ShmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ShmError::BadName { field, reason } => write!(f, "{field}: {reason}"),
            ShmError::Full { region, what } => {
                write!(f, "the host store {region:?} is full (no {what} left): open it with a larger size")
            }
            ShmError::KindMismatch {
                name,
                wanted,
                found,
            } => write!(
                f,
                "name: {name:?} is a {found} in this host store, not a {wanted}"
            ),
            ShmError::ConfigMismatch {
                name,
                field,
                ours,
                theirs,
            } => write!(
                f,
                "{field}: {name:?} is shared with {field} = {theirs} in this host store, \
                 this process asks for {ours}: every process must use the same config"
            ),
            ShmError::Unsupported { field, reason } => write!(f, "{field}: {reason}"),
            ShmError::BuildMismatch {
                region,
                ours,
                theirs,
            } => write!(
                f,
                "store: the host store {region:?} was made by another fusewire build \
                 ({theirs}; this one is {ours}): processes sharing a store must run the same build"
            ),
            ShmError::PermissionDenied { region } => write!(
                f,
                "store: permission denied opening the host store {region:?} \
                 (another user made it: run the workers as one user)"
            ),
            ShmError::Os { call, reason } => write!(f, "store: {call} failed: {reason}"),
        }
    }
}

impl std::error::Error for ShmError {}

impl ShmError {
    /// The option the error is about, in the plain config's / API's words
    /// (`"store"`, `"name"`, or a config field), for a door to name it.
    pub fn field(&self) -> &'static str {
        match self {
            ShmError::BadName { field, .. } => field,
            ShmError::KindMismatch { .. } => "name",
            ShmError::ConfigMismatch { field, .. } | ShmError::Unsupported { field, .. } => field,
            _ => "store",
        }
    }
}
