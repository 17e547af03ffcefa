// A bad field marker, then a repository and a handler over the resource: one error.
use chrono::{DateTime, Utc};
use rampart::prelude::*;
use uuid::Uuid;

#[resource(table = "notes", owner = owner_id)]
pub struct Note {
    #[resource(id)]
    pub id: Uuid,
    pub owner_id: Uuid,
    #[resource(filtr)]
    pub title: String,
    pub updated_at: DateTime<Utc>,
}

#[repository(Note)]
pub trait NoteRepo {
    /// Renames one of the caller's notes.
    #[query("UPDATE notes SET title = :title WHERE id = :id AND owner_id = :owner")]
    async fn rename(&self, scope: &Scope, id: Uuid, title: String) -> ApiResult<u64>;
}

#[endpoint(get = "/notes/{id}")]
async fn get_note(ctx: Ctx, repo: NoteRepo, Path(id): Path<Uuid>) -> ApiResult<Note> {
    repo.get(&ctx.scope()?, id).await
}

fn main() {
    let _ = Api::new().mount(get_note);
}
