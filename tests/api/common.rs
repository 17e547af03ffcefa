//! Helpers shared by the integration tests.

use rampart::testing::{TestApp, TestAppBuilder, TestBackend};
use serde_json::{Value, json};

/// The secret the testing kit signs with (see `rampart::testing`).
pub(crate) const TEST_SECRET: &[u8] = b"rampart-test-secret-of-at-least-32-bytes";

/// The taskboard's API with the dependencies its `main` registers: what every test of the
/// taskboard starts from.
pub(crate) fn taskboard_builder() -> TestAppBuilder {
    taskboard_builder_for(crate::taskboard::api())
}

/// `api` (the taskboard's, with a test's endpoints mounted on it) built as the taskboard's
/// `main` builds its app: dependencies, jobs, the registration hook.
pub(crate) fn taskboard_builder_for(api: rampart::Api) -> TestAppBuilder {
    TestApp::builder(api)
        .dependencies(
            crate::taskboard::dependencies(rampart::Environment::Development)
                .unwrap_or_else(|e| panic!("taskboard dependencies: {e}")),
        )
        .jobs(crate::taskboard::jobs::jobs())
        .map_app(crate::taskboard::jobs::attach)
}

/// The taskboard on a fresh database of `backend`.
pub(crate) async fn taskboard(backend: TestBackend) -> TestApp {
    match taskboard_builder()
        .backend(backend)
        .migrations(crate::taskboard::MIGRATIONS)
        .with_identity()
        .build()
        .await
    {
        Ok(app) => app,
        Err(error) => panic!("cannot build the taskboard on {backend:?}: {error}"),
    }
}

/// Now, in seconds since the epoch.
pub(crate) fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// Standard claims for a member, to be edited by a test.
pub(crate) fn claims() -> Value {
    let now = now();
    json!({
        "sub": uuid::Uuid::now_v7().to_string(),
        "roles": ["member"],
        "iat": now,
        "nbf": now,
        "exp": now + 900,
        "iss": "rampart",
        "aud": "rampart-api",
        "jti": "test",
    })
}

/// Signs claims with HS256 and `key`.
pub(crate) fn sign(claims: &Value, key: &[u8]) -> String {
    let header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    jsonwebtoken::encode(
        &header,
        claims,
        &jsonwebtoken::EncodingKey::from_secret(key),
    )
    .unwrap_or_default()
}

/// base64url without padding.
pub(crate) fn b64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let chars = [(n >> 18) & 63, (n >> 12) & 63, (n >> 6) & 63, n & 63];
        for (i, c) in chars.iter().enumerate() {
            if i <= chunk.len() {
                out.push(ALPHABET[*c as usize] as char);
            }
        }
    }
    out
}

/// Asserts the error envelope: status, code, JSON, and a request id equal to the header.
#[track_caller]
pub(crate) fn assert_error(response: &rampart::testing::TestResponse, status: u16, code: &str) {
    assert_eq!(
        response.status(),
        status,
        "status; body: {}",
        response.text()
    );
    assert!(
        response.is_json(),
        "content type: {:?}",
        response.header("content-type")
    );
    let body = response.json();
    assert_eq!(body["error"]["code"], code, "body: {body}");
    assert_eq!(body["data"], Value::Null);
    let header = response.header("x-request-id");
    assert!(
        header.is_some_and(|h| !h.is_empty()),
        "missing X-Request-ID"
    );
    assert_eq!(
        body["error"]["request_id"].as_str(),
        header,
        "request id in body and header"
    );
    assert!(body["error"]["details"].is_array());
}

/// The password of every account the tests register.
pub(crate) const PASSWORD: &str = "correct horse battery staple";

/// An account registered through `POST /auth/register` and logged in.
#[derive(Debug, Clone)]
pub(crate) struct Account {
    pub(crate) id: uuid::Uuid,
    pub(crate) access: String,
    pub(crate) refresh: String,
}

/// Logs `email` in with [`PASSWORD`] (asserting 200): its access and refresh tokens.
pub(crate) async fn login(app: &TestApp, email: &str) -> (String, String) {
    let login = app
        .post("/api/v1/auth/login")
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await;
    assert_eq!(login.status(), 200, "login of {email}: {}", login.text());
    let token = |name: &str| {
        login.json()["data"][name]
            .as_str()
            .unwrap_or_else(|| panic!("no {name}: {}", login.text()))
            .to_owned()
    };
    (token("access_token"), token("refresh_token"))
}

/// Registers a new account (an email made of `label` and a fresh id, [`PASSWORD`]; asserting
/// 201) and logs it in.
pub(crate) async fn account(app: &TestApp, label: &str) -> Account {
    let email = format!("{label}.{}@example.com", uuid::Uuid::new_v4().simple());
    let registered = app
        .post("/api/v1/auth/register")
        .json(&json!({"email": email, "password": PASSWORD, "display_name": label}))
        .send()
        .await;
    assert_eq!(registered.status(), 201, "{}", registered.text());
    let id = registered.json()["data"]["id"]
        .as_str()
        .and_then(|id| uuid::Uuid::parse_str(id).ok())
        .unwrap_or_else(|| panic!("an id: {}", registered.text()));
    let (access, refresh) = login(app, &email).await;
    Account {
        id,
        access,
        refresh,
    }
}

/// Creates an API key with a JWT and returns its secret (empty if creation failed; the
/// caller's assertions then fail on it).
pub(crate) async fn create_api_key(app: &TestApp, access_token: &str, name: &str) -> String {
    let created = app
        .post("/api/v1/auth/api-keys")
        .bearer(access_token)
        .json(&json!({"name": name}))
        .send()
        .await;
    created.json()["data"]["key"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// How many times a test's handlers ran (a dependency they count themselves with): the proof
/// that a replay or a cached answer did not run one.
#[derive(Debug, Clone, Default)]
pub(crate) struct Calls(std::sync::Arc<std::sync::atomic::AtomicUsize>);

impl Calls {
    pub(crate) fn next(&self) -> usize {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1
    }

    pub(crate) fn count(&self) -> usize {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}
