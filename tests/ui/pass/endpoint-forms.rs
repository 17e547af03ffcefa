// Every accepted form of #[endpoint], roles! and derive(Schema), mounted into one Api.
use rampart::prelude::*;
use serde::{Deserialize, Serialize};
use validator::Validate;

rampart::roles! {
    member: ["notes:read", "notes:write"],
    editor: ["notes:write"],
}

#[derive(Serialize, Schema)]
struct Out {
    ok: bool,
}

#[derive(Deserialize, Validate, Schema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Input {
    /// A title.
    #[validate(length(min = 1, max = 10))]
    title_text: String,
    #[validate(range(min = 1, max = 5))]
    priority: Option<u8>,
    #[validate(email)]
    #[serde(default)]
    contact: String,
    #[schema(pattern = "^[a-z]+$")]
    #[serde(default)]
    slug: String,
}

#[derive(Deserialize, Validate, Schema)]
struct Filter {
    q: Option<String>,
}

#[derive(Deserialize, Schema)]
struct NotePath {
    project: uuid::Uuid,
    id: uuid::Uuid,
}

/// Public.
#[endpoint(get = "/public", public)]
async fn public_endpoint() -> ApiResult<Out> {
    Ok(Out { ok: true })
}

/// Authenticated, JWT only, with everything optional set.
///
/// A longer description.
#[endpoint(post = "/notes", auth = "jwt", role = "member", tag = "notes", operation_id = "createNote",
           deprecated, body_limit = "64KiB", timeout = "5s", errors = [409, 422])]
async fn create(ctx: Ctx, Json(input): Json<Input>) -> ApiResult<Created<Out>> {
    let _ = (ctx.request_id(), input.title_text, input.priority, input.contact, input.slug);
    Ok(Created::at("/api/v1/notes/1", Out { ok: true }))
}

#[endpoint(get = "/notes", roles = ["member", "editor"], rate_limit = "120/min", burst = 20)]
async fn list(Query(filter): Query<Filter>, Page(page): Page) -> ApiResult<Paginated<Out>> {
    let _ = filter.q;
    Ok(Paginated { items: vec![], meta: page.meta(0) })
}

#[endpoint(delete = "/notes/{id}", permission = "notes:write")]
async fn remove(Path(id): Path<uuid::Uuid>) -> ApiResult<NoContent> {
    let _ = id;
    Ok(NoContent)
}

#[endpoint(put = "/projects/{project}/notes/{id}", role = "admin")]
async fn tuple_path(Path((project, id)): Path<(uuid::Uuid, uuid::Uuid)>) -> ApiResult<Out> {
    let _ = (project, id);
    Ok(Out { ok: true })
}

#[endpoint(patch = "/projects/{project}/notes/{id}")]
async fn struct_path(Path(NotePath { project, id }): Path<NotePath>) -> ApiResult<Out> {
    let _ = (project, id);
    Ok(Out { ok: true })
}

#[endpoint(get = "/single/{id}")]
async fn single_binding(id: Path<u64>) -> ApiResult<Out> {
    let _ = id.0;
    Ok(Out { ok: true })
}

/// Service-to-service only.
#[endpoint(get = "/service", auth = "api_key", role = "member")]
async fn service_only(ctx: Ctx) -> ApiResult<Out> {
    let _ = ctx.user()?;
    Ok(Out { ok: true })
}

fn main() {
    let api = Api::new()
        .mount(public_endpoint)
        .mount(create)
        .mount(list)
        .mount(remove)
        .mount(tuple_path)
        .mount(struct_path)
        .mount(single_binding)
        .mount(service_only);
    let document = api.openapi();
    assert_eq!(document.paths.paths.len(), 8);
}
