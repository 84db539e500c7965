//! The runners for the seed's last two patterns: chaos and the endpoint pool.

use fusewire::{
    CallResult, Chaos, ChaosConfig, ChaosOutcome, ConfigError, EjectReason, Injection, Pick, Pool,
    PoolConfig, PoolEvent, Problem, Ratio, TickUnit,
};
use serde_json::{json, Map, Value};
use std::collections::HashMap;

use super::{config_error, get_str, get_u32, get_u64, num, opt_u64, Obj, Res, Run};

/// A percentage from the vectors as the core's millionths; out of range
/// or NaN is that field's config error, as every door reports it.
fn percent(o: &Obj, key: &'static str) -> Res<Result<Ratio, ConfigError>> {
    let Some(v) = o.get(key) else {
        return Ok(Ok(Ratio::ZERO));
    };
    let p = v.as_f64().ok_or_else(|| format!("{key}: not a number"))?;
    Ok(Ratio::from_percent(p).ok_or(ConfigError::new(
        key,
        if p.is_nan() {
            Problem::NotANumber
        } else {
            Problem::OutOfRange
        },
    )))
}

macro_rules! or_config_error {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(e) => return Ok(Run::ConfigError(config_error(e))),
        }
    };
}

fn injection(i: Injection) -> Value {
    let outcome = match i.outcome {
        ChaosOutcome::Pass => "pass",
        ChaosOutcome::Fault => "fault",
        ChaosOutcome::Substitute => "substitute",
    };
    json!({"delay": num(i.delay), "outcome": outcome, "behavior": i.behavior})
}

/// `chaos`: config {fault_rate, latency_rate, latency_min, latency_max,
/// substitute_rate, behavior_rate (percentages), seed, enabled}; ops
/// `inject`, `decide` {index}, `set_enabled` {on} -> the injection
/// (`delay`, `outcome` pass|fault|substitute, `behavior`) and `calls`.
pub(super) fn chaos(o: &Obj, steps: &[&Obj]) -> Res<Run> {
    let config = ChaosConfig {
        fault_rate: or_config_error!(percent(o, "fault_rate")?),
        latency_rate: or_config_error!(percent(o, "latency_rate")?),
        latency_min: opt_u64(o, "latency_min")?.unwrap_or(0),
        latency_max: opt_u64(o, "latency_max")?.unwrap_or(0),
        substitute_rate: or_config_error!(percent(o, "substitute_rate")?),
        behavior_rate: or_config_error!(percent(o, "behavior_rate")?),
        seed: opt_u64(o, "seed")?.unwrap_or(0),
        enabled: o.get("enabled").and_then(Value::as_bool).unwrap_or(false),
    };
    let mut c = or_config_error!(Chaos::new(config));
    let mut out = Vec::new();
    for s in steps {
        let mut r = match get_str(s, "op")? {
            "inject" => injection(c.inject()),
            "decide" => injection(c.decide(get_u64(s, "index")?)),
            "set_enabled" => {
                c.set_enabled(
                    s.get("on")
                        .and_then(Value::as_bool)
                        .ok_or("on: not a bool")?,
                );
                json!({})
            }
            op => return Err(format!("unknown chaos op {op:?}")),
        };
        if let Value::Object(m) = &mut r {
            m.insert("calls".into(), num(c.calls()));
        }
        out.push(r);
    }
    Ok(Run::Steps(out))
}

/// The largest pool the runners build (the C door's too).
const POOL_MAX: usize = 16;

fn pool_config(o: &Obj) -> Res<PoolConfig> {
    let mut c = PoolConfig::new(TickUnit::MILLIS);
    let u32s: [(&str, &mut u32); 6] = [
        ("consecutive_failures", &mut c.consecutive_failures),
        (
            "consecutive_gateway_failures",
            &mut c.consecutive_gateway_failures,
        ),
        ("max_ejection_percent", &mut c.max_ejection_percent),
        (
            "success_rate_minimum_hosts",
            &mut c.success_rate_minimum_hosts,
        ),
        (
            "success_rate_request_volume",
            &mut c.success_rate_request_volume,
        ),
        (
            "success_rate_stdev_factor_milli",
            &mut c.success_rate_stdev_factor_milli,
        ),
    ];
    for (key, field) in u32s {
        if o.contains_key(key) {
            *field = get_u32(o, key)?;
        }
    }
    let u64s: [(&str, &mut u64); 5] = [
        ("interval", &mut c.interval),
        ("base_ejection_time", &mut c.base_ejection_time),
        ("max_ejection_time", &mut c.max_ejection_time),
        ("ejection_jitter", &mut c.ejection_jitter),
        ("seed", &mut c.seed),
    ];
    for (key, field) in u64s {
        if o.contains_key(key) {
            *field = get_u64(o, key)?;
        }
    }
    Ok(c)
}

fn event(e: PoolEvent) -> Value {
    match e {
        PoolEvent::Ejected {
            endpoint,
            reason,
            until,
        } => {
            let reason = match reason {
                EjectReason::ConsecutiveFailures => "consecutive_failures",
                EjectReason::ConsecutiveGatewayFailures => "consecutive_gateway_failures",
                EjectReason::SuccessRate => "success_rate",
            };
            json!({"ejected": endpoint, "reason": reason, "until": num(until)})
        }
        PoolEvent::Returned { endpoint } => json!({"returned": endpoint}),
    }
}

/// `pool`: config = `PoolConfig` fields (milliseconds defaults) plus
/// `endpoints` (1..=16); ops with `now`: `pick` {avoid optional, as} ->
/// `endpoint`, `panic`; `record` {pick (a name) or endpoint (an index),
/// result success|failure|gateway_failure}
/// -> `event` (null or {ejected, reason, until}); `release` {pick};
/// `poll` -> `events`; `stats` {endpoint} -> the endpoint's counters.
pub(super) fn pool(o: &Obj, steps: &[&Obj]) -> Res<Run> {
    let endpoints = usize::try_from(get_u64(o, "endpoints")?).map_err(|_| "endpoints")?;
    let mut p = or_config_error!(Pool::<POOL_MAX>::new(pool_config(o)?, endpoints));
    let mut picks: HashMap<String, Pick> = HashMap::new();
    let mut out = Vec::new();
    for s in steps {
        let now = get_u64(s, "now")?;
        let pick = |picks: &HashMap<String, Pick>| -> Res<Pick> {
            if let Some(i) = opt_u64(s, "endpoint")? {
                // The host names the endpoint itself (it routed the call).
                let endpoint = u16::try_from(i).map_err(|_| "endpoint above u16")?;
                return Ok(Pick {
                    endpoint,
                    panic: false,
                });
            }
            let name = get_str(s, "pick")?;
            picks
                .get(name)
                .copied()
                .ok_or_else(|| format!("no pick named {name:?}"))
        };
        let r = match get_str(s, "op")? {
            "pick" => {
                let avoid = opt_u64(s, "avoid")?.map(|v| v as u16);
                let k = p.pick_avoiding(now, avoid);
                if let Some(name) = s.get("as").and_then(Value::as_str) {
                    picks.insert(name.to_owned(), k);
                }
                json!({"endpoint": k.endpoint, "panic": k.panic})
            }
            "record" => {
                let result = match get_str(s, "result")? {
                    "success" => CallResult::Success,
                    "failure" => CallResult::Failure,
                    "gateway_failure" => CallResult::GatewayFailure,
                    other => return Err(format!("result {other:?}")),
                };
                let ev = p.record(pick(&picks)?, result, now);
                json!({"event": ev.map_or(Value::Null, event)})
            }
            "release" => {
                p.release(pick(&picks)?);
                json!({})
            }
            "poll" => json!({"events": p.poll(now).into_iter().map(event).collect::<Vec<_>>()}),
            "stats" => {
                let i = get_u64(s, "endpoint")? as usize;
                let st = p.stats(i).ok_or("stats: no such endpoint")?;
                let mut m = Map::new();
                m.insert("outstanding".into(), json!(st.outstanding));
                m.insert(
                    "consecutive_failures".into(),
                    json!(st.consecutive_failures),
                );
                m.insert(
                    "consecutive_gateway_failures".into(),
                    json!(st.consecutive_gateway_failures),
                );
                m.insert("successes".into(), json!(st.successes));
                m.insert("calls".into(), json!(st.calls));
                m.insert("ejections".into(), json!(st.ejections));
                m.insert("ejected_until".into(), num(st.ejected_until));
                m.insert("picked".into(), num(st.picked));
                m.insert("ejected".into(), json!(p.is_ejected(i, now)));
                Value::Object(m)
            }
            op => return Err(format!("unknown pool op {op:?}")),
        };
        out.push(r);
    }
    Ok(Run::Steps(out))
}
