//! An HTTP client with a resilience stack, the way reqwest-middleware or
//! a tower client stack is built: retry (honouring `Retry-After`, under a
//! retry budget) inside a circuit breaker, a bulkhead and a rate limit.
//!
//! It starts a local server with a flaky and a dead route on 127.0.0.1
//! (port 0), calls both, prints what the layers decided and exits.
//!
//!     cargo run -p fusewire-tower --example client

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::{Request, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use bytes::Bytes;
use fusewire_tower::{
    BoxError, BulkheadLayer, CircuitBreakerLayer, RateLimitLayer, Rejected, RetryLayer,
};
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tower::{Service, ServiceBuilder, ServiceExt};

type Body = Full<Bytes>;

/// GETs carry no body to lose: clone what makes them.
fn rebuild(req: &Request<Body>) -> Option<Request<Body>> {
    let mut again = Request::new(req.body().clone());
    *again.method_mut() = req.method().clone();
    *again.uri_mut() = req.uri().clone();
    *again.headers_mut() = req.headers().clone();
    Some(again)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), BoxError> {
    let hits = Arc::new(AtomicU32::new(0));
    let (flaky, dead) = (hits.clone(), hits.clone());
    let server = Router::new()
        .route(
            "/flaky",
            get(move || {
                let first = flaky.fetch_add(1, Ordering::Relaxed) == 0;
                async move {
                    if first {
                        (
                            StatusCode::SERVICE_UNAVAILABLE,
                            [("retry-after", "1")],
                            "later",
                        )
                            .into_response()
                    } else {
                        "ok".into_response()
                    }
                }
            }),
        )
        .route(
            "/dead",
            get(move || {
                dead.fetch_add(1, Ordering::Relaxed);
                async { StatusCode::INTERNAL_SERVER_ERROR }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, server).await });

    let breaker = CircuitBreakerLayer::builder()
        .consecutive_failures(4)
        .open_duration(Duration::from_secs(30))
        .build()?;
    let retry = RetryLayer::builder()
        .max_attempts(3)
        .first_delay(Duration::from_millis(10))
        .max_delay(Duration::from_secs(2))
        .replay(rebuild as fn(&Request<Body>) -> Option<Request<Body>>)
        .build()?;
    let mut client = ServiceBuilder::new()
        .layer(
            RateLimitLayer::builder()
                .rate(100, Duration::from_secs(1))
                .build()?,
        )
        .layer(breaker.clone())
        .layer(retry.clone())
        .layer(BulkheadLayer::builder().limit(8).build()?)
        .service(Client::builder(TokioExecutor::new()).build_http::<Body>());

    let get = |path: &str| {
        Request::get(format!("{base}{path}"))
            .body(Body::default())
            .unwrap()
    };

    // A 503 with Retry-After: 1 is retried after one second, not sooner.
    let start = Instant::now();
    let res = client.ready().await?.call(get("/flaky")).await?;
    println!("/flaky: {} after {:?}", res.status(), start.elapsed());
    assert_eq!(res.status(), StatusCode::OK);
    assert!(start.elapsed() >= Duration::from_secs(1));

    // A dead route: retries until the budget says stop, then the breaker opens.
    let mut outcomes = Vec::new();
    for _ in 0..6 {
        match client.ready().await?.call(get("/dead")).await {
            Ok(res) => outcomes.push(res.status().to_string()),
            Err(err) => match Rejected::find(&*err) {
                Some(r) => outcomes.push(format!("refused ({r})")),
                None => return Err(err),
            },
        }
    }
    for (i, o) in outcomes.iter().enumerate() {
        println!("/dead call {i}: {o}");
    }
    println!(
        "server saw {} calls; breaker {:?}; budget {} tokens, {} retries refused",
        hits.load(Ordering::Relaxed),
        breaker.state(),
        retry.budget().tokens(),
        retry.budget().throttled()
    );
    assert_eq!(breaker.state(), fusewire::State::Open);
    assert!(outcomes.last().unwrap().starts_with("refused"));
    assert!(retry.budget().throttled() > 0);
    Ok(())
}
