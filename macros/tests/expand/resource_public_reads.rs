#[derive(::rampart::__private::serde::Serialize, ::rampart::__private::Schema)]
#[serde(crate = "::rampart::__private::serde")]
pub struct Article {
    pub id: Uuid,
    pub author: String,
    pub body: String,
}
///A new article: the fields a client may set.
#[derive(
    ::core::fmt::Debug,
    ::rampart::__private::serde::Deserialize,
    ::rampart::__private::validator::Validate,
    ::rampart::__private::Schema
)]
#[serde(crate = "::rampart::__private::serde", deny_unknown_fields)]
#[allow(non_snake_case)]
pub struct NewArticle {
    #[serde(
        default,
        skip_serializing,
        deserialize_with = "::rampart::__private::input::server_set_present"
    )]
    #[validate(custom(function = ::rampart::__private::input::server_set))]
    #[allow(dead_code)]
    id: ::core::option::Option<::rampart::__private::input::ServerSet>,
    #[validate(email)]
    #[serde(deserialize_with = "::rampart::__private::input::email")]
    pub author: String,
    #[serde(deserialize_with = "::rampart::__private::input::trimmed_allow_control")]
    pub body: String,
}
///A partial update of a article: fields left out stay as they are.
#[derive(
    ::core::fmt::Debug,
    ::rampart::__private::serde::Deserialize,
    ::rampart::__private::validator::Validate,
    ::rampart::__private::Schema
)]
#[serde(crate = "::rampart::__private::serde", deny_unknown_fields)]
#[allow(non_snake_case)]
pub struct ArticlePatch {
    #[serde(
        default,
        skip_serializing,
        deserialize_with = "::rampart::__private::input::server_set_present"
    )]
    #[validate(custom(function = ::rampart::__private::input::server_set))]
    #[allow(dead_code)]
    id: ::core::option::Option<::rampart::__private::input::ServerSet>,
    #[validate(email)]
    #[serde(default, deserialize_with = "::rampart::__private::input::present_email")]
    #[schema(non_null)]
    pub author: ::core::option::Option<String>,
    #[serde(
        default,
        deserialize_with = "::rampart::__private::input::present_trimmed_allow_control"
    )]
    #[schema(non_null)]
    pub body: ::core::option::Option<String>,
}
///A full replacement of a article's writable fields.
#[derive(
    ::core::fmt::Debug,
    ::rampart::__private::serde::Deserialize,
    ::rampart::__private::validator::Validate,
    ::rampart::__private::Schema
)]
#[serde(crate = "::rampart::__private::serde", deny_unknown_fields)]
#[allow(non_snake_case)]
pub struct ArticleReplace {
    #[serde(
        default,
        skip_serializing,
        deserialize_with = "::rampart::__private::input::server_set_present"
    )]
    #[validate(custom(function = ::rampart::__private::input::server_set))]
    #[allow(dead_code)]
    id: ::core::option::Option<::rampart::__private::input::ServerSet>,
    #[validate(email)]
    #[serde(deserialize_with = "::rampart::__private::input::email")]
    pub author: String,
    #[serde(deserialize_with = "::rampart::__private::input::trimmed_allow_control")]
    pub body: String,
}
#[automatically_derived]
impl ::rampart::__private::Changes for ArticlePatch {
    fn expected_version(&self) -> ::core::option::Option<i64> {
        ::core::option::Option::None
    }
    fn into_changes(
        self,
    ) -> ::std::vec::Vec<(&'static str, ::rampart::__private::Value)> {
        let mut changes = ::std::vec::Vec::new();
        if let ::core::option::Option::Some(value) = self.author {
            changes.push(("author", ::rampart::__private::IntoValue::into_value(value)));
        }
        if let ::core::option::Option::Some(value) = self.body {
            changes.push(("body", ::rampart::__private::IntoValue::into_value(value)));
        }
        changes
    }
}
#[automatically_derived]
impl ::rampart::__private::Changes for ArticleReplace {
    fn expected_version(&self) -> ::core::option::Option<i64> {
        ::core::option::Option::None
    }
    fn into_changes(
        self,
    ) -> ::std::vec::Vec<(&'static str, ::rampart::__private::Value)> {
        let mut changes = ::std::vec::Vec::new();
        changes
            .push(("author", ::rampart::__private::IntoValue::into_value(self.author)));
        changes.push(("body", ::rampart::__private::IntoValue::into_value(self.body)));
        changes
    }
}
#[automatically_derived]
impl ::rampart::__private::Resource for Article {
    const SPEC: ::rampart::__private::ResourceSpec = ::rampart::__private::ResourceSpec {
        name: "article",
        table: "articles",
        columns: &["id", "author", "body"],
        id: "id",
        owner: ::core::option::Option::None,
        version: ::core::option::Option::None,
        parent: ::core::option::Option::None,
        read_only_when: ::core::option::Option::None,
        created_at: ::core::option::Option::None,
        updated_at: ::core::option::Option::None,
        writable: &["author", "body"],
        filters: &[],
        sorts: &[],
        default_sort: ::rampart::__private::SortOrder {
            field: ::rampart::__private::Field {
                name: "id",
                kind: ::rampart::__private::Kind::Uuid,
            },
            descending: false,
        },
        pagination: ::rampart::__private::Pagination::Offset,
        labels: ::rampart::__private::Labels {
            get: "articles.get",
            list: "articles.list",
            count: "articles.count",
            insert: "articles.insert",
            update: "articles.update",
            delete: "articles.delete",
        },
        cascades: &[],
        left_out_of_json: &[],
    };
    type Create = NewArticle;
    type Patch = ArticlePatch;
    type Replace = ArticleReplace;
    fn values(&self) -> ::std::vec::Vec<::rampart::__private::Value> {
        ::std::vec![
            ::rampart::__private::IntoValue::into_value(& self.id),
            ::rampart::__private::IntoValue::into_value(& self.author),
            ::rampart::__private::IntoValue::into_value(& self.body)
        ]
    }
    fn id(&self) -> ::rampart::__private::uuid::Uuid {
        self.id
    }
    fn version(&self) -> ::core::option::Option<i64> {
        ::core::option::Option::None
    }
    fn sort_value(
        &self,
        column: &str,
    ) -> ::core::option::Option<::rampart::__private::Value> {
        match column {
            "id" => {
                ::core::option::Option::Some(
                    ::rampart::__private::IntoValue::into_value(&self.id),
                )
            }
            _ => ::core::option::Option::None,
        }
    }
    fn statements() -> &'static ::rampart::__private::StatementCache {
        static STATEMENTS: ::rampart::__private::StatementCache = ::rampart::__private::StatementCache::new();
        &STATEMENTS
    }
    fn assemble(input: NewArticle, server: ::rampart::__private::ServerFields) -> Self {
        let _ = &input;
        Self {
            id: server.id,
            author: input.author,
            body: input.body,
        }
    }
}
#[automatically_derived]
impl<
    'r,
> ::rampart::__private::sqlx::FromRow<'r, ::rampart::__private::sqlx::sqlite::SqliteRow>
for Article {
    fn from_row(
        __rampart_row: &'r ::rampart::__private::sqlx::sqlite::SqliteRow,
    ) -> ::core::result::Result<Self, ::rampart::__private::sqlx::Error> {
        use ::rampart::__private::sqlx::Row as _;
        ::core::result::Result::Ok(Self {
            id: __rampart_row.try_get("id")?,
            author: __rampart_row.try_get("author")?,
            body: __rampart_row.try_get("body")?,
        })
    }
}
#[automatically_derived]
impl<
    'r,
> ::rampart::__private::sqlx::FromRow<'r, ::rampart::__private::sqlx::postgres::PgRow>
for Article {
    fn from_row(
        __rampart_row: &'r ::rampart::__private::sqlx::postgres::PgRow,
    ) -> ::core::result::Result<Self, ::rampart::__private::sqlx::Error> {
        use ::rampart::__private::sqlx::Row as _;
        ::core::result::Result::Ok(Self {
            id: __rampart_row.try_get("id")?,
            author: __rampart_row.try_get("author")?,
            body: __rampart_row.try_get("body")?,
        })
    }
}
const _: () = {
    ///Lists the caller's articles.
    #[::rampart::__private::endpoint(
        get = "/articles",
        operation_id = "list_articles",
        tag = "articles",
        deprecated,
        public,
    )]
    async fn __rampart_list(
        ctx: ::rampart::__private::Ctx,
        store: ::rampart::__private::Store<Article>,
        query: ::rampart::__private::ListQuery<Article>,
    ) -> ::rampart::__private::ApiResult<::rampart::__private::Paginated<Article>> {
        store.list(&::rampart::__private::public_scope::<Article>(&ctx)?, &query).await
    }
    ///One of the caller's articles, with its version as `ETag`.
    #[::rampart::__private::endpoint(
        get = "/articles/{id}",
        operation_id = "get_article",
        tag = "articles",
        deprecated,
        public,
    )]
    async fn __rampart_get(
        ctx: ::rampart::__private::Ctx,
        store: ::rampart::__private::Store<Article>,
        ::rampart::__private::Path(
            id,
        ): ::rampart::__private::Path<::rampart::__private::uuid::Uuid>,
    ) -> ::rampart::__private::ApiResult<::rampart::__private::Tagged<Article>> {
        store
            .get(&::rampart::__private::public_scope::<Article>(&ctx)?, id)
            .await
            .map(::rampart::__private::Tagged::new)
    }
    ///Creates a article owned by the caller.
    #[::rampart::__private::endpoint(
        post = "/articles",
        operation_id = "create_article",
        errors = [409,
        422],
        tag = "articles",
        deprecated,
    )]
    async fn __rampart_create(
        ctx: ::rampart::__private::Ctx,
        store: ::rampart::__private::Store<Article>,
        uri: ::rampart::__private::axum::extract::OriginalUri,
        ::rampart::__private::Json(input): ::rampart::__private::Json<NewArticle>,
    ) -> ::rampart::__private::ApiResult<::rampart::__private::Created<Article>> {
        let row = store.create(&ctx.scope()?, input).await?;
        ::core::result::Result::Ok(::rampart::__private::created_under(&uri, row))
    }
    ///Replaces every writable field of a article.
    #[::rampart::__private::endpoint(
        put = "/articles/{id}",
        operation_id = "replace_article",
        errors = [409],
        tag = "articles",
        deprecated,
    )]
    async fn __rampart_replace(
        ctx: ::rampart::__private::Ctx,
        store: ::rampart::__private::Store<Article>,
        ::rampart::__private::Path(
            id,
        ): ::rampart::__private::Path<::rampart::__private::uuid::Uuid>,
        if_match: ::rampart::__private::IfMatch,
        ::rampart::__private::Json(input): ::rampart::__private::Json<ArticleReplace>,
    ) -> ::rampart::__private::ApiResult<::rampart::__private::Tagged<Article>> {
        store
            .replace(&ctx.scope()?, id, input, if_match)
            .await
            .map(::rampart::__private::Tagged::new)
    }
    ///Changes the fields given of a article.
    #[::rampart::__private::endpoint(
        patch = "/articles/{id}",
        operation_id = "patch_article",
        errors = [409],
        tag = "articles",
        deprecated,
    )]
    async fn __rampart_patch(
        ctx: ::rampart::__private::Ctx,
        store: ::rampart::__private::Store<Article>,
        ::rampart::__private::Path(
            id,
        ): ::rampart::__private::Path<::rampart::__private::uuid::Uuid>,
        if_match: ::rampart::__private::IfMatch,
        ::rampart::__private::Json(input): ::rampart::__private::Json<ArticlePatch>,
    ) -> ::rampart::__private::ApiResult<::rampart::__private::Tagged<Article>> {
        store
            .patch(&ctx.scope()?, id, input, if_match)
            .await
            .map(::rampart::__private::Tagged::new)
    }
    ///Deletes a article.
    #[::rampart::__private::endpoint(
        delete = "/articles/{id}",
        operation_id = "delete_article",
        errors = [409],
        tag = "articles",
        deprecated,
    )]
    async fn __rampart_delete(
        ctx: ::rampart::__private::Ctx,
        store: ::rampart::__private::Store<Article>,
        ::rampart::__private::Path(
            id,
        ): ::rampart::__private::Path<::rampart::__private::uuid::Uuid>,
        if_match: ::rampart::__private::IfMatch,
    ) -> ::rampart::__private::ApiResult<::rampart::__private::NoContent> {
        store.delete(&ctx.scope()?, id, if_match).await?;
        ::core::result::Result::Ok(::rampart::__private::NoContent)
    }
    #[automatically_derived]
    impl ::rampart::__private::ResourceEndpoints for Article {
        fn mount(api: ::rampart::__private::Api) -> ::rampart::__private::Api {
            api.mount(__rampart_list)
                .mount(__rampart_get)
                .mount(__rampart_create)
                .mount(__rampart_replace)
                .mount(__rampart_patch)
                .mount(__rampart_delete)
        }
    }
};
