//! One rule for readiness: `/health/ready` fails (503) for what is wrong with this instance
//! (draining), whatever its dependencies say; it reports each configured shared dependency in
//! its body. Outages of the dependencies themselves are in `database.rs` (PostgreSQL, primary
//! and replica) and `redis_rate_limit.rs` (Redis).

use rampart::testing::{BACKENDS, TestApp};

use crate::common::assert_error;

#[tokio::test]
async fn a_ready_instance_reports_its_dependencies_in_the_envelope() {
    for backend in BACKENDS {
        let app = crate::common::taskboard(backend).await;
        let ready = app.get("/health/ready").send().await;
        assert_eq!(ready.status(), 200, "{backend:?}: {}", ready.text());
        let body = ready.json();
        assert_eq!(body["error"], serde_json::Value::Null);
        assert_eq!(body["data"]["status"], "ready");
        assert_eq!(
            body["data"]["checks"],
            serde_json::json!({"database": "up"}),
            "{backend:?}: no replica and no Redis configured, so none reported"
        );
    }
    let bare = TestApp::builder(rampart::Api::new()).build().await;
    let bare = bare.unwrap_or_else(|e| panic!("{e}"));
    let ready = bare.get("/health/ready").send().await;
    assert_eq!(ready.status(), 200);
    assert_eq!(ready.json()["data"]["checks"], serde_json::json!({}));
}

#[tokio::test]
async fn a_draining_instance_is_not_ready_whatever_its_dependencies_say() {
    for backend in BACKENDS {
        for requires in [vec![], vec![rampart::health::SharedDependency::Database]] {
            let app = crate::common::taskboard_builder()
                .backend(backend)
                .migrations(crate::taskboard::MIGRATIONS)
                .configure(move |config| config.readiness_requires = requires)
                .build()
                .await;
            let app = app.unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(app.get("/health/ready").send().await.status(), 200);
            app.app().begin_shutdown();
            let ready = app.get("/health/ready").send().await;
            assert_error(&ready, 503, "UNAVAILABLE");
            assert!(ready.header("retry-after").is_some());
            assert_eq!(
                app.get("/health/live").send().await.status(),
                200,
                "{backend:?}: still alive while draining"
            );
        }
    }
}
