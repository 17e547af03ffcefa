// A managed timestamp of the wrong type, then the patch type used: one error, at the type.
use rampart::prelude::*;
use rampart::Store;
use uuid::Uuid;

#[resource(table = "notes", version = version)]
pub struct Note {
    #[resource(id)]
    pub id: Uuid,
    pub title: String,
    pub version: i64,
    pub updated_at: i64,
}

#[endpoint(patch = "/notes/{id}")]
async fn patch_note(
    ctx: Ctx,
    store: Store<Note>,
    Path(id): Path<Uuid>,
    if_match: IfMatch,
    Json(input): Json<NotePatch>,
) -> ApiResult<Tagged<Note>> {
    store.patch(&ctx.scope()?, id, input, if_match).await.map(Tagged::new)
}

fn main() {
    let _ = Api::new().mount(patch_note);
}
