//! Endpoint pools: the core's `Pool<N>` (power-of-two-choices picks,
//! Envoy's outlier ejection, failover under a retry budget) as caller-owned
//! C structs of two fixed capacities, `fusewire_pool4` and
//! `fusewire_pool16`. The capacity is in the type, as the core's `N` is:
//! each has its own functions (one copy of the code per capacity a program
//! uses, nothing for the one it does not), with one body here, generic
//! over `N`.

use fusewire::{CallResult, EjectReason, Pick, Pool, PoolConfig, PoolEvent};

use crate::boundary::{
    borrow_in, boundary, fits, install, intact_field, invalid, object, object_ref, put, slot,
    Object,
};
use crate::budget::{fusewire_budget, BudgetObj};
use crate::status::{fusewire_config_error, fusewire_status, Invalid, Scope};
use crate::tick::fusewire_tick;

/// A `fusewire_call_result` value as it crosses the boundary.
pub type CallResultCode = u32;
/// A `fusewire_eject_reason` value as it crosses the boundary.
pub type EjectReasonCode = u32;
/// A `fusewire_pool_event_kind` value as it crosses the boundary.
pub type PoolEventKindCode = u32;

/// How a call to an endpoint ended.
#[repr(u32)]
#[allow(non_camel_case_types, dead_code)]
pub enum fusewire_call_result {
    /// It worked.
    Success = 0,
    /// It failed (a 5xx, a reset, a timeout).
    Failure = 1,
    /// A gateway failure (502, 503, 504): counts in both failure runs.
    GatewayFailure = 2,
}

/// Why an endpoint was ejected.
#[repr(u32)]
#[allow(non_camel_case_types, dead_code)]
pub enum fusewire_eject_reason {
    /// `consecutive_failures` failures in a row.
    ConsecutiveFailures = 0,
    /// `consecutive_gateway_failures` gateway failures in a row.
    ConsecutiveGatewayFailures = 1,
    /// Its success rate fell below the pool's (checked every `interval`).
    SuccessRate = 2,
}

/// What a `fusewire_pool_event` reports.
#[repr(u32)]
#[allow(non_camel_case_types, dead_code)]
pub enum fusewire_pool_event_kind {
    /// Nothing happened (a record that ejected nothing).
    None = 0,
    /// `endpoint` is out of the picks until `until`, for `reason`.
    Ejected = 1,
    /// `endpoint`'s ejection ended: it is picked again.
    Returned = 2,
}

/// How a pool judges its endpoints (Envoy's outlier detection). Durations
/// in ticks; `fusewire_pool_config_default` fills Envoy's defaults in
/// milliseconds.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub struct fusewire_pool_config {
    /// Eject after this many failures in a row; 0: rule off. Default 5.
    pub consecutive_failures: u32,
    /// Eject after this many gateway failures (502/503/504) in a row; 0:
    /// rule off. Default 5.
    pub consecutive_gateway_failures: u32,
    /// How often success rates are compared; not 0. Default 10000.
    pub interval: u64,
    /// The first ejection's length; not 0. Default 30000.
    pub base_ejection_time: u64,
    /// The longest ejection; at least `base_ejection_time`. Default 300000.
    pub max_ejection_time: u64,
    /// Up to this many ticks added to each ejection, uniformly. Default 0.
    pub ejection_jitter: u64,
    /// The most endpoints ejected at once, in percent of the pool
    /// (`0..=100`; at least one and never all). Default 10.
    pub max_ejection_percent: u32,
    /// Success rates are compared among at least this many endpoints with
    /// enough calls; 0: rule off. Default 5.
    pub success_rate_minimum_hosts: u32,
    /// Calls an endpoint needs in an interval to be judged. Default 100.
    pub success_rate_request_volume: u32,
    /// Ejected below mean - stdev * this / 1000. Default 1900.
    pub success_rate_stdev_factor_milli: u32,
    /// Seed for the picks and the jitter.
    pub seed: u64,
}

impl fusewire_pool_config {
    /// The core's config; the layouts are the same, field by field.
    #[inline(always)]
    fn core(&self) -> PoolConfig {
        PoolConfig {
            consecutive_failures: self.consecutive_failures,
            consecutive_gateway_failures: self.consecutive_gateway_failures,
            interval: self.interval,
            base_ejection_time: self.base_ejection_time,
            max_ejection_time: self.max_ejection_time,
            ejection_jitter: self.ejection_jitter,
            max_ejection_percent: self.max_ejection_percent,
            success_rate_minimum_hosts: self.success_rate_minimum_hosts,
            success_rate_request_volume: self.success_rate_request_volume,
            success_rate_stdev_factor_milli: self.success_rate_stdev_factor_milli,
            seed: self.seed,
        }
    }
}

/// The endpoint chosen for a call: settle it once, with `_record` (how the
/// call ended) or `_release` (it never ran).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[allow(non_camel_case_types)]
pub struct fusewire_pool_pick {
    /// The endpoint's index, `0..endpoints`.
    pub endpoint: u32,
    /// 1: no endpoint was healthy, so every endpoint was a candidate
    /// (Envoy's panic routing); 0: a healthy endpoint.
    pub panic: u8,
}

/// A change in an endpoint's health.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[allow(non_camel_case_types)]
pub struct fusewire_pool_event {
    /// `FUSEWIRE_POOL_EVENT_KIND_EJECTED`: the tick its ejection ends;
    /// otherwise 0.
    pub until: u64,
    /// Ejected, returned, or none.
    pub kind: PoolEventKindCode,
    /// Why it was ejected (`FUSEWIRE_POOL_EVENT_KIND_EJECTED` only; else 0).
    pub reason: EjectReasonCode,
    /// The endpoint's index.
    pub endpoint: u32,
}

impl fusewire_pool_event {
    #[cfg(test)]
    pub(crate) const NONE_FOR_TESTS: Self = Self::NONE;
    const NONE: Self = Self {
        until: 0,
        kind: fusewire_pool_event_kind::None as u32,
        reason: 0,
        endpoint: 0,
    };
}

impl From<PoolEvent> for fusewire_pool_event {
    #[inline(always)]
    fn from(e: PoolEvent) -> Self {
        match e {
            PoolEvent::Ejected {
                endpoint,
                reason,
                until,
            } => Self {
                until,
                kind: fusewire_pool_event_kind::Ejected as u32,
                reason: match reason {
                    EjectReason::ConsecutiveFailures => {
                        fusewire_eject_reason::ConsecutiveFailures as u32
                    }
                    EjectReason::ConsecutiveGatewayFailures => {
                        fusewire_eject_reason::ConsecutiveGatewayFailures as u32
                    }
                    EjectReason::SuccessRate => fusewire_eject_reason::SuccessRate as u32,
                },
                endpoint: u32::from(endpoint),
            },
            PoolEvent::Returned { endpoint } => Self {
                until: 0,
                kind: fusewire_pool_event_kind::Returned as u32,
                reason: 0,
                endpoint: u32::from(endpoint),
            },
        }
    }
}

/// One endpoint's state.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[allow(non_camel_case_types)]
pub struct fusewire_endpoint_stats {
    /// Calls picked and not yet settled.
    pub outstanding: u32,
    /// Failures in a row.
    pub consecutive_failures: u32,
    /// Gateway failures in a row.
    pub consecutive_gateway_failures: u32,
    /// Successes in the current interval.
    pub successes: u32,
    /// Calls settled in the current interval.
    pub calls: u32,
    /// Times ejected, less one per healthy interval (the ejection
    /// multiplier).
    pub ejections: u32,
    /// The tick its ejection ends; 0 when not ejected.
    pub ejected_until: u64,
    /// Calls picked since the pool was initialised.
    pub picked: u64,
    /// 1: ejected at the `now` asked about; 0: not.
    pub ejected: u8,
}

/// The most endpoints a `fusewire_pool4` holds.
pub const FUSEWIRE_POOL4_CAPACITY: u32 = 4;
/// The most endpoints a `fusewire_pool16` holds.
pub const FUSEWIRE_POOL16_CAPACITY: u32 = 16;

/// A pool of up to 4 endpoints (firmware: a few gateways). Declare it
/// `static` or on the stack; initialise with `fusewire_pool4_init`.
#[repr(C, align(8))]
#[allow(non_camel_case_types)]
pub struct fusewire_pool4 {
    _opaque: [u64; 33],
}

/// A pool of up to 16 endpoints. Declare it `static` or on the stack;
/// initialise with `fusewire_pool16_init`.
#[repr(C, align(8))]
#[allow(non_camel_case_types)]
pub struct fusewire_pool16 {
    _opaque: [u64; 93],
}

/// `sizeof(fusewire_pool4)`: 264 bytes (alignment `FUSEWIRE_OBJECT_ALIGN`).
pub const FUSEWIRE_POOL4_SIZE: usize = 264;
/// `sizeof(fusewire_pool16)`: 744 bytes (alignment `FUSEWIRE_OBJECT_ALIGN`).
pub const FUSEWIRE_POOL16_SIZE: usize = 744;
const _: () = assert!(core::mem::size_of::<fusewire_pool4>() == FUSEWIRE_POOL4_SIZE);
const _: () = assert!(core::mem::size_of::<fusewire_pool16>() == FUSEWIRE_POOL16_SIZE);
const _: () = assert!(core::mem::align_of::<fusewire_pool4>() == crate::FUSEWIRE_OBJECT_ALIGN);
const _: () = assert!(core::mem::align_of::<fusewire_pool16>() == crate::FUSEWIRE_OBJECT_ALIGN);

#[repr(C)]
pub(crate) struct PoolObj<const N: usize> {
    tag: u32,
    pub(crate) pool: Pool<N>,
}

// SAFETY: repr(C), tag first; size and alignment checked below.
unsafe impl Object for PoolObj<4> {
    type C = fusewire_pool4;
    const TAG: u32 = 0x4657_5034; // "FWP4"
    intact_field!(pool: Pool<4>);
}
// SAFETY: as above.
unsafe impl Object for PoolObj<16> {
    type C = fusewire_pool16;
    const TAG: u32 = 0x4657_5010; // "FWP\x10"
    intact_field!(pool: Pool<16>);
}
const _: () = assert!(fits::<PoolObj<4>>());
const _: () = assert!(fits::<PoolObj<16>>());
// Exactly, where `u64` is 8-byte aligned: the header's sizes are not
// larger than the object needs (i386 packs 4 bytes tighter).
#[cfg(target_pointer_width = "64")]
const _: () = assert!(core::mem::size_of::<PoolObj<4>>() == FUSEWIRE_POOL4_SIZE);
#[cfg(target_pointer_width = "64")]
const _: () = assert!(core::mem::size_of::<PoolObj<16>>() == FUSEWIRE_POOL16_SIZE);

/// Fills `*config` with Envoy's defaults, in milliseconds (see
/// `fusewire_pool_config`), seed 0.
///
/// Thread/ISR safety: touches only `*config`.
///
/// Pointers:
/// `config` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fusewire_pool_config_default(
    config: *mut fusewire_pool_config,
) -> fusewire_status {
    boundary(|| {
        if config.is_null() {
            return Err(fusewire_status::NullArgument);
        }
        let d = PoolConfig::new(fusewire::TickUnit::MILLIS);
        // SAFETY: non-NULL checked; writable by contract.
        unsafe {
            put(
                config,
                fusewire_pool_config {
                    consecutive_failures: d.consecutive_failures,
                    consecutive_gateway_failures: d.consecutive_gateway_failures,
                    interval: d.interval,
                    base_ejection_time: d.base_ejection_time,
                    max_ejection_time: d.max_ejection_time,
                    ejection_jitter: d.ejection_jitter,
                    max_ejection_percent: d.max_ejection_percent,
                    success_rate_minimum_hosts: d.success_rate_minimum_hosts,
                    success_rate_request_volume: d.success_rate_request_volume,
                    success_rate_stdev_factor_milli: d.success_rate_stdev_factor_milli,
                    seed: d.seed,
                },
            )
        };
        Ok(fusewire_status::Ok)
    })
}

// The bodies, generic over the capacity; the entry points below are thin.

#[inline(always)]
unsafe fn init<const N: usize>(
    pool: *mut <PoolObj<N> as Object>::C,
    config: *const fusewire_pool_config,
    endpoints: u32,
    error: *mut fusewire_config_error,
) -> fusewire_status
where
    PoolObj<N>: Object,
{
    boundary(|| {
        let p = slot::<PoolObj<N>>(pool)?;
        // SAFETY: the caller's contract for `config`.
        let c = unsafe { borrow_in(config) }?;
        let n = usize::try_from(endpoints).unwrap_or(usize::MAX);
        match Pool::<N>::new(c.core(), n) {
            // SAFETY: `p` checked by `slot`; writable by contract.
            Ok(pool) => unsafe {
                install(
                    p,
                    PoolObj {
                        tag: <PoolObj<N> as Object>::TAG,
                        pool,
                    },
                )
            },
            Err(e) => {
                let e = Invalid::from_core(Scope::Pool, e);
                // SAFETY: the caller's contract for `error`.
                return unsafe { invalid(error, e) };
            }
        }
        Ok(fusewire_status::Ok)
    })
}

/// An endpoint index of this pool as the core's, or INVALID_ARGUMENT.
#[inline(always)]
fn index<const N: usize>(p: &Pool<N>, endpoint: u32) -> Result<u16, fusewire_status> {
    match u16::try_from(endpoint) {
        Ok(i) if usize::from(i) < p.len() => Ok(i),
        _ => Err(fusewire_status::InvalidArgument),
    }
}

#[inline(always)]
fn pick_out(k: Pick) -> fusewire_pool_pick {
    fusewire_pool_pick {
        endpoint: u32::from(k.endpoint),
        panic: u8::from(k.panic),
    }
}

#[inline(always)]
unsafe fn pick<const N: usize>(
    pool: *mut <PoolObj<N> as Object>::C,
    now: fusewire_tick,
    avoid: Option<u32>,
    out: *mut fusewire_pool_pick,
) -> fusewire_status
where
    PoolObj<N>: Object,
{
    boundary(|| {
        if out.is_null() {
            return Err(fusewire_status::NullArgument);
        }
        // SAFETY: the caller's contract.
        let p = &mut unsafe { object::<PoolObj<N>>(pool) }?.pool;
        let avoid = match avoid {
            Some(a) => Some(index(p, a)?),
            None => None,
        };
        let k = p.pick_avoiding(now.ticks, avoid);
        // SAFETY: non-NULL checked; writable by contract.
        unsafe { put(out, pick_out(k)) };
        Ok(fusewire_status::Ok)
    })
}

#[inline(always)]
unsafe fn failover<const N: usize>(
    pool: *mut <PoolObj<N> as Object>::C,
    now: fusewire_tick,
    previous: u32,
    budget: *mut fusewire_budget,
    out: *mut fusewire_pool_pick,
) -> fusewire_status
where
    PoolObj<N>: Object,
{
    boundary(|| {
        if out.is_null() {
            return Err(fusewire_status::NullArgument);
        }
        // SAFETY: the caller's contract (distinct objects).
        let p = &mut unsafe { object::<PoolObj<N>>(pool) }?.pool;
        // SAFETY: the caller's contract.
        let b = &mut unsafe { object::<BudgetObj>(budget) }?.budget;
        let previous = index(p, previous)?;
        match p.failover(now.ticks, previous, b) {
            Ok(k) => {
                // SAFETY: non-NULL checked; writable by contract.
                unsafe { put(out, pick_out(k)) };
                Ok(fusewire_status::Ok)
            }
            Err(_) => Err(fusewire_status::Throttled),
        }
    })
}

#[inline(always)]
unsafe fn record<const N: usize>(
    pool: *mut <PoolObj<N> as Object>::C,
    now: fusewire_tick,
    k: fusewire_pool_pick,
    result: CallResultCode,
    event: *mut fusewire_pool_event,
) -> fusewire_status
where
    PoolObj<N>: Object,
{
    boundary(|| {
        // SAFETY: the caller's contract.
        let p = &mut unsafe { object::<PoolObj<N>>(pool) }?.pool;
        let endpoint = index(p, k.endpoint)?;
        let result = match result {
            0 => CallResult::Success,
            1 => CallResult::Failure,
            2 => CallResult::GatewayFailure,
            _ => return Err(fusewire_status::InvalidArgument),
        };
        let k = Pick {
            endpoint,
            panic: k.panic != 0,
        };
        let e = p
            .record(k, result, now.ticks)
            .map_or(fusewire_pool_event::NONE, fusewire_pool_event::from);
        // SAFETY: optional out-pointer; the caller's contract.
        unsafe { put(event, e) };
        Ok(fusewire_status::Ok)
    })
}

#[inline(always)]
unsafe fn release<const N: usize>(
    pool: *mut <PoolObj<N> as Object>::C,
    k: fusewire_pool_pick,
) -> fusewire_status
where
    PoolObj<N>: Object,
{
    boundary(|| {
        // SAFETY: the caller's contract.
        let p = &mut unsafe { object::<PoolObj<N>>(pool) }?.pool;
        let endpoint = index(p, k.endpoint)?;
        p.release(Pick {
            endpoint,
            panic: k.panic != 0,
        });
        Ok(fusewire_status::Ok)
    })
}

#[inline(always)]
unsafe fn poll<const N: usize>(
    pool: *mut <PoolObj<N> as Object>::C,
    now: fusewire_tick,
    events: *mut fusewire_pool_event,
    capacity: u32,
    count: *mut u32,
) -> fusewire_status
where
    PoolObj<N>: Object,
{
    boundary(|| {
        if events.is_null() || count.is_null() {
            return Err(fusewire_status::NullArgument);
        }
        // SAFETY: the caller's contract.
        let p = &mut unsafe { object::<PoolObj<N>>(pool) }?.pool;
        // At most one event per endpoint: a buffer that cannot hold that
        // many is refused before anything changes, so no event is lost.
        if (capacity as usize) < p.len() {
            return Err(fusewire_status::InvalidArgument);
        }
        let list = p.poll(now.ticks);
        let mut n = 0u32;
        for (i, e) in list.into_iter().enumerate() {
            // SAFETY: i < list.len() <= p.len() <= capacity entries, the
            // caller's writable array.
            unsafe { put(events.add(i), fusewire_pool_event::from(e)) };
            n += 1;
        }
        // SAFETY: non-NULL checked; writable by contract.
        unsafe { put(count, n) };
        Ok(fusewire_status::Ok)
    })
}

#[inline(always)]
unsafe fn stats<const N: usize>(
    pool: *const <PoolObj<N> as Object>::C,
    now: fusewire_tick,
    endpoint: u32,
    out: *mut fusewire_endpoint_stats,
) -> fusewire_status
where
    PoolObj<N>: Object,
{
    boundary(|| {
        if out.is_null() {
            return Err(fusewire_status::NullArgument);
        }
        // SAFETY: the caller's contract.
        let p = &unsafe { object_ref::<PoolObj<N>>(pool) }?.pool;
        let i = usize::from(index(p, endpoint)?);
        let s = p.stats(i).unwrap_or_default();
        let x = fusewire_endpoint_stats {
            outstanding: s.outstanding,
            consecutive_failures: s.consecutive_failures,
            consecutive_gateway_failures: s.consecutive_gateway_failures,
            successes: s.successes,
            calls: s.calls,
            ejections: s.ejections,
            ejected_until: s.ejected_until,
            picked: s.picked,
            ejected: u8::from(p.is_ejected(i, now.ticks)),
        };
        // SAFETY: non-NULL checked; writable by contract.
        unsafe { put(out, x) };
        Ok(fusewire_status::Ok)
    })
}

#[inline(always)]
unsafe fn endpoints<const N: usize>(
    pool: *const <PoolObj<N> as Object>::C,
    count: *mut u32,
    max_ejected: *mut u32,
) -> fusewire_status
where
    PoolObj<N>: Object,
{
    boundary(|| {
        // SAFETY: the caller's contract.
        let p = &unsafe { object_ref::<PoolObj<N>>(pool) }?.pool;
        // SAFETY: optional out-pointers; the caller's contract. Both fit:
        // at most N.
        unsafe {
            put(count, p.len() as u32);
            put(max_ejected, p.max_ejected() as u32);
        }
        Ok(fusewire_status::Ok)
    })
}

/// Initialises `*pool` in place with `endpoints` healthy endpoints
/// (`1..=FUSEWIRE_POOL4_CAPACITY`), from `*config`.
///
/// Returns `FUSEWIRE_STATUS_INVALID_CONFIG` (writing `*error` if not NULL)
/// and leaves `*pool` untouched if the config is bad: `interval` or
/// `base_ejection_time` 0 (`zero`), `max_ejection_time` below the base
/// (`inconsistent`), `max_ejection_percent` above 100 (`out_of_range`), or
/// `endpoints` 0 (`FUSEWIRE_FIELD_POOL_ENDPOINTS`, `zero`) or above the
/// capacity (`out_of_range`).
///
/// Thread/ISR safety: writes `*pool`; no other caller may use it meanwhile.
///
/// Pointers:
/// `pool` and `config` are NULL or valid for the access; `error` is NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn fusewire_pool4_init(
    pool: *mut fusewire_pool4,
    config: *const fusewire_pool_config,
    endpoints: u32,
    error: *mut fusewire_config_error,
) -> fusewire_status {
    // SAFETY: forwarded contract.
    unsafe { init::<4>(pool, config, endpoints, error) }
}

/// Picks an endpoint for a call at `now`, written to `*pick` on OK: two
/// distinct healthy endpoints at random, the one with fewer calls
/// outstanding; with none healthy, any (`pick->panic` 1). Settle every
/// pick once, with `_record` or `_release`.
///
/// Thread/ISR safety: mutates `*pool` (single owner): one caller at a time.
///
/// Pointers:
/// `pool` is NULL or points to a `fusewire_pool4` not used concurrently;
/// `pick` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fusewire_pool4_pick(
    pool: *mut fusewire_pool4,
    now: fusewire_tick,
    pick: *mut fusewire_pool_pick,
) -> fusewire_status {
    // SAFETY: forwarded contract.
    unsafe { self::pick::<4>(pool, now, None, pick) }
}

/// As `fusewire_pool4_pick`, but not endpoint `previous` unless it is the
/// only candidate (a retry failing over without a budget).
/// `FUSEWIRE_STATUS_INVALID_ARGUMENT` if `previous` is not an endpoint.
///
/// Thread/ISR safety: as `fusewire_pool4_pick`.
///
/// Pointers:
/// As `fusewire_pool4_pick`.
#[no_mangle]
pub unsafe extern "C" fn fusewire_pool4_pick_avoiding(
    pool: *mut fusewire_pool4,
    now: fusewire_tick,
    previous: u32,
    pick: *mut fusewire_pool_pick,
) -> fusewire_status {
    // SAFETY: forwarded contract.
    unsafe { self::pick::<4>(pool, now, Some(previous), pick) }
}

/// A retry's endpoint: spends a retry from `*budget`
/// (`fusewire_budget_try_retry`), then picks as `_pick_avoiding`
/// `previous`. `FUSEWIRE_STATUS_THROTTLED` (nothing picked, `*pick` not
/// written) when the budget says retries must stop.
///
/// Thread/ISR safety: mutates `*pool` and `*budget` (single owners).
///
/// Pointers:
/// `pool` and `budget` are NULL or point to distinct objects not used
/// concurrently; `pick` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fusewire_pool4_failover(
    pool: *mut fusewire_pool4,
    now: fusewire_tick,
    previous: u32,
    budget: *mut fusewire_budget,
    pick: *mut fusewire_pool_pick,
) -> fusewire_status {
    // SAFETY: forwarded contract.
    unsafe { failover::<4>(pool, now, previous, budget, pick) }
}

/// Settles `pick` with how its call ended (`result`). Writes `*event` (if
/// not NULL) on OK: the ejection it caused
/// (`FUSEWIRE_POOL_EVENT_KIND_EJECTED`), or `FUSEWIRE_POOL_EVENT_KIND_NONE`.
/// `FUSEWIRE_STATUS_INVALID_ARGUMENT` for an unknown endpoint or result.
///
/// Thread/ISR safety: as `fusewire_pool4_pick`.
///
/// Pointers:
/// `pool` is NULL or points to a `fusewire_pool4` not used concurrently;
/// `event` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fusewire_pool4_record(
    pool: *mut fusewire_pool4,
    now: fusewire_tick,
    pick: fusewire_pool_pick,
    result: CallResultCode,
    event: *mut fusewire_pool_event,
) -> fusewire_status {
    // SAFETY: forwarded contract.
    unsafe { record::<4>(pool, now, pick, result, event) }
}

/// Hands back a pick whose call never ran: nothing is counted.
/// `FUSEWIRE_STATUS_INVALID_ARGUMENT` for an unknown endpoint.
///
/// Thread/ISR safety: as `fusewire_pool4_pick`.
///
/// Pointers:
/// `pool` is NULL or points to a `fusewire_pool4` not used concurrently.
#[no_mangle]
pub unsafe extern "C" fn fusewire_pool4_release(
    pool: *mut fusewire_pool4,
    pick: fusewire_pool_pick,
) -> fusewire_status {
    // SAFETY: forwarded contract.
    unsafe { release::<4>(pool, pick) }
}

/// Applies what time alone changes: ejections that have ended and, once
/// per `interval`, the success-rate ejections. Writes those events to
/// `events[0..*count]` on OK, at most one per endpoint, so `capacity` must
/// be at least the pool's endpoint count (`FUSEWIRE_POOL4_CAPACITY`
/// always is); a smaller one is `FUSEWIRE_STATUS_INVALID_ARGUMENT` and
/// changes nothing. Call it now and then (every `interval`, or before
/// reading the stats).
///
/// Thread/ISR safety: as `fusewire_pool4_pick`.
///
/// Pointers:
/// `pool` is NULL or points to a `fusewire_pool4` not used concurrently;
/// `events` is NULL or writable for `capacity` events; `count` is NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn fusewire_pool4_poll(
    pool: *mut fusewire_pool4,
    now: fusewire_tick,
    events: *mut fusewire_pool_event,
    capacity: u32,
    count: *mut u32,
) -> fusewire_status {
    // SAFETY: forwarded contract.
    unsafe { poll::<4>(pool, now, events, capacity, count) }
}

/// Endpoint `endpoint`'s state at `now`, written to `*stats` on OK.
/// `FUSEWIRE_STATUS_INVALID_ARGUMENT` for an unknown endpoint.
///
/// Thread/ISR safety: reads `*pool`; must not race a writer.
///
/// Pointers:
/// `pool` is NULL or points to a `fusewire_pool4`; `stats` is NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn fusewire_pool4_stats(
    pool: *const fusewire_pool4,
    now: fusewire_tick,
    endpoint: u32,
    stats: *mut fusewire_endpoint_stats,
) -> fusewire_status {
    // SAFETY: forwarded contract.
    unsafe { self::stats::<4>(pool, now, endpoint, stats) }
}

/// How many endpoints the pool has, and the most it ejects at once
/// (`max(1, endpoints * max_ejection_percent / 100)`, never all). Writes
/// `*count` and `*max_ejected` (each if not NULL) on OK.
///
/// Thread/ISR safety: reads `*pool`; must not race a writer.
///
/// Pointers:
/// `pool` is NULL or points to a `fusewire_pool4`; the out-pointers are
/// NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fusewire_pool4_endpoints(
    pool: *const fusewire_pool4,
    count: *mut u32,
    max_ejected: *mut u32,
) -> fusewire_status {
    // SAFETY: forwarded contract.
    unsafe { endpoints::<4>(pool, count, max_ejected) }
}

/// As `fusewire_pool4_init`, for up to `FUSEWIRE_POOL16_CAPACITY` endpoints.
///
/// Thread/ISR safety: writes `*pool`; no other caller may use it meanwhile.
///
/// Pointers:
/// `pool` and `config` are NULL or valid for the access; `error` is NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn fusewire_pool16_init(
    pool: *mut fusewire_pool16,
    config: *const fusewire_pool_config,
    endpoints: u32,
    error: *mut fusewire_config_error,
) -> fusewire_status {
    // SAFETY: forwarded contract.
    unsafe { init::<16>(pool, config, endpoints, error) }
}

/// As `fusewire_pool4_pick`.
///
/// Thread/ISR safety: mutates `*pool` (single owner): one caller at a time.
///
/// Pointers:
/// `pool` is NULL or points to a `fusewire_pool16` not used concurrently;
/// `pick` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fusewire_pool16_pick(
    pool: *mut fusewire_pool16,
    now: fusewire_tick,
    pick: *mut fusewire_pool_pick,
) -> fusewire_status {
    // SAFETY: forwarded contract.
    unsafe { self::pick::<16>(pool, now, None, pick) }
}

/// As `fusewire_pool4_pick_avoiding`.
///
/// Thread/ISR safety: as `fusewire_pool16_pick`.
///
/// Pointers:
/// As `fusewire_pool16_pick`.
#[no_mangle]
pub unsafe extern "C" fn fusewire_pool16_pick_avoiding(
    pool: *mut fusewire_pool16,
    now: fusewire_tick,
    previous: u32,
    pick: *mut fusewire_pool_pick,
) -> fusewire_status {
    // SAFETY: forwarded contract.
    unsafe { self::pick::<16>(pool, now, Some(previous), pick) }
}

/// As `fusewire_pool4_failover`.
///
/// Thread/ISR safety: mutates `*pool` and `*budget` (single owners).
///
/// Pointers:
/// `pool` and `budget` are NULL or point to distinct objects not used
/// concurrently; `pick` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fusewire_pool16_failover(
    pool: *mut fusewire_pool16,
    now: fusewire_tick,
    previous: u32,
    budget: *mut fusewire_budget,
    pick: *mut fusewire_pool_pick,
) -> fusewire_status {
    // SAFETY: forwarded contract.
    unsafe { failover::<16>(pool, now, previous, budget, pick) }
}

/// As `fusewire_pool4_record`.
///
/// Thread/ISR safety: as `fusewire_pool16_pick`.
///
/// Pointers:
/// `pool` is NULL or points to a `fusewire_pool16` not used concurrently;
/// `event` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fusewire_pool16_record(
    pool: *mut fusewire_pool16,
    now: fusewire_tick,
    pick: fusewire_pool_pick,
    result: CallResultCode,
    event: *mut fusewire_pool_event,
) -> fusewire_status {
    // SAFETY: forwarded contract.
    unsafe { record::<16>(pool, now, pick, result, event) }
}

/// As `fusewire_pool4_release`.
///
/// Thread/ISR safety: as `fusewire_pool16_pick`.
///
/// Pointers:
/// `pool` is NULL or points to a `fusewire_pool16` not used concurrently.
#[no_mangle]
pub unsafe extern "C" fn fusewire_pool16_release(
    pool: *mut fusewire_pool16,
    pick: fusewire_pool_pick,
) -> fusewire_status {
    // SAFETY: forwarded contract.
    unsafe { release::<16>(pool, pick) }
}

/// As `fusewire_pool4_poll` (`FUSEWIRE_POOL16_CAPACITY` events always
/// suffice).
///
/// Thread/ISR safety: as `fusewire_pool16_pick`.
///
/// Pointers:
/// `pool` is NULL or points to a `fusewire_pool16` not used concurrently;
/// `events` is NULL or writable for `capacity` events; `count` is NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn fusewire_pool16_poll(
    pool: *mut fusewire_pool16,
    now: fusewire_tick,
    events: *mut fusewire_pool_event,
    capacity: u32,
    count: *mut u32,
) -> fusewire_status {
    // SAFETY: forwarded contract.
    unsafe { poll::<16>(pool, now, events, capacity, count) }
}

/// As `fusewire_pool4_stats`.
///
/// Thread/ISR safety: reads `*pool`; must not race a writer.
///
/// Pointers:
/// `pool` is NULL or points to a `fusewire_pool16`; `stats` is NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn fusewire_pool16_stats(
    pool: *const fusewire_pool16,
    now: fusewire_tick,
    endpoint: u32,
    stats: *mut fusewire_endpoint_stats,
) -> fusewire_status {
    // SAFETY: forwarded contract.
    unsafe { self::stats::<16>(pool, now, endpoint, stats) }
}

/// As `fusewire_pool4_endpoints`.
///
/// Thread/ISR safety: reads `*pool`; must not race a writer.
///
/// Pointers:
/// `pool` is NULL or points to a `fusewire_pool16`; the out-pointers are
/// NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fusewire_pool16_endpoints(
    pool: *const fusewire_pool16,
    count: *mut u32,
    max_ejected: *mut u32,
) -> fusewire_status {
    // SAFETY: forwarded contract.
    unsafe { endpoints::<16>(pool, count, max_ejected) }
}
