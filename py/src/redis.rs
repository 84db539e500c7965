//! The fleet tier's scripts for `fusewire.RedisStore` (`_redis.py`): the
//! Lua lives once, in `store/redis/`, and reaches Python from here.

use pyo3::prelude::*;
use pyo3::types::PyDict;

/// `{kind: script}`: the Redis script of each policy kind
/// (`fusewire_store::redis::SCRIPTS`).
#[pyfunction]
pub fn redis_scripts(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    let d = PyDict::new(py);
    for (kind, script) in fusewire_store::redis::SCRIPTS {
        d.set_item(kind, script)?;
    }
    Ok(d)
}

/// `redis_fingerprint(kind, config)`: the config as the Redis scripts keep
/// it beside the state (`fusewire_store::config::redis_fingerprint`, the
/// one Node sends too). `config` is the dict `_bind` receives; a figure a
/// script cannot count exactly is a `ConfigError` naming its field.
#[pyfunction]
pub fn redis_fingerprint(kind: &str, config: &Bound<'_, PyAny>) -> PyResult<String> {
    let kind = fusewire_store::config::Kind::from_name(kind)
        .ok_or_else(|| crate::errors::config_error("kind", &format!("unknown kind {kind:?}")))?;
    let config = crate::host::config_from_dict(kind, config)?;
    fusewire_store::config::redis_fingerprint(&config)
        .map_err(|e| crate::errors::config_error(e.field, &e.reason))
}

/// `rng_next(state) -> (value, next_state)`: one step of the core's seeded
/// generator (`fusewire::Rng`, SplitMix64) from `state` (a new generator's
/// state is its seed). A Redis breaker's door peeks the next draw with it
/// and hands it to the script for a jittered open duration, advancing only
/// when the call opened the breaker: the core's own sequence of draws.
#[pyfunction]
pub fn rng_next(state: u64) -> (u64, u64) {
    let mut rng = fusewire::Rng::new(state);
    let value = rng.next_u64();
    (value, rng.state())
}
