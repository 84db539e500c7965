//! A pool of endpoints: picks one for each call, ejects outliers the way
//! Envoy's outlier detection does, and fails a retry over to another
//! endpoint (the service-mesh pattern, as Istio and Linkerd give it).
//!
//! ```text
//! pick        two distinct endpoints at random among the healthy ones, the
//!             one with fewer calls outstanding (power of two choices); an
//!             ejected endpoint is healthy again once its ejection ends. With
//!             none healthy (a one-endpoint pool cannot eject), all of them.
//! record      Success clears both runs; Failure adds to the failure run;
//!             GatewayFailure (502/503/504) adds to both runs. A run reaching
//!             consecutive_failures / consecutive_gateway_failures ejects.
//! interval    every `interval` ticks (checked on every call): among the
//!             endpoints not ejected with at least success_rate_request_volume
//!             calls in the interval, if there are success_rate_minimum_hosts
//!             of them: mean and standard deviation of their success rates
//!             (millionths, integer square root); below
//!             mean - stdev * success_rate_stdev_factor_milli / 1000 ejects.
//!             Then the interval's counts restart, and each endpoint not
//!             ejected has its ejection count lowered by one (Envoy's decay).
//! eject       for min(base_ejection_time * k, max_ejection_time) + U(0,
//!             ejection_jitter) ticks, k the endpoint's ejections so far
//!             including this one; never more than
//!             max(1, n * max_ejection_percent / 100) endpoints at once, and
//!             never all n.
//! ```
//!
//! Fixed capacity `N`: the endpoints live in an array of `N` with a count
//! beside it (`repr(C)`, so a door keeping a pool in foreign memory can
//! check the count, [`Intact`](crate::intact::Intact)); the bounded
//! scratch lists and the events are [`heapless::Vec`]s. No allocation, no
//! clock (every call takes `now`), randomness from the config's seed.

use heapless::Vec;

use crate::budget::{Budget, Throttled};
use crate::error::{ConfigError, ConfigResult, Field, Problem};
use crate::rng::Rng;
use crate::unit::TickUnit;

/// How a pool judges its endpoints. Durations in ticks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub struct PoolConfig {
    /// Eject after this many failures in a row (Envoy `consecutive_5xx`);
    /// 0 turns the rule off. Default 5.
    pub consecutive_failures: u32,
    /// Eject after this many gateway failures in a row (502, 503, 504);
    /// 0 turns the rule off. Default 5.
    pub consecutive_gateway_failures: u32,
    /// How often success rates are compared (non-zero). Default 10 s.
    pub interval: u64,
    /// The first ejection's length (non-zero). Default 30 s.
    pub base_ejection_time: u64,
    /// The longest ejection (at least the base). Default 300 s.
    pub max_ejection_time: u64,
    /// Up to this many ticks added to each ejection, uniformly. Default 0.
    pub ejection_jitter: u64,
    /// The most endpoints ejected at once, as a percentage of the pool
    /// (`0..=100`); at least one and never all. Default 10.
    pub max_ejection_percent: u32,
    /// Success rates are compared only among at least this many endpoints
    /// with enough calls; 0 turns the success-rate rule off. Default 5.
    pub success_rate_minimum_hosts: u32,
    /// Calls an endpoint needs in an interval to be judged. Default 100.
    pub success_rate_request_volume: u32,
    /// Ejected below mean - stdev * this / 1000. Default 1900.
    pub success_rate_stdev_factor_milli: u32,
    /// Seed for the picks and the jitter.
    pub seed: u64,
}

impl PoolConfig {
    /// Envoy's defaults, in ticks of `unit`.
    pub const fn new(unit: TickUnit) -> Self {
        Self {
            consecutive_failures: 5,
            consecutive_gateway_failures: 5,
            interval: unit.millis(10_000),
            base_ejection_time: unit.millis(30_000),
            max_ejection_time: unit.millis(300_000),
            ejection_jitter: 0,
            max_ejection_percent: 10,
            success_rate_minimum_hosts: 5,
            success_rate_request_volume: 100,
            success_rate_stdev_factor_milli: 1900,
            seed: 0,
        }
    }

    /// Checks the config: `interval` and `base_ejection_time` non-zero
    /// (`zero`), `max_ejection_time` at least the base (`inconsistent`),
    /// `max_ejection_percent` at most 100 (`out_of_range`).
    pub const fn validate(self) -> ConfigResult<Self> {
        if self.interval == 0 {
            return Err(ConfigError::of(Field::Interval, Problem::Zero));
        }
        if self.base_ejection_time == 0 {
            return Err(ConfigError::of(Field::BaseEjectionTime, Problem::Zero));
        }
        if self.max_ejection_time < self.base_ejection_time {
            return Err(ConfigError::of(
                Field::MaxEjectionTime,
                Problem::Inconsistent,
            ));
        }
        if self.max_ejection_percent > 100 {
            return Err(ConfigError::of(
                Field::MaxEjectionPercent,
                Problem::OutOfRange,
            ));
        }
        Ok(self)
    }
}

/// How a call to an endpoint ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum CallResult {
    /// It worked.
    Success = 0,
    /// It failed (a 5xx, a reset, a timeout).
    Failure = 1,
    /// A gateway failure (502, 503, 504): counts in both runs.
    GatewayFailure = 2,
}

/// Why an endpoint was ejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum EjectReason {
    /// `consecutive_failures` in a row.
    ConsecutiveFailures = 0,
    /// `consecutive_gateway_failures` in a row.
    ConsecutiveGatewayFailures = 1,
    /// Its success rate fell below the pool's.
    SuccessRate = 2,
}

/// A change in an endpoint's health.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PoolEvent {
    /// `endpoint` is out of the picks until `until`.
    Ejected {
        /// The endpoint's index.
        endpoint: u16,
        /// Why.
        reason: EjectReason,
        /// The tick its ejection ends.
        until: u64,
    },
    /// `endpoint`'s ejection ended (reported by [`Pool::poll`]).
    Returned {
        /// The endpoint's index.
        endpoint: u16,
    },
}

/// The endpoint chosen for a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use = "a pick must be settled with record() or release()"]
pub struct Pick {
    /// The endpoint's index (`0..len`).
    pub endpoint: u16,
    /// No endpoint was healthy, so every endpoint was a candidate
    /// (Envoy's panic routing).
    pub panic: bool,
}

/// One endpoint's state, as a host shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[repr(C)]
pub struct EndpointStats {
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
    /// Total calls picked since the pool was built.
    pub picked: u64,
}

/// Endpoints ejected or returned by one [`Pool::poll`]: at most one event
/// per endpoint.
pub type PoolEvents<const N: usize> = Vec<PoolEvent, N>;

/// A pool of up to `N` endpoints (see the module docs for the rules).
#[derive(Debug, Clone)]
#[repr(C)]
pub struct Pool<const N: usize> {
    config: PoolConfig,
    rng: Rng,
    interval_start: u64,
    last_now: u64,
    /// Endpoints in use: `1..=N` (the first `len` of `slots`).
    len: u32,
    slots: [EndpointStats; N],
}

impl<const N: usize> Pool<N> {
    /// A pool of `endpoints` healthy endpoints (`1..=N`, and at most
    /// 65 536), validating `config`.
    pub fn new(config: PoolConfig, endpoints: usize) -> ConfigResult<Self> {
        let config = config.validate()?;
        if endpoints == 0 {
            return Err(ConfigError::of(Field::Endpoints, Problem::Zero));
        }
        if endpoints > N || endpoints > usize::from(u16::MAX) + 1 {
            return Err(ConfigError::of(Field::Endpoints, Problem::OutOfRange));
        }
        Ok(Self {
            rng: Rng::new(config.seed),
            config,
            interval_start: 0,
            last_now: 0,
            // At most 65 536 (checked above).
            len: endpoints as u32,
            slots: [EndpointStats::default(); N],
        })
    }

    /// The endpoints in use.
    #[inline(always)]
    fn endpoints(&self) -> &[EndpointStats] {
        self.slots.get(..self.len as usize).unwrap_or(&[])
    }

    /// The endpoints in use, mutably.
    #[inline(always)]
    fn endpoints_mut(&mut self) -> &mut [EndpointStats] {
        self.slots.get_mut(..self.len as usize).unwrap_or(&mut [])
    }

    /// How many endpoints.
    pub fn len(&self) -> usize {
        self.endpoints().len()
    }

    /// Always false: a pool has at least one endpoint.
    pub fn is_empty(&self) -> bool {
        self.endpoints().is_empty()
    }

    /// The config.
    pub const fn config(&self) -> PoolConfig {
        self.config
    }

    /// Endpoint `i`'s state, if it exists.
    pub fn stats(&self, i: usize) -> Option<EndpointStats> {
        self.endpoints().get(i).copied()
    }

    /// Whether endpoint `i` is ejected at `now`.
    pub fn is_ejected(&self, i: usize, now: u64) -> bool {
        self.endpoints().get(i).is_some_and(|e| ejected(e, now))
    }

    /// The most endpoints ejected at once: `max(1, n * percent / 100)`,
    /// and never all.
    pub fn max_ejected(&self) -> usize {
        let n = self.endpoints().len();
        let share = n * self.config.max_ejection_percent as usize / 100;
        share.max(1).min(n.saturating_sub(1))
    }

    /// Picks an endpoint for a call at `now`.
    pub fn pick(&mut self, now: u64) -> Pick {
        self.pick_avoiding(now, None)
    }

    /// Picks an endpoint other than `previous` (a retry failing over),
    /// unless it is the only candidate.
    pub fn pick_avoiding(&mut self, now: u64, previous: Option<u16>) -> Pick {
        let now = self.clamp(now);
        let avoid = previous.map_or(usize::MAX, usize::from);
        let mut pick = self.choose(now, avoid, true);
        if pick.is_none() {
            pick = self.choose(now, usize::MAX, true);
        }
        let (endpoint, panic) = match pick {
            Some(i) => (i, false),
            None => (
                // Both draws are taken (`or` is eager), as they always were.
                self.choose(now, avoid, false)
                    .or(self.choose(now, usize::MAX, false))
                    .unwrap_or(0),
                true,
            ),
        };
        if let Some(e) = self.endpoints_mut().get_mut(endpoint) {
            e.outstanding = e.outstanding.saturating_add(1);
            e.picked = e.picked.saturating_add(1);
        }
        Pick {
            endpoint: endpoint as u16,
            panic,
        }
    }

    /// A retry's endpoint: spends a retry from `budget`, then fails over
    /// to another endpoint than `previous`; refused (nothing picked) when
    /// the budget says retries must stop.
    pub fn failover(
        &mut self,
        now: u64,
        previous: u16,
        budget: &mut Budget,
    ) -> Result<Pick, Throttled> {
        budget.try_retry()?;
        Ok(self.pick_avoiding(now, Some(previous)))
    }

    /// Power of two choices among the endpoints other than `avoid` (and
    /// only those not ejected at `now` if `healthy`): two distinct ones
    /// uniformly at random, the one with fewer outstanding (the first
    /// drawn on a tie). Always two generator steps, one pass over the pool.
    /// Plain arguments rather than a predicate: one copy of this code
    /// (firmware `.text`) for the four candidate sets a pick may try.
    fn choose(&mut self, now: u64, avoid: usize, healthy: bool) -> Option<usize> {
        let mut candidates: Vec<u16, N> = Vec::new();
        for (i, e) in self.endpoints().iter().enumerate() {
            if i != avoid && !(healthy && ejected(e, now)) {
                // Never more than N: one push per endpoint.
                let _ = candidates.push(i as u16);
            }
        }
        let count = candidates.len() as u64;
        let a = self.rng.below(count) as usize;
        let b = self.rng.below(count.saturating_sub(1)) as usize;
        let b = if b >= a { b + 1 } else { b };
        let ia = usize::from(*candidates.get(a)?);
        let outstanding = |i: usize| self.endpoints().get(i).map_or(u32::MAX, |e| e.outstanding);
        match candidates.get(b).map(|&i| usize::from(i)) {
            Some(ib) if outstanding(ib) < outstanding(ia) => Some(ib),
            _ => Some(ia),
        }
    }

    /// Settles a pick with how its call ended; returns the ejection it
    /// caused, if any. Also runs the interval's success-rate check when
    /// one is due (its ejections are reported by [`poll`](Self::poll)).
    pub fn record(&mut self, pick: Pick, result: CallResult, now: u64) -> Option<PoolEvent> {
        let now = self.clamp(now);
        let i = usize::from(pick.endpoint);
        let cfg = self.config;
        let e = self.endpoints_mut().get_mut(i)?;
        e.outstanding = e.outstanding.saturating_sub(1);
        e.calls = e.calls.saturating_add(1);
        let reason = match result {
            CallResult::Success => {
                e.successes = e.successes.saturating_add(1);
                e.consecutive_failures = 0;
                e.consecutive_gateway_failures = 0;
                None
            }
            CallResult::Failure | CallResult::GatewayFailure => {
                e.consecutive_failures = e.consecutive_failures.saturating_add(1);
                let gateway = result == CallResult::GatewayFailure;
                if gateway {
                    e.consecutive_gateway_failures =
                        e.consecutive_gateway_failures.saturating_add(1);
                } else {
                    e.consecutive_gateway_failures = 0;
                }
                let runs = |limit: u32, run: u32| limit != 0 && run >= limit;
                if gateway
                    && runs(
                        cfg.consecutive_gateway_failures,
                        e.consecutive_gateway_failures,
                    )
                {
                    Some(EjectReason::ConsecutiveGatewayFailures)
                } else if runs(cfg.consecutive_failures, e.consecutive_failures) {
                    Some(EjectReason::ConsecutiveFailures)
                } else {
                    None
                }
            }
        };
        match reason {
            Some(r) if !ejected(e, now) => self.eject(i, r, now),
            _ => None,
        }
    }

    /// Hands back a pick whose call never ran (cancelled): nothing counted.
    pub fn release(&mut self, pick: Pick) {
        if let Some(e) = self.endpoints_mut().get_mut(usize::from(pick.endpoint)) {
            e.outstanding = e.outstanding.saturating_sub(1);
        }
    }

    /// Applies what time alone causes: the interval's success-rate
    /// ejections, and ejections that have ended. Returns those changes, at
    /// most one per endpoint (an endpoint returned and ejected again in
    /// the same poll reports the ejection).
    pub fn poll(&mut self, now: u64) -> PoolEvents<N> {
        let now = self.clamp(now);
        let mut events = PoolEvents::new();
        for (i, e) in self.endpoints_mut().iter_mut().enumerate() {
            if e.ejected_until != 0 && e.ejected_until <= now {
                e.ejected_until = 0;
                e.consecutive_failures = 0;
                e.consecutive_gateway_failures = 0;
                let _ = events.push(PoolEvent::Returned { endpoint: i as u16 });
            }
        }
        if now.saturating_sub(self.interval_start) >= self.config.interval {
            self.interval_start = now;
            for i in self.success_rate_outliers(now) {
                if let Some(ev) = self.eject(i, EjectReason::SuccessRate, now) {
                    events.retain(|x| *x != PoolEvent::Returned { endpoint: i as u16 });
                    let _ = events.push(ev);
                }
            }
            for e in self.endpoints_mut().iter_mut() {
                if !ejected(e, now) {
                    e.ejections = e.ejections.saturating_sub(1);
                }
                e.successes = 0;
                e.calls = 0;
            }
        }
        events
    }

    /// The endpoints whose success rate falls below the pool's, worst
    /// first.
    fn success_rate_outliers(&self, now: u64) -> Vec<usize, N> {
        let cfg = &self.config;
        let mut out = Vec::new();
        if cfg.success_rate_minimum_hosts == 0 {
            return out;
        }
        let judged = |e: &EndpointStats| {
            !ejected(e, now) && e.calls >= cfg.success_rate_request_volume.max(1)
        };
        let rate =
            |e: &EndpointStats| u64::from(e.successes) * 1_000_000 / u64::from(e.calls.max(1));
        let k = self.endpoints().iter().filter(|e| judged(e)).count() as u64;
        if k < u64::from(cfg.success_rate_minimum_hosts) || k == 0 {
            return out;
        }
        let mean = self
            .endpoints()
            .iter()
            .filter(|e| judged(e))
            .map(rate)
            .sum::<u64>()
            / k;
        let var = self
            .endpoints()
            .iter()
            .filter(|e| judged(e))
            .map(|e| rate(e).abs_diff(mean).pow(2))
            .sum::<u64>()
            / k;
        let spread = isqrt(var) * u64::from(cfg.success_rate_stdev_factor_milli) / 1000;
        let threshold = mean.saturating_sub(spread);
        for (i, e) in self.endpoints().iter().enumerate() {
            if judged(e) && rate(e) < threshold {
                let _ = out.push(i);
            }
        }
        // Worst first, ties in index order: an insertion sort, which is
        // what `sort_unstable` runs on up to 20 items (so the order is the
        // one it gave for every pool of up to 20 endpoints), without the
        // 6 KB of pattern-defeating quicksort it links on firmware.
        let key = |i: usize| self.endpoints().get(i).map_or(0, rate);
        for j in 1..out.len() {
            let mut k = j;
            while k > 0 {
                let Some([a, b]) = out.get_mut(k - 1..=k) else {
                    break;
                };
                if key(*b) >= key(*a) {
                    break;
                }
                core::mem::swap(a, b);
                k -= 1;
            }
        }
        out
    }

    /// Ejects endpoint `i` if the cap allows.
    fn eject(&mut self, i: usize, reason: EjectReason, now: u64) -> Option<PoolEvent> {
        let out = self.endpoints().iter().filter(|e| ejected(e, now)).count();
        if out >= self.max_ejected() {
            return None;
        }
        let cfg = self.config;
        let jitter = self.rng.between(0, cfg.ejection_jitter);
        let e = self.endpoints_mut().get_mut(i)?;
        e.ejections = e.ejections.saturating_add(1);
        let length = cfg
            .base_ejection_time
            .saturating_mul(u64::from(e.ejections))
            .min(cfg.max_ejection_time)
            .saturating_add(jitter);
        // At least one tick, so an ejection is never already over; at the
        // end of time (`now` = u64::MAX) none can start.
        let until = now.saturating_add(length.max(1));
        if until <= now {
            e.ejections = e.ejections.saturating_sub(1);
            return None;
        }
        e.ejected_until = until;
        Some(PoolEvent::Ejected {
            endpoint: i as u16,
            reason,
            until,
        })
    }

    fn clamp(&mut self, now: u64) -> u64 {
        self.last_now = self.last_now.max(now);
        self.last_now
    }
}

/// A door keeping a `Pool` in foreign memory: the endpoint count indexes
/// the array (`1..=N`), and `max_ejection_percent` (at most 100) is
/// multiplied by the count, which must not overflow a 32-bit `usize`.
/// Every other byte is a count, a tick, a bound or the generator's state,
/// which a stray write makes wrong but never unsafe.
impl<const N: usize> crate::intact::Intact for Pool<N> {
    #[inline(always)]
    fn intact(read: &impl Fn(usize) -> u8, at: usize) -> bool {
        use crate::intact::u32_at;
        use core::mem::offset_of;
        let len = u32_at(read, at + offset_of!(Self, len)) as usize;
        let percent = u32_at(
            read,
            at + offset_of!(Self, config) + offset_of!(PoolConfig, max_ejection_percent),
        );
        len >= 1 && len <= N && percent <= 100
    }
}

const fn ejected(e: &EndpointStats, now: u64) -> bool {
    e.ejected_until > now
}

/// The integer square root (the largest r with r * r <= v).
fn isqrt(v: u64) -> u64 {
    if v < 2 {
        return v;
    }
    // Newton's method from an upper bound; converges in a few steps.
    let mut x = 1u64 << (64 - v.leading_zeros()).div_ceil(2);
    loop {
        // x >= 1 throughout (x + v / x >= 2 * sqrt(v) >= 2): `max(1)` only
        // lets the compiler drop a division-by-zero panic path.
        let y = (x + v / x.max(1)) / 2;
        if y >= x {
            return x;
        }
        x = y;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> PoolConfig {
        PoolConfig {
            seed: 7,
            ..PoolConfig::new(TickUnit::MILLIS)
        }
    }

    #[test]
    fn isqrt_is_exact() {
        for v in [0u64, 1, 2, 3, 4, 15, 16, 17, 1 << 40, u64::MAX] {
            let r = isqrt(v);
            assert!(r.checked_mul(r).is_some_and(|sq| sq <= v), "{v}");
            assert!((r + 1).checked_mul(r + 1).is_none_or(|sq| sq > v), "{v}");
        }
    }

    #[test]
    fn picks_prefer_fewer_outstanding() {
        let mut p = Pool::<2>::new(cfg(), 2).unwrap();
        let first = p.pick(0);
        // Two endpoints: the second pick goes to the idle one.
        let second = p.pick(0);
        assert_ne!(first.endpoint, second.endpoint);
        p.release(first);
        p.release(second);
        assert_eq!(p.stats(0).unwrap().outstanding, 0);
    }

    #[test]
    fn consecutive_failures_eject_and_the_ejection_ends() {
        let mut p = Pool::<3>::new(cfg(), 3).unwrap();
        let mut ev = None;
        for _ in 0..5 {
            ev = p.record(
                Pick {
                    endpoint: 1,
                    panic: false,
                },
                CallResult::Failure,
                100,
            );
        }
        assert_eq!(
            ev,
            Some(PoolEvent::Ejected {
                endpoint: 1,
                reason: EjectReason::ConsecutiveFailures,
                until: 30_100
            })
        );
        for _ in 0..100 {
            let k = p.pick(200);
            assert_ne!(
                k.endpoint, 1,
                "an ejected endpoint is not picked while others are healthy"
            );
            p.release(k);
        }
        // max(1, 3 * 10 %) = 1: a second endpoint is not ejected.
        for _ in 0..5 {
            assert_eq!(
                p.record(
                    Pick {
                        endpoint: 2,
                        panic: false
                    },
                    CallResult::Failure,
                    300
                ),
                None
            );
        }
        assert_eq!(p.poll(30_099).len(), 0);
        assert_eq!(
            p.poll(30_100).as_slice(),
            &[PoolEvent::Returned { endpoint: 1 }]
        );
        assert!(!p.is_ejected(1, 30_100));
    }

    #[test]
    fn ejections_grow_with_the_count_and_stop_at_the_max() {
        let mut p = Pool::<2>::new(
            PoolConfig {
                consecutive_failures: 1,
                max_ejection_time: 70_000,
                ..cfg()
            },
            2,
        )
        .unwrap();
        let fail = |p: &mut Pool<2>, now| {
            p.record(
                Pick {
                    endpoint: 0,
                    panic: false,
                },
                CallResult::Failure,
                now,
            )
        };
        let until = |e: Option<PoolEvent>| match e {
            Some(PoolEvent::Ejected { until, .. }) => until,
            other => panic!("{other:?}"),
        };
        assert_eq!(until(fail(&mut p, 0)), 30_000);
        assert_eq!(until(fail(&mut p, 30_000)), 90_000);
        assert_eq!(until(fail(&mut p, 90_000)), 160_000, "capped at 70 s");
    }

    #[test]
    fn gateway_failures_have_their_own_run() {
        let mut p = Pool::<4>::new(
            PoolConfig {
                consecutive_failures: 10,
                consecutive_gateway_failures: 2,
                ..cfg()
            },
            4,
        )
        .unwrap();
        let k = Pick {
            endpoint: 3,
            panic: false,
        };
        assert_eq!(p.record(k, CallResult::GatewayFailure, 1), None);
        assert!(matches!(
            p.record(k, CallResult::GatewayFailure, 2),
            Some(PoolEvent::Ejected {
                reason: EjectReason::ConsecutiveGatewayFailures,
                ..
            })
        ));
    }

    #[test]
    fn success_rate_outliers_are_ejected_at_the_interval() {
        let mut p = Pool::<5>::new(
            PoolConfig {
                consecutive_failures: 0,
                consecutive_gateway_failures: 0,
                ..cfg()
            },
            5,
        )
        .unwrap();
        for i in 0..5u16 {
            for n in 0..100 {
                let bad = i == 4 && n % 2 == 0;
                let r = if bad {
                    CallResult::Failure
                } else {
                    CallResult::Success
                };
                let _ = p.record(
                    Pick {
                        endpoint: i,
                        panic: false,
                    },
                    r,
                    10,
                );
            }
        }
        assert_eq!(p.poll(9_999).len(), 0, "the interval has not ended");
        let ev = p.poll(10_000);
        assert_eq!(
            ev.as_slice(),
            &[PoolEvent::Ejected {
                endpoint: 4,
                reason: EjectReason::SuccessRate,
                until: 40_000
            }]
        );
        assert_eq!(
            p.stats(0).unwrap().calls,
            0,
            "the interval's counts restart"
        );
    }

    #[test]
    fn outliers_are_worst_first_with_ties_in_index_order() {
        // Factor 0: everything below the mean is an outlier, so more than
        // 20 of them (past the size where sort_unstable was an insertion
        // sort too).
        let mut p = Pool::<48>::new(
            PoolConfig {
                consecutive_failures: 0,
                consecutive_gateway_failures: 0,
                success_rate_request_volume: 10,
                success_rate_stdev_factor_milli: 0,
                ..cfg()
            },
            48,
        )
        .unwrap();
        for i in 0..48u16 {
            // Successes out of 10: 9 for the first 8, then 0..=7 repeating,
            // so rates tie in groups.
            let good = if i < 8 { 9 } else { (i * 5 + 3) % 8 };
            for n in 0..10 {
                let r = if n < good {
                    CallResult::Success
                } else {
                    CallResult::Failure
                };
                let _ = p.record(
                    Pick {
                        endpoint: i,
                        panic: false,
                    },
                    r,
                    1,
                );
            }
        }
        let out = p.success_rate_outliers(1);
        assert!(out.len() > 20, "{}", out.len());
        let rate = |i: usize| p.stats(i).map(|e| e.successes).unwrap();
        assert!(out
            .windows(2)
            .all(|w| (rate(w[0]), w[0]) < (rate(w[1]), w[1])));
    }

    #[test]
    fn failover_avoids_the_previous_endpoint_under_the_budget() {
        let mut p = Pool::<3>::new(cfg(), 3).unwrap();
        let mut budget = Budget::new(2, 100).unwrap();
        for _ in 0..20 {
            let k = p.pick_avoiding(0, Some(1));
            assert_ne!(k.endpoint, 1);
            p.release(k);
        }
        let k = p.failover(0, 2, &mut budget).unwrap();
        assert_ne!(k.endpoint, 2);
        p.release(k);
        // Most calls failing (gRPC's rule): retries stop, nothing picked.
        budget.record_failure();
        budget.record_failure();
        let picked = |p: &Pool<3>| (0..3).map(|i| p.stats(i).unwrap().picked).sum::<u64>();
        let before = picked(&p);
        assert!(p.failover(0, 2, &mut budget).is_err(), "the budget refuses");
        assert_eq!(picked(&p), before);
        // A one-endpoint pool fails over to the same endpoint, never ejects it.
        let mut one = Pool::<1>::new(
            PoolConfig {
                consecutive_failures: 1,
                ..cfg()
            },
            1,
        )
        .unwrap();
        assert_eq!(
            one.record(
                Pick {
                    endpoint: 0,
                    panic: false
                },
                CallResult::Failure,
                0
            ),
            None
        );
        assert_eq!(one.pick_avoiding(0, Some(0)).endpoint, 0);
    }

    #[test]
    fn bad_configs_name_the_field() {
        let bad = |c: PoolConfig, n: usize| {
            let e = Pool::<4>::new(c, n).unwrap_err();
            (e.field, e.problem)
        };
        assert_eq!(
            bad(
                PoolConfig {
                    interval: 0,
                    ..cfg()
                },
                2
            ),
            ("interval", Problem::Zero)
        );
        assert_eq!(
            bad(
                PoolConfig {
                    base_ejection_time: 0,
                    ..cfg()
                },
                2
            ),
            ("base_ejection_time", Problem::Zero)
        );
        assert_eq!(
            bad(
                PoolConfig {
                    max_ejection_time: 1,
                    ..cfg()
                },
                2
            ),
            ("max_ejection_time", Problem::Inconsistent)
        );
        assert_eq!(
            bad(
                PoolConfig {
                    max_ejection_percent: 101,
                    ..cfg()
                },
                2
            ),
            ("max_ejection_percent", Problem::OutOfRange)
        );
        assert_eq!(bad(cfg(), 0), ("endpoints", Problem::Zero));
        assert_eq!(bad(cfg(), 5), ("endpoints", Problem::OutOfRange));
    }
}
