//! Export webhooks: when an export finishes (done, or failed for good), a project with a
//! `webhook_url` gets `POST {export_id, project_id, status}` through `rampart::client`, signed
//! with HMAC-SHA256 (`X-Taskboard-Signature: t=<unix>,v1=<hex of HMAC("<t>.<body>")>`) under
//! the project's own key, which its owner reads from `GET /projects/{id}/webhook-secret`. The
//! key is derived from `TASKBOARD_WEBHOOK_SECRET` and the project id (HMAC), so nothing is
//! stored, and a tenant who holds its own key cannot sign for another project.
//!
//! The delivery is its own job, enqueued by the export job in the transaction that records
//! the export's end: a failed delivery is retried by the job machinery without building the
//! export again, and a delivery exists if and only if the export's end was recorded.

use hmac::{Hmac, Mac};
use rampart::client::{ClientError, HeaderName, HeaderValue, HttpClient, header};
use rampart::jobs::{JobCtx, JobError, JobResult};
use rampart::prelude::*;
use rampart::{Environment, job};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use uuid::Uuid;

/// The signature header.
pub(crate) const SIGNATURE_HEADER: &str = "x-taskboard-signature";

/// The key development runs sign with when `TASKBOARD_WEBHOOK_SECRET` is not set (never in
/// production, where the secret is required).
pub(crate) const DEVELOPMENT_SECRET: &str =
    "taskboard-development-webhook-secret-not-for-production";

/// The shortest secret accepted, as for rampart's own shared secrets.
const MIN_SECRET_BYTES: usize = 32;

/// The webhook settings from the environment.
pub(crate) struct WebhookSettings {
    secret: Vec<u8>,
    allow_loopback: bool,
}

impl WebhookSettings {
    /// `TASKBOARD_WEBHOOK_SECRET` (at least 32 bytes; required in production, a fixed
    /// development key otherwise) and `TASKBOARD_WEBHOOK_ALLOW_LOOPBACK=true` (local receivers,
    /// tests).
    pub(crate) fn from_env(environment: Environment) -> Result<Self, String> {
        let secret = match std::env::var("TASKBOARD_WEBHOOK_SECRET") {
            Ok(secret) if secret.len() >= MIN_SECRET_BYTES => secret.into_bytes(),
            Ok(_) => {
                return Err(format!(
                    "TASKBOARD_WEBHOOK_SECRET must be at least {MIN_SECRET_BYTES} bytes"
                ));
            }
            Err(_) if environment == Environment::Production => {
                return Err("TASKBOARD_WEBHOOK_SECRET is required in production (at least 32 bytes): receivers verify webhooks with it".into());
            }
            Err(_) => DEVELOPMENT_SECRET.as_bytes().to_vec(),
        };
        let allow_loopback = match std::env::var("TASKBOARD_WEBHOOK_ALLOW_LOOPBACK").as_deref() {
            Ok("true") => true,
            Ok("false") | Err(_) => false,
            Ok(other) => {
                return Err(format!(
                    "TASKBOARD_WEBHOOK_ALLOW_LOOPBACK: expected true or false, got `{other}`"
                ));
            }
        };
        Ok(Self {
            secret,
            allow_loopback,
        })
    }

    /// The client webhooks are delivered with: public destinations only, loopback too when
    /// allowed.
    pub(crate) fn client(&self) -> Result<HttpClient, String> {
        HttpClient::builder()
            .allow_loopback(self.allow_loopback)
            .build()
            .map_err(|error| error.to_string())
    }

    /// The signer.
    pub(crate) fn signer(&self) -> WebhookSigner {
        WebhookSigner::new(self.secret.clone())
    }
}

/// Signs webhook bodies (a dependency: `Dep<WebhookSigner>`).
pub(crate) struct WebhookSigner {
    secret: Vec<u8>,
}

impl WebhookSigner {
    /// A signer with `secret`.
    pub(crate) fn new(secret: impl Into<Vec<u8>>) -> Self {
        Self {
            secret: secret.into(),
        }
    }

    /// The key `project`'s webhooks are signed with: HMAC-SHA256 of the project id under the
    /// app's secret, as hex (what its owner is shown, and verifies with).
    pub(crate) fn project_key(&self, project: Uuid) -> String {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.secret) else {
            // HMAC takes keys of any length: unreachable.
            return String::new();
        };
        mac.update(b"taskboard-webhook-key-v1:");
        mac.update(project.as_bytes());
        mac.finalize()
            .into_bytes()
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect()
    }

    /// `t=<timestamp>,v1=<hex of HMAC-SHA256("<timestamp>.<body>")>` under `project`'s key:
    /// the timestamp inside the MAC lets a receiver refuse replays of old deliveries.
    pub(crate) fn sign(&self, project: Uuid, timestamp: i64, body: &[u8]) -> String {
        let key = self.project_key(project);
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key.as_bytes()) else {
            // HMAC takes keys of any length: unreachable, and an unsigned header is refused
            // by every receiver rather than trusted.
            return format!("t={timestamp},v1=");
        };
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        let hex: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        format!("t={timestamp},v1={hex}")
    }
}

/// Refuses a webhook URL being set (`url` of `PUT /projects/{id}/webhook`) whose destination
/// the webhook client would refuse — a private, loopback or link-local address, as a literal
/// or what the name resolves to now — as a field error like the other rules of the field (400
/// `VALIDATION_ERROR`, `{"field": "url", "issue": "destination_refused"}`), so the owner
/// learns it when setting it rather than from failed deliveries. A name that does not resolve
/// now passes: it may later, and the delivery (which checks again, a name may resolve
/// elsewhere by then) is retried.
pub(crate) async fn check_webhook_url(client: &HttpClient, url: Option<&str>) -> ApiResult<()> {
    let Some(url) = url else {
        return Ok(());
    };
    match client.check_destination(url).await {
        Err(error @ ClientError::Refused { .. }) => Err(ApiError::new(ErrorCode::ValidationError)
            .with_detail("url", "destination_refused")
            .with_source(error)),
        // Validation has taken the URL's form already (an http(s) URL).
        _ => Ok(()),
    }
}

/// What the delivery job needs: where, and what to say.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct ExportWebhook {
    /// The project's `webhook_url` when the export finished.
    pub(crate) url: String,
    /// The body's fields.
    pub(crate) event: ExportEvent,
}

/// The body of an export webhook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct ExportEvent {
    /// The export.
    pub(crate) export_id: Uuid,
    /// Its project.
    pub(crate) project_id: Uuid,
    /// `done` or `failed`.
    pub(crate) status: String,
}

/// Delivers an export webhook: one signed POST; an error or a non-2xx answer fails the attempt
/// and the job machinery retries it with backoff (the client itself does not retry a POST). A
/// refused destination (a private address) fails for good. `X-Taskboard-Delivery` (the job's
/// id, the same on every retry) lets a receiver drop duplicates. The call's log line has no
/// path: a receiver's URL is the user's, and many carry their secret in the path.
#[job(
    queue = "webhooks",
    retries = 5,
    backoff_base = "250ms",
    timeout = "60s"
)]
pub(crate) async fn deliver_export_webhook(
    ctx: JobCtx,
    input: ExportWebhook,
    client: Dep<HttpClient>,
    signer: Dep<WebhookSigner>,
) -> JobResult {
    let body = serde_json::to_vec(&input.event)
        .map_err(|error| JobError::permanent(format!("webhook body: {error}")))?;
    let signature = signer.sign(
        input.event.project_id,
        chrono::Utc::now().timestamp(),
        &body,
    );
    let value_of = |value: &str| {
        HeaderValue::from_str(value)
            .map_err(|_| JobError::permanent("webhook header does not encode"))
    };
    let response = client
        .post(&input.url)
        .header(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )
        .header(
            HeaderName::from_static(SIGNATURE_HEADER),
            value_of(&signature)?,
        )
        .header(
            HeaderName::from_static("x-taskboard-delivery"),
            value_of(&ctx.id().uuid().to_string())?,
        )
        .body(body)
        .log_without_path()
        .send()
        .await
        .map_err(|error| match error.is_retryable() {
            true => JobError::retry(error.to_string()),
            false => JobError::permanent(error.to_string()),
        })?;
    if !response.status().is_success() {
        return Err(JobError::retry(format!(
            "the receiver answered {}",
            response.status().as_u16()
        )));
    }
    Ok(())
}

/// A project's webhook key.
#[derive(Debug, Serialize, Schema)]
pub(crate) struct WebhookSecret {
    /// Verify `X-Taskboard-Signature` with it: HMAC-SHA256 of `"<t>.<body>"`, this text as the
    /// key.
    pub(crate) secret: String,
}

/// The key one of the caller's projects' webhooks are signed with (a credential: never cached,
/// `no-store`).
#[endpoint(
    get = "/projects/{id}/webhook-secret",
    role = "member",
    tag = "projects"
)]
pub(crate) async fn webhook_secret(
    ctx: Ctx,
    projects: super::projects::ProjectRepo,
    signer: Dep<WebhookSigner>,
    Path(id): Path<Uuid>,
) -> ApiResult<rampart::Sensitive<WebhookSecret>> {
    // Missing or not the caller's: 404, as for every other read of a project.
    let project = projects.get(&ctx.scope()?, id).await?;
    Ok(rampart::Sensitive(WebhookSecret {
        secret: signer.project_key(project.id),
    }))
}
