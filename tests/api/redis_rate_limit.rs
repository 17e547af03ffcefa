//! Rate limits shared through the real Redis: exact admission under concurrency, one limit for
//! several app instances, and the documented fail-open behaviour while Redis is down (on a
//! dedicated redis-server, so the machine's shared Redis is untouched): readiness stays 200 and
//! reports Redis down, unless `RAMPART_READINESS_REQUIRES` names it; then recovery.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rampart::prelude::*;
use rampart::testing::{TestApp, TestResponse};
use serde::Serialize;

#[derive(Debug, Serialize, Schema)]
struct Pong {
    pong: bool,
}

/// Ten per minute per user, shared across instances when Redis is configured.
#[endpoint(get = "/shared/ten", rate_limit = "10/min")]
async fn shared_ten() -> ApiResult<Pong> {
    Ok(Pong { pong: true })
}

fn redis_url() -> String {
    std::env::var("RAMPART_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

fn unique_prefix() -> String {
    format!("rampart-test-{}", uuid::Uuid::new_v4().simple())
}

async fn instance(url: &str, prefix: &str) -> TestApp {
    match TestApp::builder(Api::new().mount(shared_ten))
        .redis(url, prefix)
        .build()
        .await
    {
        Ok(app) => app,
        Err(error) => panic!("{error}"),
    }
}

async fn burst(app: &TestApp, token: &str, count: usize) -> Vec<TestResponse> {
    let mut tasks = Vec::new();
    for _ in 0..count {
        let request = app.get("/api/v1/shared/ten").bearer(token);
        tasks.push(tokio::spawn(request.send()));
    }
    let mut responses = Vec::new();
    for task in tasks {
        if let Ok(response) = task.await {
            responses.push(response);
        }
    }
    responses
}

fn count(responses: &[TestResponse], status: u16) -> usize {
    responses.iter().filter(|r| r.status() == status).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_requests_through_redis_admit_exactly_ten() {
    let app = instance(&redis_url(), &unique_prefix()).await;
    let token = app.token(&[]);
    let responses = burst(&app, &token, 50).await;
    assert_eq!((count(&responses, 200), count(&responses, 429)), (10, 40));
    let limited = responses.iter().find(|r| r.status() == 429);
    let retry_after: u64 = limited
        .and_then(|r| r.header("retry-after"))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    assert!((1..=6).contains(&retry_after), "{retry_after}");
    let admitted = responses.iter().find(|r| r.status() == 200);
    assert!(
        admitted
            .and_then(|r| r.header("ratelimit"))
            .is_some_and(|v| v.starts_with("\"default\";r="))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_on_one_redis_share_one_limit() {
    let prefix = unique_prefix();
    let (first, second) = (
        instance(&redis_url(), &prefix).await,
        instance(&redis_url(), &prefix).await,
    );
    let user = uuid::Uuid::now_v7();
    let (token_a, token_b) = (first.token_for(user, &[]), second.token_for(user, &[]));
    let (a, b) = tokio::join!(burst(&first, &token_a, 25), burst(&second, &token_b, 25));
    assert_eq!(
        count(&a, 200) + count(&b, 200),
        10,
        "one limit across both instances"
    );
    assert_eq!(count(&a, 429) + count(&b, 429), 40);
    // Another app (another prefix) does not share it.
    let other = instance(&redis_url(), &unique_prefix()).await;
    assert_eq!(
        other
            .get("/api/v1/shared/ten")
            .bearer(&other.token_for(user, &[]))
            .send()
            .await
            .status(),
        200
    );
}

/// A redis-server of the test's own, on a free port.
struct OwnRedis {
    port: u16,
    child: Option<Child>,
}

impl OwnRedis {
    fn start_on(port: u16) -> Self {
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("redis-server is required for this test: {e}"));
        let deadline = Instant::now() + Duration::from_secs(5);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Self {
            port,
            child: Some(child),
        }
    }

    fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap_or(56379);
        Self::start_on(port)
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_redis_is_down_limits_fail_open_and_come_back_with_it() {
    let mut redis = OwnRedis::start();
    let app = instance(&redis.url(), &unique_prefix()).await;
    let token = app.token(&[]);
    for _ in 0..10 {
        assert_eq!(
            app.get("/api/v1/shared/ten")
                .bearer(&token)
                .send()
                .await
                .status(),
            200
        );
    }
    assert_eq!(
        app.get("/api/v1/shared/ten")
            .bearer(&token)
            .send()
            .await
            .status(),
        429
    );
    let ready = app.get("/health/ready").send().await;
    assert_eq!(ready.status(), 200);
    assert_eq!(ready.json()["data"]["checks"]["redis"], "up");
    // A second instance whose readiness requires Redis.
    let strict = match TestApp::builder(Api::new().mount(shared_ten))
        .redis(redis.url(), unique_prefix())
        .configure(|config| {
            config.readiness_requires = vec![rampart::health::SharedDependency::Redis];
        })
        .build()
        .await
    {
        Ok(app) => app,
        Err(error) => panic!("{error}"),
    };
    assert_eq!(strict.get("/health/ready").send().await.status(), 200);

    redis.stop();
    // Documented behaviour: admitted (fail open), no RateLimit header, and readiness 200 with
    // Redis reported down: a Redis outage must not drain every instance at once.
    let during = app.get("/api/v1/shared/ten").bearer(&token).send().await;
    assert_eq!(during.status(), 200, "{}", during.text());
    assert_eq!(during.header("ratelimit"), None);
    assert_eq!(
        during.header("ratelimit-policy"),
        Some("\"default\";q=10;w=60")
    );
    let ready = app.get("/health/ready").send().await;
    assert_eq!(ready.status(), 200, "{}", ready.text());
    assert_eq!(ready.json()["data"]["status"], "ready");
    assert_eq!(
        ready.json()["data"]["checks"]["redis"],
        "down",
        "{}",
        ready.text()
    );
    let metrics = app.get("/metrics").send().await.text();
    assert!(
        metrics.contains("rampart_dependency_up{dependency=\"redis\"} 0"),
        "{metrics}"
    );
    // Where the operator asked for it, readiness fails and names the dependency.
    let refused = strict.get("/health/ready").send().await;
    crate::common::assert_error(&refused, 503, "UNAVAILABLE");
    assert!(refused.header("retry-after").is_some());
    assert_eq!(
        refused.json()["error"]["details"][0]["field"],
        "redis",
        "{}",
        refused.text()
    );
    let metrics = app.get("/metrics").send().await.text();
    assert!(
        metrics.contains("rate_limit_backend_errors_total"),
        "{metrics}"
    );

    // Same port, empty state: the app reconnects by itself and limits again.
    let _restarted = OwnRedis::start_on(redis.port);
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut limited_again = false;
    while Instant::now() < deadline && !limited_again {
        let response = app.get("/api/v1/shared/ten").bearer(&token).send().await;
        limited_again = response.status() == 429;
        if response.header("ratelimit").is_none() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    assert!(limited_again, "limits apply again after Redis returns");
    let ready = app.get("/health/ready").send().await;
    assert_eq!(
        ready.json()["data"]["checks"]["redis"],
        "up",
        "{}",
        ready.text()
    );
    let strict_ready = strict.get("/health/ready").send().await;
    assert_eq!(strict_ready.status(), 200, "{}", strict_ready.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_starts_while_redis_is_down_and_limits_once_it_answers() {
    // A free port with nothing listening: Redis is down when the instance starts.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(56380);
    let url = format!("redis://127.0.0.1:{port}");
    let app = instance(&url, &unique_prefix()).await;
    let token = app.token(&[]);
    let admitted = app.get("/api/v1/shared/ten").bearer(&token).send().await;
    assert_eq!(admitted.status(), 200, "fail open: {}", admitted.text());
    assert_eq!(admitted.header("ratelimit"), None);
    let ready = app.get("/health/ready").send().await;
    assert_eq!(ready.status(), 200, "{}", ready.text());
    assert_eq!(ready.json()["data"]["checks"]["redis"], "down");

    let _redis = OwnRedis::start_on(port);
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut limited = false;
    while Instant::now() < deadline && !limited {
        let response = app.get("/api/v1/shared/ten").bearer(&token).send().await;
        limited = response.header("ratelimit").is_some();
        if !limited {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    assert!(
        limited,
        "limits apply once Redis answers, without a restart"
    );
}
