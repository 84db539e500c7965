//! # fusewire-tower: tower layers whose every decision comes from fusewire
//!
//! Four [`tower::Layer`]s for the way Rust services are built (axum, tonic,
//! hyper and reqwest-middleware style stacks), each a thin door onto the
//! no_std [`fusewire`] core, which makes every decision:
//!
//! | layer | core rule | refuses with |
//! | --- | --- | --- |
//! | [`CircuitBreakerLayer`] | [`fusewire::SharedBreaker`] fed by a [`Classify`] verdict | [`Rejected`] (503, `Retry-After`) |
//! | [`RetryLayer`] | [`fusewire::Retry::next_with_budget`] (backoff, jitter, deadline, asked-for waits) and [`fusewire::SharedBudget`] | the last response or error |
//! | [`RateLimitLayer`], [`KeyedRateLimitLayer`] | [`fusewire::SharedBucket`] / [`fusewire::Bucket`] (GCRA) | [`Rejected`] (429, `Retry-After`) |
//! | [`BulkheadLayer`] | [`fusewire::SharedBulkhead`] with [`Priority`] reserves and slot leases | [`Rejected`] (503) |
//!
//! What this crate adds is only what tower expects: futures, cloning,
//! `Retry-After` headers, and time. Durations in this API are
//! [`std::time::Duration`]s; they become ticks of the layer's [`Clock`]
//! (by default [`MonotonicClock`], nanoseconds from `std::time::Instant`)
//! through the clock's own [`TickUnit`](fusewire::TickUnit), so a duration
//! cannot be mis-scaled. Tests that pause tokio's clock use [`TokioClock`].
//!
//! Errors: the layers' services return [`BoxError`], as tower's own
//! shedding layers do; a refusal by a layer is a [`Rejected`], found with
//! [`Rejected::find`]. Bad options are [`ConfigError`]s naming the option
//! as the builder spells it.
//!
//! ```
//! use std::time::Duration;
//! use fusewire_tower::{BulkheadLayer, CircuitBreakerLayer, ErrorsOnly, RateLimitLayer, RetryLayer};
//! use tower::{service_fn, Service, ServiceBuilder, ServiceExt};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), fusewire_tower::BoxError> {
//! let mut svc = ServiceBuilder::new()
//!     .layer(RateLimitLayer::builder().rate(100, Duration::from_secs(1)).burst(10).build()?)
//!     .layer(CircuitBreakerLayer::builder().classifier(ErrorsOnly).build()?)
//!     .layer(RetryLayer::builder().classifier(ErrorsOnly).build()?)
//!     .layer(BulkheadLayer::builder().limit(32).build()?)
//!     .service(service_fn(|x: u32| async move { Ok::<_, std::io::Error>(x * 2) }));
//! assert_eq!(svc.ready().await?.call(21).await?, 42);
//! # Ok(())
//! # }
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod breaker;
pub mod bulkhead;
pub mod classify;
pub mod clock;
mod entropy;
pub mod error;
pub mod rate_limit;
pub mod retry;

pub use breaker::{CircuitBreaker, CircuitBreakerBuilder, CircuitBreakerLayer};
pub use bulkhead::{AllNormal, Bulkhead, BulkheadBuilder, BulkheadLayer, Prioritize};
pub use classify::{Classify, ErrorsOnly, HttpClassifier, Verdict};
pub use clock::TokioClock;
pub use error::{BoxError, Rejected, RejectedBy, ShedFuture};
pub use fusewire::clock::MonotonicClock;
pub use fusewire::{Clock, ConfigError, Jitter, Priority, Problem};
pub use rate_limit::{
    KeyedRateLimit, KeyedRateLimitBuilder, KeyedRateLimitLayer, RateLimit, RateLimitBuilder,
    RateLimitLayer,
};
pub use retry::{CloneRequest, Replay, Retry, RetryBuilder, RetryLayer};
