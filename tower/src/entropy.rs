//! Host entropy for the core's seeded generators: each breaker and each
//! retried operation gets its own seed, so two processes (or two calls)
//! never jitter in step. Tests pass explicit seeds.

use std::cell::Cell;
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;

use fusewire::Rng;

thread_local! {
    static RNG: Cell<Option<Rng>> = const { Cell::new(None) };
}

/// A fresh seed: one step of a per-thread generator seeded from the OS
/// (std's `RandomState` keys).
pub(crate) fn seed() -> u64 {
    RNG.with(|cell| {
        let mut rng = cell
            .take()
            .unwrap_or_else(|| Rng::new(RandomState::new().hash_one(0x6675_7365_7769_7265_u64)));
        let s = rng.next_u64();
        cell.set(Some(rng));
        s
    })
}
