//! Authentication and authorization: every refused token is a 401 envelope with
//! `WWW-Authenticate: Bearer`; a missing role or permission is 403.

use rampart::testing::{BACKENDS, TestBackend};
use serde_json::json;

use crate::common::{TEST_SECRET, assert_error, b64, claims, now, sign, taskboard};

/// An HS256 token signed with the test secret under an arbitrary header.
fn signed_with_header(header: &serde_json::Value, claims: &serde_json::Value) -> String {
    use hmac::Mac as _;
    let signing_input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let mut mac =
        hmac::Hmac::<sha2::Sha256>::new_from_slice(TEST_SECRET).unwrap_or_else(|e| panic!("{e}"));
    mac.update(signing_input.as_bytes());
    format!("{signing_input}.{}", b64(&mac.finalize().into_bytes()))
}

fn unsigned(alg: &str, claims: &serde_json::Value) -> String {
    let header = b64(format!("{{\"alg\":\"{alg}\",\"typ\":\"JWT\"}}").as_bytes());
    format!("{header}.{}.", b64(claims.to_string().as_bytes()))
}

#[tokio::test]
async fn refused_tokens_are_401_with_a_bearer_challenge() {
    for backend in BACKENDS {
        refused_tokens_are_401_with_a_bearer_challenge_on(backend).await;
    }
}

async fn refused_tokens_are_401_with_a_bearer_challenge_on(backend: TestBackend) {
    let app = taskboard(backend).await;
    let valid = claims();
    let mut expired = claims();
    expired["exp"] = json!(now() - 120);
    expired["iat"] = json!(now() - 1000);
    let mut no_exp = claims();
    no_exp.as_object_mut().map(|o| o.remove("exp"));
    let mut wrong_aud = claims();
    wrong_aud["aud"] = json!("another-api");
    let mut no_aud = claims();
    no_aud.as_object_mut().map(|o| o.remove("aud"));
    let mut wrong_iss = claims();
    wrong_iss["iss"] = json!("someone-else");
    let mut no_iss = claims();
    no_iss.as_object_mut().map(|o| o.remove("iss"));
    let mut future_nbf = claims();
    future_nbf["nbf"] = json!(now() + 3600);
    let mut future_iat = claims();
    future_iat["iat"] = json!(now() + 3600);
    let mut bad_sub = claims();
    bad_sub["sub"] = json!("not-a-uuid");

    // A valid token with its payload swapped for one claiming admin.
    let genuine = sign(&valid, TEST_SECRET);
    let mut admin_claims = valid.clone();
    admin_claims["roles"] = json!(["admin"]);
    let parts: Vec<&str> = genuine.split('.').collect();
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        b64(admin_claims.to_string().as_bytes()),
        parts[2]
    );

    let cases: Vec<(&str, Option<String>)> = vec![
        ("no token", None),
        ("garbage", Some("garbage".to_owned())),
        ("two segments", Some("a.b".to_owned())),
        ("alg none", Some(unsigned("none", &valid))),
        ("alg None", Some(unsigned("None", &valid))),
        ("alg NONE", Some(unsigned("NONE", &valid))),
        (
            "wrong key",
            Some(sign(&valid, b"another-secret-that-is-32-bytes-long!!")),
        ),
        ("expired", Some(sign(&expired, TEST_SECRET))),
        ("missing exp", Some(sign(&no_exp, TEST_SECRET))),
        ("wrong aud", Some(sign(&wrong_aud, TEST_SECRET))),
        ("missing aud", Some(sign(&no_aud, TEST_SECRET))),
        ("wrong iss", Some(sign(&wrong_iss, TEST_SECRET))),
        ("missing iss", Some(sign(&no_iss, TEST_SECRET))),
        ("future nbf", Some(sign(&future_nbf, TEST_SECRET))),
        ("future iat", Some(sign(&future_iat, TEST_SECRET))),
        ("subject not a user id", Some(sign(&bad_sub, TEST_SECRET))),
        ("tampered payload", Some(tampered)),
        // RFC 7515 §4.1.11: a `crit` the verifier does not understand (rampart understands
        // none) refuses the token, even when the signature is right.
        (
            "crit names an unknown extension",
            Some(signed_with_header(
                &json!({"alg": "HS256", "typ": "JWT", "crit": ["exp-ext"], "exp-ext": 1}),
                &valid,
            )),
        ),
        (
            "crit names a registered parameter",
            Some(signed_with_header(
                &json!({"alg": "HS256", "crit": ["b64"], "b64": true}),
                &valid,
            )),
        ),
        (
            "crit is empty",
            Some(signed_with_header(
                &json!({"alg": "HS256", "crit": []}),
                &valid,
            )),
        ),
        (
            "crit is null",
            Some(signed_with_header(
                &json!({"alg": "HS256", "crit": null}),
                &valid,
            )),
        ),
        (
            "crit is not a list",
            Some(signed_with_header(
                &json!({"alg": "HS256", "crit": "x"}),
                &valid,
            )),
        ),
    ];
    for (name, token) in cases {
        let mut request = app.get("/api/v1/me");
        if let Some(token) = &token {
            request = request.bearer(token);
        }
        let response = request.send().await;
        assert_eq!(response.status(), 401, "{name}: {}", response.text());
        assert_error(&response, 401, "UNAUTHENTICATED");
        assert_eq!(
            response.header("www-authenticate"),
            Some("Bearer"),
            "{name}"
        );
    }
    let ok = app.get("/api/v1/me").bearer(&genuine).send().await;
    assert_eq!(ok.status(), 200, "{}", ok.text());
    // The crafted-header signer is right: the same header without `crit` is accepted.
    let plain = signed_with_header(&json!({"alg": "HS256", "typ": "JWT"}), &valid);
    let plain = app.get("/api/v1/me").bearer(&plain).send().await;
    assert_eq!(plain.status(), 200, "{}", plain.text());
    assert_eq!(ok.json()["data"]["user_id"], valid["sub"]);
    assert_eq!(ok.json()["data"]["roles"], json!(["member"]));
    // A user's data: private (no shared cache), revalidated before reuse.
    assert_eq!(ok.header("cache-control"), Some("private, no-cache"));
}

#[tokio::test]
async fn tokens_are_never_read_from_the_query_string_or_other_schemes() {
    for backend in BACKENDS {
        tokens_are_never_read_from_the_query_string_or_other_schemes_on(backend).await;
    }
}

async fn tokens_are_never_read_from_the_query_string_or_other_schemes_on(backend: TestBackend) {
    let app = taskboard(backend).await;
    let token = app.token(&["member"]);
    for path in [
        format!("/api/v1/me?access_token={token}"),
        format!("/api/v1/me?token={token}"),
    ] {
        assert_error(&app.get(&path).send().await, 401, "UNAUTHENTICATED");
    }
    let basic = app
        .get("/api/v1/me")
        .header("authorization", &format!("Basic {token}"))
        .send()
        .await;
    assert_error(&basic, 401, "UNAUTHENTICATED");
    let twice = app
        .get("/api/v1/me")
        .bearer(&token)
        .bearer(&token)
        .send()
        .await;
    assert_error(&twice, 401, "UNAUTHENTICATED");
}

#[tokio::test]
async fn roles_and_permissions_are_enforced() {
    for backend in BACKENDS {
        roles_and_permissions_are_enforced_on(backend).await;
    }
}

async fn roles_and_permissions_are_enforced_on(backend: TestBackend) {
    let app = taskboard(backend).await;
    let member = app.token(&["member"]);
    let auditor = app.token(&["auditor"]);
    let admin = app.token(&["admin"]);
    let nobody = app.token(&[]);

    assert_error(
        &app.get("/api/v1/admin/notes").bearer(&member).send().await,
        403,
        "FORBIDDEN",
    );
    assert_eq!(
        app.get("/api/v1/admin/notes")
            .bearer(&admin)
            .send()
            .await
            .status(),
        200
    );

    // Permission `stats:read`: auditor has it, member does not, admin holds every permission.
    assert_error(
        &app.get("/api/v1/stats").bearer(&member).send().await,
        403,
        "FORBIDDEN",
    );
    assert_eq!(
        app.get("/api/v1/stats")
            .bearer(&auditor)
            .send()
            .await
            .status(),
        200
    );
    assert_eq!(
        app.get("/api/v1/stats")
            .bearer(&admin)
            .send()
            .await
            .status(),
        200
    );

    // Role requirements are exact: an admin without `member` is not a member.
    assert_error(
        &app.get("/api/v1/notes").bearer(&admin).send().await,
        403,
        "FORBIDDEN",
    );
    assert_error(
        &app.get("/api/v1/notes").bearer(&nobody).send().await,
        403,
        "FORBIDDEN",
    );
    assert_error(
        &app.get("/api/v1/notes").bearer(&auditor).send().await,
        403,
        "FORBIDDEN",
    );

    // Public endpoints ignore unusable credentials.
    assert_eq!(
        app.get("/api/v1/info")
            .bearer("garbage")
            .send()
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn security_headers_and_cors() {
    let app = crate::common::taskboard_builder()
        .configure(|config| {
            config.cors = rampart::http::CorsConfig {
                origins: vec!["https://app.example.com".into()],
                allow_credentials: true,
            };
        })
        .build()
        .await;
    let Ok(app) = app else {
        panic!("app did not build")
    };
    let response = app
        .get("/api/v1/info")
        .header("origin", "https://app.example.com")
        .send()
        .await;
    assert_eq!(response.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(response.header("server"), None);
    assert_eq!(
        response.header("access-control-allow-origin"),
        Some("https://app.example.com")
    );
    assert_eq!(
        response.header("access-control-allow-credentials"),
        Some("true")
    );
    let other = app
        .get("/api/v1/info")
        .header("origin", "https://evil.example")
        .send()
        .await;
    assert_eq!(other.header("access-control-allow-origin"), None);
    let preflight = app
        .request(
            rampart::__private::axum::http::Method::OPTIONS,
            "/api/v1/notes",
        )
        .header("origin", "https://app.example.com")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization,content-type",
        )
        .send()
        .await;
    assert_eq!(preflight.status(), 200, "{}", preflight.text());
    assert!(
        preflight
            .header("access-control-allow-methods")
            .is_some_and(|m| m.contains("POST"))
    );

    // `*` together with credentials is refused before the server starts.
    let refused = crate::common::taskboard_builder()
        .configure(|config| {
            config.cors = rampart::http::CorsConfig {
                origins: vec!["*".into()],
                allow_credentials: true,
            };
        })
        .build()
        .await;
    assert!(refused.is_err());
}

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/jwt/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[tokio::test]
async fn keys_rotate_without_logging_anyone_out() {
    use rampart::auth::{JwtAlgorithm, KeyPem};
    let rotate_to = |signing: &'static str, listed: &'static [&'static str]| {
        move |config: &mut rampart::Config| {
            config.jwt.algorithm = JwtAlgorithm::EdDsa;
            config.jwt.signing_key = Some(KeyPem {
                kid: signing.into(),
                pem: fixture(&format!("ed25519-{signing}.pem")),
            });
            config.jwt.verification_keys = listed
                .iter()
                .map(|kid| KeyPem {
                    kid: (*kid).into(),
                    pem: fixture(&format!("ed25519-{kid}.pub.pem")),
                })
                .collect();
        }
    };
    let before = crate::common::taskboard_builder()
        .configure(rotate_to("k1", &["k1"]))
        .build()
        .await;
    let after = crate::common::taskboard_builder()
        .configure(rotate_to("k2", &["k1", "k2"]))
        .build()
        .await;
    let retired = crate::common::taskboard_builder()
        .configure(rotate_to("k2", &["k2"]))
        .build()
        .await;
    let (Ok(before), Ok(after), Ok(retired)) = (before, after, retired) else {
        panic!("apps did not build")
    };
    let old_token = before.token(&["member"]);
    let new_token = after.token(&["member"]);
    assert_eq!(
        after
            .get("/api/v1/me")
            .bearer(&old_token)
            .send()
            .await
            .status(),
        200,
        "old key still listed"
    );
    assert_eq!(
        after
            .get("/api/v1/me")
            .bearer(&new_token)
            .send()
            .await
            .status(),
        200
    );
    assert_error(
        &retired.get("/api/v1/me").bearer(&old_token).send().await,
        401,
        "UNAUTHENTICATED",
    );
    // An HS256 token (algorithm confusion) is refused by an EdDSA app.
    let hs256 = sign(&claims(), TEST_SECRET);
    assert_error(
        &after.get("/api/v1/me").bearer(&hs256).send().await,
        401,
        "UNAUTHENTICATED",
    );
}
