//! Breaker over count windows of 1, 5 and 16 calls, against the reference model.
#![no_main]

use fusewire::CountWindow;
use fusewire_fuzz::breaker_model::{run, Input};
use fusewire_fuzz::CountShadow;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: Input| {
    let Some(config) = input.config.build() else {
        return;
    };
    match input.buckets % 3 {
        0 => run(
            config,
            CountWindow::<1>::new(),
            CountShadow::new(1),
            &input.ops,
        ),
        1 => run(
            config,
            CountWindow::<5>::new(),
            CountShadow::new(5),
            &input.ops,
        ),
        _ => run(
            config,
            CountWindow::<16>::new(),
            CountShadow::new(16),
            &input.ops,
        ),
    }
});
