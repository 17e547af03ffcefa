//! Work off the request path: the welcome mail (enqueued inside the registration's
//! transaction) and project exports (`POST /projects/{id}/exports` answers 202 at once; a
//! worker builds the export). `cargo run --example taskboard -- worker` runs them.

use chrono::{DateTime, Utc};
use rampart::jobs::{EnqueueOptions, JobCtx, JobError, JobResult, JobSet, Jobs};
use rampart::prelude::*;
use rampart::{Accepted, job};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::clock::Clock;
use super::projects::{Project, ProjectRepo, Task, TaskRepo};
use super::webhooks::{ExportEvent, ExportWebhook, deliver_export_webhook};

/// Every job of the taskboard: the API process and the worker register the same set.
pub(crate) fn jobs() -> JobSet {
    JobSet::new()
        .job(send_welcome)
        .job(export_project)
        .job(deliver_export_webhook)
}

/// The welcome mail's input.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Welcome {
    /// The new account.
    pub(crate) user_id: Uuid,
}

/// A mail the taskboard "sent": the effect of the welcome job, one row per mail. A duplicate
/// delivery of the job would show as a second row; `JobCtx::once` keeps it to one.
#[resource(table = "mail_outbox")]
#[derive(Debug, Clone)]
pub(crate) struct Mail {
    /// Id.
    #[resource(id)]
    pub(crate) id: Uuid,
    /// The addressee.
    #[resource(read_only)]
    pub(crate) user_id: Uuid,
    /// What kind of mail (`welcome`).
    #[resource(read_only)]
    pub(crate) kind: String,
    /// When it was written.
    pub(crate) created_at: DateTime<Utc>,
}

/// How many welcome mails a user got: a counter, so a repeated effect would show as 2.
#[resource(table = "mail_counts")]
#[derive(Debug, Clone)]
pub(crate) struct MailCount {
    /// The user.
    #[resource(id)]
    pub(crate) user_id: Uuid,
    /// Welcome mails written for them.
    #[resource(read_only)]
    pub(crate) welcome_mails: i64,
}

/// The mail outbox and its counters.
#[repository(Mail, tables(MailCount))]
pub(crate) trait MailRepo {
    /// Writes the welcome mail of a user.
    #[query(
        "INSERT INTO mail_outbox (id, user_id, kind, created_at) \
         VALUES (:id, :user, 'welcome', :now)"
    )]
    async fn record_welcome(&self, id: Uuid, user: Uuid, now: DateTime<Utc>) -> ApiResult<u64>;

    /// Counts one more welcome mail for a user (`mail_counts.welcome_mails`).
    #[query(
        "INSERT INTO mail_counts (user_id, welcome_mails) VALUES (:user, 1) \
         ON CONFLICT (user_id) DO UPDATE SET welcome_mails = mail_counts.welcome_mails + 1"
    )]
    async fn count_welcome(&self, user: Uuid) -> ApiResult<u64>;
}

/// Sends the welcome mail to a new account (here: writes it to `mail_outbox` and counts it in
/// `mail_counts`), once: the count is not idempotent by itself (a repeated effect would make
/// it 2), `JobCtx::once` makes the pair happen once across redeliveries.
#[job(queue = "mail", retries = 8, timeout = "30s")]
pub(crate) async fn send_welcome(ctx: JobCtx, input: Welcome, clock: Dep<Clock>) -> JobResult {
    let mails = MailRepo::new(ctx.store::<Mail>()?);
    ctx.once(|tx| async move {
        let mails = mails.in_tx(&tx);
        mails
            .record_welcome(Uuid::now_v7(), input.user_id, clock.now())
            .await?;
        mails.count_welcome(input.user_id).await
    })
    .await?;
    Ok(())
}

/// Attaches the registration hook once the app's jobs are declared: `main` and the tests
/// build the app the same way.
pub(crate) fn attach(app: rampart::App) -> rampart::App {
    match app.jobs() {
        Some(jobs) => {
            let hook = on_registration((*jobs).clone());
            app.on_registration(hook)
        }
        None => app,
    }
}

/// The registration hook: the welcome job is enqueued in the registration's transaction, so
/// it exists if and only if the account does.
fn on_registration(jobs: Jobs) -> rampart::identity::RegistrationHook {
    std::sync::Arc::new(move |tx, user| {
        let jobs = jobs.clone();
        Box::pin(async move {
            jobs.enqueue_tx(&tx, send_welcome, Welcome { user_id: user.id })
                .await
                .map(|_| ())
        })
    })
}

/// An export of a project: queued, then running, then done (with the project and its tasks
/// in `result`) or failed.
#[resource(table = "exports", owner = owner_id, version = version)]
#[derive(Debug, Clone)]
pub(crate) struct Export {
    /// Id.
    #[resource(id)]
    pub(crate) id: Uuid,
    /// The owner.
    pub(crate) owner_id: Uuid,
    /// The project exported.
    #[resource(parent = Project)]
    pub(crate) project_id: Uuid,
    /// `queued`, `running`, `done` or `failed`.
    #[resource(read_only)]
    pub(crate) status: String,
    /// The export, once done.
    #[resource(json, read_only)]
    pub(crate) result: Option<ExportResult>,
    /// Version, bumped by every change of status.
    pub(crate) version: i64,
    /// When it was asked for.
    pub(crate) created_at: DateTime<Utc>,
    /// Last change.
    pub(crate) updated_at: DateTime<Utc>,
}

/// What an export holds: the project and every task, as they were when it ran.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Schema)]
pub(crate) struct ExportResult {
    /// The project.
    pub(crate) project: ExportedProject,
    /// Its tasks, oldest first.
    pub(crate) tasks: Vec<ExportedTask>,
}

/// A project in an export.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Schema)]
pub(crate) struct ExportedProject {
    /// Id.
    pub(crate) id: Uuid,
    /// Name.
    pub(crate) name: String,
    /// Description.
    pub(crate) description: Option<String>,
    /// Archived or not.
    pub(crate) archived: bool,
}

/// A task in an export.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Schema)]
pub(crate) struct ExportedTask {
    /// Id.
    pub(crate) id: Uuid,
    /// Title.
    pub(crate) title: String,
    /// Done or not.
    pub(crate) done: bool,
    /// Due date.
    pub(crate) due: Option<DateTime<Utc>>,
}

/// Exports beyond CRUD.
#[repository(Export)]
pub(crate) trait ExportRepo {
    /// Queues an export of one of the caller's projects; 0 when the project is missing or not
    /// theirs.
    #[query(
        "INSERT INTO exports (id, owner_id, project_id, status, version, created_at, updated_at) \
         SELECT :id, :owner, id, 'queued', 1, :now, :now FROM projects \
         WHERE id = :project AND owner_id = :owner"
    )]
    async fn queue(
        &self,
        scope: &Scope,
        id: Uuid,
        project: Uuid,
        now: DateTime<Utc>,
    ) -> ApiResult<u64>;

    /// Moves one of the caller's exports to `status`.
    #[query(
        "UPDATE exports SET status = :status, version = version + 1, updated_at = :now \
         WHERE id = :id AND owner_id = :owner"
    )]
    async fn set_status(
        &self,
        scope: &Scope,
        id: Uuid,
        status: String,
        now: DateTime<Utc>,
    ) -> ApiResult<u64>;
}

/// The export job's input: which export to build (the owner comes from the captured scope).
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct ExportInput {
    /// The export row.
    pub(crate) export_id: Uuid,
}

/// Builds an export: reads the project and its tasks under the owner's captured scope and
/// stores them in the export's `result`, once. An export whose last attempt fails is marked
/// `failed`, so a client following its `Location` stops waiting.
#[job(queue = "exports", retries = 3, backoff_base = "2s", timeout = "60s")]
pub(crate) async fn export_project(ctx: JobCtx, input: ExportInput) -> JobResult {
    let export_id = input.export_id;
    let outcome = build_export(&ctx, input).await;
    if let Err(error) = &outcome
        && (error.is_permanent() || ctx.is_last_attempt())
        && let Ok(scope) = ctx.scope()
        && let Ok(store) = ctx.store::<Export>()
    {
        // Best effort: the job's own error is what the dead-letter queue records.
        let exports = ExportRepo::new(store);
        let marked = exports
            .set_status(
                &scope,
                export_id,
                "failed".to_owned(),
                rampart::resource::now(),
            )
            .await;
        // The webhook of a failure, best effort too: enqueued only once the export is marked
        // failed, so the receiver never hears of a failure the API does not show.
        if let Ok(1) = marked
            && let Ok(export) = exports.get(&scope, export_id).await
            && let Ok(projects) = ctx.store::<Project>()
            && let Ok(project) = ProjectRepo::new(projects)
                .get(&scope, export.project_id)
                .await
            && let Some(url) = project.webhook_url
        {
            let _ = ctx
                .jobs()
                .enqueue(deliver_export_webhook, webhook(url, &export, "failed"))
                .await;
        }
    }
    outcome
}

/// The delivery job's input for `export` ending in `status`.
fn webhook(url: String, export: &Export, status: &str) -> ExportWebhook {
    ExportWebhook {
        url,
        event: ExportEvent {
            export_id: export.id,
            project_id: export.project_id,
            status: status.to_owned(),
        },
    }
}

async fn build_export(ctx: &JobCtx, input: ExportInput) -> JobResult {
    let scope = ctx.scope()?;
    let exports = ExportRepo::new(ctx.store::<Export>()?);
    let projects = ProjectRepo::new(ctx.store::<Project>()?);
    let tasks = TaskRepo::new(ctx.store::<Task>()?);
    let export = match exports.get(&scope, input.export_id).await {
        Ok(export) => export,
        // Deleted since, or never this owner's: nothing to do, and no retry will change it.
        Err(error) if error.code() == ErrorCode::NotFound => {
            return Err(JobError::permanent("the export no longer exists"));
        }
        Err(error) => return Err(error.into()),
    };
    if export.status == "done" {
        return Ok(());
    }
    exports
        .set_status(
            &scope,
            export.id,
            "running".to_owned(),
            rampart::resource::now(),
        )
        .await?;
    let project = projects.get(&scope, export.project_id).await?;
    let webhook_url = project.webhook_url.clone();
    let mut all = Vec::new();
    let mut query = ListQuery::<Task>::parse("per_page=100")?;
    loop {
        let page = tasks.list_under(&scope, project.id, &query).await?;
        all.extend(page.items);
        match page.meta.next_cursor {
            // Cursors are URL-safe base64: no escaping needed.
            Some(cursor) => {
                query = ListQuery::<Task>::parse(&format!("per_page=100&cursor={cursor}"))?
            }
            None => break,
        }
    }
    let result = ExportResult {
        project: ExportedProject {
            id: project.id,
            name: project.name,
            description: project.description,
            archived: project.archived,
        },
        tasks: all
            .into_iter()
            .map(|task| ExportedTask {
                id: task.id,
                title: task.title,
                done: task.done,
                due: task.due,
            })
            .collect(),
    };
    let owner = scope.owner();
    let jobs = ctx.jobs();
    ctx.once(|tx| async move {
        // The webhook is queued in the transaction that records the end: delivered if and only
        // if the export is done, and never re-queued by a redelivery of this job.
        if let Some(url) = webhook_url {
            jobs.enqueue_tx(&tx, deliver_export_webhook, webhook(url, &export, "done"))
                .await?;
        }
        exports
            .in_tx(&tx)
            .execute(
                "exports.finish",
                "UPDATE exports SET status = 'done', result = $1, version = version + 1, \
                 updated_at = $2 WHERE id = $3 AND owner_id = $4",
                vec![
                    rampart::resource::Value::json(&result),
                    rampart::resource::Value::Timestamp(rampart::resource::now()),
                    rampart::resource::Value::Uuid(export.id),
                    rampart::resource::Value::Uuid(owner),
                ],
            )
            .await
    })
    .await?;
    Ok(())
}

/// Mounts the export endpoints.
pub(crate) fn mount(api: Api) -> Api {
    api.tag(
        "exports",
        "Project exports, built off the request path by a worker.",
    )
    .mount(create_export)
    .mount(get_export)
}

/// Asks for an export of one of the caller's projects: 202 at once, with `Location` where its
/// progress can be read; a worker builds it.
#[endpoint(
    post = "/projects/{id}/exports",
    role = "member",
    tag = "exports",
    rate_limit = "30/min"
)]
async fn create_export(
    ctx: Ctx,
    exports: ExportRepo,
    jobs: Dep<Jobs>,
    Path(id): Path<Uuid>,
) -> ApiResult<Accepted<Export>> {
    let project = id;
    let scope = ctx.scope()?;
    let scope = &scope;
    let jobs = &jobs;
    let export = exports
        .transaction(|tx| {
            let exports = exports.in_tx(&tx);
            async move {
                let export_id = Uuid::now_v7();
                if exports
                    .queue(scope, export_id, project, rampart::resource::now())
                    .await?
                    == 0
                {
                    return Err(ApiError::not_found());
                }
                // Delivered if and only if this transaction commits.
                jobs.enqueue_tx_with(
                    &tx,
                    export_project,
                    ExportInput { export_id },
                    EnqueueOptions::default().scope(*scope),
                )
                .await?;
                exports.get(scope, export_id).await
            }
        })
        .await?;
    Ok(Accepted::at(
        ctx.api_path(&format!("/projects/{project}/exports/{}", export.id)),
        export,
    ))
}

/// One of the caller's exports of one of their projects.
#[endpoint(
    get = "/projects/{id}/exports/{export_id}",
    role = "member",
    tag = "exports"
)]
async fn get_export(
    ctx: Ctx,
    exports: ExportRepo,
    Path((id, export_id)): Path<(Uuid, Uuid)>,
) -> ApiResult<Tagged<Export>> {
    let export = exports.get(&ctx.scope()?, export_id).await?;
    if export.project_id != id {
        return Err(ApiError::not_found());
    }
    Ok(Tagged::new(export))
}
