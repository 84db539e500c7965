//! The Rust runner of the conformance vectors (format: `tests/README.md`).
//!
//! ```text
//! fusewire-vectors [--bless] [--lines DIR] [--store-configs] [FILE.json ...]
//! ```
//!
//! Without flags it runs every scenario of `tests/vectors/*.json` on the core
//! and compares each step's result with its `expect`, exactly. `--bless`
//! writes the core's results into the files instead (review the diff!).
//! `--lines DIR` also writes each file as the flat line format the C runner
//! reads (`tests/c/README` in `tests/README.md`). `--store-configs` prints
//! each breaker scenario's config in the stores' plain form (`store.rs`).

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use fusewire::{
    Backoff, Breaker, BreakerConfig, Bucket, Budget, Bulkhead, Comparison, ConfigError,
    CountWindow, Decision, DwellExpiry, GiveUpReason, HalfOpenRule, Jitter, Outcome, Permit,
    Priority, Problem, Rate, RateBasis, Ratio, Reason, Refused, ReleaseError, Retry, RetryPolicy,
    Rng, Schedule, Slot, State, TickUnit, TickWidener, TimeWindow, Transition, Window,
};
use serde_json::{json, Map, Value};

mod lines;
mod mesh;
mod store;

type Obj = Map<String, Value>;
type Res<T> = Result<T, String>;

/// What a scenario produced: a config error, or one result per step.
enum Run {
    ConfigError(Value),
    Steps(Vec<Value>),
}

fn main() -> ExitCode {
    let mut bless = false;
    let mut lines_dir: Option<PathBuf> = None;
    let mut store_configs = false;
    let mut files = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--bless" => bless = true,
            "--lines" => lines_dir = args.next().map(PathBuf::from),
            "--store-configs" => store_configs = true,
            "-h" | "--help" => {
                println!("usage: fusewire-vectors [--bless] [--lines DIR] [FILE.json ...]");
                return ExitCode::SUCCESS;
            }
            _ => files.push(PathBuf::from(a)),
        }
    }
    if files.is_empty() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("vectors");
        let mut found: Vec<PathBuf> = std::fs::read_dir(&dir)
            .expect("tests/vectors")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        found.sort();
        files = found;
    }
    if store_configs {
        return match store::configs(&files) {
            Ok(v) => {
                println!("{v}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("{e}");
                ExitCode::FAILURE
            }
        };
    }
    let (mut scenarios, mut steps, mut failures) = (0usize, 0usize, 0usize);
    for file in &files {
        match run_file(file, bless, lines_dir.as_deref()) {
            Ok((s, n, f)) => {
                scenarios += s;
                steps += n;
                failures += f;
            }
            Err(e) => {
                eprintln!("{}: {e}", file.display());
                failures += 1;
            }
        }
    }
    let verb = if bless { "blessed" } else { "checked" };
    println!(
        "rust: {verb} {scenarios} scenarios, {steps} steps in {} files; {failures} failed; skipped: none",
        files.len()
    );
    if failures == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn run_file(path: &Path, bless: bool, lines_dir: Option<&Path>) -> Res<(usize, usize, usize)> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let mut doc: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    let component = doc["component"].as_str().ok_or("no component")?.to_owned();
    let scenarios = doc["scenarios"].as_array_mut().ok_or("no scenarios")?;
    let (mut nsteps, mut failures) = (0, 0);
    let count = scenarios.len();
    for sc in scenarios.iter_mut() {
        let name = sc["name"].as_str().unwrap_or("?").to_owned();
        let config = sc["config"].as_object().cloned().unwrap_or_default();
        let steps: Vec<Value> = sc["steps"].as_array().cloned().unwrap_or_default();
        nsteps += steps.len();
        let run = match run_scenario(&component, &config, &steps) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("{}: {name}: {e}", path.display());
                failures += 1;
                continue;
            }
        };
        let sc = sc.as_object_mut().ok_or("scenario is not an object")?;
        if bless {
            sc.remove("config_error");
            match run {
                Run::ConfigError(e) => {
                    sc.insert("config_error".into(), e);
                    // Keep key order: config, config_error, steps.
                    if let Some(steps) = sc.remove("steps") {
                        sc.insert("steps".into(), steps);
                    }
                }
                Run::Steps(results) => {
                    let steps = sc["steps"].as_array_mut().ok_or("no steps")?;
                    for (step, got) in steps.iter_mut().zip(results) {
                        step.as_object_mut()
                            .ok_or("step is not an object")?
                            .insert("expect".into(), got);
                    }
                }
            }
            continue;
        }
        match run {
            Run::ConfigError(e) => {
                if sc.get("config_error") != Some(&e) {
                    eprintln!(
                        "{}: {name}: config error {e}, expected {:?}",
                        path.display(),
                        sc.get("config_error")
                    );
                    failures += 1;
                }
            }
            Run::Steps(results) => {
                if let Some(want) = sc.get("config_error") {
                    eprintln!(
                        "{}: {name}: config accepted, expected {want}",
                        path.display()
                    );
                    failures += 1;
                }
                for (i, (step, got)) in steps.iter().zip(results).enumerate() {
                    if step.get("expect") != Some(&got) {
                        eprintln!(
                            "{}: {name}: step {i} {}\n  expected {}\n  got      {got}",
                            path.display(),
                            step["op"],
                            step.get("expect").unwrap_or(&Value::Null)
                        );
                        failures += 1;
                        break;
                    }
                }
            }
        }
    }
    if bless {
        std::fs::write(path, format_doc(&doc)).map_err(|e| e.to_string())?;
    }
    if let Some(dir) = lines_dir {
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("vectors");
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        std::fs::write(dir.join(format!("{stem}.txt")), lines::flatten(&doc)?)
            .map_err(|e| e.to_string())?;
    }
    Ok((count, nsteps, failures))
}

/// Pretty at the top, one line per config and per step: diffs stay readable.
pub fn format_doc(doc: &Value) -> String {
    let mut out = String::from("{\n");
    let top = doc.as_object().expect("object");
    for (i, (k, v)) in top.iter().enumerate() {
        let comma = if i + 1 < top.len() { "," } else { "" };
        if k == "scenarios" {
            out += "  \"scenarios\": [\n";
            let scs = v.as_array().expect("array");
            for (j, sc) in scs.iter().enumerate() {
                out += "    {\n";
                let fields = sc.as_object().expect("object");
                for (m, (fk, fv)) in fields.iter().enumerate() {
                    let fcomma = if m + 1 < fields.len() { "," } else { "" };
                    if fk == "steps" {
                        out += "      \"steps\": [\n";
                        let steps = fv.as_array().expect("array");
                        for (n, st) in steps.iter().enumerate() {
                            let scomma = if n + 1 < steps.len() { "," } else { "" };
                            out += &format!("        {st}{scomma}\n");
                        }
                        out += &format!("      ]{fcomma}\n");
                    } else {
                        out += &format!("      {}: {fv}{fcomma}\n", Value::from(fk.as_str()));
                    }
                }
                let scomma = if j + 1 < scs.len() { "," } else { "" };
                out += &format!("    }}{scomma}\n");
            }
            out += &format!("  ]{comma}\n");
        } else {
            out += &format!("  {}: {v}{comma}\n", Value::from(k.as_str()));
        }
    }
    out += "}\n";
    out
}

// ---------------------------------------------------------------- values

/// A `u64` as JSON: a number up to 2^53 (exact in every language), else a
/// decimal string.
fn num(v: u64) -> Value {
    if v <= 1 << 53 {
        json!(v)
    } else {
        Value::String(v.to_string())
    }
}

fn as_u64(v: &Value, what: &str) -> Res<u64> {
    match v {
        Value::Number(n) => n
            .as_u64()
            .ok_or_else(|| format!("{what}: {n} is not a u64")),
        Value::String(s) => s.parse().map_err(|_| format!("{what}: {s:?} is not a u64")),
        _ => Err(format!("{what}: missing or not a number")),
    }
}

fn get_u64(o: &Obj, key: &str) -> Res<u64> {
    as_u64(o.get(key).unwrap_or(&Value::Null), key)
}

fn opt_u64(o: &Obj, key: &str) -> Res<Option<u64>> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => as_u64(v, key).map(Some),
    }
}

fn get_u32(o: &Obj, key: &str) -> Res<u32> {
    u32::try_from(get_u64(o, key)?).map_err(|_| format!("{key}: above u32"))
}

fn get_str<'a>(o: &'a Obj, key: &str) -> Res<&'a str> {
    o.get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("{key}: missing string"))
}

/// A step's `now`: its `tick32` (a raw wrapping `u32` tick) widened
/// through the scenario's one `TickWidener`, else its `now`, else
/// `default` (components whose steps may leave time out).
fn step_now(s: &Obj, time: &mut TickWidener, default: Option<u64>) -> Res<u64> {
    if let Some(raw) = s.get("tick32") {
        let raw = u32::try_from(as_u64(raw, "tick32")?).map_err(|_| "tick32: above u32")?;
        return Ok(time.widen(raw));
    }
    match (s.get("now"), default) {
        (None, Some(d)) => Ok(d),
        _ => get_u64(s, "now"),
    }
}

fn problem(p: Problem) -> &'static str {
    match p {
        Problem::Zero => "zero",
        Problem::OutOfRange => "out_of_range",
        Problem::NotANumber => "not_a_number",
        Problem::Inconsistent => "inconsistent",
        Problem::NeverTrips => "never_trips",
        Problem::ExceedsWindow => "exceeds_window",
        Problem::Required => "required",
        _ => "unknown",
    }
}

fn config_error(e: ConfigError) -> Value {
    json!({"field": e.field, "problem": problem(e.problem)})
}

fn state(s: State) -> &'static str {
    match s {
        State::Closed => "closed",
        State::Open => "open",
        State::HalfOpen => "half_open",
        State::ForcedOpen => "forced_open",
        State::Disabled => "disabled",
    }
}

fn reason(r: Reason) -> &'static str {
    match r {
        Reason::FailureRate => "failure_rate",
        Reason::SlowCallRate => "slow_call_rate",
        Reason::ConsecutiveFailures => "consecutive_failures",
        Reason::OpenElapsed => "open_elapsed",
        Reason::ProbesPassed => "probes_passed",
        Reason::ProbesFailed => "probes_failed",
        Reason::DwellExpired => "dwell_expired",
        Reason::Host => "host",
    }
}

fn transition(t: Option<Transition>) -> Value {
    match t {
        None => Value::Null,
        Some(t) => json!({"from": state(t.from), "to": state(t.to), "reason": reason(t.reason)}),
    }
}

// ---------------------------------------------------------------- scenarios

fn run_scenario(component: &str, config: &Obj, steps: &[Value]) -> Res<Run> {
    let steps: Vec<&Obj> = steps
        .iter()
        .map(|s| {
            s.as_object()
                .ok_or_else(|| "a step is not an object".to_owned())
        })
        .collect::<Res<_>>()?;
    match component {
        "breaker" => breaker(config, &steps),
        "backoff" => backoff(config, &steps),
        "retry" => retry(config, &steps),
        "budget" => budget(config, &steps),
        "bucket" => bucket(config, &steps),
        "bulkhead" => bulkhead(config, &steps),
        "chaos" => mesh::chaos(config, &steps),
        "pool" => mesh::pool(config, &steps),
        other => Err(format!("unknown component {other:?}")),
    }
}

/// `{"schedule": "constant"|"linear"|"exponential", "delay"|"base", "step",
/// "factor_milli", "cap", "jitter": "none"|"full"|"equal"|"decorrelated"|"proportional", "percent"}`
fn backoff_of(o: &Obj) -> Res<Result<Backoff, ConfigError>> {
    let schedule = match get_str(o, "schedule")? {
        "constant" => Schedule::Constant {
            delay: get_u64(o, "delay")?,
        },
        "linear" => Schedule::Linear {
            base: get_u64(o, "base")?,
            step: get_u64(o, "step")?,
        },
        "exponential" => Schedule::Exponential {
            base: get_u64(o, "base")?,
            factor_milli: get_u32(o, "factor_milli")?,
        },
        s => return Err(format!("unknown schedule {s:?}")),
    };
    let jitter = match o.get("jitter").and_then(Value::as_str).unwrap_or("none") {
        "none" => Jitter::None,
        "full" => Jitter::Full,
        "equal" => Jitter::Equal,
        "decorrelated" => Jitter::Decorrelated,
        "proportional" => Jitter::Proportional {
            percent: u8::try_from(get_u64(o, "percent")?).map_err(|_| "percent above u8")?,
        },
        j => return Err(format!("unknown jitter {j:?}")),
    };
    Ok(Backoff::new(schedule, jitter, get_u64(o, "cap")?))
}

macro_rules! bail_config {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(e) => return Ok(Run::ConfigError(config_error(e))),
        }
    };
}

fn breaker_config(o: &Obj) -> Res<Result<BreakerConfig, ConfigError>> {
    let mut c = BreakerConfig::new(fusewire::TickUnit::MILLIS);
    // Rates are percentages in the vectors, as users write them; the door
    // converts them to the core's millionths and names its own field.
    let rate = |key: &'static str| -> Res<Result<Option<Option<Ratio>>, ConfigError>> {
        let pct = match o.get(key) {
            None => return Ok(Ok(None)),
            Some(Value::Null) => return Ok(Ok(Some(None))),
            Some(Value::String(s)) if s == "nan" => f64::NAN,
            Some(v) => v.as_f64().ok_or_else(|| format!("{key}: not a number"))?,
        };
        Ok(match Ratio::from_percent(pct) {
            Some(r) => Ok(Some(Some(r))),
            None if pct.is_nan() => Err(ConfigError::new(key, Problem::NotANumber)),
            None => Err(ConfigError::new(key, Problem::OutOfRange)),
        })
    };
    match rate("failure_rate")? {
        Ok(Some(v)) => c.failure_rate = v,
        Ok(None) => {}
        Err(e) => return Ok(Err(e)),
    }
    match rate("slow_call_rate")? {
        Ok(Some(v)) => c.slow_call_rate = v,
        Ok(None) => {}
        Err(e) => return Ok(Err(e)),
    }
    if let Some(v) = o.get("manual") {
        c.manual = v.as_bool().ok_or("manual: not a bool")?;
    }
    if o.contains_key("slow_call_duration") {
        c.slow_call_duration = get_u64(o, "slow_call_duration")?;
    }
    if o.contains_key("consecutive_failures") {
        c.consecutive_failures = opt_u64(o, "consecutive_failures")?
            .map(|v| u32::try_from(v).map_err(|_| "consecutive_failures above u32"))
            .transpose()?;
    }
    if o.contains_key("min_calls") {
        c.min_calls = get_u32(o, "min_calls")?;
    }
    if let Some(v) = o.get("comparison").and_then(Value::as_str) {
        c.comparison = match v {
            "at_least" => Comparison::AtLeast,
            "above" => Comparison::Above,
            _ => return Err(format!("comparison {v:?}")),
        };
    }
    if let Some(v) = o.get("rate_basis").and_then(Value::as_str) {
        c.rate_basis = match v {
            "outcomes" => RateBasis::Outcomes,
            "all_calls" => RateBasis::AllCalls,
            "started" => RateBasis::Started,
            _ => return Err(format!("rate_basis {v:?}")),
        };
    }
    if o.contains_key("half_open_probes") {
        c.half_open_probes = get_u32(o, "half_open_probes")?;
    }
    if let Some(v) = o.get("half_open_rule").and_then(Value::as_str) {
        c.half_open_rule = match v {
            "all_succeed" => HalfOpenRule::AllSucceed,
            "rates" => HalfOpenRule::Rates,
            _ => return Err(format!("half_open_rule {v:?}")),
        };
    }
    if o.contains_key("half_open_max_dwell") {
        c.half_open_max_dwell = get_u64(o, "half_open_max_dwell")?;
    }
    if let Some(v) = o.get("dwell_expiry").and_then(Value::as_str) {
        c.dwell_expiry = match v {
            "reopen" => DwellExpiry::Reopen,
            "close" => DwellExpiry::Close,
            _ => return Err(format!("dwell_expiry {v:?}")),
        };
    }
    if let Some(b) = o.get("open_backoff") {
        let b = b.as_object().ok_or("open_backoff: not an object")?;
        c.open_backoff = match backoff_of(b)? {
            Ok(b) => b,
            Err(e) => {
                // Name the field as nested in the breaker config.
                let field = match e.field {
                    "schedule.delay" => "open_backoff.schedule.delay",
                    "schedule.base" => "open_backoff.schedule.base",
                    "schedule.factor_milli" => "open_backoff.schedule.factor_milli",
                    "cap" => "open_backoff.cap",
                    "jitter.percent" => "open_backoff.jitter.percent",
                    other => other,
                };
                return Ok(Err(ConfigError::new(field, e.problem)));
            }
        };
    }
    if let Some(v) = o.get("reset_window_on_close") {
        c.reset_window_on_close = v.as_bool().ok_or("reset_window_on_close: not a bool")?;
    }
    if o.contains_key("seed") {
        c.seed = get_u64(o, "seed")?;
    }
    Ok(c.validate().map(|_| c))
}

/// Count window sizes the runner is built with (the C door's is 16).
macro_rules! count_sizes {
    ($n:expr, $cfg:expr, $steps:expr, [$($size:literal),*]) => {
        match $n {
            $($size => run_breaker($cfg, CountWindow::<$size>::new(), $steps),)*
            other => Err(format!("count window of {other} not built into the runner")),
        }
    };
}

fn breaker(o: &Obj, steps: &[&Obj]) -> Res<Run> {
    let config = bail_config!(breaker_config(o)?);
    let window = o.get("window").cloned().unwrap_or(json!({"count": 16}));
    let window = window.as_object().ok_or("window: not an object")?;
    if let Some(n) = window.get("count") {
        let n = as_u64(n, "window.count")?;
        return count_sizes!(n, config, steps, [1, 2, 3, 4, 5, 8, 10, 16, 20, 32, 100]);
    }
    let time = window
        .get("time")
        .and_then(Value::as_object)
        .ok_or("window: expected {\"count\": N} or {\"time\": {\"span\", \"buckets\"}}")?;
    let buckets = usize::try_from(get_u64(time, "buckets")?).map_err(|_| "buckets")?;
    let w = bail_config!(TimeWindow::<64, 0>::new(get_u64(time, "span")?, buckets));
    run_breaker(config, w, steps)
}

fn outcome(s: &str) -> Res<Outcome> {
    Ok(match s {
        "success" => Outcome::Success,
        "failure" => Outcome::Failure,
        "timeout" => Outcome::Timeout,
        "ignored" => Outcome::Ignored,
        _ => return Err(format!("outcome {s:?}")),
    })
}

fn run_breaker<W: Window>(config: BreakerConfig, window: W, steps: &[&Obj]) -> Res<Run> {
    let mut b = bail_config!(Breaker::with_window(config, window));
    let mut permits: HashMap<String, u64> = HashMap::new();
    let mut time = TickWidener::new();
    let mut out = Vec::new();
    for s in steps {
        let now = step_now(s, &mut time, None)?;
        let op = get_str(s, "op")?;
        let permit = |permits: &HashMap<String, u64>| -> Res<Permit> {
            if let Some(raw) = s.get("permit_raw") {
                return Ok(Permit::from_raw(as_u64(raw, "permit_raw")?));
            }
            let name = get_str(s, "permit")?;
            permits
                .get(name)
                .map(|&r| Permit::from_raw(r))
                .ok_or_else(|| format!("no permit named {name:?}"))
        };
        let mut r = Map::new();
        match op {
            "acquire" => match b.try_acquire(now) {
                Ok(p) => {
                    r.insert("admitted".into(), json!(true));
                    r.insert("probe".into(), json!(p.is_probe()));
                    r.insert("transition".into(), transition(p.transition));
                    // Every door keeps permits as integers, unnamed ones too.
                    let raw = b.permit_into_raw(p);
                    if let Some(name) = s.get("as").and_then(Value::as_str) {
                        permits.insert(name.to_owned(), raw);
                    }
                }
                Err(rej) => {
                    r.insert("admitted".into(), json!(false));
                    r.insert("retry_after".into(), num(rej.retry_after));
                    r.insert("transition".into(), transition(rej.transition));
                }
            },
            "record" | "record_untripped" => {
                let p = permit(&permits)?;
                let o = outcome(get_str(s, "outcome")?)?;
                let d = opt_u64(s, "duration")?.unwrap_or(0);
                let moved = if op == "record" {
                    b.record(p, o, d, now)
                } else {
                    b.record_untripped(p, o, d, now)
                };
                r.insert("transition".into(), transition(moved));
            }
            "release" => {
                let p = permit(&permits)?;
                r.insert("transition".into(), transition(b.release(p, now)));
            }
            "poll" => {
                r.insert("transition".into(), transition(b.poll(now)));
            }
            "trip" => {
                r.insert("transition".into(), transition(b.trip(now)));
            }
            "close" => {
                r.insert("transition".into(), transition(b.close(now)));
            }
            "force_open" => {
                r.insert("transition".into(), transition(b.force_open(now)));
            }
            "disable" => {
                r.insert("transition".into(), transition(b.disable(now)));
            }
            "reset" => {
                r.insert("transition".into(), transition(b.reset(now)));
            }
            "snapshot" => {
                let s = b.snapshot(now);
                let c = s.counts;
                r.insert("generation".into(), json!(s.generation));
                r.insert(
                    "counts".into(),
                    json!({
                        "successes": c.successes, "failures": c.failures, "timeouts": c.timeouts,
                        "slow": c.slow, "ignored": c.ignored, "rejected": c.rejected,
                        "admitted": c.admitted
                    }),
                );
                r.insert("refused_permits".into(), json!(s.refused_permits));
                r.insert("permits_out".into(), json!(s.permits_out));
                r.insert("consecutive_failures".into(), json!(s.consecutive_failures));
                r.insert("probes_in_flight".into(), json!(s.probes_in_flight));
                r.insert("open_until".into(), num(s.open_until));
                r.insert("reopens".into(), json!(s.reopens));
                r.insert("clock_regressions".into(), json!(s.clock_regressions));
                r.insert("since".into(), num(s.since));
            }
            _ => return Err(format!("unknown breaker op {op:?}")),
        }
        r.insert("state".into(), json!(state(b.state())));
        out.push(Value::Object(r));
    }
    Ok(Run::Steps(out))
}

fn backoff(o: &Obj, steps: &[&Obj]) -> Res<Run> {
    let b = bail_config!(backoff_of(o)?);
    let mut rng = Rng::new(opt_u64(o, "seed")?.unwrap_or(0));
    let mut out = Vec::new();
    for s in steps {
        let n = get_u32(s, "n")?;
        out.push(match get_str(s, "op")? {
            "raw" => json!({"value": num(b.raw(n))}),
            "delay" => {
                let prev = opt_u64(s, "prev")?.unwrap_or(0);
                json!({"delay": num(b.delay(n, prev, &mut rng))})
            }
            op => return Err(format!("unknown backoff op {op:?}")),
        });
    }
    Ok(Run::Steps(out))
}

fn give_up_reason(r: GiveUpReason) -> &'static str {
    match r {
        GiveUpReason::MaxAttempts => "max_attempts",
        GiveUpReason::Deadline => "deadline",
        GiveUpReason::WaitTooLong => "wait_too_long",
        GiveUpReason::Budget => "budget",
    }
}

fn retry(o: &Obj, steps: &[&Obj]) -> Res<Run> {
    let bo = o
        .get("backoff")
        .and_then(Value::as_object)
        .ok_or("backoff: missing")?;
    let b = bail_config!(backoff_of(bo)?);
    let policy = bail_config!(RetryPolicy::new(
        b,
        get_u32(o, "max_attempts")?,
        opt_u64(o, "max_elapsed")?,
        opt_u64(o, "seed")?.unwrap_or(0),
    ));
    let mut budget = match o.get("budget") {
        None | Some(Value::Null) => None,
        Some(v) => {
            let v = v.as_object().ok_or("budget: not an object")?;
            Some(bail_config!(Budget::new(
                get_u32(v, "max_tokens")?,
                get_u32(v, "token_ratio_milli")?
            )))
        }
    };
    let mut r = Retry::new(policy);
    let mut time = TickWidener::new();
    let mut out = Vec::new();
    for s in steps {
        let now = step_now(s, &mut time, None)?;
        let mut v = Map::new();
        match get_str(s, "op")? {
            "start" => r.start(now),
            "next" => {
                let hint = opt_u64(s, "server_retry_after")?;
                let decision = match budget.as_mut() {
                    Some(b) => r.next_with_budget(now, hint, b),
                    None => r.next(now, hint),
                };
                match decision {
                    Decision::RetryAfter(d) => {
                        v.insert("decision".into(), json!("retry_after"));
                        v.insert("delay".into(), num(d));
                    }
                    Decision::GiveUp(why) => {
                        v.insert("decision".into(), json!("give_up"));
                        v.insert("reason".into(), json!(give_up_reason(why)));
                    }
                }
            }
            "success" => {
                let b = budget
                    .as_mut()
                    .ok_or("success: the scenario has no budget")?;
                b.record_success();
            }
            op => return Err(format!("unknown retry op {op:?}")),
        };
        v.insert("attempts".into(), json!(r.attempts()));
        if let Some(b) = &budget {
            v.insert("tokens_milli".into(), num(b.tokens_milli()));
            v.insert("throttled".into(), num(b.throttled()));
        }
        out.push(Value::Object(v));
    }
    Ok(Run::Steps(out))
}

fn budget(o: &Obj, steps: &[&Obj]) -> Res<Run> {
    let mut b = bail_config!(Budget::new(
        get_u32(o, "max_tokens")?,
        get_u32(o, "token_ratio_milli")?
    ));
    let mut out = Vec::new();
    for s in steps {
        let mut r = Map::new();
        match get_str(s, "op")? {
            "success" => b.record_success(),
            "failure" => b.record_failure(),
            "try_retry" => {
                r.insert("ok".into(), json!(b.try_retry().is_ok()));
            }
            "can_retry" => {}
            op => return Err(format!("unknown budget op {op:?}")),
        }
        r.insert("can_retry".into(), json!(b.can_retry()));
        r.insert("tokens_milli".into(), num(b.tokens_milli()));
        r.insert("throttled".into(), num(b.throttled()));
        out.push(Value::Object(r));
    }
    Ok(Run::Steps(out))
}

fn bucket(o: &Obj, steps: &[&Obj]) -> Res<Run> {
    let burst = NonZeroU32::new(get_u32(o, "burst")?);
    let rate = bail_config!(Rate::new(get_u32(o, "tokens")?, get_u64(o, "period")?));
    let Some(burst) = burst else {
        return Ok(Run::ConfigError(
            json!({"field": "burst", "problem": "zero"}),
        ));
    };
    let mut b = Bucket::new(burst, rate);
    let mut time = TickWidener::new();
    let mut out = Vec::new();
    let refused = |r: &mut Obj, e: Refused| match e {
        Refused::Denied(d) => {
            r.insert("result".into(), json!("denied"));
            r.insert("retry_after".into(), num(d.retry_after));
        }
        Refused::ExceedsBurst { burst } => {
            r.insert("result".into(), json!("exceeds_burst"));
            r.insert("burst".into(), json!(burst));
        }
    };
    for s in steps {
        let now = step_now(s, &mut time, None)?;
        let mut r = Map::new();
        match get_str(s, "op")? {
            "acquire" => match b.try_acquire(get_u32(s, "n")?, now) {
                Ok(()) => {
                    r.insert("result".into(), json!("granted"));
                }
                Err(e) => refused(&mut r, e),
            },
            "acquire_one" => match b.try_acquire_one(now) {
                Ok(()) => {
                    r.insert("result".into(), json!("granted"));
                }
                Err(d) => refused(&mut r, Refused::Denied(d)),
            },
            "refund" => b.refund(get_u32(s, "n")?, now),
            "set_rate" => {
                if let Err(e) = b.set_rate(get_u32(s, "tokens")?, get_u64(s, "period")?, now) {
                    r.insert("error".into(), config_error(e));
                }
            }
            "available" => {}
            op => return Err(format!("unknown bucket op {op:?}")),
        }
        r.insert("available".into(), json!(b.available(now)));
        out.push(Value::Object(r));
    }
    Ok(Run::Steps(out))
}

fn priority(s: &str) -> Res<Priority> {
    Ok(match s {
        "critical" => Priority::Critical,
        "normal" => Priority::Normal,
        "sheddable" => Priority::Sheddable,
        _ => return Err(format!("priority {s:?}")),
    })
}

fn bulkhead(o: &Obj, steps: &[&Obj]) -> Res<Run> {
    let Some(limit) = NonZeroU32::new(get_u32(o, "limit")?) else {
        return Ok(Run::ConfigError(
            json!({"field": "limit", "problem": "zero"}),
        ));
    };
    let rc = opt_u64(o, "reserve_critical")?.unwrap_or(0);
    let rn = opt_u64(o, "reserve_normal")?.unwrap_or(0);
    let (rc, rn) = (
        u32::try_from(rc).map_err(|_| "reserve_critical above u32")?,
        u32::try_from(rn).map_err(|_| "reserve_normal above u32")?,
    );
    let mut b = bail_config!(Bulkhead::new(limit, rc, rn, TickUnit::MILLIS));
    if let Some(lease) = opt_u64(o, "lease")? {
        b = bail_config!(b.with_lease(lease));
    }
    let mut slots: HashMap<String, u64> = HashMap::new();
    let mut time = TickWidener::new();
    let mut out = Vec::new();
    for s in steps {
        let now = step_now(s, &mut time, Some(0))?;
        let mut r = Map::new();
        match get_str(s, "op")? {
            "acquire" => {
                let got = b.try_acquire(priority(get_str(s, "priority")?)?, now);
                r.insert("admitted".into(), json!(got.is_ok()));
                if let Ok(slot) = got {
                    // Bindings carry slots as plain numbers: keep the raw value.
                    let raw = slot.into_raw();
                    if let Some(name) = s.get("as").and_then(Value::as_str) {
                        slots.insert(name.to_owned(), raw);
                    }
                }
            }
            "release" => {
                let raw = match s.get("slot_raw") {
                    Some(v) => as_u64(v, "slot_raw")?,
                    None => {
                        let name = get_str(s, "slot")?;
                        *slots
                            .get(name)
                            .ok_or_else(|| format!("no slot named {name:?}"))?
                    }
                };
                let got = b.release(Slot::from_raw(raw), now);
                r.insert("released".into(), json!(got.is_ok()));
                if let Err(e) = got {
                    let why = match e {
                        ReleaseError::NotHeld => "not_held",
                        ReleaseError::Expired => "expired",
                        _ => "unknown",
                    };
                    r.insert("refused".into(), json!(why));
                }
            }
            "expire" => {
                r.insert("freed".into(), json!(b.expire(now)));
            }
            op => return Err(format!("unknown bulkhead op {op:?}")),
        }
        r.insert("in_use".into(), json!(b.in_use()));
        r.insert("available".into(), json!(b.available()));
        r.insert(
            "available_for".into(),
            json!([
                b.available_for(Priority::Critical),
                b.available_for(Priority::Normal),
                b.available_for(Priority::Sheddable)
            ]),
        );
        r.insert("extra_releases".into(), num(b.extra_releases()));
        r.insert("expired_releases".into(), num(b.expired_releases()));
        r.insert("reclaimed".into(), num(b.reclaimed()));
        out.push(Value::Object(r));
    }
    Ok(Run::Steps(out))
}
