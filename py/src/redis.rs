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
