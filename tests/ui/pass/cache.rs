// `cache(..)` on reads and `invalidates = [..]` on writes, as the definitions hold them.
use rampart::__private::Endpoint;
use rampart::prelude::*;
use std::time::Duration;

rampart::roles! { member: ["notes:read", "notes:write"] }

#[derive(serde::Serialize, Schema)]
struct Out {
    ok: bool,
}

/// Everything `cache` takes.
#[endpoint(get = "/summary", role = "member",
           cache(ttl = "10s", shared, stale_if_error = "2m", tags = ["projects", "tasks"]))]
async fn summary() -> ApiResult<Out> {
    Ok(Out { ok: true })
}

/// Public, TTL only, the default `stale_if_error`.
#[endpoint(get = "/articles", public, cache(ttl = "30s", tags = []))]
async fn articles(Page(page): Page) -> ApiResult<Paginated<Out>> {
    Ok(Paginated { items: vec![], meta: page.meta(0) })
}

/// A `0s` grace: never answered stale.
#[endpoint(get = "/fresh", cache(ttl = "1s", stale_if_error = "0s", tags = ["team:1.tasks_v2-x"]))]
async fn fresh() -> ApiResult<Out> {
    Ok(Out { ok: true })
}

#[endpoint(post = "/summary/recount", role = "member", invalidates = ["projects", "tasks"])]
async fn recount() -> ApiResult<NoContent> {
    Ok(NoContent)
}

#[endpoint(delete = "/articles", invalidates = ["articles"])]
async fn clear() -> ApiResult<NoContent> {
    Ok(NoContent)
}

fn main() {
    let cached = summary.definition();
    let policy = cached.cache.expect("`cache(..)` is a policy");
    assert_eq!(policy.ttl, Duration::from_secs(10));
    assert!(policy.shared);
    assert_eq!(policy.stale_if_error, Duration::from_secs(120));
    assert_eq!(policy.tags, ["projects", "tasks"]);
    assert!(cached.invalidates.is_empty());

    let public = articles.definition().cache.expect("`cache(..)` is a policy");
    assert_eq!(public.ttl, Duration::from_secs(30));
    assert!(!public.shared);
    assert_eq!(
        public.stale_if_error,
        rampart::__private::CachePolicy::DEFAULT_STALE_IF_ERROR
    );
    assert!(public.tags.is_empty());

    let grace = fresh.definition().cache.expect("`cache(..)` is a policy");
    assert_eq!(grace.stale_if_error, Duration::ZERO);
    assert_eq!(grace.tags, ["team:1.tasks_v2-x"]);

    let write = recount.definition();
    assert!(write.cache.is_none());
    assert_eq!(write.invalidates, ["projects", "tasks"]);
    assert_eq!(clear.definition().invalidates, ["articles"]);

    let document = Api::new()
        .mount(summary)
        .mount(articles)
        .mount(fresh)
        .mount(recount)
        .mount(clear)
        .openapi_json();
    let paths = &document["paths"];
    assert!(paths["/api/v1/summary"]["get"].is_object());
    assert!(paths["/api/v1/summary/recount"]["post"].is_object());
    assert!(paths["/api/v1/articles"]["get"].is_object());
    assert!(paths["/api/v1/articles"]["delete"].is_object());
    assert!(paths["/api/v1/fresh"]["get"].is_object());
}
