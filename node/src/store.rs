//! `store` / `name` options: the plain config a policy hands to
//! `store._bind(kind, name, config)` (see `lib/store.js` and
//! `store/README.md`, section "Doors").
//!
//! The JS layer builds the native policy first (so the options are
//! validated by the core), then asks here for the same config in plain
//! form: the fields of `fusewire_store::config`, every duration turned from
//! this door's millisecond ticks into nanoseconds, so a Node worker and a
//! Python worker sharing one store agree on the numbers.

// The napi registration that uses these items is not compiled into the
// (empty) test build.
#![cfg_attr(test, allow(dead_code))]

use std::num::NonZeroU32;

use fusewire::TickUnit;
use fusewire_store::config::{Config, Kind, PlainValue, Value, Window};
use napi::Result;
use napi_derive::napi;

use crate::direct::{config_of, window_of, BreakerOptions};
use crate::ring::Ring;
use crate::ticks;
use fusewire::window::Counts;
use fusewire::Sliding;

/// Nanoseconds per tick of this door (milliseconds).
const NS_PER_TICK: u64 = 1_000_000;

/// One field of a plain config: `int` for a number, `word` for a choice,
/// neither for a rule that is off.
#[napi(object, use_nullable = true)]
pub struct PlainField {
    /// The field's name (`fusewire_store::config::fields`).
    pub field: String,
    /// A count or a duration in nanoseconds (`Infinity` for forever).
    pub int: Option<f64>,
    /// One of the field's words.
    pub word: Option<String>,
}

/// The config `fields` describe, checked against `kind`'s fields
/// (`Config::from_pairs`); an error is `(field, reason)`. What both stores
/// (`host.rs`, `redis.rs`) read the JS layer's plain config with.
pub(crate) fn config_of_fields(
    kind: Kind,
    fields: &[PlainField],
) -> std::result::Result<Config, (String, String)> {
    let pairs = fields.iter().map(|f| {
        (
            f.field.as_str(),
            match (&f.word, f.int) {
                (Some(w), _) => PlainValue::Word(w.as_str()),
                (None, Some(n)) if n == f64::INFINITY => PlainValue::Int(u64::MAX),
                (None, Some(n)) if n >= 0.0 && n.fract() == 0.0 => PlainValue::Int(n as u64),
                (None, Some(_)) => PlainValue::Word("not a non-negative integer"),
                (None, None) => PlainValue::Off,
            },
        )
    });
    Config::from_pairs(kind, pairs).map_err(|e| (e.field.to_string(), e.reason))
}

fn plain(config: Config) -> Vec<PlainField> {
    config
        .in_nanos(NS_PER_TICK)
        .values
        .into_iter()
        .map(|(field, v)| PlainField {
            field: field.into(),
            int: match v {
                Value::Int(n) if n > (1 << 53) => Some(f64::INFINITY),
                Value::Int(n) => Some(n as f64),
                _ => None,
            },
            word: match v {
                Value::Word(w) => Some(w.into()),
                _ => None,
            },
        })
        .collect()
}

/// A token bucket's plain config (arguments as `new TokenBucket` takes them).
#[napi]
pub fn plain_bucket(burst: u32, tokens: u32, period: f64) -> Vec<PlainField> {
    plain(Config::bucket(burst, tokens, ticks(period)))
}

/// A bulkhead's plain config (arguments as `new Bulkhead` takes them; the
/// lease defaults to the core's).
#[napi]
pub fn plain_bulkhead(
    limit: u32,
    reserve_critical: u32,
    reserve_normal: u32,
    lease: Option<f64>,
) -> Vec<PlainField> {
    let lease = lease.map(ticks).unwrap_or_else(|| {
        NonZeroU32::new(limit.max(1)).map_or(0, |l| {
            fusewire::Bulkhead::unreserved(l, TickUnit::MILLIS).lease()
        })
    });
    plain(Config::bulkhead(
        limit,
        reserve_critical,
        reserve_normal,
        lease,
    ))
}

/// A retry budget's plain config.
#[napi]
pub fn plain_budget(max_tokens: u32, token_ratio_milli: u32) -> Vec<PlainField> {
    plain(Config::budget(max_tokens, token_ratio_milli))
}

/// A core breaker's plain config (options as `coreBreaker` takes them,
/// already validated by it).
#[napi]
pub fn plain_breaker(options: BreakerOptions) -> Result<Vec<PlainField>> {
    let config = config_of(&options)?
        .map_err(|p| napi::Error::from_reason(format!("fusewire: {}", p.field)))?;
    if let Err(p) = window_of(&options) {
        return Err(napi::Error::from_reason(format!("fusewire: {}", p.field)));
    }
    let window = match options.span {
        Some(span) => Window::Time {
            duration: ticks(span),
            buckets: options
                .buckets
                .unwrap_or(10.0)
                .clamp(0.0, f64::from(u32::MAX)) as u32,
        },
        None => Window::Count {
            size: options
                .count
                .unwrap_or(100.0)
                .clamp(0.0, f64::from(u32::MAX)) as u32,
        },
    };
    Ok(plain(Config::breaker(&config, window)))
}

/// The plain config of an opossum-style `CircuitBreaker` in a store: the
/// core config its engine would use (`engine::config_of`), over its
/// window: a count window of `slidingWindowSize` calls when set, else its
/// rolling window (`span` ms in `buckets` buckets, as `windowShape` in
/// `lib/options.js` computed them from `rollingCountTimeout` and
/// `rollingCountBuckets`); with a half-open period that ends after
/// `half_open_max_dwell` ms (the lease of a probe whose process dies;
/// opossum's own breaker waits for its trial call however long).
#[napi]
pub fn plain_engine(
    rules: crate::engine::EngineRules,
    half_open_max_dwell: f64,
    span: Option<f64>,
    buckets: Option<u32>,
) -> Result<Vec<PlainField>> {
    let (config, window) = engine_config(&rules, half_open_max_dwell, span, buckets)?;
    Ok(plain(Config::breaker(&config, window)))
}

/// The breaker `plain_engine` describes, as this process's own core
/// breaker (ticks in ms): the stand-in of opossum's `CircuitBreaker` in a
/// `RedisStore` with `onError: 'local'` while Redis is away.
#[napi]
pub fn engine_breaker(
    rules: crate::engine::EngineRules,
    half_open_max_dwell: f64,
    span: Option<f64>,
    buckets: Option<u32>,
) -> Result<crate::direct::CoreBreaker> {
    let (config, window) = engine_config(&rules, half_open_max_dwell, span, buckets)?;
    let window = match window {
        Window::Count { size } => {
            fusewire::CountRing::over(vec![0; size as usize].into_boxed_slice()).map(Sliding::Count)
        }
        Window::Time { duration, buckets } => {
            Ring::new(duration, buckets as usize, Counts::ZERO).map(Sliding::Time)
        }
    };
    window
        .and_then(|w| fusewire::Breaker::with_window(config, w))
        .map(|inner| crate::direct::CoreBreaker { inner })
        .map_err(|e| napi::Error::from_reason(format!("fusewire: {e:?}")))
}

fn engine_config(
    rules: &crate::engine::EngineRules,
    half_open_max_dwell: f64,
    span: Option<f64>,
    buckets: Option<u32>,
) -> Result<(fusewire::BreakerConfig, Window)> {
    let window = match rules.sliding_window_size {
        Some(size) => Window::Count { size },
        None => Window::Time {
            duration: ticks(span.unwrap_or(10_000.0)),
            buckets: buckets.unwrap_or(10),
        },
    };
    let mut config = crate::engine::config_of(rules)?;
    config.half_open_max_dwell = ticks(half_open_max_dwell).max(1);
    Ok((config, window))
}
