//! `--store-configs`: each breaker scenario's config in the stores' plain
//! form (`fusewire_store::config`), the core's defaults filled in, so the
//! Redis runner (`tests/redis/runner.py`) hands the scripts the very config
//! the core runs, not a second copy of its defaults.

use std::path::PathBuf;

use fusewire_store::config::{Config, Value as Plain, Window as PlainWindow};
use serde_json::{json, Map, Value};

use crate::{as_u64, breaker_config, get_u64, Res};

fn plain(v: Plain) -> Value {
    match v {
        Plain::Int(n) => json!(n.to_string()),
        Plain::Word(w) => json!(w),
        Plain::Off => Value::Null,
    }
}

/// `{"<file stem>/<scenario>": {field: value, ...}}` for every breaker
/// scenario whose config the core accepts (integers as decimal strings).
pub fn configs(files: &[PathBuf]) -> Res<Value> {
    let mut out = Map::new();
    for path in files {
        let doc: Value =
            serde_json::from_str(&std::fs::read_to_string(path).map_err(|e| e.to_string())?)
                .map_err(|e| e.to_string())?;
        if doc["component"] != "breaker" {
            continue;
        }
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("?");
        for sc in doc["scenarios"].as_array().into_iter().flatten() {
            let o = sc["config"].as_object().cloned().unwrap_or_default();
            let Ok(config) = breaker_config(&o)? else {
                continue;
            };
            let window = o.get("window").cloned().unwrap_or(json!({"count": 16}));
            let window = if let Some(n) = window.get("count") {
                PlainWindow::Count {
                    size: u32::try_from(as_u64(n, "window.count")?).map_err(|_| "window.count")?,
                }
            } else {
                let t = window["time"].as_object().ok_or("window.time")?;
                PlainWindow::Time {
                    duration: get_u64(t, "span")?,
                    buckets: u32::try_from(get_u64(t, "buckets")?).map_err(|_| "buckets")?,
                }
            };
            let values: Map<String, Value> = Config::breaker(&config, window)
                .values
                .into_iter()
                .map(|(k, v)| (k.to_owned(), plain(v)))
                .collect();
            let name = sc["name"].as_str().unwrap_or("?");
            out.insert(format!("{stem}/{name}"), Value::Object(values));
        }
    }
    Ok(Value::Object(out))
}
