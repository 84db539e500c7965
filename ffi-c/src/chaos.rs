//! Chaos: seeded, deterministic fault injection (Simmy's strategies as one
//! object). Each call's injection is a pure function of (seed, call index).

use fusewire::{Chaos, ChaosConfig, ChaosOutcome, ConfigResult, Injection, Ratio};

use crate::boundary::{
    borrow_in, boundary, fits, install, intact_field, invalid, object, object_ref, put, slot,
    Object,
};
use crate::status::{fusewire_config_error, fusewire_status, Invalid, Scope};

/// A `fusewire_chaos_outcome` value as it crosses the boundary: a 32-bit
/// integer the header names `fusewire_chaos_outcome` (so C++ sees the enum).
pub type ChaosOutcomeCode = u32;

/// What happens to the call itself.
#[repr(u32)]
#[allow(non_camel_case_types, dead_code)]
pub enum fusewire_chaos_outcome {
    /// Run the call as usual.
    Pass = 0,
    /// Do not run it: fail with your injected error.
    Fault = 1,
    /// Do not run it: answer with your substitute result.
    Substitute = 2,
}

/// What to inject. Rates are integer millionths of the calls
/// (`FUSEWIRE_PERCENT(10)`), each `0..=1000000`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub struct fusewire_chaos_config {
    /// Share of calls that fail with your injected error.
    pub fault_rate_ppm: u32,
    /// Share of calls delayed before they run.
    pub latency_rate_ppm: u32,
    /// Shortest injected delay, in ticks.
    pub latency_min: u64,
    /// Longest injected delay, in ticks (uniform in
    /// `latency_min..=latency_max`); at least `latency_min`, and not 0
    /// when `latency_rate_ppm` is not.
    pub latency_max: u64,
    /// Share of calls you answer with a substitute instead of running them.
    pub substitute_rate_ppm: u32,
    /// Share of calls before which you run your chaos behaviour (drop a
    /// connection, fill a disk).
    pub behavior_rate_ppm: u32,
    /// The seed every decision is drawn from: the same seed replays the
    /// same injections in every door.
    pub seed: u64,
    /// Non-zero: injection starts switched on (default off: chaos is
    /// turned on on purpose; `fusewire_chaos_set_enabled` changes it).
    pub enabled: u8,
}

impl fusewire_chaos_config {
    /// Validates the config and builds a policy with `new`; errors name
    /// the C field.
    #[inline(always)]
    pub(crate) fn build<T>(
        &self,
        new: impl FnOnce(ChaosConfig) -> ConfigResult<T>,
    ) -> Result<T, Invalid> {
        new(ChaosConfig {
            fault_rate: Ratio::from_ppm(self.fault_rate_ppm),
            latency_rate: Ratio::from_ppm(self.latency_rate_ppm),
            latency_min: self.latency_min,
            latency_max: self.latency_max,
            substitute_rate: Ratio::from_ppm(self.substitute_rate_ppm),
            behavior_rate: Ratio::from_ppm(self.behavior_rate_ppm),
            seed: self.seed,
            enabled: self.enabled != 0,
        })
        .map_err(|e| Invalid::from_core(Scope::Chaos, e))
    }
}

/// One call's injection: wait `delay` ticks first (0: none), run your
/// behaviour if `behavior` is 1, then pass, fail or substitute.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub struct fusewire_injection {
    /// Ticks to wait before the call (0: no delay).
    pub delay: u64,
    /// What happens to the call.
    pub outcome: ChaosOutcomeCode,
    /// 1: run your chaos behaviour before the call; 0: not.
    pub behavior: u8,
}

impl From<Injection> for fusewire_injection {
    #[inline(always)]
    fn from(i: Injection) -> Self {
        Self {
            delay: i.delay,
            outcome: match i.outcome {
                ChaosOutcome::Pass => fusewire_chaos_outcome::Pass as u32,
                ChaosOutcome::Fault => fusewire_chaos_outcome::Fault as u32,
                ChaosOutcome::Substitute => fusewire_chaos_outcome::Substitute as u32,
            },
            behavior: u8::from(i.behavior),
        }
    }
}

/// A chaos policy that counts its own calls. Declare it `static` or on the
/// stack; initialise with `fusewire_chaos_init`.
#[repr(C, align(8))]
#[allow(non_camel_case_types)]
pub struct fusewire_chaos {
    _opaque: [u64; 8],
}

/// `sizeof(fusewire_chaos)`: 64 bytes (alignment `FUSEWIRE_OBJECT_ALIGN`).
pub const FUSEWIRE_CHAOS_SIZE: usize = 64;
const _: () = assert!(core::mem::size_of::<fusewire_chaos>() == FUSEWIRE_CHAOS_SIZE);
const _: () = assert!(core::mem::align_of::<fusewire_chaos>() == crate::FUSEWIRE_OBJECT_ALIGN);

#[repr(C)]
pub(crate) struct ChaosObj {
    tag: u32,
    pub(crate) chaos: Chaos,
}

// SAFETY: repr(C), tag first; size and alignment checked below.
unsafe impl Object for ChaosObj {
    type C = fusewire_chaos;
    const TAG: u32 = 0x4657_4348; // "FWCH"
    intact_field!(chaos: Chaos);
}
const _: () = assert!(fits::<ChaosObj>());

/// Initialises `*chaos` in place from `*config`, with no calls counted.
///
/// Returns `FUSEWIRE_STATUS_INVALID_CONFIG` (writing `*error` if not NULL)
/// and leaves `*chaos` untouched if the config is bad: a rate above
/// 1000000 (`out_of_range` on that rate), `latency_max` below `latency_min`
/// (`inconsistent`), or `latency_max` 0 with a latency rate (`required`).
///
/// Thread/ISR safety: writes `*chaos`; no other caller may use it meanwhile.
///
/// Pointers:
/// `chaos` and `config` are NULL or valid for the access; `error` is NULL
/// or writable.
#[no_mangle]
pub unsafe extern "C" fn fusewire_chaos_init(
    chaos: *mut fusewire_chaos,
    config: *const fusewire_chaos_config,
    error: *mut fusewire_config_error,
) -> fusewire_status {
    boundary(|| {
        let p = slot::<ChaosObj>(chaos)?;
        // SAFETY: the caller's contract for `config`.
        let c = unsafe { borrow_in(config) }?;
        match c.build(Chaos::new) {
            // SAFETY: `p` checked by `slot`; writable by contract.
            Ok(ch) => unsafe {
                install(
                    p,
                    ChaosObj {
                        tag: ChaosObj::TAG,
                        chaos: ch,
                    },
                )
            },
            // SAFETY: the caller's contract for `error`.
            Err(e) => return unsafe { invalid(error, e) },
        }
        Ok(fusewire_status::Ok)
    })
}

/// The next call's injection, written to `*injection` on OK. Switched off,
/// nothing is injected (`delay` 0, `FUSEWIRE_CHAOS_OUTCOME_PASS`,
/// `behavior` 0) and the call count does not move, so switching back on
/// resumes the same sequence.
///
/// Thread/ISR safety: mutates `*chaos` (single owner): one caller at a
/// time; use `fusewire_chaos_decide` with your own call numbers to decide
/// from many threads.
///
/// Pointers:
/// `chaos` is NULL or points to a `fusewire_chaos` not used concurrently;
/// `injection` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fusewire_chaos_inject(
    chaos: *mut fusewire_chaos,
    injection: *mut fusewire_injection,
) -> fusewire_status {
    boundary(|| {
        if injection.is_null() {
            return Err(fusewire_status::NullArgument);
        }
        // SAFETY: the caller's contract.
        let i = unsafe { object::<ChaosObj>(chaos) }?.chaos.inject();
        // SAFETY: non-NULL checked; writable by contract.
        unsafe { put(injection, i.into()) };
        Ok(fusewire_status::Ok)
    })
}

/// The injection for call number `index` (yours: a request id), written to
/// `*injection` on OK: a pure function of the seed, the rates and `index`
/// (nothing injected while switched off). Counts nothing.
///
/// Thread/ISR safety: reads `*chaos`; must not race a writer
/// (`_inject`, `_set_enabled`).
///
/// Pointers:
/// `chaos` is NULL or points to a `fusewire_chaos`; `injection` is NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn fusewire_chaos_decide(
    chaos: *const fusewire_chaos,
    index: u64,
    injection: *mut fusewire_injection,
) -> fusewire_status {
    boundary(|| {
        if injection.is_null() {
            return Err(fusewire_status::NullArgument);
        }
        // SAFETY: the caller's contract.
        let i = unsafe { object_ref::<ChaosObj>(chaos) }?
            .chaos
            .decide(index);
        // SAFETY: non-NULL checked; writable by contract.
        unsafe { put(injection, i.into()) };
        Ok(fusewire_status::Ok)
    })
}

/// Switches injection on (`on` non-zero) or off at run time.
///
/// Thread/ISR safety: as `fusewire_chaos_inject`.
///
/// Pointers:
/// `chaos` is NULL or points to a `fusewire_chaos` not used concurrently.
#[no_mangle]
pub unsafe extern "C" fn fusewire_chaos_set_enabled(
    chaos: *mut fusewire_chaos,
    on: u8,
) -> fusewire_status {
    boundary(|| {
        // SAFETY: the caller's contract.
        unsafe { object::<ChaosObj>(chaos) }?
            .chaos
            .set_enabled(on != 0);
        Ok(fusewire_status::Ok)
    })
}

/// Calls decided by `_inject` while switched on (the next call's index),
/// and whether injection is on (1) or off (0). Writes `*calls` and
/// `*enabled` (each if not NULL) on OK.
///
/// Thread/ISR safety: reads `*chaos`; must not race a writer.
///
/// Pointers:
/// `chaos` is NULL or points to a `fusewire_chaos`; the out-pointers are
/// NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fusewire_chaos_calls(
    chaos: *const fusewire_chaos,
    calls: *mut u64,
    enabled: *mut u8,
) -> fusewire_status {
    boundary(|| {
        // SAFETY: the caller's contract.
        let c = &unsafe { object_ref::<ChaosObj>(chaos) }?.chaos;
        // SAFETY: optional out-pointers; the caller's contract.
        unsafe {
            put(calls, c.calls());
            put(enabled, u8::from(c.enabled()));
        }
        Ok(fusewire_status::Ok)
    })
}

/// Replaces the rates, latencies, seed and switch at run time (the call
/// count is kept). A bad config returns `FUSEWIRE_STATUS_INVALID_CONFIG`
/// (writing `*error` if not NULL), as `fusewire_chaos_init` reports it, and
/// changes nothing.
///
/// Thread/ISR safety: as `fusewire_chaos_inject`.
///
/// Pointers:
/// `chaos` is NULL or points to a `fusewire_chaos` not used concurrently;
/// `config` is NULL or readable; `error` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fusewire_chaos_set_config(
    chaos: *mut fusewire_chaos,
    config: *const fusewire_chaos_config,
    error: *mut fusewire_config_error,
) -> fusewire_status {
    boundary(|| {
        // SAFETY: the caller's contract.
        let c = &mut unsafe { object::<ChaosObj>(chaos) }?.chaos;
        // SAFETY: the caller's contract for `config`.
        let cfg = unsafe { borrow_in(config) }?;
        match cfg.build(ChaosConfig::validate) {
            Ok(v) => {
                // Validated just above: cannot fail.
                let _ = c.set_config(v);
                Ok(fusewire_status::Ok)
            }
            // SAFETY: the caller's contract for `error`.
            Err(e) => unsafe { invalid(error, e) },
        }
    })
}
