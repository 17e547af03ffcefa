//! Accounts and tokens through the taskboard's real router, on SQLite and PostgreSQL:
//! registration, argon2id hashes, identical login failures, rotation, reuse detection,
//! concurrent refreshes, logout, password change, expiry, and token-type confusion.

use std::time::Duration;

use rampart::testing::{BACKENDS, TestApp, TestBackend, TestResponse};
use serde_json::{Value, json};

use crate::common::assert_error;

const PASSWORD: &str = "correct horse battery staple";

async fn register(app: &TestApp, email: &str) -> TestResponse {
    app.post("/api/v1/auth/register")
        .json(&json!({"email": email, "password": PASSWORD, "display_name": "Ada"}))
        .send()
        .await
}

async fn login(app: &TestApp, email: &str, password: &str) -> TestResponse {
    app.post("/api/v1/auth/login")
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
}

async fn refresh(app: &TestApp, token: &str) -> TestResponse {
    app.post("/api/v1/auth/refresh")
        .json(&json!({"refresh_token": token}))
        .send()
        .await
}

fn field(response: &TestResponse, name: &str) -> String {
    response.json()["data"][name]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

fn fresh_email() -> String {
    format!("Ada.{}@Example.com", uuid::Uuid::new_v4().simple())
}

async fn stored_hash(app: &TestApp, email: &str) -> String {
    let db = app.app().db().unwrap_or_else(|| panic!("no database"));
    rampart_runtime_store(db, email).await
}

async fn rampart_runtime_store(db: &rampart::Db, email: &str) -> String {
    match rampart::db::Pool::clone(db.primary()) {
        rampart::db::Pool::Sqlite(pool) => sqlx::query_scalar::<_, String>(
            "SELECT password_hash FROM rampart_users WHERE email = $1",
        )
        .bind(email)
        .fetch_one(&pool)
        .await
        .unwrap_or_default(),
        rampart::db::Pool::Postgres(pool) => sqlx::query_scalar::<_, String>(
            "SELECT password_hash FROM rampart_users WHERE email = $1",
        )
        .bind(email)
        .fetch_one(&pool)
        .await
        .unwrap_or_default(),
    }
}

#[tokio::test]
async fn registration_login_and_the_stored_hash() {
    for backend in BACKENDS {
        let app = crate::common::taskboard(backend).await;
        let email = fresh_email();
        let created = register(&app, &format!("  {email}  ")).await;
        assert_eq!(created.status(), 201, "{backend:?}: {}", created.text());
        let user = created.json()["data"].clone();
        assert_eq!(
            user["email"],
            email.to_lowercase(),
            "trimmed and lowercased"
        );
        assert_eq!(user["roles"], json!(["member"]));
        assert!(user.get("password_hash").is_none() && !created.text().contains("argon2"));

        let duplicate = register(&app, &email.to_uppercase()).await;
        assert_error(&duplicate, 409, "CONFLICT");
        assert_eq!(duplicate.json()["error"]["details"][0]["field"], "email");

        let with_roles = app
            .post("/api/v1/auth/register")
            .json(&json!({"email": fresh_email(), "password": PASSWORD, "display_name": "x", "roles": ["admin"]}))
            .send()
            .await;
        assert_error(&with_roles, 400, "BAD_REQUEST");
        assert_eq!(with_roles.json()["error"]["details"][0]["field"], "roles");

        let hash = stored_hash(&app, &email.to_lowercase()).await;
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        let other = fresh_email();
        assert_eq!(register(&app, &other).await.status(), 201);
        assert_ne!(
            stored_hash(&app, &other.to_lowercase()).await,
            hash,
            "same password, different salt"
        );

        let logged_in = login(&app, &email, PASSWORD).await;
        assert_eq!(logged_in.status(), 200, "{}", logged_in.text());
        assert_eq!(logged_in.header("cache-control"), Some("no-store"));
        assert_eq!(logged_in.json()["data"]["token_type"], "Bearer");
        assert_eq!(logged_in.json()["data"]["expires_in"], 900);
        let access = field(&logged_in, "access_token");
        // The Location of the new account is the identity module's own `/me`, under the API's
        // prefix, and it names the account that was created.
        let location = created.header("location").unwrap_or_default().to_owned();
        assert_eq!(location, "/api/v1/me");
        let me = app.get(&location).bearer(&access).send().await;
        assert_eq!(me.status(), 200, "{backend:?}: {}", me.text());
        assert_eq!(me.json()["data"]["user_id"], user["id"]);

        // The access token lives exactly 15 minutes.
        let payload = access.split('.').nth(1).unwrap_or_default();
        let claims: Value = serde_json::from_slice(&decode_b64(payload)).unwrap_or_default();
        assert_eq!(
            claims["exp"].as_u64().unwrap_or(0) - claims["iat"].as_u64().unwrap_or(0),
            900
        );
    }
}

#[tokio::test]
async fn unknown_email_and_wrong_password_are_byte_identical() {
    for backend in BACKENDS {
        unknown_email_and_wrong_password_are_byte_identical_on(backend).await;
    }
}

async fn unknown_email_and_wrong_password_are_byte_identical_on(backend: TestBackend) {
    let app = crate::common::taskboard(backend).await;
    let email = fresh_email();
    assert_eq!(register(&app, &email).await.status(), 201);
    let wrong = login(&app, &email, "not the password at all").await;
    let unknown = login(&app, "nobody@example.com", "not the password at all").await;
    assert_error(&wrong, 401, "INVALID_CREDENTIALS");
    let strip = |r: &TestResponse| {
        let mut body = r.json();
        body["error"]["request_id"] = Value::Null;
        body.to_string()
    };
    assert_eq!(strip(&wrong), strip(&unknown));
    assert_eq!(wrong.text().len(), unknown.text().len());

    // A 100 KiB password is refused by validation, before the handler (and its hashing) runs.
    let huge = app
        .post("/api/v1/auth/register")
        .json(&json!({"email": fresh_email(), "password": "x".repeat(100 * 1024), "display_name": "x"}))
        .send()
        .await;
    assert_error(&huge, 400, "VALIDATION_ERROR");
    assert_eq!(huge.json()["error"]["details"][0]["field"], "password");
    let short = app
        .post("/api/v1/auth/register")
        .json(&json!({"email": fresh_email(), "password": "short", "display_name": "x"}))
        .send()
        .await;
    assert_error(&short, 400, "VALIDATION_ERROR");
}

#[tokio::test]
async fn refresh_tokens_rotate_and_reuse_revokes_the_family() {
    for backend in BACKENDS {
        let app = crate::common::taskboard(backend).await;
        let email = fresh_email();
        assert_eq!(register(&app, &email).await.status(), 201);
        let first = login(&app, &email, PASSWORD).await;
        let token_1 = field(&first, "refresh_token");
        assert!(
            token_1.starts_with("rt_") && token_1.len() >= 46,
            "256 random bits"
        );

        let second = refresh(&app, &token_1).await;
        assert_eq!(second.status(), 200, "{backend:?}: {}", second.text());
        assert_eq!(second.header("cache-control"), Some("no-store"));
        let token_2 = field(&second, "refresh_token");
        assert_ne!(token_1, token_2);

        // Replaying the rotated token: 401, and the newest token dies with its family.
        assert_error(&refresh(&app, &token_1).await, 401, "UNAUTHENTICATED");
        assert_error(&refresh(&app, &token_2).await, 401, "UNAUTHENTICATED");

        // A refresh token is not a bearer token, and an access token is not a refresh token.
        let third = login(&app, &email, PASSWORD).await;
        assert_error(
            &app.get("/api/v1/me")
                .bearer(&field(&third, "refresh_token"))
                .send()
                .await,
            401,
            "UNAUTHENTICATED",
        );
        assert_error(
            &refresh(&app, &field(&third, "access_token")).await,
            401,
            "UNAUTHENTICATED",
        );

        // Logout revokes.
        let token_3 = field(&third, "refresh_token");
        let out = app
            .post("/api/v1/auth/logout")
            .json(&json!({"refresh_token": token_3}))
            .send()
            .await;
        assert_eq!(out.status(), 204);
        assert_error(&refresh(&app, &token_3).await, 401, "UNAUTHENTICATED");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_concurrent_refreshes_of_one_token_succeed_exactly_once() {
    for backend in BACKENDS {
        let app = crate::common::taskboard(backend).await;
        let email = fresh_email();
        assert_eq!(register(&app, &email).await.status(), 201);
        let token = field(&login(&app, &email, PASSWORD).await, "refresh_token");
        let tasks: Vec<_> = (0..10)
            .map(|_| {
                tokio::spawn(
                    app.post("/api/v1/auth/refresh")
                        .json(&json!({"refresh_token": token}))
                        .send(),
                )
            })
            .collect();
        let mut ok = 0;
        for task in tasks {
            let response = match task.await {
                Ok(response) => response,
                Err(error) => panic!("{backend:?}: a refresh task failed: {error}"),
            };
            assert!(
                matches!(response.status(), 200 | 401),
                "{backend:?}: {}",
                response.text()
            );
            ok += usize::from(response.status() == 200);
        }
        // The claim is atomic: one request wins the rotation, the nine others see a used token.
        assert_eq!(ok, 1, "{backend:?}: {ok} concurrent refreshes succeeded");
    }
}

#[tokio::test]
async fn a_password_change_revokes_every_family() {
    for backend in BACKENDS {
        let app = crate::common::taskboard(backend).await;
        let email = fresh_email();
        assert_eq!(register(&app, &email).await.status(), 201);
        let phone = login(&app, &email, PASSWORD).await;
        let laptop = login(&app, &email, PASSWORD).await;
        let access = field(&laptop, "access_token");
        let wrong = app
            .post("/api/v1/auth/password")
            .bearer(&access)
            .json(&json!({"current_password": "not it at all", "new_password": "a brand new passphrase"}))
            .send()
            .await;
        assert_error(&wrong, 401, "INVALID_CREDENTIALS");
        let changed = app
            .post("/api/v1/auth/password")
            .bearer(&access)
            .json(&json!({"current_password": PASSWORD, "new_password": "a brand new passphrase"}))
            .send()
            .await;
        assert_eq!(changed.status(), 204, "{backend:?}: {}", changed.text());
        assert_error(
            &refresh(&app, &field(&phone, "refresh_token")).await,
            401,
            "UNAUTHENTICATED",
        );
        assert_error(
            &refresh(&app, &field(&laptop, "refresh_token")).await,
            401,
            "UNAUTHENTICATED",
        );
        assert_error(
            &login(&app, &email, PASSWORD).await,
            401,
            "INVALID_CREDENTIALS",
        );
        assert_eq!(
            login(&app, &email, "a brand new passphrase").await.status(),
            200
        );
    }
}

#[tokio::test]
async fn idle_and_absolute_expiry() {
    for backend in BACKENDS {
        idle_and_absolute_expiry_on(backend).await;
    }
}

async fn idle_and_absolute_expiry_on(backend: TestBackend) {
    for (idle, absolute) in [
        (Duration::from_secs(1), Duration::from_secs(3600)),
        (Duration::from_secs(3600), Duration::from_secs(1)),
    ] {
        let app = crate::common::taskboard_builder()
            .backend(backend)
            .migrations(crate::taskboard::MIGRATIONS)
            .with_identity()
            .configure(move |config| {
                config.refresh.idle = idle;
                config.refresh.absolute = absolute;
            })
            .build()
            .await;
        let Ok(app) = app else {
            panic!("app did not build")
        };
        let email = fresh_email();
        assert_eq!(register(&app, &email).await.status(), 201);
        let token = field(&login(&app, &email, PASSWORD).await, "refresh_token");
        tokio::time::sleep(Duration::from_millis(1300)).await;
        assert_error(&refresh(&app, &token).await, 401, "UNAUTHENTICATED");
    }
}

fn decode_b64(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut bits = 0u32;
    let mut count = 0;
    let mut out = Vec::new();
    for byte in text.bytes() {
        let Some(value) = ALPHABET.iter().position(|c| *c == byte) else {
            continue;
        };
        bits = (bits << 6) | value as u32;
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
        }
    }
    out
}

#[tokio::test]
async fn logs_never_contain_passwords_tokens_or_api_keys() {
    let app = crate::common::taskboard(TestBackend::Postgres).await;
    let canary = format!("canary-pass-{}", uuid::Uuid::new_v4().simple());
    let email = fresh_email();
    let registered = app
        .post("/api/v1/auth/register")
        .json(&json!({"email": email, "password": canary, "display_name": "Canary"}))
        .send()
        .await;
    assert_eq!(registered.status(), 201);
    let _ = login(&app, &email, "wrong password for the canary").await;
    let logged_in = login(&app, &email, &canary).await;
    let access = field(&logged_in, "access_token");
    let refresh_token = field(&logged_in, "refresh_token");
    let rotated = refresh(&app, &refresh_token).await;
    let _ = refresh(&app, &refresh_token).await; // reuse: revokes the family, logs an audit event
    let key = crate::common::create_api_key(&app, &access, "canary").await;
    let _ = app.get("/api/v1/me").header("x-api-key", &key).send().await;
    let _ = app
        .post("/api/v1/auth/password")
        .bearer(&access)
        .json(&json!({"current_password": canary, "new_password": format!("{canary}-new")}))
        .send()
        .await;
    let logs = rampart::testing::logs();
    for secret in [
        canary.as_str(),
        access.as_str(),
        refresh_token.as_str(),
        &field(&rotated, "refresh_token"),
        key.as_str(),
        email.as_str(),
        &email.to_lowercase(),
    ] {
        assert!(!secret.is_empty());
        assert!(
            !logs.contains(secret),
            "a secret or an email reached the logs"
        );
    }
    assert!(
        logs.contains("\"event\":\"refresh_family_revoked\""),
        "audit events are logged"
    );
    assert!(logs.contains("\"event\":\"api_key_created\""));
}

#[tokio::test]
async fn logins_are_limited_per_account_and_client() {
    for backend in BACKENDS {
        logins_are_limited_per_account_and_client_on(backend).await;
    }
}

async fn logins_are_limited_per_account_and_client_on(backend: TestBackend) {
    let app = crate::common::taskboard(backend).await;
    let (target, other) = (fresh_email(), fresh_email());
    assert_eq!(register(&app, &target).await.status(), 201);
    assert_eq!(register(&app, &other).await.status(), 201);
    for _ in 0..5 {
        let guess = app
            .post("/api/v1/auth/login")
            .header("x-forwarded-for", &format!("198.51.100.{}", rand_octet()))
            .json(&json!({"email": target, "password": "a wrong guess"}))
            .send()
            .await;
        assert_error(&guess, 401, "INVALID_CREDENTIALS");
    }
    // The sixth attempt is refused before any hashing, even with the right password, and a
    // spoofed X-Forwarded-For changes nothing (no trusted proxy is configured).
    let limited = app
        .post("/api/v1/auth/login")
        .header("x-forwarded-for", "203.0.113.77")
        .json(&json!({"email": target, "password": PASSWORD}))
        .send()
        .await;
    assert_error(&limited, 429, "RATE_LIMITED");
    assert!(
        limited
            .header("retry-after")
            .is_some_and(|s| s.parse::<u64>().is_ok())
    );
    // Another account from the same client, and the same account from another client, proceed.
    assert_eq!(login(&app, &other, PASSWORD).await.status(), 200);
    let elsewhere = app
        .post("/api/v1/auth/login")
        .peer("192.0.2.9:5555".parse().unwrap_or_else(|e| panic!("{e}")))
        .json(&json!({"email": target, "password": PASSWORD}))
        .send()
        .await;
    assert_eq!(elsewhere.status(), 200);
}

fn rand_octet() -> u8 {
    (uuid::Uuid::new_v4().as_bytes()[0] % 250) + 1
}

#[tokio::test]
async fn a_coarse_per_ip_limit_runs_before_authentication() {
    let app = crate::common::taskboard_builder()
        .configure(|config| {
            config.ip_rate_limit = rampart::rate_limit::RateLimitSpec::parse("3/min")
        })
        .build()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    for _ in 0..3 {
        assert_error(&app.get("/api/v1/me").send().await, 401, "UNAUTHENTICATED");
    }
    // Refused before authentication: no token is even looked at.
    let flood = app.get("/api/v1/me").bearer("garbage").send().await;
    assert_error(&flood, 429, "RATE_LIMITED");
    let other_client = app
        .get("/api/v1/info")
        .peer("192.0.2.10:1000".parse().unwrap_or_else(|e| panic!("{e}")))
        .send()
        .await;
    assert_eq!(other_client.status(), 200);
}

#[tokio::test]
async fn a_hash_with_old_parameters_is_upgraded_at_login() {
    for backend in BACKENDS {
        let app = crate::common::taskboard(backend).await;
        let email = fresh_email();
        assert_eq!(register(&app, &email).await.status(), 201);
        // Replace the stored hash with one made under weaker, older parameters.
        use argon2::PasswordHasher as _;
        let weak = argon2::Argon2::new(
            argon2::Algorithm::Argon2id,
            argon2::Version::V0x13,
            argon2::Params::new(4096, 1, 1, None).unwrap_or_else(|e| panic!("{e}")),
        )
        .hash_password_with_salt(PASSWORD.as_bytes(), b"sixteen-byte-slt")
        .map(|h| h.to_string())
        .unwrap_or_default();
        let email = email.to_lowercase();
        let sql = "UPDATE rampart_users SET password_hash = $1 WHERE email = $2";
        match app.app().db().map(|db| db.primary().clone()) {
            Some(rampart::db::Pool::Sqlite(pool)) => sqlx::query(sql)
                .bind(&weak)
                .bind(&email)
                .execute(&pool)
                .await
                .map(|_| ()),
            Some(rampart::db::Pool::Postgres(pool)) => sqlx::query(sql)
                .bind(&weak)
                .bind(&email)
                .execute(&pool)
                .await
                .map(|_| ()),
            None => Ok(()),
        }
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(stored_hash(&app, &email).await.contains("m=4096,t=1,p=1"));
        assert_eq!(
            login(&app, &email, PASSWORD).await.status(),
            200,
            "{backend:?}"
        );
        let upgraded = stored_hash(&app, &email).await;
        assert!(
            upgraded.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{backend:?}: {upgraded}"
        );
        assert_eq!(
            login(&app, &email, PASSWORD).await.status(),
            200,
            "the upgraded hash verifies"
        );
    }
}
