//! The taskboard's API as far as the foundation reaches: the principal (`/me`), and a small
//! notes feature that exercises public, authenticated, role- and permission-protected,
//! validated-body, validated-query and paginated endpoints over SQLite or PostgreSQL.
//! Projects and tasks are in `projects.rs`; the clock notes are stamped with, a typed
//! dependency, in `clock.rs`.

use chrono::{DateTime, Utc};
use rampart::prelude::*;
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use validator::Validate;

#[path = "projects.rs"]
pub(crate) mod projects;

#[path = "clock.rs"]
pub(crate) mod clock;

#[path = "jobs.rs"]
pub(crate) mod jobs;

#[path = "webhooks.rs"]
pub(crate) mod webhooks;

use clock::Clock;

/// The database migrations of the taskboard, per backend.
pub(crate) const MIGRATIONS: rampart::Migrations = rampart::Migrations {
    sqlite: &[
        (1, "notes", include_str!("migrations/0001_notes.sqlite.sql")),
        (
            2,
            "projects",
            include_str!("migrations/0002_projects.sqlite.sql"),
        ),
        (
            3,
            "note tags as JSON",
            include_str!("migrations/0003_note_tags_json.sqlite.sql"),
        ),
        (4, "jobs", include_str!("migrations/0004_jobs.sqlite.sql")),
        (
            5,
            "welcome counter",
            include_str!("migrations/0005_welcome_counter.sqlite.sql"),
        ),
        (
            6,
            "project webhook",
            include_str!("migrations/0006_project_webhook.sqlite.sql"),
        ),
    ],
    postgres: &[
        (
            1,
            "notes",
            include_str!("migrations/0001_notes.postgres.sql"),
        ),
        (
            2,
            "projects",
            include_str!("migrations/0002_projects.postgres.sql"),
        ),
        (
            3,
            "note tags as JSON",
            include_str!("migrations/0003_note_tags_json.postgres.sql"),
        ),
        (4, "jobs", include_str!("migrations/0004_jobs.postgres.sql")),
        (
            5,
            "welcome counter",
            include_str!("migrations/0005_welcome_counter.postgres.sql"),
        ),
        (
            6,
            "project webhook",
            include_str!("migrations/0006_project_webhook.postgres.sql"),
        ),
    ],
};

/// What the taskboard's handlers take as `Dep<T>`; `main` registers it on the app (and so do
/// the tests, which may put a fixed clock in its place). A handler's `Dep<T>` that is not here
/// stops the app at start-up.
pub(crate) fn dependencies(
    environment: rampart::Environment,
) -> Result<rampart::Dependencies, String> {
    let webhooks = webhooks::WebhookSettings::from_env(environment)?;
    Ok(rampart::Dependencies::new()
        .with(Clock::system())
        .with(webhooks.client()?)
        .with(webhooks.signer()))
}

/// Every endpoint of the taskboard, mounted under `/api/v1`.
pub(crate) fn api() -> Api {
    let api = Api::new()
        .info("taskboard", env!("CARGO_PKG_VERSION"))
        .description("The rampart reference app.")
        .license("MIT OR Apache-2.0")
        .tag("meta", "What this service is.")
        .tag(
            "notes",
            "Notes: a small feature over the foundation (validated bodies, pagination).",
        )
        .tag(
            "projects",
            "Projects: declarative CRUD, optimistic locking, archive.",
        )
        .tag(
            "tasks",
            "Tasks within a project: cursor pages, filters, sorts.",
        )
        .mount(service_info)
        .mount(create_note)
        .mount(list_notes)
        .mount(get_note)
        .mount(delete_note)
        .mount(note_stats)
        .mount(admin_list_notes);
    let api = rampart::jobs::mount_admin(jobs::mount(projects::mount(api)))
        .mount(webhooks::webhook_secret);
    rampart::identity::mount(api, rampart::rbac!())
}

/// What this service is.
#[derive(Debug, Serialize, Schema)]
pub(crate) struct ServiceInfo {
    /// Service name.
    pub(crate) name: &'static str,
    /// Version.
    pub(crate) version: &'static str,
}

/// Service information; needs no credentials.
///
/// Cached for everyone (`public, max-age`), and answered from the cache while the server
/// sheds load.
#[endpoint(get = "/info", public, tag = "meta", cache(ttl = "60s", tags = []))]
async fn service_info() -> ApiResult<ServiceInfo> {
    Ok(ServiceInfo {
        name: "taskboard",
        version: env!("CARGO_PKG_VERSION"),
    })
}

/// A tag on a note.
#[derive(Debug, Clone, Serialize, Deserialize, Validate, Schema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Tag {
    /// Tag name.
    #[validate(length(min = 1, max = 32))]
    pub(crate) name: String,
}

/// A new note.
#[derive(Debug, Deserialize, Validate, Schema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewNote {
    /// Title, 1 to 200 characters.
    #[validate(length(min = 1, max = 200))]
    pub(crate) title: String,
    /// Body text, at most 10 000 characters.
    #[validate(length(max = 10000))]
    #[serde(default)]
    pub(crate) body: String,
    /// Up to 10 tags.
    #[validate(length(max = 10), nested)]
    #[serde(default)]
    pub(crate) tags: Vec<Tag>,
}

/// A note.
#[derive(Debug, Clone, Serialize, Schema)]
pub(crate) struct Note {
    /// Id.
    pub(crate) id: Uuid,
    /// Owner.
    pub(crate) owner_id: Uuid,
    /// Title.
    pub(crate) title: String,
    /// Body text.
    pub(crate) body: String,
    /// Tags.
    pub(crate) tags: Vec<String>,
    /// Creation time (RFC 3339).
    pub(crate) created_at: DateTime<Utc>,
}

/// Filters of the note list.
#[derive(Debug, Deserialize, Validate, Schema)]
pub(crate) struct NoteFilter {
    /// Only notes whose title contains this text.
    #[validate(length(min = 1, max = 100))]
    pub(crate) q: Option<String>,
}

/// Notes per owner: the numbers an auditor may read.
#[derive(Debug, Serialize, Schema)]
pub(crate) struct NoteStats {
    /// Number of notes in the whole board.
    pub(crate) notes: i64,
    /// Number of distinct owners.
    pub(crate) owners: i64,
}

/// Tags are one JSON array (JSONB on PostgreSQL, JSON text on SQLite): every string comes
/// back as it was sent, whatever characters it holds.
type NoteRow = (
    Uuid,
    Uuid,
    String,
    String,
    sqlx::types::Json<Vec<String>>,
    DateTime<Utc>,
);

fn note_of(row: NoteRow) -> Note {
    let (id, owner_id, title, body, sqlx::types::Json(tags), created_at) = row;
    Note {
        id,
        owner_id,
        title,
        body,
        tags,
        created_at,
    }
}

/// Creates a note owned by the caller.
#[endpoint(
    post = "/notes",
    role = "member",
    tag = "notes",
    body_limit = "64KiB",
    rate_limit = "60/min",
    invalidates = ["notes"]
)]
async fn create_note(
    ctx: Ctx,
    db: Db,
    clock: Dep<Clock>,
    Json(input): Json<NewNote>,
) -> ApiResult<Created<Note>> {
    let owner = ctx.user()?.user_id();
    let note = Note {
        id: Uuid::now_v7(),
        owner_id: owner,
        title: input.title.trim().to_owned(),
        body: input.body,
        tags: input.tags.into_iter().map(|t| t.name).collect(),
        created_at: clock.now(),
    };
    let insert = "INSERT INTO notes (id, owner_id, title, body, tags, created_at) VALUES ($1, $2, $3, $4, $5, $6)";
    // `db.write`, not `db.run`: a write through it is what read-your-writes records.
    let written = &note;
    db.write("notes.insert", |pool| async move {
        rampart::with_pool!(&pool, |pool| sqlx::query(insert)
            .bind(written.id)
            .bind(written.owner_id)
            .bind(&written.title)
            .bind(&written.body)
            .bind(sqlx::types::Json(&written.tags))
            .bind(written.created_at)
            .execute(pool)
            .await
            .map(|_| ()))
    })
    .await?;
    let location = ctx.api_path(&format!("/notes/{}", note.id));
    Ok(Created::at(location, note))
}

/// Lists the caller's notes, newest first.
#[endpoint(get = "/notes", role = "member", tag = "notes")]
async fn list_notes(
    ctx: Ctx,
    db: Db,
    Query(filter): Query<NoteFilter>,
    Page(page): Page,
) -> ApiResult<Paginated<Note>> {
    let owner = ctx.user()?.user_id();
    let pattern = filter.q.map(|q| {
        format!(
            "%{}%",
            q.replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        )
    });
    let select = "SELECT id, owner_id, title, body, tags, created_at FROM notes \
                  WHERE owner_id = $1 AND ($2 IS NULL OR title LIKE $2 ESCAPE '\\') \
                  ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4";
    let count = "SELECT COUNT(*) FROM notes WHERE owner_id = $1 AND ($2 IS NULL OR title LIKE $2 ESCAPE '\\')";
    let limit = i64::from(page.per_page());
    let offset =
        i64::try_from(page.offset()).map_err(|_| ApiError::bad_request("page is too large"))?;
    let pattern = &pattern;
    let (rows, total): (Vec<NoteRow>, i64) = db
        .read("notes.list", |pool| async move {
            rampart::with_pool!(&pool, |pool| {
                let rows = sqlx::query_as(select)
                    .bind(owner)
                    .bind(pattern)
                    .bind(limit)
                    .bind(offset)
                    .fetch_all(pool)
                    .await?;
                let total = sqlx::query_scalar(count)
                    .bind(owner)
                    .bind(pattern)
                    .fetch_one(pool)
                    .await?;
                Ok((rows, total))
            })
        })
        .await?;
    Ok(Paginated {
        items: rows.into_iter().map(note_of).collect(),
        meta: page.meta(total.max(0) as u64),
    })
}

async fn fetch_note(db: &Db, owner: Uuid, id: Uuid) -> ApiResult<Note> {
    let select = "SELECT id, owner_id, title, body, tags, created_at FROM notes WHERE id = $1 AND owner_id = $2";
    let row: Option<NoteRow> = db
        .read("notes.get", |pool| async move {
            rampart::with_pool!(&pool, |pool| {
                sqlx::query_as(select)
                    .bind(id)
                    .bind(owner)
                    .fetch_optional(pool)
                    .await
            })
        })
        .await?;
    // Not found and not yours are the same 404.
    row.map(note_of).ok_or_else(ApiError::not_found)
}

/// One of the caller's notes.
#[endpoint(get = "/notes/{id}", role = "member", tag = "notes")]
async fn get_note(ctx: Ctx, db: Db, Path(id): Path<Uuid>) -> ApiResult<Note> {
    fetch_note(&db, ctx.user()?.user_id(), id).await
}

/// Deletes one of the caller's notes.
#[endpoint(
    delete = "/notes/{id}",
    permission = "notes:write",
    tag = "notes",
    invalidates = ["notes"]
)]
async fn delete_note(ctx: Ctx, db: Db, Path(id): Path<Uuid>) -> ApiResult<NoContent> {
    let owner = ctx.user()?.user_id();
    let delete = "DELETE FROM notes WHERE id = $1 AND owner_id = $2";
    let affected = db
        .write("notes.delete", |pool| async move {
            rampart::with_pool!(&pool, |pool| sqlx::query(delete)
                .bind(id)
                .bind(owner)
                .execute(pool)
                .await
                .map(|r| r.rows_affected()))
        })
        .await?;
    if affected == 0 {
        Err(ApiError::not_found())
    } else {
        Ok(NoContent)
    }
}

/// Board-wide numbers.
///
/// An aggregate over every note, so it is cached: one entry for everyone holding
/// `stats:read`, for 30 s, made stale by every note written or deleted (the note endpoints
/// write through their own SQL and say `invalidates = ["notes"]`). While the database is down
/// it answers with the last good numbers, marked stale, for up to 5 minutes.
#[endpoint(
    get = "/stats",
    permission = "stats:read",
    tag = "admin",
    cache(ttl = "30s", shared, tags = ["notes"])
)]
async fn note_stats(db: Db) -> ApiResult<NoteStats> {
    let select = "SELECT COUNT(*), COUNT(DISTINCT owner_id) FROM notes";
    let (notes, owners): (i64, i64) = db
        .read("notes.stats", |pool| async move {
            rampart::with_pool!(&pool, |pool| sqlx::query_as(select).fetch_one(pool).await)
        })
        .await?;
    Ok(NoteStats { notes, owners })
}

/// Every note of every user (administrators only).
#[endpoint(get = "/admin/notes", role = "admin", tag = "admin")]
async fn admin_list_notes(db: Db, Page(page): Page) -> ApiResult<Paginated<Note>> {
    let select = "SELECT id, owner_id, title, body, tags, created_at FROM notes ORDER BY created_at DESC, id DESC LIMIT $1 OFFSET $2";
    let count = "SELECT COUNT(*) FROM notes";
    let limit = i64::from(page.per_page());
    let offset =
        i64::try_from(page.offset()).map_err(|_| ApiError::bad_request("page is too large"))?;
    let (rows, total): (Vec<NoteRow>, i64) = db
        .read("notes.admin_list", |pool| async move {
            rampart::with_pool!(&pool, |pool| Ok((
                sqlx::query_as(select)
                    .bind(limit)
                    .bind(offset)
                    .fetch_all(pool)
                    .await?,
                sqlx::query_scalar(count).fetch_one(pool).await?,
            )))
        })
        .await?;
    Ok(Paginated {
        items: rows.into_iter().map(note_of).collect(),
        meta: page.meta(total.max(0) as u64),
    })
}
