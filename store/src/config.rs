//! The plain form of a policy's config that a store fingerprints.
//!
//! A door validates its options into the core's config, then turns it into
//! a [`Config`]: a kind and an ordered list of named values (integers in
//! nanosecond ticks, words for choices, `Off` for a rule that is off). The
//! Python door hands it to `store._bind(kind, name, config)` as a dict, the
//! Node door as an object; the host tier stores the values beside the
//! shared state and the fleet tier beside its Redis key, so two processes
//! that disagree on a config are told which option differs.
//!
//! Every duration is in **nanoseconds**, whatever the door's own unit, so a
//! Python worker and a Node worker on one host share one breaker.

use core::fmt;
use core::num::NonZeroU32;

use fusewire::{
    Backoff, BreakerConfig, Comparison, DwellExpiry, HalfOpenRule, Jitter, RateBasis, Ratio,
    Schedule,
};

/// Which policy a store entry holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum Kind {
    /// A circuit breaker.
    Breaker = 1,
    /// A token bucket.
    Bucket = 2,
    /// A bulkhead.
    Bulkhead = 3,
    /// A retry budget.
    Budget = 4,
}

impl Kind {
    /// Every kind, in the order of their numbers.
    pub const ALL: [Kind; 4] = [Kind::Breaker, Kind::Bucket, Kind::Bulkhead, Kind::Budget];

    /// The name the doors use: `"breaker"`, `"bucket"`, `"bulkhead"`, `"budget"`.
    pub const fn name(self) -> &'static str {
        match self {
            Kind::Breaker => "breaker",
            Kind::Bucket => "bucket",
            Kind::Bulkhead => "bulkhead",
            Kind::Budget => "budget",
        }
    }

    /// The kind of a name from [`Kind::name`].
    pub fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The kind stored under number `n`.
    pub fn from_u32(n: u32) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| *k as u32 == n)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One value of a plain config.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value {
    /// A count, or a duration in nanoseconds, or a flag (0 / 1).
    Int(u64),
    /// One of a fixed set of words (`"at_least"`, `"exponential"`, ...).
    Word(&'static str),
    /// The rule is off (Python `None`, JavaScript `null`).
    Off,
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Int(u64::MAX) => f.write_str("unbounded"),
            Value::Int(n) => write!(f, "{n}"),
            Value::Word(w) => write!(f, "{w:?}"),
            Value::Off => f.write_str("off"),
        }
    }
}

/// A policy's config in plain form: its kind and its named values, in a
/// fixed order per kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The policy kind.
    pub kind: Kind,
    /// `(field, value)` in the kind's fixed order (see [`fields`]).
    pub values: Vec<(&'static str, Value)>,
}

/// The fields of each kind, in order, and the words a `Word` field takes.
pub fn fields(kind: Kind) -> &'static [(&'static str, &'static [&'static str])] {
    const NONE: &[&str] = &[];
    match kind {
        Kind::Bucket => &[("burst", NONE), ("tokens", NONE), ("period", NONE)],
        Kind::Bulkhead => &[
            ("limit", NONE),
            ("reserve_critical", NONE),
            ("reserve_normal", NONE),
            ("lease", NONE),
        ],
        Kind::Budget => &[("max_tokens", NONE), ("token_ratio_milli", NONE)],
        Kind::Breaker => &[
            ("window", &["count", "time"]),
            ("window_size", NONE),
            ("window_duration", NONE),
            ("window_buckets", NONE),
            ("failure_rate_ppm", NONE),
            ("slow_call_rate_ppm", NONE),
            ("slow_call_duration", NONE),
            ("consecutive_failures", NONE),
            ("min_calls", NONE),
            ("comparison", &["at_least", "above"]),
            ("rate_basis", &["outcomes", "all_calls", "started"]),
            ("half_open_probes", NONE),
            ("half_open_rule", &["all_succeed", "rates"]),
            ("half_open_max_dwell", NONE),
            ("dwell_expiry", &["reopen", "close"]),
            ("open_backoff", &["constant", "linear", "exponential"]),
            ("open_backoff_base", NONE),
            ("open_backoff_step", NONE),
            ("open_backoff_factor_milli", NONE),
            ("open_backoff_cap", NONE),
            (
                "open_backoff_jitter",
                &["none", "full", "equal", "decorrelated", "proportional"],
            ),
            ("open_backoff_jitter_percent", NONE),
            ("reset_window_on_close", NONE),
            ("manual", NONE),
            ("seed", NONE),
        ],
    }
}

/// The fields that are durations (nanoseconds in the plain form).
pub const DURATIONS: [&str; 8] = [
    "period",
    "lease",
    "window_duration",
    "slow_call_duration",
    "half_open_max_dwell",
    "open_backoff_base",
    "open_backoff_step",
    "open_backoff_cap",
];

/// The most values any kind has (the breaker's), for fixed-size storage.
pub const MAX_FIELDS: usize = 25;

/// A breaker's window, as the door built it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// The last `size` calls.
    Count {
        /// Calls in the window.
        size: u32,
    },
    /// The calls of the last `duration` ns, in `buckets` slices.
    Time {
        /// Span in nanoseconds.
        duration: u64,
        /// Slices of the span.
        buckets: u32,
    },
}

/// Why a plain config could not be read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlainError {
    /// The field at fault (the core's name).
    pub field: &'static str,
    /// What is wrong with it.
    pub reason: String,
}

impl fmt::Display for PlainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "config field `{}`: {}", self.field, self.reason)
    }
}

impl std::error::Error for PlainError {}

const fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

fn opt(v: Option<u64>) -> Value {
    v.map_or(Value::Off, Value::Int)
}

impl Config {
    /// A token bucket: `tokens` every `period` ns, up to `burst`. The rate
    /// is kept in lowest terms (10 per second and 1 per 100 ms are one
    /// config), whatever unit the door counted in.
    pub fn bucket(burst: u32, tokens: u32, period: u64) -> Self {
        let g = gcd(u64::from(tokens), period).max(1);
        let (tokens, period) = (u64::from(tokens) / g, period / g);
        Self {
            kind: Kind::Bucket,
            values: vec![
                ("burst", Value::Int(burst.into())),
                ("tokens", Value::Int(tokens)),
                ("period", Value::Int(period)),
            ],
        }
    }

    /// A bulkhead (`lease` in ns).
    pub fn bulkhead(limit: u32, reserve_critical: u32, reserve_normal: u32, lease: u64) -> Self {
        Self {
            kind: Kind::Bulkhead,
            values: vec![
                ("limit", Value::Int(limit.into())),
                ("reserve_critical", Value::Int(reserve_critical.into())),
                ("reserve_normal", Value::Int(reserve_normal.into())),
                ("lease", Value::Int(lease)),
            ],
        }
    }

    /// A retry budget.
    pub fn budget(max_tokens: u32, token_ratio_milli: u32) -> Self {
        Self {
            kind: Kind::Budget,
            values: vec![
                ("max_tokens", Value::Int(max_tokens.into())),
                ("token_ratio_milli", Value::Int(token_ratio_milli.into())),
            ],
        }
    }

    /// A breaker whose config counts in nanoseconds.
    pub fn breaker(c: &BreakerConfig, window: Window) -> Self {
        let (w, size, duration, buckets) = match window {
            Window::Count { size } => ("count", Value::Int(size.into()), Value::Off, Value::Off),
            Window::Time { duration, buckets } => (
                "time",
                Value::Off,
                Value::Int(duration),
                Value::Int(buckets.into()),
            ),
        };
        let b = &c.open_backoff;
        let (kind, base, step, factor) = match b.schedule() {
            Schedule::Constant { delay } => ("constant", delay, 0, 1000),
            Schedule::Linear { base, step } => ("linear", base, step, 1000),
            Schedule::Exponential { base, factor_milli } => ("exponential", base, 0, factor_milli),
        };
        let (jitter, percent) = match b.jitter() {
            Jitter::None => ("none", 0),
            Jitter::Full => ("full", 0),
            Jitter::Equal => ("equal", 0),
            Jitter::Decorrelated => ("decorrelated", 0),
            Jitter::Proportional { percent } => ("proportional", percent),
        };
        let word = |w: &'static str| Value::Word(w);
        Self {
            kind: Kind::Breaker,
            values: vec![
                ("window", word(w)),
                ("window_size", size),
                ("window_duration", duration),
                ("window_buckets", buckets),
                (
                    "failure_rate_ppm",
                    opt(c.failure_rate.map(|r| r.ppm().into())),
                ),
                (
                    "slow_call_rate_ppm",
                    opt(c.slow_call_rate.map(|r| r.ppm().into())),
                ),
                ("slow_call_duration", Value::Int(c.slow_call_duration)),
                (
                    "consecutive_failures",
                    opt(c.consecutive_failures.map(u64::from)),
                ),
                ("min_calls", Value::Int(c.min_calls.into())),
                (
                    "comparison",
                    word(match c.comparison {
                        Comparison::AtLeast => "at_least",
                        Comparison::Above => "above",
                    }),
                ),
                (
                    "rate_basis",
                    word(match c.rate_basis {
                        RateBasis::Outcomes => "outcomes",
                        RateBasis::AllCalls => "all_calls",
                        RateBasis::Started => "started",
                    }),
                ),
                ("half_open_probes", Value::Int(c.half_open_probes.into())),
                (
                    "half_open_rule",
                    word(match c.half_open_rule {
                        HalfOpenRule::AllSucceed => "all_succeed",
                        HalfOpenRule::Rates => "rates",
                    }),
                ),
                ("half_open_max_dwell", Value::Int(c.half_open_max_dwell)),
                (
                    "dwell_expiry",
                    word(match c.dwell_expiry {
                        DwellExpiry::Reopen => "reopen",
                        DwellExpiry::Close => "close",
                    }),
                ),
                ("open_backoff", word(kind)),
                ("open_backoff_base", Value::Int(base)),
                ("open_backoff_step", Value::Int(step)),
                ("open_backoff_factor_milli", Value::Int(factor.into())),
                ("open_backoff_cap", Value::Int(b.cap())),
                ("open_backoff_jitter", word(jitter)),
                ("open_backoff_jitter_percent", Value::Int(percent.into())),
                (
                    "reset_window_on_close",
                    Value::Int(c.reset_window_on_close.into()),
                ),
                ("manual", Value::Int(c.manual.into())),
                ("seed", Value::Int(c.seed)),
            ],
        }
    }

    /// Reads a config a door handed over as `(field, value)` pairs in any
    /// order: every field of `kind` must be there, with a value of its
    /// shape; an unknown field is an error too (a misspelling would
    /// otherwise be fingerprinted away).
    pub fn from_pairs<'a>(
        kind: Kind,
        pairs: impl IntoIterator<Item = (&'a str, PlainValue<'a>)>,
    ) -> Result<Self, PlainError> {
        let spec = fields(kind);
        let mut got: Vec<Option<Value>> = vec![None; spec.len()];
        for (name, value) in pairs {
            let Some(i) = spec.iter().position(|(f, _)| *f == name) else {
                return Err(PlainError {
                    field: "config",
                    reason: format!("has a field `{name}` that a {kind} does not have"),
                });
            };
            let (field, words) = spec[i];
            got[i] = Some(match value {
                PlainValue::Int(n) => Value::Int(n),
                PlainValue::Off => Value::Off,
                PlainValue::Word(w) => match words.iter().find(|x| **x == w) {
                    Some(x) => Value::Word(x),
                    None => {
                        return Err(PlainError {
                            field,
                            reason: format!("unknown word {w:?}"),
                        })
                    }
                },
            });
        }
        let mut values = Vec::with_capacity(spec.len());
        for ((field, _), v) in spec.iter().zip(got) {
            match v {
                Some(v) => values.push((*field, v)),
                None => {
                    return Err(PlainError {
                        field,
                        reason: "is missing".into(),
                    })
                }
            }
        }
        Ok(Self { kind, values })
    }

    /// The same config from a door whose ticks are `ns_per_tick`
    /// nanoseconds (Node's milliseconds: 1 000 000): every duration is
    /// multiplied, saturating, so the plain form is always in nanoseconds.
    pub fn in_nanos(mut self, ns_per_tick: u64) -> Self {
        for (field, v) in &mut self.values {
            if let Value::Int(n) = v {
                if DURATIONS.contains(field) && *n != u64::MAX {
                    *n = n.saturating_mul(ns_per_tick);
                }
            }
        }
        if let (Kind::Bucket, Some(Value::Int(t)), Some(Value::Int(p))) =
            (self.kind, self.get("tokens"), self.get("period"))
        {
            let g = gcd(t, p).max(1);
            self.values[1].1 = Value::Int(t / g);
            self.values[2].1 = Value::Int(p / g);
        }
        self
    }

    /// The value of `field` (`None` when the kind has no such field).
    pub fn get(&self, field: &str) -> Option<Value> {
        self.values
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, v)| *v)
    }

    fn int(&self, field: &'static str) -> Result<u64, PlainError> {
        match self.get(field) {
            Some(Value::Int(n)) => Ok(n),
            _ => Err(PlainError {
                field,
                reason: "must be a non-negative integer".into(),
            }),
        }
    }

    fn int32(&self, field: &'static str) -> Result<u32, PlainError> {
        u32::try_from(self.int(field)?).map_err(|_| PlainError {
            field,
            reason: "must fit in 32 bits".into(),
        })
    }

    fn opt_int(&self, field: &'static str) -> Result<Option<u64>, PlainError> {
        match self.get(field) {
            Some(Value::Off) => Ok(None),
            _ => self.int(field).map(Some),
        }
    }

    fn word(&self, field: &'static str) -> Result<&'static str, PlainError> {
        match self.get(field) {
            Some(Value::Word(w)) => Ok(w),
            _ => Err(PlainError {
                field,
                reason: "must be a word".into(),
            }),
        }
    }

    /// A bucket's `(burst, tokens, period)`.
    pub fn as_bucket(&self) -> Result<(NonZeroU32, u32, u64), PlainError> {
        let burst = NonZeroU32::new(self.int32("burst")?).ok_or(PlainError {
            field: "burst",
            reason: "must not be zero".into(),
        })?;
        Ok((burst, self.int32("tokens")?, self.int("period")?))
    }

    /// A bulkhead's `(limit, reserve_critical, reserve_normal, lease)`.
    pub fn as_bulkhead(&self) -> Result<(NonZeroU32, u32, u32, u64), PlainError> {
        let limit = NonZeroU32::new(self.int32("limit")?).ok_or(PlainError {
            field: "limit",
            reason: "must not be zero".into(),
        })?;
        Ok((
            limit,
            self.int32("reserve_critical")?,
            self.int32("reserve_normal")?,
            self.int("lease")?,
        ))
    }

    /// A budget's `(max_tokens, token_ratio_milli)`.
    pub fn as_budget(&self) -> Result<(u32, u32), PlainError> {
        Ok((self.int32("max_tokens")?, self.int32("token_ratio_milli")?))
    }

    /// A breaker's core config and window.
    pub fn as_breaker(&self) -> Result<(BreakerConfig, Window), PlainError> {
        let window = match self.word("window")? {
            "count" => Window::Count {
                size: self.int32("window_size")?,
            },
            _ => Window::Time {
                duration: self.int("window_duration")?,
                buckets: self.int32("window_buckets")?,
            },
        };
        let ratio = |field: &'static str| -> Result<Option<Ratio>, PlainError> {
            Ok(match self.opt_int(field)? {
                None => None,
                Some(p) => Some(Ratio::from_ppm(u32::try_from(p).map_err(|_| {
                    PlainError {
                        field,
                        reason: "must fit in 32 bits".into(),
                    }
                })?)),
            })
        };
        let base = self.int("open_backoff_base")?;
        let schedule = match self.word("open_backoff")? {
            "constant" => Schedule::Constant { delay: base },
            "linear" => Schedule::Linear {
                base,
                step: self.int("open_backoff_step")?,
            },
            _ => Schedule::Exponential {
                base,
                factor_milli: self.int32("open_backoff_factor_milli")?,
            },
        };
        let jitter = match self.word("open_backoff_jitter")? {
            "none" => Jitter::None,
            "full" => Jitter::Full,
            "equal" => Jitter::Equal,
            "decorrelated" => Jitter::Decorrelated,
            _ => Jitter::Proportional {
                percent: u8::try_from(self.int("open_backoff_jitter_percent")?).map_err(|_| {
                    PlainError {
                        field: "open_backoff_jitter_percent",
                        reason: "must be 1 to 100".into(),
                    }
                })?,
            },
        };
        let open_backoff =
            Backoff::new(schedule, jitter, self.int("open_backoff_cap")?).map_err(|e| {
                PlainError {
                    field: "open_backoff",
                    reason: format!("{e}"),
                }
            })?;
        let consecutive = match self.opt_int("consecutive_failures")? {
            None => None,
            Some(n) => Some(u32::try_from(n).map_err(|_| PlainError {
                field: "consecutive_failures",
                reason: "must fit in 32 bits".into(),
            })?),
        };
        let config = BreakerConfig {
            failure_rate: ratio("failure_rate_ppm")?,
            slow_call_rate: ratio("slow_call_rate_ppm")?,
            slow_call_duration: self.int("slow_call_duration")?,
            consecutive_failures: consecutive,
            min_calls: self.int32("min_calls")?,
            comparison: match self.word("comparison")? {
                "at_least" => Comparison::AtLeast,
                _ => Comparison::Above,
            },
            rate_basis: match self.word("rate_basis")? {
                "outcomes" => RateBasis::Outcomes,
                "all_calls" => RateBasis::AllCalls,
                _ => RateBasis::Started,
            },
            half_open_probes: self.int32("half_open_probes")?,
            half_open_rule: match self.word("half_open_rule")? {
                "all_succeed" => HalfOpenRule::AllSucceed,
                _ => HalfOpenRule::Rates,
            },
            half_open_max_dwell: self.int("half_open_max_dwell")?,
            dwell_expiry: match self.word("dwell_expiry")? {
                "reopen" => DwellExpiry::Reopen,
                _ => DwellExpiry::Close,
            },
            open_backoff,
            reset_window_on_close: self.int("reset_window_on_close")? != 0,
            seed: self.int("seed")?,
            manual: self.int("manual")? != 0,
        };
        Ok((config, window))
    }

    /// The first field whose value differs from `other`'s (same kind
    /// assumed): `(field, mine, theirs)`. Compared as stored words, so an
    /// unbounded duration (`u64::MAX`) and "off" are one value.
    pub fn first_difference(&self, other: &Config) -> Option<(&'static str, Value, Value)> {
        let (a, b) = (self.encode(), other.encode());
        (0..self.values.len().min(other.values.len()))
            .find(|&i| a[i] != b[i])
            .map(|i| (self.values[i].0, self.values[i].1, other.values[i].1))
    }

    /// The values as fixed-size words for storage: an `Int` as itself, a
    /// `Word` as its index in the field's list, `Off` as `u64::MAX`.
    pub fn encode(&self) -> [u64; MAX_FIELDS] {
        let mut out = [0u64; MAX_FIELDS];
        let spec = fields(self.kind);
        for (i, (field, v)) in self.values.iter().enumerate() {
            out[i] = match v {
                Value::Int(n) => *n,
                Value::Off => u64::MAX,
                Value::Word(w) => spec
                    .iter()
                    .find(|(f, _)| f == field)
                    .and_then(|(_, ws)| ws.iter().position(|x| x == w))
                    .map_or(u64::MAX - 1, |p| p as u64),
            };
        }
        out
    }

    /// A config back from [`encode`](Self::encode)'s words.
    pub fn decode(kind: Kind, words: &[u64; MAX_FIELDS]) -> Self {
        let values = fields(kind)
            .iter()
            .zip(words)
            .map(|((field, ws), &n)| {
                let v = if !ws.is_empty() {
                    ws.get(n as usize).map_or(Value::Off, |w| Value::Word(w))
                } else if n == u64::MAX {
                    Value::Off
                } else {
                    Value::Int(n)
                };
                (*field, v)
            })
            .collect();
        Self { kind, values }
    }
}

/// Nanoseconds per tick of the Redis scripts' clock (`TIME` in
/// microseconds).
pub const REDIS_NS_PER_TICK: u64 = 1_000;

/// The largest integer a Redis script (Lua doubles) counts exactly, plus one.
const REDIS_BIG: u64 = 1 << 53;

/// The config as the Redis scripts keep it beside the state (`cfg`), the
/// one both doors send: `kind|v1|v2|...` in the kind's field order
/// ([`fields`]), durations in server ticks (µs, rounded up), a bucket's
/// rate as `tokens x 1000 / period_ns` in lowest terms, `max` for
/// `u64::MAX` (forever), `off` for a rule that is off, words as they are.
///
/// A figure at or above 2^53 ticks is refused, naming its field: a script
/// could not count it exactly.
///
/// ```
/// use fusewire_store::config::{redis_fingerprint, Config};
/// let c = Config::bucket(20, 1, 10_000_000); // 1 token per 10 ms
/// assert_eq!(redis_fingerprint(&c).unwrap(), "bucket|20|1|10000");
/// ```
pub fn redis_fingerprint(config: &Config) -> Result<String, PlainError> {
    let mut values = config.values.clone();
    if let (Kind::Bucket, Some(Value::Int(t)), Some(Value::Int(p))) =
        (config.kind, config.get("tokens"), config.get("period"))
    {
        let t = t.saturating_mul(REDIS_NS_PER_TICK);
        let g = gcd(t, p).max(1);
        values[1].1 = Value::Int(t / g);
        values[2].1 = Value::Int(p / g);
    }
    let mut out = String::from(config.kind.name());
    for (field, v) in values {
        out.push('|');
        match v {
            Value::Off => out.push_str("off"),
            Value::Word(w) => out.push_str(w),
            Value::Int(u64::MAX) => out.push_str("max"),
            Value::Int(n) => {
                // a bucket's period is part of its rate, not a duration here
                let n = if field != "period" && DURATIONS.contains(&field) {
                    n.div_ceil(REDIS_NS_PER_TICK)
                } else {
                    n
                };
                if n >= REDIS_BIG {
                    return Err(PlainError {
                        field,
                        reason: format!(
                            "{n} is above 2**53 server ticks, more than a Redis script \
                             counts exactly"
                        ),
                    });
                }
                out.push_str(&n.to_string());
            }
        }
    }
    Ok(out)
}

/// A value as a door reads it from its language (before it is checked
/// against the kind's fields).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlainValue<'a> {
    /// A non-negative integer (or a bool as 0 / 1).
    Int(u64),
    /// A string.
    Word(&'a str),
    /// `None` / `null`.
    Off,
}

#[cfg(test)]
mod tests {
    use super::*;
    use fusewire::TickUnit;

    #[test]
    fn every_kind_round_trips_through_pairs_and_words() {
        let mut b = BreakerConfig::new(TickUnit::NANOS);
        b.consecutive_failures = Some(5);
        b.open_backoff = Backoff::new(
            Schedule::Exponential {
                base: 1_000,
                factor_milli: 2000,
            },
            Jitter::Proportional { percent: 20 },
            1_000_000,
        )
        .unwrap();
        let configs = [
            Config::bucket(10, 5, 1_000_000_000),
            Config::bulkhead(8, 1, 2, 60_000_000_000),
            Config::budget(10, 100),
            Config::breaker(&b, Window::Count { size: 100 }),
            Config::breaker(
                &b,
                Window::Time {
                    duration: 10_000_000_000,
                    buckets: 10,
                },
            ),
        ];
        for c in configs {
            assert_eq!(c.values.len(), fields(c.kind).len(), "{:?}", c.kind);
            assert!(c.values.len() <= MAX_FIELDS);
            let pairs = c.values.iter().map(|(f, v)| {
                (
                    *f,
                    match v {
                        Value::Int(n) => PlainValue::Int(*n),
                        Value::Word(w) => PlainValue::Word(w),
                        Value::Off => PlainValue::Off,
                    },
                )
            });
            let back = Config::from_pairs(c.kind, pairs.rev()).unwrap();
            assert_eq!(back, c);
            assert_eq!(Config::decode(c.kind, &c.encode()), c);
        }
        let (cfg, w) = Config::breaker(&b, Window::Count { size: 7 })
            .as_breaker()
            .unwrap();
        assert_eq!(cfg, b);
        assert_eq!(w, Window::Count { size: 7 });
    }

    /// The fixed vector both doors' tests check too (py
    /// `test_redis_store.py`, node `redis-store.test.js`).
    fn fingerprint_vector() -> Vec<(Config, &'static str)> {
        let mut b = BreakerConfig::new(TickUnit::NANOS);
        b.consecutive_failures = Some(5);
        b.open_backoff = Backoff::new(
            Schedule::Exponential {
                base: 1_500_000_000,
                factor_milli: 2000,
            },
            Jitter::None,
            60_000_000_000,
        )
        .unwrap();
        vec![
            (Config::bucket(20, 1, 10_000_000), "bucket|20|1|10000"),
            (
                Config::bucket(100, 100, 1_000_000_000),
                "bucket|100|1|10000",
            ),
            (
                Config::bulkhead(8, 1, 0, 60_000_000_100),
                "bulkhead|8|1|0|60000001",
            ),
            (Config::budget(10, 100), "budget|10|100"),
            (
                Config::breaker(&b, Window::Count { size: 100 }),
                "breaker|count|100|off|off|500000|off|0|5|10|at_least|outcomes|1|all_succeed|0|\
                 reopen|exponential|1500000|0|2000|60000000|none|0|1|0|0",
            ),
        ]
    }

    #[test]
    fn the_redis_fingerprint_is_the_fixed_vector() {
        for (c, want) in fingerprint_vector() {
            assert_eq!(redis_fingerprint(&c).unwrap(), want);
        }
    }

    #[test]
    fn a_figure_a_script_cannot_count_is_refused_by_name() {
        let c = Config::bulkhead(8, 0, 0, (1 << 53) * 1_000);
        let e = redis_fingerprint(&c).unwrap_err();
        assert_eq!(e.field, "lease");
        assert!(e.reason.contains("2**53"), "{}", e.reason);
        assert!(redis_fingerprint(&Config::bulkhead(8, 0, 0, u64::MAX)).is_ok());
    }

    #[test]
    fn a_rate_is_one_config_whatever_the_unit() {
        // Node counts in ms, Python in ns: 4 000 000 per second either way.
        let node = Config::bucket(10, 4_000_000, 1_000).in_nanos(1_000_000);
        let python = Config::bucket(10, 4_000_000, 1_000_000_000);
        assert_eq!(node, python);
        assert_eq!(python.get("tokens"), Some(Value::Int(1)));
        assert_eq!(python.get("period"), Some(Value::Int(250)));
    }

    #[test]
    fn the_first_difference_is_named() {
        let a = Config::bucket(10, 5, 1_000);
        let b = Config::bucket(10, 7, 1_000);
        assert_eq!(
            a.first_difference(&b),
            Some(("tokens", Value::Int(1), Value::Int(7)))
        );
        assert_eq!(a.first_difference(&a), None);
        // Stored, an unbounded duration and "off" are one word: a breaker
        // with no backoff cap equals itself read back from a region.
        let mut c = BreakerConfig::new(TickUnit::NANOS);
        c.open_backoff =
            Backoff::new(Schedule::Constant { delay: 5 }, Jitter::None, u64::MAX).unwrap();
        let plain = Config::breaker(&c, Window::Count { size: 10 });
        let back = Config::decode(Kind::Breaker, &plain.encode());
        assert_eq!(plain.first_difference(&back), None);
    }

    #[test]
    fn a_missing_unknown_or_misspelled_field_is_refused() {
        let e = Config::from_pairs(Kind::Bucket, [("burst", PlainValue::Int(1))]).unwrap_err();
        assert_eq!(e.field, "tokens");
        let e = Config::from_pairs(Kind::Bucket, [("brust", PlainValue::Int(1))]).unwrap_err();
        assert!(e.reason.contains("brust"), "{e}");
    }
}
