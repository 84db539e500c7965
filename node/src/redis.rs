//! The fleet tier's scripts for `RedisStore` (`lib/redis.js`): the Lua
//! lives once, in `store/redis/`, and reaches JavaScript from here.

// The napi registration that uses these items is not compiled into the
// (empty) test build.
#![cfg_attr(test, allow(dead_code))]

use napi_derive::napi;

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
