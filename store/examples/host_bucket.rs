//! One token bucket shared by every process on this host that runs this
//! program: `cargo run -p fusewire-store --example host_bucket` in two
//! terminals, and the two together get 5 grants a second, not 10.
//!
//! The region is a named POSIX shared-memory object (`/dev/shm/fusewire.<name>`);
//! the bucket inside it is the core's lock-free `SharedBucket`, so a
//! decision is one compare-and-swap, no lock, no server. `now()` is
//! `CLOCK_MONOTONIC` in nanoseconds, the same clock in every process. The
//! region outlives the processes (that is how a restarted worker finds the
//! state); `Region::unlink("example-host-bucket")` removes it.

use fusewire_store::config::Config;
use fusewire_store::shm::{now, Handle, Region, ShmError, DEFAULT_SIZE};

fn main() -> Result<(), ShmError> {
    let region = Region::open("example-host-bucket", DEFAULT_SIZE)?;
    // burst 5, then 5 tokens per 1e9 ns; every process binding "api" must
    // ask for the same config (another one is a typed error naming the field)
    let Handle::Bucket(bucket) = region.bind("api", &Config::bucket(5, 5, 1_000_000_000))? else {
        unreachable!("a bucket config binds a bucket")
    };
    let rounds: u32 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    for _ in 0..rounds {
        let granted = bucket.try_acquire(1, now()).is_ok();
        println!(
            "pid {} {}",
            std::process::id(),
            if granted { "granted" } else { "refused" }
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    Ok(())
}
