//! Per-endpoint rate limits through the real router: exact admission under concurrency,
//! separate buckets per user and per endpoint, client IPs that `X-Forwarded-For` cannot spoof,
//! the headers of the ratelimit-headers draft, recovery after the window, deployment scaling.

use std::net::SocketAddr;
use std::time::Duration;

use rampart::prelude::*;
use rampart::testing::TestApp;
use serde::Serialize;

#[derive(Debug, Serialize, Schema)]
struct Pong {
    pong: bool,
}

/// Ten per minute per user.
#[endpoint(get = "/limited/ten", rate_limit = "10/min")]
async fn ten_per_minute() -> ApiResult<Pong> {
    Ok(Pong { pong: true })
}

/// Another endpoint with its own quota.
#[endpoint(get = "/limited/other", rate_limit = "10/min")]
async fn other_ten_per_minute() -> ApiResult<Pong> {
    Ok(Pong { pong: true })
}

/// Anonymous callers, keyed by client IP.
#[endpoint(get = "/limited/public", public, rate_limit = "3/hour")]
async fn public_three_per_hour() -> ApiResult<Pong> {
    Ok(Pong { pong: true })
}

/// Two per second, bursts of two.
#[endpoint(get = "/limited/fast", public, rate_limit = "2/sec", burst = 2)]
async fn two_per_second() -> ApiResult<Pong> {
    Ok(Pong { pong: true })
}

async fn limited_app(configure: impl FnOnce(&mut rampart::Config) + Send + 'static) -> TestApp {
    let api = Api::new()
        .mount(ten_per_minute)
        .mount(other_ten_per_minute)
        .mount(public_three_per_hour)
        .mount(two_per_second);
    match TestApp::builder(api).configure(configure).build().await {
        Ok(app) => app,
        Err(error) => panic!("{error}"),
    }
}

fn ipnet_loopback() -> rampart::rate_limit::IpNet {
    "127.0.0.0/8".parse().unwrap_or_else(|e| panic!("{e}"))
}

fn peer(text: &str) -> SocketAddr {
    text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
}

#[tokio::test]
async fn fifty_concurrent_requests_against_a_quota_of_ten_admit_exactly_ten() {
    let app = limited_app(|_| {}).await;
    let token = app.token(&[]);
    let requests = (0..50).map(|_| app.get("/api/v1/limited/ten").bearer(&token).send());
    let responses = futures_join_all(requests).await;
    let ok: Vec<_> = responses.iter().filter(|r| r.status() == 200).collect();
    let limited: Vec<_> = responses.iter().filter(|r| r.status() == 429).collect();
    assert_eq!((ok.len(), limited.len()), (10, 40));
    for response in &ok {
        assert_eq!(
            response.header("ratelimit-policy"),
            Some("\"default\";q=10;w=60")
        );
        assert!(
            response
                .header("ratelimit")
                .is_some_and(|v| v.starts_with("\"default\";r=")),
            "{:?}",
            response.header("ratelimit")
        );
    }
    for response in &limited {
        crate::common::assert_error(response, 429, "RATE_LIMITED");
        let retry_after: u64 = response
            .header("retry-after")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        assert!(
            (1..=6).contains(&retry_after),
            "one request comes back every 6 s: {retry_after}"
        );
        assert_eq!(
            response.header("ratelimit"),
            Some(format!("\"default\";r=0;t={retry_after}").as_str())
        );
        assert_eq!(
            response.header("ratelimit-policy"),
            Some("\"default\";q=10;w=60")
        );
    }
}

#[tokio::test]
async fn quotas_are_separate_per_user_and_per_endpoint() {
    let app = limited_app(|_| {}).await;
    let (alice, bob) = (app.token(&[]), app.token(&[]));
    for _ in 0..10 {
        assert_eq!(
            app.get("/api/v1/limited/ten")
                .bearer(&alice)
                .send()
                .await
                .status(),
            200
        );
    }
    assert_eq!(
        app.get("/api/v1/limited/ten")
            .bearer(&alice)
            .send()
            .await
            .status(),
        429
    );
    assert_eq!(
        app.get("/api/v1/limited/ten")
            .bearer(&bob)
            .send()
            .await
            .status(),
        200,
        "bob has his own bucket"
    );
    assert_eq!(
        app.get("/api/v1/limited/other")
            .bearer(&alice)
            .send()
            .await
            .status(),
        200,
        "each endpoint has its own quota"
    );
    // A user keeps their bucket whatever address they come from.
    let moved = app
        .get("/api/v1/limited/ten")
        .bearer(&alice)
        .peer(peer("198.51.100.20:1234"))
        .send()
        .await;
    assert_eq!(moved.status(), 429);
}

#[tokio::test]
async fn a_spoofed_forwarded_for_resets_nothing() {
    // No trusted proxy: the header is ignored, the peer address counts.
    let app = limited_app(|_| {}).await;
    for i in 0..3 {
        let response = app
            .get("/api/v1/limited/public")
            .header("x-forwarded-for", &format!("203.0.113.{i}"))
            .send()
            .await;
        assert_eq!(response.status(), 200);
    }
    let spoofed = app
        .get("/api/v1/limited/public")
        .header("x-forwarded-for", "203.0.113.99")
        .send()
        .await;
    assert_eq!(spoofed.status(), 429);
    assert_eq!(
        app.get("/api/v1/limited/public")
            .peer(peer("192.0.2.50:1000"))
            .send()
            .await
            .status(),
        200,
        "another client"
    );

    // Behind a trusted proxy: the rightmost untrusted hop counts; hops added on the left do not.
    let proxied = limited_app(|config| config.trusted_proxies = vec![ipnet_loopback()]).await;
    for i in 0..3 {
        let forwarded = format!("10.9.9.{i}, 198.51.100.7");
        assert_eq!(
            proxied
                .get("/api/v1/limited/public")
                .header("x-forwarded-for", &forwarded)
                .send()
                .await
                .status(),
            200
        );
    }
    let rotated = proxied
        .get("/api/v1/limited/public")
        .header("x-forwarded-for", "1.1.1.1, 198.51.100.7")
        .send()
        .await;
    assert_eq!(rotated.status(), 429);
    let other_client = proxied
        .get("/api/v1/limited/public")
        .header("x-forwarded-for", "198.51.100.8")
        .send()
        .await;
    assert_eq!(other_client.status(), 200);
}

#[tokio::test]
async fn the_quota_comes_back_after_the_window() {
    let app = limited_app(|_| {}).await;
    assert_eq!(app.get("/api/v1/limited/fast").send().await.status(), 200);
    assert_eq!(app.get("/api/v1/limited/fast").send().await.status(), 200);
    let limited = app.get("/api/v1/limited/fast").send().await;
    assert_eq!(limited.status(), 429);
    assert_eq!(limited.header("retry-after"), Some("1"));
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(app.get("/api/v1/limited/fast").send().await.status(), 200);
}

#[tokio::test]
async fn a_deployment_can_raise_limits_without_code_changes() {
    let app = limited_app(|config| config.rate_limit_multiplier = 5.0).await;
    let token = app.token(&[]);
    for _ in 0..50 {
        assert_eq!(
            app.get("/api/v1/limited/ten")
                .bearer(&token)
                .send()
                .await
                .status(),
            200
        );
    }
    let response = app.get("/api/v1/limited/ten").bearer(&token).send().await;
    assert_eq!(response.status(), 429);
    assert_eq!(
        response.header("ratelimit-policy"),
        Some("\"default\";q=50;w=60")
    );
}

#[test]
fn limits_are_documented() {
    let api = Api::new().mount(ten_per_minute).mount(two_per_second);
    let doc = serde_json::to_value(api.openapi()).unwrap_or_default();
    let operation = &doc["paths"]["/api/v1/limited/ten"]["get"];
    let limited = &operation["responses"]["429"];
    assert!(
        limited["description"]
            .as_str()
            .is_some_and(|d| d.contains("10 requests per 60 s"))
    );
    for header in ["Retry-After", "RateLimit", "RateLimit-Policy"] {
        assert!(limited["headers"][header].is_object(), "{header}");
    }
    assert!(operation["responses"]["200"]["headers"]["RateLimit"].is_object());
    assert_eq!(operation["x-rate-limit"]["limit"], 10);
    assert_eq!(operation["x-rate-limit"]["window_seconds"], 60);
    assert_eq!(
        doc["paths"]["/api/v1/limited/fast"]["get"]["x-rate-limit"]["burst"],
        2
    );
}

/// Polls every future concurrently on this task (no extra dependency for `join_all`).
async fn futures_join_all<F: std::future::Future>(
    futures: impl Iterator<Item = F>,
) -> Vec<F::Output> {
    let handles: Vec<_> = futures.map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = (0..handles.len()).map(|_| None).collect();
    let mut handles: Vec<Option<_>> = handles.into_iter().map(Some).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (slot, output) in handles.iter_mut().zip(outputs.iter_mut()) {
            if let Some(future) = slot {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(value) => {
                        *output = Some(value);
                        *slot = None;
                    }
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().flatten().collect()
}
