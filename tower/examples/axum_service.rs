//! An axum service that protects its upstream call with fusewire layers,
//! and sheds its own excess traffic with a 429 and a `Retry-After`.
//!
//! It starts a flaky upstream and the service on 127.0.0.1 (port 0), makes
//! a few calls to itself, prints what happened and exits.
//!
//!     cargo run -p fusewire-tower --example axum_service

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::error_handling::HandleErrorLayer;
use axum::extract::State;
use axum::http::{Request, Response, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use bytes::Bytes;
use fusewire_tower::{BoxError, CircuitBreakerLayer, RateLimitLayer, Rejected, RetryLayer};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tokio::net::TcpListener;
use tower::{Service, ServiceBuilder, ServiceExt};

type Body0 = Full<Bytes>;
type Rebuild = fn(&Request<Body0>) -> Option<Request<Body0>>;
type Upstream = fusewire_tower::CircuitBreaker<
    fusewire_tower::Retry<
        Client<hyper_util::client::legacy::connect::HttpConnector, Body0>,
        fusewire_tower::HttpClassifier,
        fusewire_tower::MonotonicClock,
        Rebuild,
    >,
>;

/// Requests with a buffered body are not `Clone`; the retry rebuilds them.
fn rebuild(req: &Request<Body0>) -> Option<Request<Body0>> {
    let mut again = Request::new(req.body().clone());
    *again.method_mut() = req.method().clone();
    *again.uri_mut() = req.uri().clone();
    *again.headers_mut() = req.headers().clone();
    Some(again)
}

/// A refusal becomes its status and `Retry-After`; any other error a 502.
async fn refusal(err: BoxError) -> Response<Body> {
    match Rejected::find(&*err) {
        Some(r) => {
            let mut res = (r.status(), r.to_string()).into_response();
            if let Some(wait) = r.retry_after_header() {
                res.headers_mut().insert(http::header::RETRY_AFTER, wait);
            }
            res
        }
        None => (StatusCode::BAD_GATEWAY, err.to_string()).into_response(),
    }
}

async fn serve(router: Router) -> Result<String, BoxError> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, router).await });
    Ok(format!("http://{addr}"))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), BoxError> {
    // The upstream: every third answer is a 503.
    let hits = Arc::new(AtomicU32::new(0));
    let counter = hits.clone();
    let upstream = serve(Router::new().route(
        "/price",
        get(move || {
            let n = counter.fetch_add(1, Ordering::Relaxed);
            async move {
                if n % 3 == 1 {
                    (StatusCode::SERVICE_UNAVAILABLE, "busy").into_response()
                } else {
                    "42".into_response()
                }
            }
        }),
    ))
    .await?;

    // The upstream call, protected: retries (with the budget) inside a
    // breaker that opens when the upstream keeps failing.
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let protected: Upstream = ServiceBuilder::new()
        .layer(CircuitBreakerLayer::builder().build()?)
        .layer(
            RetryLayer::builder()
                .first_delay(Duration::from_millis(20))
                .replay(rebuild as Rebuild)
                .build()?,
        )
        .service(client);

    let url = format!("{upstream}/price");
    let app = Router::new()
        .route(
            "/quote",
            get(|State(mut up): State<Upstream>| async move {
                let req = Request::get(url).body(Full::new(Bytes::new())).unwrap();
                match call(&mut up, req).await {
                    Ok(body) => (StatusCode::OK, format!("quote {body}")).into_response(),
                    Err(err) => refusal(err).await,
                }
            }),
        )
        .with_state(protected)
        // This service's own limit: 5 calls at once, then one each 12 s.
        .layer(
            ServiceBuilder::new()
                .layer(HandleErrorLayer::new(refusal))
                .layer(
                    RateLimitLayer::builder()
                        .rate(5, Duration::from_secs(60))
                        .build()?,
                ),
        );
    let base = serve(app).await?;

    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let mut statuses = Vec::new();
    for i in 0..7 {
        let res = client.get(format!("{base}/quote").parse()?).await?;
        let status = res.status();
        let wait = res.headers().get("retry-after").cloned();
        let body = res.into_body().collect().await?.to_bytes();
        println!(
            "call {i}: {status} {:?} retry-after={wait:?}",
            String::from_utf8_lossy(&body)
        );
        statuses.push(status);
    }
    // Five quotes (the upstream's 503s were retried away), then shed.
    assert!(
        statuses[..5].iter().all(|s| *s == StatusCode::OK),
        "{statuses:?}"
    );
    assert!(
        statuses[5..]
            .iter()
            .all(|s| *s == StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
    println!(
        "upstream saw {} calls for 5 quotes",
        hits.load(Ordering::Relaxed)
    );
    Ok(())
}

async fn call<S>(svc: &mut S, req: Request<Full<Bytes>>) -> Result<String, BoxError>
where
    S: Service<Request<Full<Bytes>>, Response = Response<hyper::body::Incoming>, Error = BoxError>,
{
    let res = svc.ready().await?.call(req).await?;
    if !res.status().is_success() {
        return Err(format!("upstream answered {}", res.status()).into());
    }
    Ok(String::from_utf8_lossy(&res.into_body().collect().await?.to_bytes()).into_owned())
}
