//! Per-request overhead of each layer on a no-op service, fusewire-tower
//! beside tower-resilience and tower's own `RateLimit`/`Retry`, in one run:
//! one task polling directly, and 16 tasks on a 2-thread runtime sharing
//! each layer. Every layer is configured so that it admits every call (a
//! refusal fails the benchmark): this is the price of the happy path.
//!
//!     make -C tower bench     (or: cargo bench -p fusewire-tower)

use std::convert::Infallible;
use std::fmt::Debug;
use std::future::{poll_fn, Future};
use std::hint::black_box;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use tokio::runtime::Runtime;
use tower::{service_fn, Layer, Service, ServiceExt};

const TASKS: usize = 16;

type Noop = tower::util::ServiceFn<fn(u32) -> std::future::Ready<Result<u32, Infallible>>>;

fn noop() -> Noop {
    service_fn((|x| std::future::ready(Ok(x))) as fn(u32) -> _)
}

struct NoopWake;
impl Wake for NoopWake {
    fn wake(self: Arc<Self>) {}
}

/// `iters` calls from one task: each future polled once (all are ready
/// at once here); a `Pending` one is finished on the runtime.
fn one_task<S, F>(rt: &Runtime, make: &F, iters: u64) -> Duration
where
    F: Fn() -> S,
    S: Service<u32>,
    S::Error: Debug,
{
    let _ctx = rt.enter();
    let mut svc = make();
    let waker = Waker::from(Arc::new(NoopWake));
    let mut cx = Context::from_waker(&waker);
    let start = Instant::now();
    for i in 0..iters {
        if svc.poll_ready(&mut cx).is_pending() {
            rt.block_on(poll_fn(|cx| svc.poll_ready(cx))).unwrap();
        }
        let mut fut = pin!(svc.call(i as u32));
        let out = match fut.as_mut().poll(&mut cx) {
            Poll::Ready(out) => out,
            Poll::Pending => rt.block_on(fut),
        };
        black_box(out.unwrap());
    }
    start.elapsed()
}

/// `iters` calls shared by [`TASKS`] tasks, each with its own service
/// made by `make` (from one shared layer): wall time per call.
fn many_tasks<S, F>(rt: &Runtime, make: &F, iters: u64) -> Duration
where
    F: Fn() -> S,
    S: Service<u32> + Send + 'static,
    S::Future: Send,
    S::Error: Debug + Send,
{
    let per = (iters / TASKS as u64).max(1);
    let services: Vec<S> = {
        let _ctx = rt.enter();
        (0..TASKS).map(|_| make()).collect()
    };
    let start = Instant::now();
    rt.block_on(async {
        let handles: Vec<_> = services
            .into_iter()
            .map(|mut svc| {
                tokio::spawn(async move {
                    for i in 0..per {
                        let out = svc.ready().await.unwrap().call(i as u32).await;
                        black_box(out.map_err(|e| format!("{e:?}")).unwrap());
                    }
                })
            })
            .collect();
        for h in handles {
            h.await.unwrap();
        }
    });
    start
        .elapsed()
        .mul_f64(iters as f64 / (per * TASKS as u64) as f64)
}

// ---- the layers under test, each admitting everything ----

fn fw_breaker() -> fusewire_tower::CircuitBreakerLayer<fusewire_tower::ErrorsOnly> {
    fusewire_tower::CircuitBreakerLayer::builder()
        .classifier(fusewire_tower::ErrorsOnly)
        .build()
        .unwrap()
}
fn fw_retry() -> fusewire_tower::RetryLayer<fusewire_tower::ErrorsOnly> {
    fusewire_tower::RetryLayer::builder()
        .classifier(fusewire_tower::ErrorsOnly)
        .build()
        .unwrap()
}
fn fw_rate() -> fusewire_tower::RateLimitLayer {
    fusewire_tower::RateLimitLayer::builder()
        .rate(1 << 25, Duration::from_secs(1))
        .build()
        .unwrap()
}
fn fw_bulkhead() -> fusewire_tower::BulkheadLayer {
    fusewire_tower::BulkheadLayer::builder()
        .limit(1 << 20)
        .build()
        .unwrap()
}

fn tr_breaker() -> tower_resilience::circuitbreaker::CircuitBreakerLayer {
    tower_resilience::circuitbreaker::CircuitBreakerLayer::builder()
        .build()
        .unwrap()
}
fn tr_retry<E>() -> tower_resilience::retry::RetryLayer<u32, u32, E> {
    tower_resilience::retry::RetryLayer::<u32, u32, E>::builder()
        .max_attempts(3)
        .exponential_backoff(Duration::from_millis(100))
        .build()
}
fn tr_rate() -> tower_resilience::ratelimiter::RateLimiterLayer {
    tower_resilience::ratelimiter::RateLimiterLayer::builder()
        .limit_for_period(usize::MAX >> 1)
        .refresh_period(Duration::from_secs(1))
        .build()
        .unwrap()
}
fn tr_bulkhead() -> tower_resilience::bulkhead::BulkheadLayer {
    tower_resilience::bulkhead::BulkheadLayer::builder()
        .max_concurrent_calls(1 << 20)
        .build()
        .unwrap()
}

/// tower's `Policy`: retry errors up to twice (never reached here).
#[derive(Clone)]
struct Twice(u8);
impl<E> tower::retry::Policy<u32, u32, E> for Twice {
    type Future = std::future::Ready<()>;
    fn retry(&mut self, _: &mut u32, result: &mut Result<u32, E>) -> Option<Self::Future> {
        (result.is_err() && self.0 < 2).then(|| {
            self.0 += 1;
            std::future::ready(())
        })
    }
    fn clone_request(&mut self, req: &u32) -> Option<u32> {
        Some(*req)
    }
}
fn tw_retry() -> tower::retry::RetryLayer<Twice> {
    tower::retry::RetryLayer::new(Twice(0))
}
fn tw_rate() -> tower::limit::RateLimitLayer {
    tower::limit::RateLimitLayer::new(u64::MAX >> 1, Duration::from_secs(1))
}

/// A clock that never moves and costs one constant.
#[derive(Clone, Copy)]
struct Frozen;
impl fusewire::Clock for Frozen {
    fn now(&self) -> u64 {
        5
    }
    fn unit(&self) -> fusewire::TickUnit {
        fusewire::TickUnit::NANOS
    }
}

/// Runs `make`'s service under both loads, as `group/peer`.
macro_rules! bench {
    ($c:expr, $rt1:expr, $rtn:expr, $group:expr, $peer:expr, $make:expr) => {{
        let make = $make;
        $c.bench_function(&format!("{}/1 task/{}", $group, $peer), |b| {
            b.iter_custom(|iters| one_task($rt1, &make, iters))
        });
        $c.bench_function(&format!("{}/16 tasks/{}", $group, $peer), |b| {
            b.iter_custom(|iters| many_tasks($rtn, &make, iters))
        });
    }};
}

fn layers(c: &mut Criterion) {
    let rt1 = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let rtn = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (rt1, rtn) = (&rt1, &rtn);

    bench!(c, rt1, rtn, "none", "no-op service", noop);

    let l = fw_breaker();
    bench!(c, rt1, rtn, "breaker", "fusewire", || l.layer(noop()));
    // Where the breaker's time goes: the same layer with a clock that
    // costs nothing (the default reads `Instant` twice a call).
    let l = fusewire_tower::CircuitBreakerLayer::builder()
        .classifier(fusewire_tower::ErrorsOnly)
        .clock(Frozen)
        .build()
        .unwrap();
    bench!(c, rt1, rtn, "breaker", "fusewire, no clock reads", || l
        .layer(noop()));
    let l = tr_breaker();
    bench!(c, rt1, rtn, "breaker", "tower-resilience", || l
        .layer(noop()));

    let l = fw_retry();
    bench!(c, rt1, rtn, "retry", "fusewire", || l.layer(noop()));
    let l = tr_retry::<Infallible>();
    bench!(c, rt1, rtn, "retry", "tower-resilience", || l.layer(noop()));
    let l = tw_retry();
    bench!(c, rt1, rtn, "retry", "tower", || l.layer(noop()));

    let l = fw_rate();
    bench!(c, rt1, rtn, "rate_limit", "fusewire", || l.layer(noop()));
    let l = tr_rate();
    bench!(c, rt1, rtn, "rate_limit", "tower-resilience", || l
        .layer(noop()));
    let l = tw_rate();
    bench!(c, rt1, rtn, "rate_limit", "tower", || l.layer(noop()));

    let l = fw_bulkhead();
    bench!(c, rt1, rtn, "bulkhead", "fusewire", || l.layer(noop()));
    let l = tr_bulkhead();
    bench!(c, rt1, rtn, "bulkhead", "tower-resilience", || l
        .layer(noop()));

    // A client's stack: rate limit, then breaker, then retry.
    let (r, b, t) = (fw_rate(), fw_breaker(), fw_retry());
    bench!(c, rt1, rtn, "stack3", "fusewire", || r
        .layer(b.layer(t.layer(noop()))));
    let (r, b) = (tr_rate(), tr_breaker());
    let t = tr_retry::<Infallible>();
    bench!(c, rt1, rtn, "stack3", "tower-resilience", || r
        .layer(b.layer(t.layer(noop()))));
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(2))
}

criterion_group! { name = benches; config = config(); targets = layers }
criterion_main!(benches);
