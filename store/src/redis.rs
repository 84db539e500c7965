//! The fleet tier: Redis scripts that apply the core's rules server-side,
//! one atomic script (one round trip) per decision, on the Redis server's
//! clock. Each constant is a whole script (the prelude in `redis/prelude.lua`
//! followed by the policy's own file), ready for `SCRIPT LOAD` / `EVALSHA`;
//! the Python and Node doors hand them to redis-py and ioredis. The calling
//! convention, key layout, leases and failure policy are in this crate's
//! README, section "Fleet tier".

macro_rules! script {
    ($file:literal) => {
        concat!(
            include_str!("../redis/prelude.lua"),
            "\n",
            include_str!(concat!("../redis/", $file))
        )
    };
}

/// GCRA token bucket (`core/src/bucket.rs`): ops `take n`, `refund n`, `available`.
pub const BUCKET: &str = script!("bucket.lua");
/// Circuit breaker (`core/src/breaker`): ops `acquire`, `record`, `release`,
/// `poll`, `state`, `trip`, `close`, `half_open`, `force_open`, `disable`,
/// `reset`, `snapshot`.
pub const BREAKER: &str = script!("breaker.lua");
/// Bulkhead with lease epochs (`core/src/bulkhead.rs`): ops `acquire p`,
/// `release slot`, `expire`, `state`.
pub const BULKHEAD: &str = script!("bulkhead.lua");
/// Retry budget (`core/src/budget.rs`): ops `success`, `failure`,
/// `can_retry`, `try_retry`.
pub const BUDGET: &str = script!("budget.lua");

/// Every script by the policy kind it serves (`config::Kind::name`).
pub const SCRIPTS: [(&str, &str); 4] = [
    ("breaker", BREAKER),
    ("bucket", BUCKET),
    ("bulkhead", BULKHEAD),
    ("budget", BUDGET),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_a_script_that_starts_with_the_prelude() {
        for kind in crate::config::Kind::ALL {
            let (_, s) = SCRIPTS
                .iter()
                .find(|(k, _)| *k == kind.name())
                .expect("a script per kind");
            assert!(s.starts_with("-- fusewire fleet tier"));
            assert!(s.contains("fw_load("));
        }
    }
}
