//! The flat line format the C runner reads, so that C needs no JSON parser.
//!
//! ```text
//! component breaker
//! scenario <name>
//! config <key>=<value> ...            nested keys dotted: open_backoff.cap=500, window.count=16
//! config_error field=<f> problem=<p>  (only when the config is invalid)
//! step <key>=<value> ... | <key>=<value> ...   inputs, then the expected result
//! end
//! ```
//!
//! Values never contain spaces: numbers in decimal (any `u64`), strings bare,
//! `null`, `true`/`false`, arrays joined with commas. An expected
//! `transition=null` or `transition.from=.. transition.to=.. transition.reason=..`.

use serde_json::Value;

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(a) => a.iter().map(scalar).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

fn flat(prefix: &str, v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(o) if !o.is_empty() => {
            for (k, v) in o {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flat(&key, v, out);
            }
        }
        _ => out.push(format!("{prefix}={}", scalar(v))),
    }
}

fn tokens(v: &Value) -> String {
    let mut out = Vec::new();
    flat("", v, &mut out);
    out.join(" ")
}

/// The whole file, flattened.
pub fn flatten(doc: &Value) -> Result<String, String> {
    let component = doc["component"].as_str().ok_or("no component")?;
    let mut s = format!("component {component}\n");
    for sc in doc["scenarios"].as_array().ok_or("no scenarios")? {
        let name = sc["name"].as_str().ok_or("scenario without a name")?;
        if name.contains(char::is_whitespace) {
            return Err(format!("scenario name {name:?} has a space"));
        }
        s += &format!("scenario {name}\n");
        s += &format!("config {}\n", tokens(&sc["config"]));
        if let Some(e) = sc.get("config_error") {
            s += &format!("config_error {}\n", tokens(e));
        }
        for step in sc["steps"].as_array().into_iter().flatten() {
            let mut input = step.clone();
            let expect = input.as_object_mut().and_then(|o| o.remove("expect"));
            s += &format!(
                "step {} | {}\n",
                tokens(&input),
                tokens(&expect.unwrap_or(Value::Null))
            );
        }
        s += "end\n";
    }
    Ok(s)
}
