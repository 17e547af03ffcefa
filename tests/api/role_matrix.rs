//! The role matrix, generated from the taskboard's own declarations: every endpoint × {anonymous,
//! member, admin, API key} must be refused (401/403) or admitted exactly as declared. Admitted
//! means "got past authentication and authorization": the handler may still say 400 or 404.

use rampart::auth::{Access, Requirement, Schemes};
use rampart::testing::{BACKENDS, TestBackend, principal_for};
use serde_json::json;

use crate::common::taskboard;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Caller {
    Anonymous,
    Member,
    Admin,
    ApiKey,
}

/// What the declaration says should happen: `Some(401 | 403)` refused, `None` admitted.
fn expected(access: Access, caller: Caller) -> Option<u16> {
    let Access::Protected {
        schemes,
        requirement,
    } = access
    else {
        return None;
    };
    // Whether the caller's kind of credential is accepted here, and the roles it carries.
    let (accepted, roles): (bool, &[&str]) = match caller {
        Caller::Anonymous => (false, &[]),
        Caller::Member => (schemes != Schemes::ApiKey, &["member"]),
        Caller::Admin => (schemes != Schemes::ApiKey, &["member", "admin"]),
        Caller::ApiKey => (schemes != Schemes::Jwt, &["member"]),
    };
    if !accepted {
        return Some(401);
    }
    let principal = principal_for(uuid::Uuid::nil(), roles);
    let allowed = match requirement {
        Requirement::Authenticated => true,
        Requirement::AnyRole(required) => required.iter().any(|r| principal.has_role(r)),
        Requirement::Permission(permission, table) => table.grants(&principal, permission),
    };
    (!allowed).then_some(403)
}

#[tokio::test]
async fn api5_function_level_authorization_every_endpoint_as_declared() {
    for backend in BACKENDS {
        api5_function_level_authorization_every_endpoint_as_declared_on(backend).await;
    }
}

async fn api5_function_level_authorization_every_endpoint_as_declared_on(backend: TestBackend) {
    let app = taskboard(backend).await;
    let email = format!("matrix.{}@example.com", uuid::Uuid::new_v4().simple());
    let password = "correct horse battery staple";
    let admin =
        rampart::identity::ensure_admin(app.app(), rampart::rbac!(), &email, password.to_owned())
            .await;
    assert!(admin.is_ok());
    let login = app
        .post("/api/v1/auth/login")
        .json(&json!({"email": email, "password": password}))
        .send()
        .await;
    let admin_token = login.json()["data"]["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let member_token = app.token(&["member"]);
    // The key belongs to a real member account (keys need a stored owner).
    let member_access = crate::common::account(&app, "matrix-member").await.access;
    let key = crate::common::create_api_key(&app, &member_access, "matrix").await;
    assert!(key.starts_with("rk_"));

    let api = crate::taskboard::api();
    let mut checked = 0;
    for (path, def) in api.endpoints() {
        // Concrete paths: every `{param}` becomes a fresh id (handlers answer 404, past auth).
        let concrete = path
            .split('/')
            .map(|segment| {
                if segment.starts_with('{') {
                    uuid::Uuid::now_v7().to_string()
                } else {
                    segment.to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        for caller in [
            Caller::Anonymous,
            Caller::Member,
            Caller::Admin,
            Caller::ApiKey,
        ] {
            let mut request = app.request(def.method.clone(), &concrete);
            request = match caller {
                Caller::Anonymous => request,
                Caller::Member => request.bearer(&member_token),
                Caller::Admin => request.bearer(&admin_token),
                Caller::ApiKey => request.header("x-api-key", &key),
            };
            if def.method != rampart::__private::axum::http::Method::GET {
                request = request.json(&json!({}));
            }
            let status = request.send().await.status();
            match expected(def.access, caller) {
                Some(refusal) => assert_eq!(status, refusal, "{} {path} as {caller:?}", def.method),
                None => assert!(
                    status != 401 && status != 403,
                    "{} {path} as {caller:?} was refused ({status}) but the declaration admits it",
                    def.method
                ),
            }
            checked += 1;
        }
    }
    assert!(checked >= 4 * 20, "walked {checked} cases");
}
