//! The core's chaos policy and endpoint pool, for `lib/chaos.js` and
//! `lib/pool.js`. Every decision is the core's; this file only translates
//! numbers: an injection and a pick cross as one packed number (no object
//! per call), events and stats as small objects (rare or on demand).

use fusewire::{
    CallResult, Chaos, ChaosConfig, ChaosOutcome, EjectReason, Field, Injection, Pick, Pool,
    PoolConfig, PoolEvent, TickUnit,
};
use napi::bindgen_prelude::{Either, External, Float64ArraySlice};
use napi_derive::napi;

use crate::direct::{problem_of, ratio_of, ConfigProblem, CoreBudget};
use crate::ticks;

/// The most endpoints a Node pool holds (the core's pool has a capacity
/// fixed at compile time).
pub const POOL_CAPACITY: u32 = 64;

/// A seed from JavaScript: two 32-bit halves (a JS number holds 53 bits, a
/// BigInt seed from another door's run may use all 64).
fn seed_of(hi: u32, lo: u32) -> u64 {
    (u64::from(hi) << 32) | u64::from(lo)
}

/// The chaos options, type-checked by `lib/chaos.js`: rates in percent,
/// latencies in ms.
#[napi(object)]
pub struct ChaosOptions {
    /// Percentage of calls that fail with the injected error.
    pub fault_rate: Option<f64>,
    /// Percentage of calls delayed.
    pub latency_rate: Option<f64>,
    /// Shortest injected delay (ms).
    pub latency_min: Option<f64>,
    /// Longest injected delay (ms).
    pub latency_max: Option<f64>,
    /// Percentage of calls answered with the substitute.
    pub substitute_rate: Option<f64>,
    /// Percentage of calls before which the behaviour hook runs.
    pub behavior_rate: Option<f64>,
    /// High 32 bits of the seed.
    pub seed_hi: u32,
    /// Low 32 bits of the seed.
    pub seed_lo: u32,
    /// Whether injection starts on.
    pub enabled: bool,
}

fn chaos_config(o: &ChaosOptions) -> Result<ChaosConfig, ConfigProblem> {
    let rate = |v: Option<f64>, f: Field| ratio_of(v.unwrap_or(0.0), f);
    let config = (|| {
        Ok(ChaosConfig {
            fault_rate: rate(o.fault_rate, Field::FaultRate)?,
            latency_rate: rate(o.latency_rate, Field::LatencyRate)?,
            latency_min: o.latency_min.map_or(0, ticks),
            latency_max: o.latency_max.map_or(0, ticks),
            substitute_rate: rate(o.substitute_rate, Field::SubstituteRate)?,
            behavior_rate: rate(o.behavior_rate, Field::BehaviorRate)?,
            seed: seed_of(o.seed_hi, o.seed_lo),
            enabled: o.enabled,
        })
    })();
    config.map_err(|e| problem_of(e, ""))
}

/// One injection as one number: bits 0..2 the outcome (0 pass, 1 fault,
/// 2 substitute), bit 2 the behaviour, the delay (ms) from bit 3 (exact
/// below 2^50 ms).
fn packed(i: Injection) -> f64 {
    let outcome = match i.outcome {
        ChaosOutcome::Pass => 0,
        ChaosOutcome::Fault => 1,
        ChaosOutcome::Substitute => 2,
    };
    (i.delay as f64) * 8.0 + f64::from(outcome + if i.behavior { 4 } else { 0 })
}

/// The core's [`Chaos`] (JavaScript is single-threaded: one owner). The JS
/// layer counts the calls (the core's `inject()` is `decide(calls++)` while
/// on) and draws decisions in batches with [`CoreChaos::fill`].
#[napi]
pub struct CoreChaos {
    inner: Chaos,
}

/// Builds a chaos policy, or says which field the core rejected.
#[napi]
pub fn core_chaos(options: ChaosOptions) -> Either<CoreChaos, ConfigProblem> {
    match chaos_config(&options).and_then(|c| Chaos::new(c).map_err(|e| problem_of(e, ""))) {
        Ok(inner) => Either::A(CoreChaos { inner }),
        Err(p) => Either::B(p),
    }
}

#[napi]
impl CoreChaos {
    /// Call `index`'s injection, packed, if switched on.
    #[napi]
    pub fn decide(&self, index: f64) -> f64 {
        packed(self.inner.decide(ticks(index)))
    }

    /// Fills `out` with the packed injections of calls `start`,
    /// `start + 1`, ... (the core's `decide(index)`, one per element): the
    /// JS layer draws a batch per crossing and counts the calls itself, as
    /// `inject()` would (only while on). Returns how many were filled.
    #[napi]
    pub fn fill(&self, mut out: Float64ArraySlice<'_>, start: f64) -> u32 {
        let start = ticks(start);
        let mut n = 0u32;
        for (i, slot) in crate::engine::slice(&mut out).iter_mut().enumerate() {
            *slot = packed(self.inner.decide(start.wrapping_add(i as u64)));
            n += 1;
        }
        n
    }

    /// Replaces the rates and seed at run time (the core's `set_config`;
    /// the switch is kept as it is): null, or the field the core rejected
    /// (then nothing changed).
    #[napi]
    pub fn set_config(&mut self, options: ChaosOptions) -> Option<ConfigProblem> {
        let enabled = self.inner.enabled();
        let config = match chaos_config(&options) {
            Ok(c) => ChaosConfig { enabled, ..c },
            Err(p) => return Some(p),
        };
        self.inner
            .set_config(config)
            .err()
            .map(|e| problem_of(e, ""))
    }

    /// Switches injection on or off.
    #[napi]
    pub fn set_enabled(&mut self, on: bool) {
        self.inner.set_enabled(on);
    }

    /// Whether injection is on.
    #[napi(getter)]
    pub fn enabled(&self) -> bool {
        self.inner.enabled()
    }
}

/// The pool options, type-checked by `lib/pool.js`; absent fields take
/// the core's defaults (Envoy's, in ms).
#[napi(object)]
pub struct PoolOptions {
    /// How many endpoints (1..=64).
    pub endpoints: u32,
    /// Failures in a row that eject (0: off).
    pub consecutive_failures: Option<u32>,
    /// Gateway failures in a row that eject (0: off).
    pub consecutive_gateway_failures: Option<u32>,
    /// Success-rate check period (ms).
    pub interval: Option<f64>,
    /// First ejection's length (ms).
    pub base_ejection_time: Option<f64>,
    /// Longest ejection (ms).
    pub max_ejection_time: Option<f64>,
    /// Up to this many ms added to each ejection.
    pub ejection_jitter: Option<f64>,
    /// Most endpoints ejected at once, in percent of the pool.
    pub max_ejection_percent: Option<u32>,
    /// Endpoints with enough calls needed to compare success rates (0: off).
    pub success_rate_minimum_hosts: Option<u32>,
    /// Calls an endpoint needs in an interval to be judged.
    pub success_rate_request_volume: Option<u32>,
    /// Standard deviations below the mean that eject, in thousandths.
    pub success_rate_stdev_factor_milli: Option<u32>,
    /// High 32 bits of the seed.
    pub seed_hi: u32,
    /// Low 32 bits of the seed.
    pub seed_lo: u32,
}

fn pool_config(o: &PoolOptions) -> PoolConfig {
    let d = PoolConfig::new(TickUnit::MILLIS);
    PoolConfig {
        consecutive_failures: o.consecutive_failures.unwrap_or(d.consecutive_failures),
        consecutive_gateway_failures: o
            .consecutive_gateway_failures
            .unwrap_or(d.consecutive_gateway_failures),
        interval: o.interval.map_or(d.interval, ticks),
        base_ejection_time: o.base_ejection_time.map_or(d.base_ejection_time, ticks),
        max_ejection_time: o.max_ejection_time.map_or(d.max_ejection_time, ticks),
        ejection_jitter: o.ejection_jitter.map_or(d.ejection_jitter, ticks),
        max_ejection_percent: o.max_ejection_percent.unwrap_or(d.max_ejection_percent),
        success_rate_minimum_hosts: o
            .success_rate_minimum_hosts
            .unwrap_or(d.success_rate_minimum_hosts),
        success_rate_request_volume: o
            .success_rate_request_volume
            .unwrap_or(d.success_rate_request_volume),
        success_rate_stdev_factor_milli: o
            .success_rate_stdev_factor_milli
            .unwrap_or(d.success_rate_stdev_factor_milli),
        seed: seed_of(o.seed_hi, o.seed_lo),
    }
}

/// A change in an endpoint's health.
#[napi(object)]
pub struct PoolChange {
    /// `eject` or `return`.
    pub kind: String,
    /// The endpoint's index.
    pub endpoint: u32,
    /// Why it was ejected: `consecutiveFailures`,
    /// `consecutiveGatewayFailures` or `successRate` (ejections only).
    pub reason: Option<String>,
    /// The time (ms) its ejection ends (ejections only).
    pub until: Option<f64>,
}

fn change_of(e: PoolEvent) -> PoolChange {
    match e {
        PoolEvent::Ejected {
            endpoint,
            reason,
            until,
        } => PoolChange {
            kind: "eject".into(),
            endpoint: u32::from(endpoint),
            reason: Some(
                match reason {
                    EjectReason::ConsecutiveFailures => "consecutiveFailures",
                    EjectReason::ConsecutiveGatewayFailures => "consecutiveGatewayFailures",
                    EjectReason::SuccessRate => "successRate",
                }
                .into(),
            ),
            until: Some(until as f64),
        },
        PoolEvent::Returned { endpoint } => PoolChange {
            kind: "return".into(),
            endpoint: u32::from(endpoint),
            reason: None,
            until: None,
        },
    }
}

/// One endpoint's state (the core's `EndpointStats`).
#[napi(object)]
pub struct EndpointState {
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
    /// The ejection multiplier.
    pub ejections: u32,
    /// When its ejection ends (ms); 0 when not ejected.
    pub ejected_until: f64,
    /// Calls picked since the pool was built.
    pub picked: f64,
    /// Whether it is ejected at the `now` asked about.
    pub ejected: bool,
}

/// The core's [`Pool`] of up to [`POOL_CAPACITY`] endpoints, held by
/// JavaScript as an external value and passed to the `pool_*` functions: a
/// free function on an external costs about half a class method call here
/// (no wrapped-object lookup), and the pool's pick and record are on every
/// call's path.
pub type CorePool = External<Pool<{ POOL_CAPACITY as usize }>>;

/// Builds a pool, or says which field the core rejected.
#[napi]
pub fn core_pool(options: PoolOptions) -> Either<CorePool, ConfigProblem> {
    match Pool::new(pool_config(&options), options.endpoints as usize) {
        Ok(inner) => Either::A(External::new(inner)),
        Err(e) => Either::B(problem_of(e, "")),
    }
}

/// A pick as one number: the endpoint, plus 65 536 when no endpoint was
/// healthy (panic routing).
fn pick_out(p: Pick) -> f64 {
    f64::from(p.endpoint) + if p.panic { 65_536.0 } else { 0.0 }
}

fn pick_in(packed: f64) -> Pick {
    let v = ticks(packed);
    Pick {
        endpoint: (v & 0xffff) as u16,
        panic: v & 0x1_0000 != 0,
    }
}

fn result_of(code: u32) -> CallResult {
    match code {
        0 => CallResult::Success,
        2 => CallResult::GatewayFailure,
        _ => CallResult::Failure,
    }
}

/// Picks an endpoint at `now`, other than `avoid` when it is one (a retry
/// failing over); the pick packed (see `pick_out`).
#[napi]
pub fn pool_pick(pool: &mut CorePool, now: f64, avoid: Option<u32>) -> f64 {
    let avoid = avoid.and_then(|a| u16::try_from(a).ok());
    pick_out(pool.pick_avoiding(ticks(now), avoid))
}

/// A retry's endpoint under `budget`: the pick packed, or -1 when the
/// budget refuses the retry (counted as throttled).
#[napi]
pub fn pool_failover(pool: &mut CorePool, now: f64, previous: u32, budget: &mut CoreBudget) -> f64 {
    let previous = u16::try_from(previous).unwrap_or(u16::MAX);
    match pool.failover(ticks(now), previous, budget.core_mut()) {
        Ok(p) => pick_out(p),
        Err(_) => -1.0,
    }
}

/// Settles a pick: `result` 0 success, 1 failure, 2 gateway failure; the
/// ejection it caused, if any.
#[napi]
pub fn pool_record(pool: &mut CorePool, pick: f64, result: u32, now: f64) -> Option<PoolChange> {
    pool.record(pick_in(pick), result_of(result), ticks(now))
        .map(change_of)
}

/// Hands back a pick whose call never ran.
#[napi]
pub fn pool_release(pool: &mut CorePool, pick: f64) {
    pool.release(pick_in(pick));
}

/// What time alone changed by `now` (success-rate ejections, returns).
#[napi]
pub fn pool_poll(pool: &mut CorePool, now: f64) -> Vec<PoolChange> {
    pool.poll(ticks(now)).into_iter().map(change_of).collect()
}

/// Endpoint `i`'s state at `now`.
#[napi]
pub fn pool_stats(pool: &CorePool, i: u32, now: f64) -> Option<EndpointState> {
    let i = i as usize;
    pool.stats(i).map(|s| EndpointState {
        outstanding: s.outstanding,
        consecutive_failures: s.consecutive_failures,
        consecutive_gateway_failures: s.consecutive_gateway_failures,
        successes: s.successes,
        calls: s.calls,
        ejections: s.ejections,
        ejected_until: s.ejected_until as f64,
        picked: s.picked as f64,
        ejected: pool.is_ejected(i, ticks(now)),
    })
}

/// The most endpoints ejected at once.
#[napi]
pub fn pool_max_ejected(pool: &CorePool) -> u32 {
    pool.max_ejected() as u32
}

/// The pool's fixed capacity, for the JS layer's RangeError.
#[napi]
pub fn pool_capacity() -> u32 {
    POOL_CAPACITY
}
