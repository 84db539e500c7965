//! Helpers shared by the crate's unit tests.

use proptest::prelude::ProptestConfig;

/// The property-test config every module uses: fewer cases under Miri, and
/// no regression files there (Miri's isolation forbids the file system
/// proptest would write them to).
pub fn proptest_config() -> ProptestConfig {
    let default = ProptestConfig::default();
    ProptestConfig {
        cases: if cfg!(miri) { 8 } else { default.cases },
        failure_persistence: if cfg!(miri) {
            None
        } else {
            default.failure_persistence
        },
        ..default
    }
}
