// A repository whose attribute has an unknown argument, then used: one error, at the argument.
use rampart::prelude::*;
use uuid::Uuid;

#[resource(table = "notes", owner = owner_id)]
struct Note {
    #[resource(id)]
    id: Uuid,
    owner_id: Uuid,
    title: String,
}


#[repository(Note, joins(Note))]
trait NoteRepo {
    #[query("SELECT COUNT(*) FROM notes WHERE owner_id = :owner")]
    async fn count(&self, scope: &Scope) -> ApiResult<i64>;
}

#[derive(serde::Serialize, Schema)]
struct Out { count: i64 }

#[endpoint(get = "/notes/count")]
async fn count(ctx: Ctx, repo: NoteRepo) -> ApiResult<Out> {
    let scope = ctx.scope()?;
    let _ = repo.get(&scope, Uuid::nil()).await?;
    Ok(Out { count: repo.count(&scope).await? })
}

fn main() {
    let _ = Api::new().mount(count);
}
