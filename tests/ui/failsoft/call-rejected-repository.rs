// A repository whose query has a mistake, used by an endpoint: the mistake is the one error.
use rampart::prelude::*;
use uuid::Uuid;

#[resource(table = "notes", owner = owner_id)]
struct Note {
    #[resource(id)]
    id: Uuid,
    owner_id: Uuid,
    title: String,
}


#[repository(Note)]
trait NoteRepo {
    #[query("SELECT id, owner_id, title FROM notes WHERE owner_id = :owner")]
    async fn mine(&self, scope: &Scope, limit: i64) -> ApiResult<Vec<Note>>;
}

#[derive(serde::Serialize, Schema)]
struct Out { count: usize }

#[endpoint(get = "/notes/mine")]
async fn mine(ctx: Ctx, repo: NoteRepo) -> ApiResult<Out> {
    let scope = ctx.scope()?;
    let notes: Vec<Note> = repo.mine(&scope, 10).await?;
    let _ = repo.get(&scope, Uuid::nil()).await?;
    Ok(Out { count: notes.len() })
}

fn main() {
    let _ = Api::new().mount(mine);
}
