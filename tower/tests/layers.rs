//! The layers on a real tokio runtime, with tokio's clock paused so time
//! only moves when a test (or an idle runtime) moves it: no sleeps.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use fusewire::State;
use fusewire_tower::{
    BoxError, BulkheadLayer, CircuitBreakerLayer, ErrorsOnly, KeyedRateLimitLayer, Priority,
    RateLimitLayer, Rejected, RejectedBy, RetryLayer, TokioClock,
};
use http::{Response, StatusCode};
use tokio::sync::Notify;
use tokio::time::{advance, Instant};
use tower::{service_fn, Service, ServiceBuilder, ServiceExt};

type Res = Response<()>;

/// An upstream answering the status it is asked for; `0` waits for the
/// gate, then answers 200. Counts the calls it sees.
fn upstream(
    calls: Arc<AtomicU32>,
    gate: Arc<Notify>,
) -> impl Service<
    u16,
    Response = Res,
    Error = BoxError,
    Future = impl std::future::Future<Output = Result<Res, BoxError>> + Send,
> + Clone {
    service_fn(move |status: u16| {
        calls.fetch_add(1, Ordering::SeqCst);
        let gate = gate.clone();
        async move {
            let status = if status == 0 {
                gate.notified().await;
                200
            } else {
                status
            };
            Ok::<_, BoxError>(Response::builder().status(status).body(()).unwrap())
        }
    })
}

/// An upstream that plays a script of (status, Retry-After) answers.
fn scripted(
    script: &[(u16, Option<&'static str>)],
    calls: Arc<AtomicU32>,
) -> impl Service<
    (),
    Response = Res,
    Error = BoxError,
    Future = impl std::future::Future<Output = Result<Res, BoxError>> + Send,
> + Clone {
    let script = Arc::new(Mutex::new(script.iter().copied().collect::<VecDeque<_>>()));
    service_fn(move |()| {
        calls.fetch_add(1, Ordering::SeqCst);
        let (status, wait) = script.lock().unwrap().pop_front().unwrap_or((200, None));
        let mut res = Response::builder().status(status);
        if let Some(w) = wait {
            res = res.header("retry-after", w);
        }
        async move { Ok::<_, BoxError>(res.body(()).unwrap()) }
    })
}

async fn call<S: Service<R, Error = BoxError>, R>(
    svc: &mut S,
    req: R,
) -> Result<S::Response, BoxError> {
    svc.ready().await?.call(req).await
}

fn rejected(err: &BoxError) -> Rejected {
    *Rejected::find(&**err).unwrap_or_else(|| panic!("not a rejection: {err}"))
}

fn breaker() -> fusewire_tower::CircuitBreakerBuilder<fusewire_tower::HttpClassifier, TokioClock> {
    CircuitBreakerLayer::builder()
        .clock(TokioClock::new())
        .seed(1)
        .min_calls(4)
        .failure_rate(50.0)
        .open_duration(Duration::from_secs(10))
}

#[tokio::test(start_paused = true)]
async fn breaker_opens_on_5xx_and_not_on_4xx() {
    let calls = Arc::new(AtomicU32::new(0));
    let layer = breaker().build().unwrap();
    let mut svc = ServiceBuilder::new()
        .layer(layer.clone())
        .service(upstream(calls.clone(), Arc::new(Notify::new())));

    for _ in 0..10 {
        let res = call(&mut svc, 404).await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND); // answered, not counted as failures
    }
    assert_eq!(layer.state(), State::Closed);
    // 10 successes (404s) and 10 failures in the window of 100: 50 %.
    for _ in 0..10 {
        assert_eq!(
            call(&mut svc, 503).await.unwrap().status(),
            StatusCode::SERVICE_UNAVAILABLE
        );
    }
    assert_eq!(layer.state(), State::Open);

    let seen = calls.load(Ordering::SeqCst);
    let err = call(&mut svc, 200).await.unwrap_err();
    let r = rejected(&err);
    assert_eq!(r.by(), RejectedBy::CircuitBreaker);
    assert_eq!(r.retry_after(), Some(Duration::from_secs(10)));
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.retry_after_header().unwrap(), "10");
    assert_eq!(
        calls.load(Ordering::SeqCst),
        seen,
        "an open breaker does not call upstream"
    );

    advance(Duration::from_secs(4)).await;
    let err = call(&mut svc, 200).await.unwrap_err();
    assert_eq!(rejected(&err).retry_after(), Some(Duration::from_secs(6)));
}

#[tokio::test(start_paused = true)]
async fn errors_are_failures_and_a_classifier_can_say_otherwise() {
    let failing =
        service_fn(|kind: &'static str| async move { Err::<(), _>(std::io::Error::other(kind)) });
    let layer = breaker()
        .consecutive_failures(3)
        .classifier(ErrorsOnly)
        .build()
        .unwrap();
    let mut svc = ServiceBuilder::new().layer(layer.clone()).service(failing);
    for _ in 0..3 {
        assert!(Rejected::find(&*call(&mut svc, "boom").await.unwrap_err()).is_none());
    }
    assert_eq!(layer.state(), State::Open);

    // A classifier that ignores "not found" errors: they never trip.
    let ignore = |r: Result<&(), &std::io::Error>| match r {
        Err(e) if e.to_string() == "not found" => fusewire_tower::Verdict::IGNORED,
        Err(_) => fusewire_tower::Verdict::FAILURE,
        Ok(_) => fusewire_tower::Verdict::SUCCESS,
    };
    let layer = breaker()
        .consecutive_failures(3)
        .classifier(ignore)
        .build()
        .unwrap();
    let mut svc = ServiceBuilder::new().layer(layer.clone()).service(failing);
    for _ in 0..20 {
        let _ = call(&mut svc, "not found").await;
    }
    assert_eq!(layer.state(), State::Closed);
    assert_eq!(layer.snapshot().counts.ignored, 20);
}

#[tokio::test(start_paused = true)]
async fn half_open_admits_one_probe_and_its_answer_decides() {
    let calls = Arc::new(AtomicU32::new(0));
    let gate = Arc::new(Notify::new());
    let layer = breaker().consecutive_failures(2).build().unwrap();
    let mut svc = ServiceBuilder::new()
        .layer(layer.clone())
        .service(upstream(calls.clone(), gate.clone()));

    for _ in 0..2 {
        call(&mut svc, 500).await.unwrap();
    }
    assert_eq!(layer.state(), State::Open);
    advance(Duration::from_secs(10)).await;

    // The probe is slow: while it is out, everyone else is refused.
    let probe = tokio::spawn(svc.ready().await.unwrap().call(0));
    tokio::task::yield_now().await;
    assert_eq!(layer.state(), State::HalfOpen);
    let err = call(&mut svc, 200).await.unwrap_err();
    assert_eq!(rejected(&err).by(), RejectedBy::CircuitBreaker);
    let before = calls.load(Ordering::SeqCst);
    gate.notify_one();
    assert_eq!(probe.await.unwrap().unwrap().status(), StatusCode::OK);
    assert_eq!(layer.state(), State::Closed);
    assert_eq!(calls.load(Ordering::SeqCst), before);
    assert_eq!(call(&mut svc, 200).await.unwrap().status(), StatusCode::OK);

    // A failed probe opens it again, for the next open duration.
    for _ in 0..2 {
        call(&mut svc, 500).await.unwrap();
    }
    advance(Duration::from_secs(10)).await;
    call(&mut svc, 502).await.unwrap();
    assert_eq!(layer.state(), State::Open);
}

#[tokio::test(start_paused = true)]
async fn a_dropped_probe_gives_its_slot_back() {
    let layer = breaker().consecutive_failures(1).build().unwrap();
    let mut svc = ServiceBuilder::new().layer(layer.clone()).service(upstream(
        Arc::new(AtomicU32::new(0)),
        Arc::new(Notify::new()),
    ));
    call(&mut svc, 500).await.unwrap();
    advance(Duration::from_secs(10)).await;
    let abandoned = svc.ready().await.unwrap().call(0); // never finishes
    assert!(
        call(&mut svc, 200).await.is_err(),
        "the probe slot is taken"
    );
    drop(abandoned);
    assert_eq!(call(&mut svc, 200).await.unwrap().status(), StatusCode::OK);
    assert_eq!(layer.state(), State::Closed);
}

#[tokio::test(start_paused = true)]
async fn a_lost_probe_costs_one_dwell() {
    let layer = breaker()
        .consecutive_failures(1)
        .half_open_max_dwell(Duration::from_secs(3))
        .build()
        .unwrap();
    let mut svc = ServiceBuilder::new().layer(layer.clone()).service(upstream(
        Arc::new(AtomicU32::new(0)),
        Arc::new(Notify::new()),
    ));
    call(&mut svc, 500).await.unwrap();
    advance(Duration::from_secs(10)).await;
    std::mem::forget(svc.ready().await.unwrap().call(0)); // a probe that never reports
    let err = call(&mut svc, 200).await.unwrap_err();
    assert_eq!(rejected(&err).retry_after(), Some(Duration::from_secs(3)));
    advance(Duration::from_secs(3)).await;
    // The dwell is over: the breaker gave up on the probe and reopened.
    assert!(call(&mut svc, 200).await.is_err());
    assert_eq!(layer.state(), State::Open);
    advance(Duration::from_secs(10)).await;
    assert_eq!(call(&mut svc, 200).await.unwrap().status(), StatusCode::OK);
    assert_eq!(layer.state(), State::Closed);
}

#[tokio::test(start_paused = true)]
async fn retry_honours_retry_after_and_backs_off() {
    let calls = Arc::new(AtomicU32::new(0));
    let retry = RetryLayer::builder()
        .clock(TokioClock::new())
        .seed(7)
        .max_attempts(3)
        .first_delay(Duration::from_millis(100))
        .build()
        .unwrap();
    let mut svc = ServiceBuilder::new().layer(retry).service(scripted(
        &[(503, Some("5")), (429, Some("2")), (200, None)],
        calls.clone(),
    ));
    let start = Instant::now();
    assert_eq!(call(&mut svc, ()).await.unwrap().status(), StatusCode::OK);
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    // Full jitter over 100 ms then 200 ms is always shorter than the hints.
    assert_eq!(start.elapsed(), Duration::from_secs(7));
}

#[tokio::test(start_paused = true)]
async fn retry_gives_up_at_once_when_the_asked_wait_is_too_long() {
    let calls = Arc::new(AtomicU32::new(0));
    let retry = RetryLayer::builder()
        .clock(TokioClock::new())
        .max_delay(Duration::from_secs(10))
        .build()
        .unwrap();
    let mut svc = ServiceBuilder::new()
        .layer(retry.clone())
        .service(scripted(&[(503, Some("30")), (200, None)], calls.clone()));
    let start = Instant::now();
    let res = call(&mut svc, ()).await.unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(start.elapsed(), Duration::ZERO);
    assert_eq!(
        retry.budget().throttled(),
        0,
        "a wait too long does not ask the budget"
    );
}

#[tokio::test(start_paused = true)]
async fn retry_gives_up_with_the_last_answer() {
    let calls = Arc::new(AtomicU32::new(0));
    let retry = RetryLayer::builder()
        .clock(TokioClock::new())
        .max_attempts(2)
        .build()
        .unwrap();
    let mut svc = ServiceBuilder::new().layer(retry).service(scripted(
        &[(500, None), (502, None), (200, None)],
        calls.clone(),
    ));
    assert_eq!(
        call(&mut svc, ()).await.unwrap().status(),
        StatusCode::BAD_GATEWAY
    );
    assert_eq!(calls.load(Ordering::SeqCst), 2);

    // 4xx other than 429 is the caller's answer: not retried.
    let calls = Arc::new(AtomicU32::new(0));
    let retry = RetryLayer::builder()
        .clock(TokioClock::new())
        .build()
        .unwrap();
    let mut svc = ServiceBuilder::new()
        .layer(retry)
        .service(scripted(&[(404, None)], calls.clone()));
    assert_eq!(
        call(&mut svc, ()).await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test(start_paused = true)]
async fn retry_spends_the_budget_and_stops_when_it_is_half_empty() {
    let calls = Arc::new(AtomicU32::new(0));
    let retry = RetryLayer::builder()
        .clock(TokioClock::new())
        .max_attempts(10)
        .budget(4, 100)
        .build()
        .unwrap();
    let always_failing = scripted(&[(500, None); 100], calls.clone());
    let mut svc = ServiceBuilder::new()
        .layer(retry.clone())
        .service(always_failing);

    // 4 tokens: the first failure leaves 3 (retry), the retry's leaves 2
    // (not more than half: throttled); the next call's failure leaves 1.
    call(&mut svc, ()).await.unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    call(&mut svc, ()).await.unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    assert_eq!(retry.budget().tokens(), 1);
    assert_eq!(retry.budget().throttled(), 2);
}

#[tokio::test(start_paused = true)]
async fn retry_waits_out_an_inner_breaker() {
    // Retry outside a breaker: the breaker's retry_after is the hint, so
    // the retry lands exactly when the breaker lets a probe through.
    let calls = Arc::new(AtomicU32::new(0));
    let retry = RetryLayer::builder()
        .clock(TokioClock::new())
        .max_attempts(3)
        .max_delay(Duration::from_secs(60))
        .build()
        .unwrap();
    let breaker = breaker().consecutive_failures(1).build().unwrap();
    let mut svc = ServiceBuilder::new()
        .layer(retry)
        .layer(breaker.clone())
        .service(scripted(&[(500, None), (200, None)], calls.clone()));
    let start = Instant::now();
    assert_eq!(call(&mut svc, ()).await.unwrap().status(), StatusCode::OK);
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    assert!(
        start.elapsed() >= Duration::from_secs(10),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(breaker.state(), State::Closed);
}

#[tokio::test(start_paused = true)]
async fn an_inner_refusal_is_not_an_upstream_failure() {
    // A breaker around a rate limit: sheds do not open it.
    let breaker = breaker().consecutive_failures(2).build().unwrap();
    let limit = RateLimitLayer::builder()
        .clock(TokioClock::new())
        .rate(1, Duration::from_secs(60))
        .build()
        .unwrap();
    let mut svc = ServiceBuilder::new()
        .layer(breaker.clone())
        .layer(limit)
        .service(upstream(
            Arc::new(AtomicU32::new(0)),
            Arc::new(Notify::new()),
        ));
    call(&mut svc, 200).await.unwrap();
    for _ in 0..5 {
        let err = call(&mut svc, 200).await.unwrap_err();
        assert_eq!(rejected(&err).by(), RejectedBy::RateLimit);
    }
    assert_eq!(breaker.state(), State::Closed);
    assert_eq!(breaker.snapshot().counts.ignored, 5);
}

#[tokio::test(start_paused = true)]
async fn rate_limit_sheds_with_retry_after() {
    let calls = Arc::new(AtomicU32::new(0));
    let layer = RateLimitLayer::builder()
        .clock(TokioClock::new())
        .rate(2, Duration::from_secs(1))
        .burst(2)
        .build()
        .unwrap();
    let mut svc = ServiceBuilder::new()
        .layer(layer.clone())
        .service(upstream(calls.clone(), Arc::new(Notify::new())));
    call(&mut svc, 200).await.unwrap();
    call(&mut svc, 200).await.unwrap();
    let err = call(&mut svc, 200).await.unwrap_err();
    let r = rejected(&err);
    assert_eq!(r.by(), RejectedBy::RateLimit);
    assert_eq!(r.retry_after(), Some(Duration::from_millis(500)));
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.retry_after_header().unwrap(), "1");
    assert_eq!(calls.load(Ordering::SeqCst), 2);

    advance(Duration::from_millis(499)).await;
    assert!(call(&mut svc, 200).await.is_err());
    advance(Duration::from_millis(1)).await;
    call(&mut svc, 200).await.unwrap();
    assert_eq!(layer.available(), 0);
}

#[tokio::test(start_paused = true)]
async fn keyed_rate_limit_is_per_key_and_bounded() {
    let layer = KeyedRateLimitLayer::builder(|req: &(u32, u16)| req.0)
        .clock(TokioClock::new())
        .rate(1, Duration::from_secs(1))
        .max_keys(2)
        .build()
        .unwrap();
    let mut svc = ServiceBuilder::new()
        .layer(layer.clone())
        .map_request(|req: (u32, u16)| req.1)
        .service(upstream(
            Arc::new(AtomicU32::new(0)),
            Arc::new(Notify::new()),
        ));
    call(&mut svc, (1, 200)).await.unwrap();
    call(&mut svc, (2, 200)).await.unwrap();
    assert!(
        call(&mut svc, (1, 200)).await.is_err(),
        "key 1 is out of tokens"
    );
    // No room for key 3: it shares the overflow bucket, which key 4 then finds empty.
    call(&mut svc, (3, 200)).await.unwrap();
    let err = call(&mut svc, (4, 200)).await.unwrap_err();
    assert_eq!(rejected(&err).retry_after(), Some(Duration::from_secs(1)));
    assert_eq!(layer.keys(), 2);

    // Once keys 1 and 2 have refilled they are forgotten to make room.
    advance(Duration::from_secs(1)).await;
    call(&mut svc, (5, 200)).await.unwrap();
    call(&mut svc, (6, 200)).await.unwrap();
    assert_eq!(layer.keys(), 2);
    assert!(call(&mut svc, (5, 200)).await.is_err());
}

#[tokio::test(start_paused = true)]
async fn bulkhead_limit_holds_and_keeps_a_reserve_for_critical_calls() {
    let gate = Arc::new(Notify::new());
    let layer = BulkheadLayer::builder()
        .limit(3)
        .reserve(1, 0)
        .priority(|status: &u16| {
            if *status == 299 {
                Priority::Critical
            } else {
                Priority::Normal
            }
        })
        .build()
        .unwrap();
    let calls = Arc::new(AtomicU32::new(0));
    let mut svc = ServiceBuilder::new()
        .layer(layer.clone())
        .service(upstream(calls.clone(), gate.clone()));

    let a = tokio::spawn(svc.ready().await.unwrap().call(0));
    let b = tokio::spawn(svc.ready().await.unwrap().call(0));
    tokio::task::yield_now().await;
    assert_eq!(layer.in_use(), 2);
    let err = call(&mut svc, 200).await.unwrap_err();
    assert_eq!(rejected(&err).by(), RejectedBy::Bulkhead);
    assert_eq!(rejected(&err).retry_after(), None);
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    // The reserved slot is there for a critical call.
    let c = svc.ready().await.unwrap().call(299);
    assert_eq!(layer.in_use(), 3);
    assert_eq!(c.await.unwrap().status().as_u16(), 299);

    gate.notify_waiters();
    a.await.unwrap().unwrap();
    b.await.unwrap().unwrap();
    assert_eq!(layer.in_use(), 0);
    let dropped = svc.ready().await.unwrap().call(0);
    assert_eq!(layer.in_use(), 1);
    drop(dropped);
    assert_eq!(layer.in_use(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_lost_bulkhead_slot_lives_more_than_half_a_lease_and_at_most_one() {
    let gate = Arc::new(Notify::new());
    let layer = BulkheadLayer::builder()
        .clock(TokioClock::new())
        .limit(1)
        .lease(Duration::from_secs(60))
        .build()
        .unwrap();
    let mut svc = ServiceBuilder::new()
        .layer(layer.clone())
        .service(upstream(Arc::new(AtomicU32::new(0)), gate.clone()));
    // A call whose slot is never given back (its future leaked).
    std::mem::forget(svc.ready().await.unwrap().call(0));
    assert!(call(&mut svc, 200).await.is_err());
    advance(Duration::from_secs(30)).await;
    assert!(
        call(&mut svc, 200).await.is_err(),
        "half a lease is not enough to lose it"
    );
    advance(Duration::from_secs(30)).await;
    assert_eq!(call(&mut svc, 200).await.unwrap().status(), StatusCode::OK);
    assert_eq!(layer.bulkhead().reclaimed(), 1);
}

#[test]
fn bad_options_are_errors_naming_the_option() {
    use fusewire::Problem;
    assert!(CircuitBreakerLayer::builder()
        .failure_rate(100.0)
        .build()
        .is_ok());
    let cases = [
        (
            CircuitBreakerLayer::builder()
                .failure_rate(f64::NAN)
                .build()
                .unwrap_err(),
            "failure_rate",
            Problem::NotANumber,
        ),
        (
            CircuitBreakerLayer::builder()
                .failure_rate(f64::INFINITY)
                .build()
                .unwrap_err(),
            "failure_rate",
            Problem::OutOfRange,
        ),
        (
            CircuitBreakerLayer::builder()
                .failure_rate(-1.0)
                .build()
                .unwrap_err(),
            "failure_rate",
            Problem::OutOfRange,
        ),
        (
            CircuitBreakerLayer::builder()
                .open_duration(Duration::ZERO)
                .build()
                .unwrap_err(),
            "open_duration",
            Problem::Zero,
        ),
        (
            CircuitBreakerLayer::builder()
                .no_failure_rate()
                .build()
                .unwrap_err(),
            "failure_rate",
            Problem::NeverTrips,
        ),
        (
            CircuitBreakerLayer::builder()
                .min_calls(101)
                .build()
                .unwrap_err(),
            "min_calls",
            Problem::ExceedsWindow,
        ),
        (
            CircuitBreakerLayer::builder()
                .consecutive_failures(0)
                .build()
                .unwrap_err(),
            "consecutive_failures",
            Problem::Zero,
        ),
        (
            CircuitBreakerLayer::builder()
                .slow_calls(Duration::ZERO, 50.0)
                .build()
                .unwrap_err(),
            "slow_call_duration",
            Problem::Required,
        ),
        (
            CircuitBreakerLayer::builder()
                .half_open_max_dwell(Duration::ZERO)
                .build()
                .unwrap_err(),
            "half_open_max_dwell",
            Problem::Zero,
        ),
        (
            RateLimitLayer::builder()
                .rate(1, Duration::from_secs(3600))
                .burst(u32::MAX)
                .build()
                .unwrap_err(),
            "burst",
            Problem::OutOfRange,
        ),
        (
            RetryLayer::builder().max_attempts(0).build().unwrap_err(),
            "max_attempts",
            Problem::Zero,
        ),
        (
            RetryLayer::builder()
                .first_delay(Duration::ZERO)
                .build()
                .unwrap_err(),
            "first_delay",
            Problem::Zero,
        ),
        (
            RetryLayer::builder()
                .max_elapsed(Duration::ZERO)
                .build()
                .unwrap_err(),
            "max_elapsed",
            Problem::Zero,
        ),
        (
            RetryLayer::builder().budget(0, 100).build().unwrap_err(),
            "budget.max_tokens",
            Problem::Zero,
        ),
        (
            RetryLayer::builder().budget(1, 2000).build().unwrap_err(),
            "budget.token_ratio_milli",
            Problem::OutOfRange,
        ),
        (
            RateLimitLayer::builder()
                .rate(0, Duration::from_secs(1))
                .build()
                .unwrap_err(),
            "rate",
            Problem::Zero,
        ),
        (
            RateLimitLayer::builder()
                .rate(1, Duration::from_secs(1))
                .burst(0)
                .build()
                .unwrap_err(),
            "burst",
            Problem::Zero,
        ),
        (
            BulkheadLayer::builder()
                .limit(1)
                .lease(Duration::ZERO)
                .build()
                .unwrap_err(),
            "lease",
            Problem::Zero,
        ),
        (
            BulkheadLayer::builder().build().unwrap_err(),
            "limit",
            Problem::Required,
        ),
        (
            BulkheadLayer::builder()
                .limit(4)
                .reserve(1, 3)
                .build()
                .unwrap_err(),
            "reserve_normal",
            Problem::Inconsistent,
        ),
        (
            KeyedRateLimitLayer::builder(|_: &()| ())
                .rate(1, Duration::from_secs(1))
                .max_keys(0)
                .build::<()>()
                .unwrap_err(),
            "max_keys",
            Problem::Zero,
        ),
    ];
    for (err, option, problem) in cases {
        assert_eq!((err.field, err.problem), (option, problem), "{err}");
    }
}

#[test]
fn a_runtime_shut_down_with_calls_in_flight_gives_every_permit_and_slot_back() {
    let breaker = CircuitBreakerLayer::builder()
        .consecutive_failures(2)
        .build()
        .unwrap();
    let bulkhead = BulkheadLayer::builder().limit(4).build().unwrap();
    let retry = RetryLayer::builder()
        .max_delay(Duration::from_secs(60))
        .build()
        .unwrap();
    let gate = Arc::new(Notify::new());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut svc = ServiceBuilder::new()
            .layer(retry.clone())
            .layer(breaker.clone())
            .layer(bulkhead.clone())
            .service(upstream(Arc::new(AtomicU32::new(0)), gate.clone()));
        for _ in 0..3 {
            tokio::spawn(svc.ready().await.unwrap().call(0)); // never answered
        }
        // One more that fails and leaves its retry asleep for a minute.
        let asleep = svc.ready().await.unwrap().call(503);
        tokio::spawn(asleep);
        // Until the three hang and the fourth's failure is counted (its
        // task may run after the three: on a loaded machine it had not yet
        // when the runtime was dropped, and no failure was counted).
        while bulkhead.in_use() < 3 || breaker.snapshot().counts.failures < 1 {
            tokio::task::yield_now().await;
        }
    });
    drop(rt); // shuts down with all four calls in flight
    assert_eq!(bulkhead.in_use(), 0);
    let snap = breaker.snapshot();
    assert_eq!(snap.state, State::Closed);
    // The hung calls were handed back uncounted; the one answer counted.
    assert_eq!((snap.counts.successes, snap.counts.failures), (0, 1));
}
