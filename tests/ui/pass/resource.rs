// A resource with every marker, resources with every endpoints(...) option, a repository with
// owner-scoped, unowned and admin queries.
use chrono::{DateTime, Utc};
use rampart::prelude::*;
use uuid::Uuid;

rampart::roles! { member: ["notes:read"] }

#[resource(table = "folders", owner = owner_id, version = version,
           endpoints(path = "/folders", role = "member", rate_limit = "10/s"))]
struct Folder {
    #[resource(id)]
    id: Uuid,
    owner_id: Uuid,
    #[validate(length(min = 1, max = 10))]
    #[resource(filter, sort)]
    name: String,
    #[validate(email)]
    contact: Option<String>,
    version: i64,
    created_at: DateTime<Utc>,
}

#[resource(table = "notes", owner = owner_id, default_sort = "-title")]
struct Note {
    #[resource(id)]
    id: Uuid,
    owner_id: Uuid,
    #[resource(parent = Folder)]
    folder_id: Uuid,
    #[resource(sort)]
    title: String,
    #[resource(read_only)]
    pinned: bool,
}

#[resource(table = "labels", pagination = "offset")]
struct Label {
    #[resource(id)]
    id: Uuid,
    #[resource(filter)]
    text: String,
}

/// Every `#[endpoint]` option `endpoints(...)` takes, on an unowned resource (so `public` is
/// allowed: list and get without credentials).
#[resource(table = "posters",
           endpoints(path = "/posters", public, deprecated, timeout = "2s", body_timeout = "10s",
                     body_limit = "4KiB", rate_limit = "5/min", burst = 2, tag = "posters"))]
struct Poster {
    #[resource(id)]
    id: Uuid,
    #[validate(length(max = 40))]
    caption: String,
}

#[resource(table = "meters", owner = owner_id,
           endpoints(path = "/meters", auth = "api_key", roles = ["member"]))]
struct Meter {
    #[resource(id)]
    id: Uuid,
    owner_id: Uuid,
    reading: i64,
}

#[repository(Note)]
trait NoteRepo {
    /// Mine, by title.
    #[query("SELECT id, owner_id, folder_id, title, pinned FROM notes WHERE owner_id = :owner AND title = :title")]
    async fn by_title(&self, scope: &Scope, title: String) -> ApiResult<Vec<Note>>;
    /// Everyone's, counted.
    #[query("SELECT COUNT(*) FROM notes WHERE pinned = :pinned")]
    async fn count_pinned(&self, admin: &UnscopedAdmin, pinned: bool) -> ApiResult<i64>;
}

#[repository(Label)]
trait LabelRepo {
    #[query("SELECT id, text FROM labels WHERE text = :text")]
    async fn find(&self, text: &str) -> ApiResult<Option<Label>>;
}

fn main() {
    let _ = Api::new()
        .resource::<Folder>()
        .resource::<Poster>()
        .resource::<Meter>();
    let _: fn(NoteRepo, LabelRepo) = |_, _| {};
}
