//! `HostStore`: policies shared by the processes of one machine (Node
//! `cluster` workers, PM2, Python workers too), in the shared-memory region
//! of `fusewire_store::shm`.
//!
//! `lib/host.js` wraps [`NativeHostStore`]; its `_bind` returns one of the
//! backends below, each with the methods and return shapes of the native
//! object the policy would otherwise hold (`TokenBucket`, `Bulkhead`,
//! `CoreBreaker`, `CoreBudget`). The `now` they are passed is ignored: the
//! region's clock is `CLOCK_MONOTONIC` (the clock of
//! `process.hrtime.bigint()`), read here in nanoseconds, the same in every
//! process. Times they report (`retryAfter`, a snapshot's `since`) are
//! milliseconds of that clock.

// The napi registration that uses these items is not compiled into the
// (empty) test build.
#![cfg_attr(test, allow(dead_code))]

use std::sync::Arc;

use fusewire::bulkhead::{Priority, ReleaseError, Slot};
use fusewire::{Permit, Refused};
use fusewire_store::config::Kind;
use fusewire_store::shm::{now, BreakerHandle, Handle, Region, Shared, ShmError, DEFAULT_SIZE};
use napi::bindgen_prelude::{Either, Either4};
use napi::{Error, Result, Status};
use napi_derive::napi;

use crate::direct::{
    change, counts, outcome_of, permit_of, state_name, Admitted, BreakerSnapshot,
    Refused as BreakerRefused, StateChange,
};
use crate::policies::BucketRefusal;
use crate::store::PlainField;

/// Nanoseconds to whole milliseconds, rounded up (a wait never ends early).
fn ms_up(ns: u64) -> f64 {
    if ns == u64::MAX {
        f64::INFINITY
    } else {
        ns.div_ceil(1_000_000) as f64
    }
}

/// A region error as a JS error: `code` `ERR_FUSEWIRE_CONFIG` naming the
/// option (`field`) for a name or config problem, `ERR_FUSEWIRE_STORE` for
/// the rest; the JS layer sets `code` and `field` from the message prefix.
fn shm_error(e: ShmError) -> Error {
    let kind = match &e {
        ShmError::Full { .. } => "full",
        ShmError::BuildMismatch { .. } => "buildMismatch",
        ShmError::PermissionDenied { .. } => "permissionDenied",
        ShmError::Os { .. } => "os",
        _ => "config",
    };
    let text = e.to_string();
    let field = e.field();
    let reason = text
        .strip_prefix(&format!("{field}: "))
        .unwrap_or(&text)
        .to_owned();
    Error::new(Status::InvalidArg, format!("{kind}|{field}|{reason}"))
}

/// The named shared-memory region (`HostStore` in JS, `lib/host.js`).
#[napi]
pub struct NativeHostStore {
    region: Arc<Region>,
}

#[napi]
impl NativeHostStore {
    /// Maps the region `name`, made `size` bytes if new.
    #[napi(constructor)]
    pub fn new(name: String, size: Option<f64>) -> Result<Self> {
        let size = size.map_or(DEFAULT_SIZE, |s| s.clamp(0.0, usize::MAX as f64) as usize);
        Ok(Self {
            region: Region::open(&name, size).map_err(shm_error)?,
        })
    }

    /// The region's name.
    #[napi(getter)]
    pub fn name(&self) -> String {
        self.region.name().into()
    }

    /// The region's size in bytes.
    #[napi(getter)]
    pub fn size(&self) -> f64 {
        self.region.len() as f64
    }

    /// Policies bound in the region (by every process).
    #[napi(getter)]
    pub fn entries(&self) -> u32 {
        self.region.entries() as u32
    }

    /// Removes a region's name (mapped ones live on).
    #[napi]
    pub fn unlink(name: String) -> Result<()> {
        Region::unlink(&name).map_err(shm_error)
    }

    /// The backend of policy `name` from its plain config's fields.
    #[napi]
    pub fn bind(
        &self,
        kind: String,
        name: String,
        fields: Vec<PlainField>,
    ) -> Result<Either4<HostBucket, HostBulkhead, HostBudget, HostBreaker>> {
        let kind = Kind::from_name(&kind).ok_or_else(|| {
            Error::new(
                Status::InvalidArg,
                format!("config|kind|unknown kind {kind:?}"),
            )
        })?;
        let config = crate::store::config_of_fields(kind, &fields).map_err(|(field, reason)| {
            Error::new(Status::InvalidArg, format!("config|{field}|{reason}"))
        })?;
        Ok(match self.region.bind(&name, &config).map_err(shm_error)? {
            Handle::Bucket(h) => Either4::A(HostBucket { h }),
            Handle::Bulkhead(h) => Either4::B(HostBulkhead { h }),
            Handle::Budget(h) => Either4::C(HostBudget { h }),
            Handle::Breaker(h) => Either4::D(HostBreaker { h }),
        })
    }
}

/// A token bucket in a host store (the methods of `TokenBucket`).
#[napi]
pub struct HostBucket {
    h: Shared<fusewire::SharedBucket>,
}

#[napi]
impl HostBucket {
    /// 0 when taken, else the wait in ms (at least 1), -1 above the burst.
    #[napi]
    pub fn take(&self, n: u32, _now: Option<f64>) -> f64 {
        match self.h.try_acquire(n, now()) {
            Ok(()) => 0.0,
            Err(Refused::Denied(d)) => ms_up(d.retry_after).max(1.0),
            Err(Refused::ExceedsBurst { .. }) => -1.0,
        }
    }

    /// null when taken, else the refusal.
    #[napi]
    pub fn try_acquire(&self, n: u32, _now: Option<f64>) -> Option<BucketRefusal> {
        match self.h.try_acquire(n, now()) {
            Ok(()) => None,
            Err(Refused::Denied(d)) => Some(BucketRefusal {
                retry_after: Some(ms_up(d.retry_after)),
                burst: None,
            }),
            Err(Refused::ExceedsBurst { burst }) => Some(BucketRefusal {
                retry_after: None,
                burst: Some(burst),
            }),
        }
    }

    /// Tokens there now.
    #[napi]
    pub fn available(&self, _now: Option<f64>) -> u32 {
        self.h.available(now())
    }

    /// Gives `n` unused tokens back.
    #[napi]
    pub fn refund(&self, n: u32, _now: Option<f64>) {
        self.h.refund(n, now());
    }
}

fn priority_of(p: u32) -> Priority {
    match p {
        0 => Priority::Critical,
        2 => Priority::Sheddable,
        _ => Priority::Normal,
    }
}

/// A bulkhead in a host store (the methods of `Bulkhead`).
#[napi]
pub struct HostBulkhead {
    h: Shared<fusewire::SharedBulkhead>,
}

#[napi]
impl HostBulkhead {
    /// A slot number, or -1 when none is free.
    #[napi]
    pub fn try_acquire(&self, priority: u32, _now: Option<f64>) -> f64 {
        match self.h.try_acquire(priority_of(priority), now()) {
            Ok(slot) => slot.into_raw() as f64,
            Err(_) => -1.0,
        }
    }

    /// null when released, else `notHeld` or `expired`.
    #[napi]
    pub fn release(&self, slot: f64, _now: Option<f64>) -> Option<&'static str> {
        match self.h.release(Slot::from_raw(crate::ticks(slot)), now()) {
            Ok(()) => None,
            Err(ReleaseError::Expired) => Some("expired"),
            Err(_) => Some("notHeld"),
        }
    }

    /// Frees the slots whose lease ran out; how many.
    #[napi]
    pub fn expire(&self, _now: Option<f64>) -> u32 {
        self.h.expire(now())
    }

    /// Releases refused because the lease had run out.
    #[napi(getter)]
    pub fn expired_releases(&self) -> f64 {
        self.h.expired_releases() as f64
    }

    /// Slots freed by their lease.
    #[napi(getter)]
    pub fn reclaimed(&self) -> f64 {
        self.h.reclaimed() as f64
    }

    /// The lease in ms.
    #[napi(getter)]
    pub fn lease(&self) -> f64 {
        self.h.lease() as f64 / 1e6
    }

    /// Slots in use (by every process).
    #[napi(getter)]
    pub fn in_use(&self) -> u32 {
        self.h.expire(now());
        self.h.in_use()
    }

    /// Free slots.
    #[napi(getter)]
    pub fn available(&self) -> u32 {
        self.h.expire(now());
        self.h.available()
    }

    /// Releases refused (not held).
    #[napi(getter)]
    pub fn extra_releases(&self) -> f64 {
        self.h.extra_releases() as f64
    }

    /// Slots free for `priority`.
    #[napi]
    pub fn available_for(&self, priority: u32) -> u32 {
        self.h.expire(now());
        self.h.available_for(priority_of(priority))
    }
}

/// A retry budget in a host store (the methods of `CoreBudget`).
#[napi]
pub struct HostBudget {
    h: Shared<fusewire::SharedBudget>,
}

impl HostBudget {
    /// The shared budget, for a retry schedule that spends it.
    pub(crate) fn shared(&self) -> &fusewire::SharedBudget {
        &self.h
    }
}

#[napi]
impl HostBudget {
    /// A call succeeded.
    #[napi]
    pub fn record_success(&self) {
        self.h.record_success();
    }
    /// A call failed.
    #[napi]
    pub fn record_failure(&self) {
        self.h.record_failure();
    }
    /// Whether a retry may be made now.
    #[napi(getter)]
    pub fn can_retry(&self) -> bool {
        self.h.can_retry()
    }
    /// `canRetry`, counting a refusal.
    #[napi]
    pub fn try_retry(&self) -> bool {
        self.h.try_retry().is_ok()
    }
    /// Whole tokens left.
    #[napi(getter)]
    pub fn tokens(&self) -> u32 {
        self.h.tokens()
    }
    /// Tokens left in thousandths.
    #[napi(getter)]
    pub fn tokens_milli(&self) -> f64 {
        self.h.tokens_milli() as f64
    }
    /// The most tokens.
    #[napi(getter)]
    pub fn max_tokens(&self) -> u32 {
        self.h.max_tokens()
    }
    /// Retries refused so far.
    #[napi(getter)]
    pub fn throttled(&self) -> f64 {
        self.h.throttled() as f64
    }
}

/// A circuit breaker in a host store (the methods of `CoreBreaker`).
#[napi]
pub struct HostBreaker {
    h: BreakerHandle,
}

#[napi]
impl HostBreaker {
    /// Asks to make a call now.
    #[napi]
    pub fn try_acquire(&self, _now: Option<f64>) -> Either<Admitted, BreakerRefused> {
        match self.h.try_acquire(now()) {
            Ok(mut p) => {
                let transition = change(p.transition.take());
                let probe = p.is_probe();
                Either::A(Admitted {
                    admitted: true,
                    permit: self.h.permit_into_raw(p) as f64,
                    probe,
                    transition,
                })
            }
            Err(r) => Either::B(BreakerRefused {
                admitted: false,
                retry_after: ms_up(r.retry_after),
                state: state_name(r.state).into(),
                transition: change(r.transition),
            }),
        }
    }

    /// How the call under `permit` ended, after `duration` ms.
    #[napi]
    pub fn record(
        &self,
        permit: f64,
        outcome: String,
        duration: f64,
        _now: Option<f64>,
    ) -> Result<Option<StateChange>> {
        let o = outcome_of(&outcome)?;
        let ns = (duration.max(0.0) * 1e6).min(u64::MAX as f64) as u64;
        Ok(change(self.h.record(permit_of(permit), o, ns, now())))
    }

    /// A permit whose call never ran.
    #[napi]
    pub fn release(&self, permit: f64, _now: Option<f64>) -> Option<StateChange> {
        let p: Permit = permit_of(permit);
        change(self.h.release(p, now()))
    }

    /// Lets time pass.
    #[napi]
    pub fn poll(&self, _now: Option<f64>) -> Option<StateChange> {
        change(self.h.poll(now()))
    }
    /// Opens now.
    #[napi]
    pub fn trip(&self, _now: Option<f64>) -> Option<StateChange> {
        change(self.h.trip(now()))
    }
    /// Closes now.
    #[napi]
    pub fn close(&self, _now: Option<f64>) -> Option<StateChange> {
        change(self.h.close(now()))
    }
    /// Refuses every call until `close` or `reset`.
    #[napi]
    pub fn force_open(&self, _now: Option<f64>) -> Option<StateChange> {
        change(self.h.force_open(now()))
    }
    /// Admits every call until `close` or `reset`.
    #[napi]
    pub fn disable(&self, _now: Option<f64>) -> Option<StateChange> {
        change(self.h.disable(now()))
    }
    /// Closed with an empty window.
    #[napi]
    pub fn reset(&self, _now: Option<f64>) -> Option<StateChange> {
        change(self.h.reset(now()))
    }
    /// Not for a shared breaker: it goes half-open when its open time ends.
    #[napi]
    pub fn half_open(&self, _now: Option<f64>) -> Result<Option<StateChange>> {
        Err(Error::new(
            Status::InvalidArg,
            "fusewire: Breaker halfOpen() is not available on a breaker in a host store: it goes half-open when its open time is over",
        ))
    }
    /// The breaker now (times in ms of the host's monotonic clock).
    #[napi]
    pub fn snapshot(&self, _now: Option<f64>) -> BreakerSnapshot {
        let s = self.h.snapshot(now());
        let ms = |ns: u64| {
            if ns == u64::MAX {
                f64::INFINITY
            } else {
                ns as f64 / 1e6
            }
        };
        BreakerSnapshot {
            state: state_name(s.state).into(),
            generation: s.generation,
            counts: counts(s.counts),
            consecutive_failures: s.consecutive_failures,
            probes_in_flight: s.probes_in_flight,
            open_until: ms(s.open_until),
            reopens: s.reopens,
            clock_regressions: s.clock_regressions,
            since: ms(s.since),
            refused_permits: s.refused_permits,
            permits_out: s.permits_out,
        }
    }
    /// The state now.
    #[napi(getter)]
    pub fn state(&self) -> &'static str {
        state_name(self.h.state())
    }
    /// The generation.
    #[napi(getter)]
    pub fn generation(&self) -> u32 {
        self.h.snapshot(now()).generation
    }
}
