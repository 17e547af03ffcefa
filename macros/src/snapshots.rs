//! Expansion snapshots: a few representative inputs of each macro, expanded by the macro's own
//! `expand` on proc_macro2 tokens, pretty-printed (prettyplease) and compared with the files in
//! `macros/tests/expand/`. A change to generated code shows up there as a readable diff.
//! Regenerate with `RAMPART_UPDATE_SNAPSHOTS=1 cargo test -p rampart-macros snapshots`.

use proc_macro2::TokenStream;
use quote::quote;

fn pretty(tokens: TokenStream) -> String {
    match syn::parse2::<syn::File>(tokens.clone()) {
        Ok(file) => prettyplease::unparse(&file),
        // Not a file: the snapshot shows the raw tokens, and the diff says so.
        Err(error) => format!("// does not parse as a file: {error}\n{tokens}\n"),
    }
}

fn compare(name: &str, tokens: TokenStream) {
    let path = format!("{}/tests/expand/{name}.rs", env!("CARGO_MANIFEST_DIR"));
    let actual = pretty(tokens);
    if std::env::var_os("RAMPART_UPDATE_SNAPSHOTS").is_some() {
        let written =
            std::fs::create_dir_all(format!("{}/tests/expand", env!("CARGO_MANIFEST_DIR")))
                .and_then(|()| std::fs::write(&path, &actual));
        if let Err(error) = written {
            panic!("cannot write {path}: {error}");
        }
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        expected == actual,
        "the expansion of {name} changed; review it and regenerate with RAMPART_UPDATE_SNAPSHOTS=1 \
         (cargo test -p rampart-macros snapshots)\n--- {path}\n+++ actual\n{actual}"
    );
}

#[test]
fn resource_with_endpoints() {
    let args = quote! {
        table = "projects", owner = owner_id, version = version, default_sort = "-created_at",
        read_only_when = archived,
        endpoints(path = "/projects", role = "member", rate_limit = "60/min", timeout = "5s",
                  body_limit = "16KiB", auth = "jwt", tag = "projects")
    };
    let item = quote! {
        /// A project.
        #[derive(Debug, Clone)]
        pub struct Project {
            #[resource(id)]
            pub id: Uuid,
            pub owner_id: Uuid,
            /// Its name.
            #[validate(length(min = 1, max = 100))]
            #[resource(filter, sort)]
            pub name: String,
            #[serde(default)]
            pub description: Option<String>,
            #[resource(json)]
            pub labels: Vec<String>,
            #[resource(read_only, filter)]
            pub archived: bool,
            #[resource(internal)]
            pub secret: String,
            pub version: i64,
            #[resource(sort)]
            pub created_at: DateTime<Utc>,
            pub updated_at: DateTime<Utc>,
        }
    };
    compare(
        "resource_with_endpoints",
        crate::resource::expand(args, item),
    );
}

#[test]
fn resource_public_reads() {
    let args = quote! {
        table = "articles", pagination = "offset",
        endpoints(path = "/articles", public, deprecated)
    };
    let item = quote! {
        pub struct Article {
            #[resource(id)]
            pub id: Uuid,
            #[validate(email)]
            pub author: String,
            #[resource(allow_control)]
            pub body: String,
        }
    };
    compare("resource_public_reads", crate::resource::expand(args, item));
}

#[test]
fn resource_rejected() {
    // A mistake: the errors and the stand-ins, nothing else.
    let args = quote!(
        table = "notes",
        endpoints(path = "/notes", timeout = "soon")
    );
    let item = quote! {
        pub struct Note {
            #[resource(id)]
            pub id: Uuid,
            pub title: String,
        }
    };
    compare("resource_rejected", crate::resource::expand(args, item));
}

#[test]
fn schema() {
    let input: syn::DeriveInput = syn::parse_quote! {
        /// A sign-up form.
        #[serde(rename_all = "camelCase", deny_unknown_fields)]
        struct SignUp {
            /// Where to write.
            #[validate(email)]
            email_address: String,
            #[validate(length(min = 8, max = 64))]
            #[schema(pattern = "^[^ ]+$")]
            password: String,
            #[validate(range(exclusive_min = 0, max = 150))]
            age: Option<u8>,
            #[serde(skip)]
            internal: u32,
        }
    };
    compare("schema", crate::schema::expand(&input));
}

#[test]
fn endpoint() {
    let args = quote!(
        patch = "/notes/{id}",
        role = "member",
        rate_limit = "10/min",
        errors = [409]
    );
    let item = quote! {
        /// Changes a note.
        pub async fn patch_note(
            ctx: Ctx,
            Path(id): Path<Uuid>,
            Json(input): Json<NotePatch>,
        ) -> ApiResult<Note> {
            update_note(ctx, id, input).await
        }
    };
    compare("endpoint", crate::endpoint::expand(args, item));
}

#[test]
fn endpoint_cached() {
    let args = quote!(
        get = "/projects/{id}/summary",
        role = "member",
        cache(
            ttl = "10s",
            shared,
            stale_if_error = "2m",
            tags = ["projects", "tasks"]
        )
    );
    let item = quote! {
        /// A project's counts.
        pub async fn project_summary(ctx: Ctx, Path(id): Path<Uuid>) -> ApiResult<Summary> {
            summarize(ctx, id).await
        }
    };
    compare("endpoint_cached", crate::endpoint::expand(args, item));
}

#[test]
fn endpoint_invalidates() {
    // A hand-written write names the tags it makes stale.
    let args = quote!(
        post = "/projects/{id}/recount",
        role = "member",
        invalidates = ["projects", "tasks"]
    );
    let item = quote! {
        pub async fn recount(ctx: Ctx, Path(id): Path<Uuid>) -> ApiResult<NoContent> {
            recount_tasks(ctx, id).await
        }
    };
    compare("endpoint_invalidates", crate::endpoint::expand(args, item));
}

#[test]
fn endpoint_cached_public() {
    // Without `stale_if_error`: the runtime's default; `tags = []`: only the ttl ends an entry.
    let args = quote!(get = "/articles", public, cache(ttl = "30s", tags = []));
    let item = quote! {
        pub async fn articles() -> ApiResult<Vec<Article>> {
            Ok(Vec::new())
        }
    };
    compare(
        "endpoint_cached_public",
        crate::endpoint::expand(args, item),
    );
}

#[test]
fn repository() {
    let args = quote!(Project);
    let item = quote! {
        pub trait ProjectRepo {
            /// Archives one of the caller's projects.
            #[query("UPDATE projects SET archived = TRUE, updated_at = :now WHERE id = :id AND owner_id = :owner")]
            async fn archive(&self, scope: &Scope, id: Uuid, now: DateTime<Utc>) -> ApiResult<u64>;
        }
    };
    compare("repository", crate::repository::expand(args, item));
}

#[test]
fn job() {
    let args = quote!(
        queue = "mail",
        retries = 8,
        backoff = "exponential",
        backoff_base = "2s",
        timeout = "30s",
        unique = "10m"
    );
    let item = quote! {
        /// Sends the welcome mail.
        ///
        /// Once per sign-up.
        pub async fn send_welcome(ctx: JobCtx, input: Welcome) -> JobResult {
            ctx.dep::<Mailer>()?.welcome(&input.email).await?;
            Ok(())
        }
    };
    compare("job", crate::job::expand(args, item));
}

#[test]
fn job_rejected() {
    // A mistake: the error and the stand-in, nothing else.
    let args = quote!(retries = 0, backoff = "fixed");
    let item = quote! {
        async fn nightly(ctx: JobCtx, input: Report) -> JobResult {
            let _ = (ctx, input);
            Ok(())
        }
    };
    compare("job_rejected", crate::job::expand(args, item));
}
