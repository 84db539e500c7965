//! The fleet tier's scripts for `RedisStore` (`lib/redis.js`): the Lua
//! lives once, in `store/redis/`, and reaches JavaScript from here.

// The napi registration that uses these items is not compiled into the
// (empty) test build.
#![cfg_attr(test, allow(dead_code))]

use fusewire_store::config::{redis_fingerprint as redis_fingerprint_of, Kind};
use napi::{Error, Result, Status};
use napi_derive::napi;

use crate::store::PlainField;

/// One policy kind's Redis script.
#[napi(object)]
pub struct RedisScript {
    /// `breaker`, `bucket`, `bulkhead` or `budget`.
    pub kind: String,
    /// The whole Lua script (prelude included).
    pub lua: String,
}

/// Every Redis script by policy kind (`fusewire_store::redis::SCRIPTS`).
#[napi]
pub fn redis_scripts() -> Vec<RedisScript> {
    fusewire_store::redis::SCRIPTS
        .iter()
        .map(|(kind, lua)| RedisScript {
            kind: (*kind).into(),
            lua: (*lua).into(),
        })
        .collect()
}

/// The config as the Redis scripts keep it beside the state
/// (`fusewire_store::config::redis_fingerprint`, the string Python's
/// `RedisStore` sends too), from the plain config's fields as
/// `lib/redis.js` has them (nanoseconds; `Infinity` for forever). A bad
/// field or a figure a script cannot count exactly is an `InvalidArg`
/// error whose message is `config|<field>|<reason>`.
#[napi]
pub fn redis_fingerprint(kind: String, fields: Vec<PlainField>) -> Result<String> {
    let config_error = |field: &str, reason: &str| {
        Error::new(Status::InvalidArg, format!("config|{field}|{reason}"))
    };
    let kind = Kind::from_name(&kind)
        .ok_or_else(|| config_error("kind", &format!("unknown kind {kind:?}")))?;
    let config = crate::store::config_of_fields(kind, &fields)
        .map_err(|(field, reason)| config_error(&field, &reason))?;
    redis_fingerprint_of(&config).map_err(|e| config_error(e.field, &e.reason))
}

/// One step of the core's seeded generator ([`fusewire::Rng`]) from its
/// state in two 32-bit halves (a JS number holds 53 bits): `[drawHi,
/// drawLo, nextHi, nextLo]`. A breaker in a `RedisStore` sends the draw as
/// `"hi:lo"` with each call (the script's jittered open duration is
/// `Rng::between` of it) and moves to the next state when a call opened
/// the breaker, as Python's `rng_next` does.
#[napi]
pub fn rng_next(hi: u32, lo: u32) -> Vec<u32> {
    let mut rng = fusewire::Rng::new((u64::from(hi) << 32) | u64::from(lo));
    let value = rng.next_u64();
    let state = rng.state();
    vec![
        (value >> 32) as u32,
        value as u32,
        (state >> 32) as u32,
        state as u32,
    ]
}
