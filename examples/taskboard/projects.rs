//! Projects and tasks. Projects are fully declarative: `#[resource(endpoints(...))]` generates
//! their six CRUD endpoints. Tasks live under a project and are served by hand-written
//! `#[endpoint]`s over the generated repository, so both styles stay exercised. Archiving a
//! project archives its tasks in the same transaction. A project's webhook is a sub-resource
//! (`PUT /projects/{id}/webhook`), hand-written because setting it checks the destination
//! (a DNS lookup through the webhook client). The generated list and get are cached per
//! caller for 10 s; every write to `projects` (generated or through `ProjectRepo`) makes
//! those entries stale on every instance.

use chrono::{DateTime, Utc};
use rampart::client::HttpClient;
use rampart::prelude::*;
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use validator::Validate;

/// A project: a named set of tasks owned by one user.
#[resource(
    table = "projects",
    owner = owner_id,
    version = version,
    pagination = "offset",
    default_sort = "-created_at",
    read_only_when = archived,
    // Deleting a project deletes its exports (`ON DELETE CASCADE`): their cached reads are
    // made stale with the project's.
    cascades = ["exports"],
    endpoints(
        path = "/projects",
        role = "member",
        rate_limit = "300/min",
        body_limit = "16KiB",
        cache(ttl = "10s")
    )
)]
#[derive(Debug, Clone)]
pub(crate) struct Project {
    /// Id.
    #[resource(id)]
    pub(crate) id: Uuid,
    /// The owner.
    pub(crate) owner_id: Uuid,
    /// Name, 1 to 100 characters, unique per owner.
    #[validate(length(min = 1, max = 100))]
    #[resource(filter, sort)]
    pub(crate) name: String,
    /// Optional description, at most 2 000 characters.
    #[validate(length(max = 2000))]
    pub(crate) description: Option<String>,
    /// Optional webhook: an `http` or `https` URL that gets a signed
    /// `POST {export_id, project_id, status}` when an export of the project finishes. Set and
    /// cleared by `PUT /projects/{id}/webhook`.
    #[resource(read_only)]
    pub(crate) webhook_url: Option<String>,
    /// Set by `POST /projects/{id}/archive`; an archived project is read-only (PUT and PATCH are
    /// 409) and takes no new tasks.
    #[resource(read_only, filter)]
    pub(crate) archived: bool,
    /// Version, bumped by every write.
    pub(crate) version: i64,
    /// Creation time.
    #[resource(sort)]
    pub(crate) created_at: DateTime<Utc>,
    /// Last change.
    pub(crate) updated_at: DateTime<Utc>,
}

/// A webhook URL's scheme: http or https only (`#[validate(url)]` accepts any scheme).
fn http_url(url: &str) -> Result<(), validator::ValidationError> {
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    if lower.starts_with("https://") || lower.starts_with("http://") {
        Ok(())
    } else {
        Err(validator::ValidationError::new("http_url"))
    }
}

/// A task in a project.
// `Deserialize` too: a cached query that answers tasks keeps them as JSON.
#[resource(
    table = "tasks",
    owner = owner_id,
    version = version,
    default_sort = "created_at",
    read_only_when = archived
)]
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Task {
    /// Id.
    #[resource(id)]
    pub(crate) id: Uuid,
    /// The owner.
    pub(crate) owner_id: Uuid,
    /// The project it belongs to.
    #[resource(parent = Project)]
    pub(crate) project_id: Uuid,
    /// Title, 1 to 200 characters.
    #[validate(length(min = 1, max = 200))]
    #[resource(filter, sort)]
    pub(crate) title: String,
    /// Done or not (false when left out).
    #[serde(default)]
    #[resource(filter)]
    pub(crate) done: bool,
    /// Optional due date.
    pub(crate) due: Option<DateTime<Utc>>,
    /// Set when its project is archived; an archived task is read-only (PATCH is 409).
    #[resource(read_only, filter)]
    pub(crate) archived: bool,
    /// Version, bumped by every write.
    pub(crate) version: i64,
    /// Creation time.
    #[resource(sort)]
    pub(crate) created_at: DateTime<Utc>,
    /// Last change.
    pub(crate) updated_at: DateTime<Utc>,
}

/// Projects beyond CRUD.
#[repository(Project)]
pub(crate) trait ProjectRepo {
    /// Marks one of the caller's projects archived; 0 when it is missing, not theirs, or
    /// already archived.
    #[query(
        "UPDATE projects SET archived = TRUE, version = version + 1, updated_at = :now \
         WHERE id = :id AND owner_id = :owner AND archived = FALSE"
    )]
    async fn archive(&self, scope: &Scope, id: Uuid, now: DateTime<Utc>) -> ApiResult<u64>;

    /// Sets (or clears, `None`) one of the caller's projects' webhook; 0 when it is missing,
    /// not theirs, or archived.
    #[query(
        "UPDATE projects SET webhook_url = :url, version = version + 1, updated_at = :now \
         WHERE id = :id AND owner_id = :owner AND archived = FALSE"
    )]
    async fn set_webhook(
        &self,
        scope: &Scope,
        id: Uuid,
        url: Option<String>,
        now: DateTime<Utc>,
    ) -> ApiResult<u64>;
}

/// How many of a project's tasks are still to do.
#[derive(Debug, Clone, PartialEq, Serialize, Schema)]
pub(crate) struct OpenTasks {
    /// Tasks not done (archived ones included).
    pub(crate) open: i64,
}

/// Tasks beyond CRUD.
#[repository(Task)]
pub(crate) trait TaskRepo {
    /// How many tasks of one of the caller's projects are not done: kept for 60 s per caller
    /// and project (the owner and the project are bound, so they are in the key), and made
    /// stale by every write to `tasks`.
    #[query(
        "SELECT COUNT(*) FROM tasks WHERE project_id = :project AND owner_id = :owner AND done = FALSE",
        cache(ttl = "60s")
    )]
    async fn open_count(&self, scope: &Scope, project: Uuid) -> ApiResult<i64>;

    /// Archives every task of one of the caller's projects.
    #[query(
        "UPDATE tasks SET archived = TRUE, version = version + 1, updated_at = :now \
         WHERE project_id = :project AND owner_id = :owner AND archived = FALSE"
    )]
    async fn archive_in_project(
        &self,
        scope: &Scope,
        project: Uuid,
        now: DateTime<Utc>,
    ) -> ApiResult<u64>;
}

/// Mounts projects (generated) and tasks (hand-written).
pub(crate) fn mount(api: Api) -> Api {
    api.resource::<Project>()
        .mount(archive_project)
        .mount(set_project_webhook)
        .mount(open_tasks)
        .mount(list_tasks)
        .mount(create_task)
        .mount(get_task)
        .mount(patch_task)
        .mount(delete_task)
}

/// Archives a project and all its tasks, atomically.
#[endpoint(
    post = "/projects/{id}/archive",
    role = "member",
    tag = "projects",
    rate_limit = "60/min",
    errors = [409]
)]
async fn archive_project(
    ctx: Ctx,
    projects: ProjectRepo,
    tasks: TaskRepo,
    Path(id): Path<Uuid>,
) -> ApiResult<Tagged<Project>> {
    let scope = ctx.scope()?;
    // Run again from the start if it loses a serialisation conflict or deadlock (409 when
    // that keeps happening).
    let scope = &scope;
    let project = projects
        .transaction(|tx| {
            let (projects, tasks) = (projects.in_tx(&tx), tasks.in_tx(&tx));
            async move {
                // As the databases store it (microseconds), like every timestamp the store writes.
                let now = rampart::resource::now();
                if projects.archive(scope, id, now).await? == 0 {
                    // Missing or not the caller's: the same 404. Otherwise it was archived.
                    projects.get(scope, id).await?;
                    return Err(ApiError::new(ErrorCode::Conflict)
                        .with_message("the project is already archived"));
                }
                tasks.archive_in_project(scope, id, now).await?;
                projects.get(scope, id).await
            }
        })
        .await?;
    Ok(Tagged::new(project))
}

/// A project's webhook, as `PUT /projects/{id}/webhook` takes it.
#[derive(Debug, Deserialize, Validate, Schema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ProjectWebhook {
    /// An `http` or `https` URL of at most 2 000 characters, or `null` (or left out) for none.
    /// A URL whose host is or resolves to a private, loopback or link-local address is refused
    /// (400, `destination_refused`), and again when it is called.
    #[serde(default, deserialize_with = "rampart::resource::input::trimmed_option")]
    #[validate(url, length(max = 2000), custom(function = "http_url"))]
    pub(crate) url: Option<String>,
}

/// Sets or clears (`{"url": null}`) the webhook of one of the caller's projects, answering the
/// project. An archived project's is 409, like its other writes.
#[endpoint(
    put = "/projects/{id}/webhook",
    role = "member",
    tag = "projects",
    rate_limit = "300/min",
    body_limit = "16KiB",
    errors = [409]
)]
async fn set_project_webhook(
    ctx: Ctx,
    projects: ProjectRepo,
    client: Dep<HttpClient>,
    Path(id): Path<Uuid>,
    Json(input): Json<ProjectWebhook>,
) -> ApiResult<Tagged<Project>> {
    let scope = ctx.scope()?;
    // The caller's project first (404 otherwise): the destination check resolves the name,
    // which nobody may use to probe addresses through projects that are not theirs.
    projects.get(&scope, id).await?;
    super::webhooks::check_webhook_url(&client, input.url.as_deref()).await?;
    if projects
        .set_webhook(&scope, id, input.url, rampart::resource::now())
        .await?
        == 0
    {
        // Missing or not the caller's: the same 404. Otherwise it is archived.
        projects.get(&scope, id).await?;
        return Err(ApiError::new(ErrorCode::Conflict)
            .with_message("the project is archived: its webhook cannot be changed"));
    }
    projects.get(&scope, id).await.map(Tagged::new)
}

/// How many tasks of one of the caller's projects are still to do (a cached query).
#[endpoint(get = "/projects/{id}/open-tasks", role = "member", tag = "projects")]
async fn open_tasks(
    ctx: Ctx,
    projects: ProjectRepo,
    tasks: TaskRepo,
    Path(id): Path<Uuid>,
) -> ApiResult<OpenTasks> {
    let scope = ctx.scope()?;
    // Missing or not the caller's: 404, as for every other read of a project.
    projects.get(&scope, id).await?;
    let open = tasks.open_count(&scope, id).await?;
    Ok(OpenTasks { open })
}

/// The tasks of one of the caller's projects, a cursor page at a time.
#[endpoint(get = "/projects/{id}/tasks", role = "member", tag = "tasks")]
async fn list_tasks(
    ctx: Ctx,
    tasks: TaskRepo,
    Path(id): Path<Uuid>,
    query: ListQuery<Task>,
) -> ApiResult<Paginated<Task>> {
    tasks.list_under(&ctx.scope()?, id, &query).await
}

/// Adds a task to one of the caller's projects.
///
/// Send an `Idempotency-Key` to make a retry safe: a repeat answers with the first task, it
/// does not add a second.
#[endpoint(
    post = "/projects/{id}/tasks",
    role = "member",
    tag = "tasks",
    rate_limit = "300/min",
    body_limit = "16KiB",
    errors = [409, 422],
    idempotent
)]
async fn create_task(
    ctx: Ctx,
    tasks: TaskRepo,
    Path(id): Path<Uuid>,
    Json(input): Json<NewTask>,
) -> ApiResult<Created<Task>> {
    let task = tasks.create_under(&ctx.scope()?, id, input).await?;
    Ok(Created::at(
        ctx.api_path(&format!("/tasks/{}", task.id)),
        task,
    ))
}

/// One of the caller's tasks, with its version as `ETag`.
#[endpoint(get = "/tasks/{id}", role = "member", tag = "tasks")]
async fn get_task(ctx: Ctx, tasks: TaskRepo, Path(id): Path<Uuid>) -> ApiResult<Tagged<Task>> {
    tasks.get(&ctx.scope()?, id).await.map(Tagged::new)
}

/// Changes the fields given of a task, at the version given (`version`, or `If-Match`).
#[endpoint(
    patch = "/tasks/{id}",
    role = "member",
    tag = "tasks",
    rate_limit = "300/min",
    body_limit = "16KiB",
    errors = [409, 412]
)]
async fn patch_task(
    ctx: Ctx,
    tasks: TaskRepo,
    Path(id): Path<Uuid>,
    if_match: IfMatch,
    Json(input): Json<TaskPatch>,
) -> ApiResult<Tagged<Task>> {
    tasks
        .patch(&ctx.scope()?, id, input, if_match)
        .await
        .map(Tagged::new)
}

/// Deletes one of the caller's tasks.
#[endpoint(delete = "/tasks/{id}", role = "member", tag = "tasks", errors = [412])]
async fn delete_task(
    ctx: Ctx,
    tasks: TaskRepo,
    Path(id): Path<Uuid>,
    if_match: IfMatch,
) -> ApiResult<NoContent> {
    tasks.delete(&ctx.scope()?, id, if_match).await?;
    Ok(NoContent)
}
