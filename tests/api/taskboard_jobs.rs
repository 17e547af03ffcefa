//! The taskboard's jobs through its real router, on SQLite and PostgreSQL (the in-process
//! queue; `jobs_redis` runs the same machinery on Redis): the welcome mail enqueued inside the
//! registration's transaction, exports answered 202 and built by a worker under the owner's
//! captured scope, owner scoping of every id parameter, and the dead-letter endpoints.

use axum::http::Method;
use rampart::Store;
use rampart::jobs::{JobId, JobRecord};
use rampart::resource::{Target, Value};
use rampart::testing::{BACKENDS, TestApp, TestBackend};
use serde_json::json;
use uuid::Uuid;

use crate::common::{assert_error, taskboard};
use crate::taskboard::jobs::{Mail, Welcome, send_welcome};

const PASSWORD: &str = "correct horse battery staple";

/// A member's id and access token.
async fn member(app: &TestApp) -> (Uuid, String) {
    let email = format!("m.{}@example.com", Uuid::new_v4().simple());
    let registered = app
        .post("/api/v1/auth/register")
        .json(&json!({"email": email, "password": PASSWORD, "display_name": "M"}))
        .send()
        .await;
    assert_eq!(registered.status(), 201, "{}", registered.text());
    let id = registered.json()["data"]["id"]
        .as_str()
        .and_then(|id| Uuid::parse_str(id).ok())
        .unwrap_or_else(|| panic!("an id: {}", registered.text()));
    let login = app
        .post("/api/v1/auth/login")
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await;
    let token = login.json()["data"]["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    (id, token)
}

async fn admin(app: &TestApp) -> String {
    let email = format!("a.{}@example.com", Uuid::new_v4().simple());
    rampart::identity::ensure_admin(app.app(), rampart::rbac!(), &email, PASSWORD.to_owned())
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let login = app
        .post("/api/v1/auth/login")
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await;
    login.json()["data"]["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

async fn welcome_mails(app: &TestApp, user: Uuid) -> i64 {
    let db = app
        .app()
        .db()
        .cloned()
        .unwrap_or_else(|| panic!("a database"));
    Store::<Mail>::new(db, app.app().cursor_key().clone())
        .fetch_scalar(
            "test.mails",
            Target::Write,
            "SELECT COALESCE(MAX(welcome_mails), 0) FROM mail_counts WHERE user_id = $1",
            vec![Value::Uuid(user)],
        )
        .await
        .unwrap_or_else(|e| panic!("{e:?}"))
}

async fn all_mails(app: &TestApp) -> i64 {
    let db = app
        .app()
        .db()
        .cloned()
        .unwrap_or_else(|| panic!("a database"));
    Store::<Mail>::new(db, app.app().cursor_key().clone())
        .fetch_scalar(
            "test.mails.all",
            Target::Write,
            "SELECT COUNT(*) FROM mail_outbox",
            vec![],
        )
        .await
        .unwrap_or_else(|e| panic!("{e:?}"))
}

async fn drain(app: &TestApp) -> rampart::jobs::WorkerReport {
    app.drain_jobs().await.unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test]
async fn registration_enqueues_one_welcome_mail_in_its_transaction() {
    for backend in BACKENDS {
        let app = taskboard(backend).await;
        let (user, _) = member(&app).await;
        // Committed with the account, run by the worker once.
        assert_eq!(
            welcome_mails(&app, user).await,
            0,
            "{backend:?}: not before a worker runs"
        );
        let report = drain(&app).await;
        assert!(report.done >= 1, "{backend:?}: {report:?}");
        assert_eq!(welcome_mails(&app, user).await, 1, "{backend:?}");
        // A registration that fails (the email is taken) enqueues nothing.
        let email = format!("dup.{}@example.com", Uuid::new_v4().simple());
        let body = json!({"email": email, "password": PASSWORD, "display_name": "D"});
        let first = app.post("/api/v1/auth/register").json(&body).send().await;
        assert_eq!(first.status(), 201);
        let again = app.post("/api/v1/auth/register").json(&body).send().await;
        assert_error(&again, 409, "CONFLICT");
        let created = Uuid::parse_str(first.json()["data"]["id"].as_str().unwrap_or_default())
            .unwrap_or_else(|e| panic!("{e}"));
        drain(&app).await;
        assert_eq!(welcome_mails(&app, created).await, 1, "{backend:?}");
        assert_eq!(
            all_mails(&app).await,
            2,
            "{backend:?}: none for the refused registration"
        );
    }
}

/// The welcome mail's counter is not idempotent by itself: a second welcome job counts a
/// second mail. A redelivery of one job (a worker that died after the effect, before
/// acknowledging) does not: `JobCtx::once` keeps the mail and its count to one.
#[tokio::test]
async fn a_redelivered_welcome_job_counts_its_mail_once() {
    use std::sync::Arc;

    use rampart::Job;
    use rampart::jobs::{JobServices, JobSet, Jobs, MemoryQueue, Queue, Worker, WorkerSettings};

    for backend in BACKENDS {
        let app = taskboard(backend).await;
        let (user, _) = member(&app).await;
        drain(&app).await;
        assert_eq!(welcome_mails(&app, user).await, 1, "{backend:?}");
        let jobs = app.app().jobs().unwrap_or_else(|| panic!("jobs"));
        let input = Welcome { user_id: user };
        let id = jobs
            .enqueue(send_welcome, input)
            .await
            .unwrap_or_else(|e| panic!("{e:?}"));
        drain(&app).await;
        assert_eq!(
            welcome_mails(&app, user).await,
            2,
            "{backend:?}: a second job is a second mail"
        );
        // The second job once more, under its id, through a queue of its own.
        let record = JobRecord {
            id,
            job: send_welcome.spec().name.into(),
            queue: send_welcome.spec().queue.into(),
            payload: serde_json::to_string(&Welcome { user_id: user })
                .unwrap_or_else(|e| panic!("{e}")),
            attempt: 1,
            enqueued_at_ms: 0,
            request_id: None,
            traceparent: None,
            scope: None,
            last_error: None,
        };
        let queue: Arc<dyn Queue> = Arc::new(MemoryQueue::new());
        queue
            .push(&record, None, None)
            .await
            .unwrap_or_else(|e| panic!("{e:?}"));
        let key = app.app().cursor_key().clone();
        let services = JobServices::new(
            app.app().db().cloned(),
            app.app().dependencies().clone(),
            key.clone(),
            Jobs::new(queue, JobSet::new().job(send_welcome), key),
        );
        let watched = services.clone();
        let report = Worker::new(services, WorkerSettings::default())
            .run(async move {
                // Until the queue is empty again (bounded: 10 s).
                for _ in 0..200 {
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    if rampart::jobs::is_idle(&watched).await {
                        break;
                    }
                }
            })
            .await;
        assert_eq!(report.done, 1, "{backend:?}: the redelivery succeeds");
        assert_eq!(
            welcome_mails(&app, user).await,
            2,
            "{backend:?}: the redelivery counted nothing"
        );
    }
}

/// A project of `token`'s owner with two tasks; its id.
async fn project_with_tasks(app: &TestApp, token: &str) -> String {
    let created = app
        .post("/api/v1/projects")
        .bearer(token)
        .json(&json!({"name": format!("p-{}", Uuid::new_v4().simple())}))
        .send()
        .await;
    assert_eq!(created.status(), 201, "{}", created.text());
    let id = created.json()["data"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    for title in ["one", "two"] {
        let task = app
            .post(&format!("/api/v1/projects/{id}/tasks"))
            .bearer(token)
            .json(&json!({"title": title}))
            .send()
            .await;
        assert_eq!(task.status(), 201, "{}", task.text());
    }
    id
}

#[tokio::test]
async fn an_export_is_accepted_then_built_by_the_worker() {
    for backend in BACKENDS {
        exports_on(backend).await;
    }
}

async fn exports_on(backend: TestBackend) {
    let app = taskboard(backend).await;
    let (_, owner) = member(&app).await;
    let (_, other) = member(&app).await;
    let project = project_with_tasks(&app, &owner).await;

    let accepted = app
        .post(&format!("/api/v1/projects/{project}/exports"))
        .bearer(&owner)
        .send()
        .await;
    assert_eq!(accepted.status(), 202, "{backend:?}: {}", accepted.text());
    let export = accepted.json()["data"].clone();
    assert_eq!(export["status"], "queued");
    assert_eq!(export["result"], serde_json::Value::Null);
    let export_id = export["id"].as_str().unwrap_or_default().to_owned();
    let location = accepted.header("location").unwrap_or_default().to_owned();
    assert_eq!(
        location,
        format!("/api/v1/projects/{project}/exports/{export_id}")
    );

    // What the 202 answered is what a read shows.
    let read = app.get(&location).bearer(&owner).send().await;
    assert_eq!(read.status(), 200);
    assert_eq!(read.json()["data"], export);

    // Owner scoping on every id parameter: another member sees neither the project's exports
    // nor the export; the export under another project of the owner is not found either.
    assert_error(
        &app.post(&format!("/api/v1/projects/{project}/exports"))
            .bearer(&other)
            .send()
            .await,
        404,
        "NOT_FOUND",
    );
    assert_error(
        &app.get(&location).bearer(&other).send().await,
        404,
        "NOT_FOUND",
    );
    let second = project_with_tasks(&app, &owner).await;
    assert_error(
        &app.get(&format!("/api/v1/projects/{second}/exports/{export_id}"))
            .bearer(&owner)
            .send()
            .await,
        404,
        "NOT_FOUND",
    );
    assert_error(
        &app.get(&format!(
            "/api/v1/projects/{}/exports/{export_id}",
            Uuid::now_v7()
        ))
        .bearer(&owner)
        .send()
        .await,
        404,
        "NOT_FOUND",
    );

    let report = drain(&app).await;
    // Three welcome mails (owner, other... the two members) and the export.
    assert!(report.done >= 1, "{backend:?}: {report:?}");
    assert_eq!(report.dead, 0, "{backend:?}: {report:?}");
    let done = app.get(&location).bearer(&owner).send().await;
    assert_eq!(done.status(), 200);
    let data = &done.json()["data"];
    assert_eq!(data["status"], "done", "{backend:?}: {data}");
    assert_eq!(data["result"]["project"]["id"], project.as_str());
    let titles: Vec<&str> = data["result"]["tasks"]
        .as_array()
        .map(|tasks| tasks.iter().filter_map(|t| t["title"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(titles, ["one", "two"], "{backend:?}");
    assert!(data["version"].as_i64().unwrap_or(0) > export["version"].as_i64().unwrap_or(0));
}

#[tokio::test]
async fn administrators_list_retry_and_discard_dead_jobs() {
    let app = taskboard(TestBackend::Sqlite).await;
    let admin = admin(&app).await;
    let (_, member) = member(&app).await;
    drain(&app).await;
    assert_error(
        &app.get("/api/v1/admin/jobs/dead")
            .bearer(&member)
            .send()
            .await,
        403,
        "FORBIDDEN",
    );
    // An export job whose input does not decode: it goes straight to the dead-letter queue.
    let jobs = app
        .app()
        .jobs()
        .unwrap_or_else(|| panic!("jobs are declared"));
    let id = JobId::new();
    let record = JobRecord {
        id,
        job: "export_project".into(),
        queue: "exports".into(),
        payload: "{\"not\":\"an export\"}".into(),
        attempt: 1,
        enqueued_at_ms: 0,
        request_id: None,
        traceparent: None,
        scope: None,
        last_error: None,
    };
    jobs.queue()
        .push(&record, None, None)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let report = drain(&app).await;
    assert_eq!(report.dead, 1);

    let listed = app
        .get("/api/v1/admin/jobs/dead")
        .bearer(&admin)
        .send()
        .await;
    assert_eq!(listed.status(), 200, "{}", listed.text());
    let items = listed.json()["data"]["items"].clone();
    assert_eq!(items.as_array().map(Vec::len), Some(1), "{items}");
    assert_eq!(items[0]["id"], id.to_string());
    assert_eq!(items[0]["job"], "export_project");
    assert!(
        items[0]["error"]
            .as_str()
            .unwrap_or_default()
            .contains("does not decode")
    );
    assert!(
        items[0].get("record").is_none(),
        "no payload in the listing"
    );

    // Retried, it runs again (and dies again: the input still does not decode).
    let path = format!("/api/v1/admin/jobs/dead/{id}");
    let retried = app
        .post(&format!("{path}/retry"))
        .bearer(&admin)
        .send()
        .await;
    assert_eq!(retried.status(), 204, "{}", retried.text());
    assert_error(
        &app.post(&format!("{path}/retry"))
            .bearer(&admin)
            .send()
            .await,
        404,
        "NOT_FOUND",
    );
    assert_eq!(drain(&app).await.dead, 1);
    let discarded = app
        .request(axum::http::Method::DELETE, &path)
        .bearer(&admin)
        .send()
        .await;
    assert_eq!(discarded.status(), 204);
    assert_error(
        &app.request(axum::http::Method::DELETE, &path)
            .bearer(&admin)
            .send()
            .await,
        404,
        "NOT_FOUND",
    );
    let empty = app
        .get("/api/v1/admin/jobs/dead")
        .bearer(&admin)
        .send()
        .await;
    assert_eq!(empty.json()["data"]["items"], json!([]));
}

/// What a webhook receiver got: each request's headers and body.
type Received = std::sync::Arc<std::sync::Mutex<Vec<(axum::http::HeaderMap, Vec<u8>)>>>;

/// A real webhook receiver on 127.0.0.1 answering `statuses` in turn, then 200; its URL.
async fn webhook_receiver(statuses: Vec<u16>) -> (String, Received) {
    let received: Received = Default::default();
    let answers = std::sync::Arc::new(std::sync::Mutex::new(statuses.into_iter()));
    let router = axum::Router::new().route(
        "/hook",
        axum::routing::post({
            let received = received.clone();
            move |headers: axum::http::HeaderMap, body: axum::body::Bytes| async move {
                received
                    .lock()
                    .unwrap_or_else(|e| panic!("{e}"))
                    .push((headers, body.to_vec()));
                let status = answers
                    .lock()
                    .unwrap_or_else(|e| panic!("{e}"))
                    .next()
                    .unwrap_or(200);
                axum::http::StatusCode::from_u16(status).unwrap_or_else(|e| panic!("{e}"))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("bind: {e}"));
    let address = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    (format!("http://{address}/hook?k=v"), received)
}

const WEBHOOK_SECRET: &[u8] = b"webhook-test-secret-of-at-least-32-bytes";

/// The taskboard with a webhook client that may call loopback (what
/// `TASKBOARD_WEBHOOK_ALLOW_LOOPBACK=true` gives) and a known signing key.
async fn taskboard_with_webhooks(backend: TestBackend) -> TestApp {
    crate::common::taskboard_builder()
        .backend(backend)
        .migrations(crate::taskboard::MIGRATIONS)
        .with_identity()
        .dep(
            rampart::client::HttpClient::builder()
                .allow_loopback(true)
                .build()
                .unwrap_or_else(|e| panic!("{e}")),
        )
        .dep(crate::taskboard::webhooks::WebhookSigner::new(
            WEBHOOK_SECRET,
        ))
        .build()
        .await
        .unwrap_or_else(|e| panic!("cannot build the taskboard on {backend:?}: {e}"))
}

/// Whether `header` is `t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">` under the test key.
/// The key `project`'s webhooks are signed with, as its owner reads it.
async fn webhook_key(app: &TestApp, owner: &str, project: &str) -> String {
    let answer = app
        .get(&format!("/api/v1/projects/{project}/webhook-secret"))
        .bearer(owner)
        .send()
        .await;
    assert_eq!(answer.status(), 200, "{}", answer.text());
    assert_eq!(answer.header("cache-control"), Some("no-store"));
    answer.json()["data"]["secret"]
        .as_str()
        .unwrap_or_else(|| panic!("no secret: {}", answer.text()))
        .to_owned()
}

fn signature_is_valid(header: &str, body: &[u8], key: &str) -> bool {
    use hmac::Mac as _;
    let Some((t, v1)) = header
        .strip_prefix("t=")
        .and_then(|rest| rest.split_once(",v1="))
    else {
        return false;
    };
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes())
        .unwrap_or_else(|e| panic!("{e}"));
    mac.update(format!("{t}.").as_bytes());
    mac.update(body);
    let expected: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    t.parse::<i64>().is_ok() && v1 == expected
}

/// A new project of `token`'s, its id.
async fn new_project(app: &TestApp, token: &str) -> String {
    let created = app
        .post("/api/v1/projects")
        .bearer(token)
        .json(&json!({"name": format!("p-{}", Uuid::new_v4().simple())}))
        .send()
        .await;
    assert_eq!(created.status(), 201, "{}", created.text());
    created.json()["data"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// `PUT /projects/{project}/webhook` with `{"url": url}`.
async fn put_webhook(
    app: &TestApp,
    token: &str,
    project: &str,
    url: serde_json::Value,
) -> rampart::testing::TestResponse {
    app.request(Method::PUT, &format!("/api/v1/projects/{project}/webhook"))
        .bearer(token)
        .json(&json!({ "url": url }))
        .send()
        .await
}

/// A new project of `token`'s whose webhook is `url`, its id.
async fn project_with_webhook(app: &TestApp, token: &str, url: &str) -> String {
    let project = new_project(app, token).await;
    let set = put_webhook(app, token, &project, json!(url)).await;
    assert_eq!(set.status(), 200, "{}", set.text());
    assert_eq!(set.json()["data"]["webhook_url"], url);
    project
}

const EXPORT_PARENT: &str = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

/// Asks for an export of `project` inside the caller's trace `EXPORT_PARENT` (asserting 202):
/// the export's id and the request's id.
async fn traced_export(app: &TestApp, owner: &str, project: &str) -> (String, String) {
    let accepted = app
        .post(&format!("/api/v1/projects/{project}/exports"))
        .bearer(owner)
        .header("traceparent", EXPORT_PARENT)
        .send()
        .await;
    assert_eq!(accepted.status(), 202, "{}", accepted.text());
    let export_id = accepted.json()["data"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let request_id = accepted
        .header("x-request-id")
        .unwrap_or_default()
        .to_owned();
    (export_id, request_id)
}

#[tokio::test]
async fn a_finished_export_is_posted_signed_to_the_projects_webhook() {
    for backend in BACKENDS {
        let (url, received) = webhook_receiver(Vec::new()).await;
        let app = taskboard_with_webhooks(backend).await;
        let (_, owner) = member(&app).await;

        // Only http(s) URLs of bounded length are accepted.
        let unhooked = new_project(&app, &owner).await;
        for bad in [
            "ftp://example.com/hook".to_owned(),
            "not a url".to_owned(),
            format!("https://example.com/{}", "a".repeat(2000)),
        ] {
            let refused = put_webhook(&app, &owner, &unhooked, json!(bad)).await;
            assert_error(&refused, 400, "VALIDATION_ERROR");
            assert_eq!(
                refused.json()["error"]["details"][0]["field"],
                "url",
                "{}",
                refused.text()
            );
        }

        let project = project_with_webhook(&app, &owner, &url).await;
        let (export_id, request_id) = traced_export(&app, &owner, &project).await;
        let report = drain(&app).await;
        assert_eq!(report.dead, 0, "{backend:?}: {report:?}");

        let received = received.lock().unwrap_or_else(|e| panic!("{e}")).clone();
        assert_eq!(received.len(), 1, "{backend:?}: one delivery");
        let (headers, body) = &received[0];
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_else(|| panic!("{backend:?}: no {name}"))
                .to_owned()
        };
        let event: serde_json::Value =
            serde_json::from_slice(body).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            event,
            json!({"export_id": export_id, "project_id": project, "status": "done"})
        );
        assert_eq!(header("content-type"), "application/json");
        // Signed with the project's own key, which only its owner can read (no-store).
        let key = webhook_key(&app, &owner, &project).await;
        assert!(
            signature_is_valid(&header("x-taskboard-signature"), body, &key),
            "{backend:?}: {}",
            header("x-taskboard-signature")
        );
        assert!(!signature_is_valid(
            &header("x-taskboard-signature"),
            b"{}",
            &key
        ));
        let other_project = project_with_webhook(&app, &owner, &url).await;
        let other_key = webhook_key(&app, &owner, &other_project).await;
        assert_ne!(key, other_key);
        assert!(
            !signature_is_valid(&header("x-taskboard-signature"), body, &other_key),
            "another project's key does not verify this project's webhook"
        );
        let (_, stranger) = member(&app).await;
        let refused = app
            .get(&format!("/api/v1/projects/{project}/webhook-secret"))
            .bearer(&stranger)
            .send()
            .await;
        assert_error(&refused, 404, "NOT_FOUND");
        // The export request's trace, through the export job and the delivery job.
        let traceparent = header("traceparent");
        assert_eq!(
            traceparent.split('-').nth(1),
            Some("0af7651916cd43dd8448eb211c80319c"),
            "{traceparent}"
        );
        assert_ne!(traceparent.split('-').nth(2), Some("b7ad6b7169203331"));
        assert_eq!(header("x-request-id"), request_id);
    }
}

#[tokio::test]
async fn a_webhook_the_receiver_fails_is_delivered_on_retry_without_rebuilding_the_export() {
    let (url, received) = webhook_receiver(vec![500]).await;
    let app = taskboard_with_webhooks(TestBackend::Sqlite).await;
    let (_, owner) = member(&app).await;
    let project = project_with_webhook(&app, &owner, &url).await;
    let accepted = app
        .post(&format!("/api/v1/projects/{project}/exports"))
        .bearer(&owner)
        .send()
        .await;
    assert_eq!(accepted.status(), 202, "{}", accepted.text());
    let location = accepted.header("location").unwrap_or_default().to_owned();
    let report = drain(&app).await;
    assert_eq!(report.dead, 0, "{report:?}");
    assert!(report.retried >= 1, "{report:?}");

    let received = received.lock().unwrap_or_else(|e| panic!("{e}")).clone();
    assert_eq!(received.len(), 2, "a failed delivery, then the retry");
    let delivery = |n: usize| {
        received[n]
            .0
            .get("x-taskboard-delivery")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    assert!(delivery(0).is_some());
    assert_eq!(delivery(0), delivery(1), "the same delivery, retried");
    assert_eq!(received[0].1, received[1].1);
    // The export was built once: one version bump to running, one to done.
    let export = app.get(&location).bearer(&owner).send().await.json();
    assert_eq!(export["data"]["status"], "done");
    assert_eq!(export["data"]["version"], 3, "{export}");
}

/// Without the `otel` feature too, a job's lines name the trace of the request that enqueued
/// it: the worker's lines about the export job and the webhook job, and the client's line of
/// the delivery, all carry the request's trace id beside its request id.
#[tokio::test]
async fn job_lines_carry_the_enqueuing_requests_trace() {
    rampart::testing::capture_logs();
    let (url, _received) = webhook_receiver(Vec::new()).await;
    let app = taskboard_with_webhooks(TestBackend::Sqlite).await;
    let (_, owner) = member(&app).await;
    let project = project_with_webhook(&app, &owner, &url).await;
    let (_, request_id) = traced_export(&app, &owner, &project).await;
    let report = drain(&app).await;
    assert_eq!(report.dead, 0, "{report:?}");

    let lines: Vec<_> = rampart::testing::log_lines_with(&request_id)
        .into_iter()
        .filter(|line| line["request_id"] == request_id.as_str())
        .filter(|line| line["target"] == "rampart::jobs" || line["target"] == "rampart::client")
        .collect();
    let done: Vec<_> = lines
        .iter()
        .filter(|line| line["message"] == "job done")
        .collect();
    assert_eq!(done.len(), 2, "the export and its webhook: {lines:#?}");
    assert!(
        lines.iter().any(|line| line["target"] == "rampart::client"),
        "the delivery's call line: {lines:#?}"
    );
    for line in &lines {
        assert_eq!(
            line["trace_id"], "0af7651916cd43dd8448eb211c80319c",
            "every job line names the request's trace: {line}"
        );
        let span = line["span_id"].as_str().unwrap_or_default();
        assert_eq!(span.len(), 16, "{line}");
        assert_ne!(
            span, "b7ad6b7169203331",
            "a span of the job, not the caller's: {line}"
        );
    }
}

/// A refused webhook URL, answered like the field's other rules: 400 `VALIDATION_ERROR`
/// naming the field sent (`url`), and nothing of the address.
fn assert_webhook_refused(answer: &rampart::testing::TestResponse, url: &str) {
    assert_error(answer, 400, "VALIDATION_ERROR");
    assert_eq!(
        answer.json()["error"]["details"],
        json!([{"field": "url", "issue": "destination_refused"}]),
        "{url}: {}",
        answer.text()
    );
    let authority = url
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap_or_default();
    let host = authority
        .rsplit_once(':')
        .map_or(authority, |(host, _port)| host)
        .trim_matches(['[', ']']);
    assert!(!answer.text().contains(host), "{url}: {}", answer.text());
}

/// The project as its owner reads it.
async fn project_of(app: &TestApp, token: &str, project: &str) -> serde_json::Value {
    let read = app
        .get(&format!("/api/v1/projects/{project}"))
        .bearer(token)
        .send()
        .await;
    assert_eq!(read.status(), 200, "{}", read.text());
    read.json()
}

#[tokio::test]
async fn a_webhook_url_whose_destination_is_refused_is_a_field_error_when_it_is_set() {
    // As deployed (`TASKBOARD_WEBHOOK_ALLOW_LOOPBACK` unset): loopback refused too, also
    // through a name that resolves to it.
    let closed = crate::common::taskboard_builder()
        .backend(TestBackend::Sqlite)
        .migrations(crate::taskboard::MIGRATIONS)
        .with_identity()
        .dep(rampart::client::HttpClient::new().unwrap_or_else(|e| panic!("{e}")))
        .build()
        .await
        .unwrap_or_else(|e| panic!("cannot build the taskboard: {e}"));
    let (_, owner) = member(&closed).await;
    let project = new_project(&closed, &owner).await;
    for url in [
        "http://127.0.0.1:9/hook",
        "http://localhost:9/hook",
        "http://[::1]:9/hook",
        "http://10.0.0.1/hook",
        "http://169.254.169.254/latest/meta-data",
    ] {
        let answer = put_webhook(&closed, &owner, &project, json!(url)).await;
        assert_webhook_refused(&answer, url);
    }
    let current = project_of(&closed, &owner, &project).await;
    assert_eq!(current["data"]["webhook_url"], json!(null), "{current}");
    assert_eq!(
        current["data"]["version"], 1,
        "nothing was written: {current}"
    );

    // With loopback allowed (`TASKBOARD_WEBHOOK_ALLOW_LOOPBACK=true`), private and link-local
    // destinations stay refused, and nothing is written.
    for backend in BACKENDS {
        let app = taskboard_with_webhooks(backend).await;
        let (_, owner) = member(&app).await;
        let kept = "http://127.0.0.1:9/hook";
        let project = project_with_webhook(&app, &owner, kept).await;
        for url in [
            "http://10.0.0.1/hook",
            "http://169.254.169.254/latest/meta-data",
        ] {
            let answer = put_webhook(&app, &owner, &project, json!(url)).await;
            assert_webhook_refused(&answer, url);
        }
        let current = project_of(&app, &owner, &project).await;
        assert_eq!(
            current["data"]["webhook_url"], kept,
            "{backend:?}: {current}"
        );
        assert_eq!(current["data"]["version"], 2, "{backend:?}: {current}");

        // An allowed one is taken (a write: the version moves), and `null` clears it.
        let changed = put_webhook(&app, &owner, &project, json!("http://127.0.0.1:10/other")).await;
        assert_eq!(changed.status(), 200, "{backend:?}: {}", changed.text());
        assert_eq!(
            changed.json()["data"]["webhook_url"],
            "http://127.0.0.1:10/other"
        );
        assert_eq!(changed.json()["data"]["version"], 3);
        let cleared = put_webhook(&app, &owner, &project, json!(null)).await;
        assert_eq!(cleared.status(), 200, "{backend:?}: {}", cleared.text());
        assert_eq!(cleared.json()["data"]["webhook_url"], json!(null));
        let current = project_of(&app, &owner, &project).await;
        assert_eq!(current["data"]["webhook_url"], json!(null), "{current}");

        // The project's own writes do not take it: it is set by the server, named in a 400.
        for (method, path, body) in [
            (
                Method::POST,
                "/api/v1/projects".to_owned(),
                json!({"name": "hooked", "webhook_url": kept}),
            ),
            (
                Method::PUT,
                format!("/api/v1/projects/{project}"),
                json!({"name": "hooked", "webhook_url": kept, "version": 4}),
            ),
            (
                Method::PATCH,
                format!("/api/v1/projects/{project}"),
                json!({"webhook_url": kept, "version": 4}),
            ),
            // Clearing it there is refused too, not a success that ignored it.
            (
                Method::PATCH,
                format!("/api/v1/projects/{project}"),
                json!({"webhook_url": null, "version": 4}),
            ),
            (
                Method::PUT,
                format!("/api/v1/projects/{project}"),
                json!({"name": "hooked", "webhook_url": null, "version": 4}),
            ),
        ] {
            let answer = app
                .request(method.clone(), &path)
                .bearer(&owner)
                .json(&body)
                .send()
                .await;
            assert_error(&answer, 400, "VALIDATION_ERROR");
            assert_eq!(
                answer.json()["error"]["details"],
                json!([{"field": "webhook_url", "issue": "is set by the server and cannot be written"}]),
                "{backend:?} {method} {body}: {}",
                answer.text()
            );
        }
        let current = project_of(&app, &owner, &project).await;
        assert_eq!(current["data"]["webhook_url"], json!(null), "{current}");
        assert_eq!(current["data"]["version"], 4, "{backend:?}: {current}");

        // Another user's project: the same 404 as a missing one, nothing written.
        let (_, other) = member(&app).await;
        let theirs = put_webhook(&app, &other, &project, json!(kept)).await;
        assert_error(&theirs, 404, "NOT_FOUND");
        // Before the destination is resolved: nobody probes addresses through others' projects.
        let probe = put_webhook(&app, &other, &project, json!("http://10.0.0.1/hook")).await;
        assert_error(&probe, 404, "NOT_FOUND");
        let missing = put_webhook(&app, &owner, &Uuid::now_v7().to_string(), json!(kept)).await;
        assert_error(&missing, 404, "NOT_FOUND");

        // An archived project's webhook is read-only like the rest of it.
        let archived = app
            .post(&format!("/api/v1/projects/{project}/archive"))
            .bearer(&owner)
            .send()
            .await;
        assert_eq!(archived.status(), 200, "{backend:?}: {}", archived.text());
        let refused = put_webhook(&app, &owner, &project, json!(kept)).await;
        assert_error(&refused, 409, "CONFLICT");
        let current = project_of(&app, &owner, &project).await;
        assert_eq!(current["data"]["webhook_url"], json!(null), "{current}");
        assert_eq!(current["data"]["version"], 5, "{backend:?}: {current}");
    }
}
