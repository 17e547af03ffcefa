// A bad `endpoints(...)` option, then the resource mounted, its store and input used by hand: one error.
use rampart::prelude::*;
use rampart::Store;
use uuid::Uuid;

#[resource(table = "notes", endpoints(path = "/notes", timeout = "soon"))]
#[derive(Debug, Clone)]
pub struct Note {
    #[resource(id)]
    pub id: Uuid,
    #[validate(length(min = 1))]
    pub title: String,
}

/// Uses the input type and the store like a hand-written endpoint would.
#[endpoint(post = "/notes/copy")]
async fn copy(ctx: Ctx, store: Store<Note>, Json(input): Json<NewNote>) -> ApiResult<Created<Note>> {
    let row = store.create(&ctx.scope()?, input).await?;
    Ok(Created::at(format!("/notes/{}", row.id), row))
}

fn main() {
    let _ = Api::new().resource::<Note>().mount(copy);
}
