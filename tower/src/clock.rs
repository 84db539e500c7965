//! The clocks the layers read, each knowing its [`TickUnit`].
//!
//! Layers default to the core's [`MonotonicClock`](fusewire::clock::MonotonicClock)
//! (nanoseconds from `std::time::Instant`). [`TokioClock`] reads tokio's
//! clock instead, so a test under `tokio::time::pause` moves the breaker,
//! the bucket and the retry deadline with the paused time.

use fusewire::{Clock, TickUnit};
use tokio::time::Instant;

/// Nanoseconds since the clock was made, from `tokio::time::Instant`
/// (which follows `tokio::time::pause` and `advance`). Needs a tokio
/// runtime only when paused; otherwise it is `std::time::Instant`.
///
/// ```
/// use fusewire::{Clock, TickUnit};
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// let clock = fusewire_tower::TokioClock::new();
/// tokio::time::advance(std::time::Duration::from_millis(5)).await;
/// assert_eq!(clock.now(), 5_000_000);
/// assert_eq!(clock.unit(), TickUnit::NANOS);
/// # }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct TokioClock {
    origin: Instant,
}

impl TokioClock {
    /// A clock reading 0 now.
    pub fn new() -> Self {
        Self {
            origin: Instant::now(),
        }
    }
}

impl Default for TokioClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for TokioClock {
    fn now(&self) -> u64 {
        u64::try_from(self.origin.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    fn unit(&self) -> TickUnit {
        TickUnit::NANOS
    }
}
