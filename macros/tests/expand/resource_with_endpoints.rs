#[derive(::rampart::__private::serde::Serialize, ::rampart::__private::Schema)]
#[serde(crate = "::rampart::__private::serde")]
/// A project.
#[derive(Debug, Clone)]
pub struct Project {
    pub id: Uuid,
    pub owner_id: Uuid,
    /// Its name.
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    pub labels: Vec<String>,
    pub archived: bool,
    #[serde(skip_serializing)]
    pub secret: String,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}
///A new project: the fields a client may set.
#[derive(
    ::core::fmt::Debug,
    ::rampart::__private::serde::Deserialize,
    ::rampart::__private::validator::Validate,
    ::rampart::__private::Schema
)]
#[serde(crate = "::rampart::__private::serde", deny_unknown_fields)]
#[allow(non_snake_case)]
pub struct NewProject {
    #[serde(
        default,
        skip_serializing,
        deserialize_with = "::rampart::__private::input::server_set_present"
    )]
    #[validate(custom(function = ::rampart::__private::input::server_set))]
    #[allow(dead_code)]
    id: ::core::option::Option<::rampart::__private::input::ServerSet>,
    #[serde(
        default,
        skip_serializing,
        deserialize_with = "::rampart::__private::input::server_set_present"
    )]
    #[validate(custom(function = ::rampart::__private::input::server_set))]
    #[allow(dead_code)]
    owner_id: ::core::option::Option<::rampart::__private::input::ServerSet>,
    /// Its name.
    #[validate(length(min = 1, max = 100))]
    #[serde(deserialize_with = "::rampart::__private::input::trimmed")]
    pub name: String,
    #[serde(default, deserialize_with = "::rampart::__private::input::trimmed_option")]
    pub description: Option<String>,
    pub labels: Vec<String>,
    #[serde(
        default,
        skip_serializing,
        deserialize_with = "::rampart::__private::input::server_set_present"
    )]
    #[validate(custom(function = ::rampart::__private::input::server_set))]
    #[allow(dead_code)]
    archived: ::core::option::Option<::rampart::__private::input::ServerSet>,
    #[serde(
        default,
        skip_serializing,
        deserialize_with = "::rampart::__private::input::server_set_present"
    )]
    #[validate(custom(function = ::rampart::__private::input::server_set))]
    #[allow(dead_code)]
    version: ::core::option::Option<::rampart::__private::input::ServerSet>,
    #[serde(
        default,
        skip_serializing,
        deserialize_with = "::rampart::__private::input::server_set_present"
    )]
    #[validate(custom(function = ::rampart::__private::input::server_set))]
    #[allow(dead_code)]
    created_at: ::core::option::Option<::rampart::__private::input::ServerSet>,
    #[serde(
        default,
        skip_serializing,
        deserialize_with = "::rampart::__private::input::server_set_present"
    )]
    #[validate(custom(function = ::rampart::__private::input::server_set))]
    #[allow(dead_code)]
    updated_at: ::core::option::Option<::rampart::__private::input::ServerSet>,
}
///A partial update of a project: fields left out stay as they are; `version` (here or as `If-Match`) is required.
#[derive(
    ::core::fmt::Debug,
    ::rampart::__private::serde::Deserialize,
    ::rampart::__private::validator::Validate,
    ::rampart::__private::Schema
)]
#[serde(crate = "::rampart::__private::serde", deny_unknown_fields)]
#[allow(non_snake_case)]
pub struct ProjectPatch {
    #[serde(
        default,
        skip_serializing,
        deserialize_with = "::rampart::__private::input::server_set_present"
    )]
    #[validate(custom(function = ::rampart::__private::input::server_set))]
    #[allow(dead_code)]
    id: ::core::option::Option<::rampart::__private::input::ServerSet>,
    #[serde(
        default,
        skip_serializing,
        deserialize_with = "::rampart::__private::input::server_set_present"
    )]
    #[validate(custom(function = ::rampart::__private::input::server_set))]
    #[allow(dead_code)]
    owner_id: ::core::option::Option<::rampart::__private::input::ServerSet>,
    /// Its name.
    #[validate(length(min = 1, max = 100))]
    #[serde(default, deserialize_with = "::rampart::__private::input::present_trimmed")]
    #[schema(non_null)]
    pub name: ::core::option::Option<String>,
    #[serde(default, deserialize_with = "::rampart::__private::input::nullable_trimmed")]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "::rampart::__private::input::present")]
    #[schema(non_null)]
    pub labels: ::core::option::Option<Vec<String>>,
    #[serde(
        default,
        skip_serializing,
        deserialize_with = "::rampart::__private::input::server_set_present"
    )]
    #[validate(custom(function = ::rampart::__private::input::server_set))]
    #[allow(dead_code)]
    archived: ::core::option::Option<::rampart::__private::input::ServerSet>,
    /// The version this change is based on (the `version` of the last read), here or
    /// as `If-Match: "<version>"`; one of the two is required. A stale one is a 409
    /// `VERSION_CONFLICT` (a stale `If-Match` a 412).
    #[serde(default)]
    pub version: ::rampart::__private::input::BodyVersion,
    #[serde(
        default,
        skip_serializing,
        deserialize_with = "::rampart::__private::input::server_set_present"
    )]
    #[validate(custom(function = ::rampart::__private::input::server_set))]
    #[allow(dead_code)]
    created_at: ::core::option::Option<::rampart::__private::input::ServerSet>,
    #[serde(
        default,
        skip_serializing,
        deserialize_with = "::rampart::__private::input::server_set_present"
    )]
    #[validate(custom(function = ::rampart::__private::input::server_set))]
    #[allow(dead_code)]
    updated_at: ::core::option::Option<::rampart::__private::input::ServerSet>,
}
///A full replacement of a project's writable fields; `version` (here or as `If-Match`) is required.
#[derive(
    ::core::fmt::Debug,
    ::rampart::__private::serde::Deserialize,
    ::rampart::__private::validator::Validate,
    ::rampart::__private::Schema
)]
#[serde(crate = "::rampart::__private::serde", deny_unknown_fields)]
#[allow(non_snake_case)]
pub struct ProjectReplace {
    #[serde(
        default,
        skip_serializing,
        deserialize_with = "::rampart::__private::input::server_set_present"
    )]
    #[validate(custom(function = ::rampart::__private::input::server_set))]
    #[allow(dead_code)]
    id: ::core::option::Option<::rampart::__private::input::ServerSet>,
    #[serde(
        default,
        skip_serializing,
        deserialize_with = "::rampart::__private::input::server_set_present"
    )]
    #[validate(custom(function = ::rampart::__private::input::server_set))]
    #[allow(dead_code)]
    owner_id: ::core::option::Option<::rampart::__private::input::ServerSet>,
    /// Its name.
    #[validate(length(min = 1, max = 100))]
    #[serde(deserialize_with = "::rampart::__private::input::trimmed")]
    pub name: String,
    #[serde(default, deserialize_with = "::rampart::__private::input::trimmed_option")]
    pub description: Option<String>,
    pub labels: Vec<String>,
    #[serde(
        default,
        skip_serializing,
        deserialize_with = "::rampart::__private::input::server_set_present"
    )]
    #[validate(custom(function = ::rampart::__private::input::server_set))]
    #[allow(dead_code)]
    archived: ::core::option::Option<::rampart::__private::input::ServerSet>,
    /// The version this change is based on (the `version` of the last read), here or
    /// as `If-Match: "<version>"`; one of the two is required. A stale one is a 409
    /// `VERSION_CONFLICT` (a stale `If-Match` a 412).
    #[serde(default)]
    pub version: ::rampart::__private::input::BodyVersion,
    #[serde(
        default,
        skip_serializing,
        deserialize_with = "::rampart::__private::input::server_set_present"
    )]
    #[validate(custom(function = ::rampart::__private::input::server_set))]
    #[allow(dead_code)]
    created_at: ::core::option::Option<::rampart::__private::input::ServerSet>,
    #[serde(
        default,
        skip_serializing,
        deserialize_with = "::rampart::__private::input::server_set_present"
    )]
    #[validate(custom(function = ::rampart::__private::input::server_set))]
    #[allow(dead_code)]
    updated_at: ::core::option::Option<::rampart::__private::input::ServerSet>,
}
#[automatically_derived]
impl ::rampart::__private::Changes for ProjectPatch {
    fn expected_version(&self) -> ::core::option::Option<i64> {
        self.version.0
    }
    fn into_changes(
        self,
    ) -> ::std::vec::Vec<(&'static str, ::rampart::__private::Value)> {
        let mut changes = ::std::vec::Vec::new();
        if let ::core::option::Option::Some(value) = self.name {
            changes.push(("name", ::rampart::__private::IntoValue::into_value(value)));
        }
        if let ::core::option::Option::Some(value) = self.description {
            changes
                .push((
                    "description",
                    ::rampart::__private::IntoValue::into_value(value),
                ));
        }
        if let ::core::option::Option::Some(value) = self.labels {
            changes.push(("labels", ::rampart::__private::Value::json(&value)));
        }
        changes
    }
}
#[automatically_derived]
impl ::rampart::__private::Changes for ProjectReplace {
    fn expected_version(&self) -> ::core::option::Option<i64> {
        self.version.0
    }
    fn into_changes(
        self,
    ) -> ::std::vec::Vec<(&'static str, ::rampart::__private::Value)> {
        let mut changes = ::std::vec::Vec::new();
        changes.push(("name", ::rampart::__private::IntoValue::into_value(self.name)));
        changes
            .push((
                "description",
                ::rampart::__private::IntoValue::into_value(self.description),
            ));
        changes.push(("labels", ::rampart::__private::Value::json(&self.labels)));
        changes
    }
}
#[automatically_derived]
impl ::rampart::__private::Resource for Project {
    const SPEC: ::rampart::__private::ResourceSpec = ::rampart::__private::ResourceSpec {
        name: "project",
        table: "projects",
        columns: &[
            "id",
            "owner_id",
            "name",
            "description",
            "labels",
            "archived",
            "secret",
            "version",
            "created_at",
            "updated_at",
        ],
        id: "id",
        owner: ::core::option::Option::Some("owner_id"),
        version: ::core::option::Option::Some("version"),
        parent: ::core::option::Option::None,
        read_only_when: ::core::option::Option::Some("archived"),
        created_at: ::core::option::Option::Some("created_at"),
        updated_at: ::core::option::Option::Some("updated_at"),
        writable: &["name", "description", "labels"],
        filters: &[
            ::rampart::__private::Field {
                name: "name",
                kind: <String as ::rampart::__private::IntoValue>::KIND,
            },
            ::rampart::__private::Field {
                name: "archived",
                kind: <bool as ::rampart::__private::IntoValue>::KIND,
            },
        ],
        sorts: &[
            ::rampart::__private::Field {
                name: "name",
                kind: <String as ::rampart::__private::IntoValue>::KIND,
            },
            ::rampart::__private::Field {
                name: "created_at",
                kind: <DateTime<Utc> as ::rampart::__private::IntoValue>::KIND,
            },
        ],
        default_sort: ::rampart::__private::SortOrder {
            field: ::rampart::__private::Field {
                name: "created_at",
                kind: <DateTime<Utc> as ::rampart::__private::IntoValue>::KIND,
            },
            descending: true,
        },
        pagination: ::rampart::__private::Pagination::Cursor,
        labels: ::rampart::__private::Labels {
            get: "projects.get",
            list: "projects.list",
            count: "projects.count",
            insert: "projects.insert",
            update: "projects.update",
            delete: "projects.delete",
        },
        cascades: &[],
        left_out_of_json: &["secret"],
    };
    type Create = NewProject;
    type Patch = ProjectPatch;
    type Replace = ProjectReplace;
    fn values(&self) -> ::std::vec::Vec<::rampart::__private::Value> {
        ::std::vec![
            ::rampart::__private::IntoValue::into_value(& self.id),
            ::rampart::__private::IntoValue::into_value(& self.owner_id),
            ::rampart::__private::IntoValue::into_value(& self.name),
            ::rampart::__private::IntoValue::into_value(& self.description),
            ::rampart::__private::Value::json(& self.labels),
            ::rampart::__private::IntoValue::into_value(& self.archived),
            ::rampart::__private::IntoValue::into_value(& self.secret),
            ::rampart::__private::IntoValue::into_value(& self.version),
            ::rampart::__private::IntoValue::into_value(& self.created_at),
            ::rampart::__private::IntoValue::into_value(& self.updated_at)
        ]
    }
    fn id(&self) -> ::rampart::__private::uuid::Uuid {
        self.id
    }
    fn version(&self) -> ::core::option::Option<i64> {
        ::core::option::Option::Some(self.version)
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
            "name" => {
                ::core::option::Option::Some(
                    ::rampart::__private::IntoValue::into_value(&self.name),
                )
            }
            "created_at" => {
                ::core::option::Option::Some(
                    ::rampart::__private::IntoValue::into_value(&self.created_at),
                )
            }
            _ => ::core::option::Option::None,
        }
    }
    fn statements() -> &'static ::rampart::__private::StatementCache {
        static STATEMENTS: ::rampart::__private::StatementCache = ::rampart::__private::StatementCache::new();
        &STATEMENTS
    }
    fn assemble(input: NewProject, server: ::rampart::__private::ServerFields) -> Self {
        let _ = &input;
        Self {
            id: server.id,
            owner_id: server.owner,
            name: input.name,
            description: input.description,
            labels: input.labels,
            archived: ::core::default::Default::default(),
            secret: ::core::default::Default::default(),
            version: 1,
            created_at: server.now,
            updated_at: server.now,
        }
    }
}
#[automatically_derived]
impl<
    'r,
> ::rampart::__private::sqlx::FromRow<'r, ::rampart::__private::sqlx::sqlite::SqliteRow>
for Project {
    fn from_row(
        __rampart_row: &'r ::rampart::__private::sqlx::sqlite::SqliteRow,
    ) -> ::core::result::Result<Self, ::rampart::__private::sqlx::Error> {
        use ::rampart::__private::sqlx::Row as _;
        ::core::result::Result::Ok(Self {
            id: __rampart_row.try_get("id")?,
            owner_id: __rampart_row.try_get("owner_id")?,
            name: __rampart_row.try_get("name")?,
            description: __rampart_row.try_get("description")?,
            labels: __rampart_row
                .try_get::<
                    ::rampart::__private::sqlx::types::Json<Vec<String>>,
                    _,
                >("labels")?
                .0,
            archived: __rampart_row.try_get("archived")?,
            secret: __rampart_row.try_get("secret")?,
            version: __rampart_row.try_get("version")?,
            created_at: __rampart_row.try_get("created_at")?,
            updated_at: __rampart_row.try_get("updated_at")?,
        })
    }
}
#[automatically_derived]
impl<
    'r,
> ::rampart::__private::sqlx::FromRow<'r, ::rampart::__private::sqlx::postgres::PgRow>
for Project {
    fn from_row(
        __rampart_row: &'r ::rampart::__private::sqlx::postgres::PgRow,
    ) -> ::core::result::Result<Self, ::rampart::__private::sqlx::Error> {
        use ::rampart::__private::sqlx::Row as _;
        ::core::result::Result::Ok(Self {
            id: __rampart_row.try_get("id")?,
            owner_id: __rampart_row.try_get("owner_id")?,
            name: __rampart_row.try_get("name")?,
            description: __rampart_row.try_get("description")?,
            labels: __rampart_row
                .try_get::<
                    ::rampart::__private::sqlx::types::Json<Vec<String>>,
                    _,
                >("labels")?
                .0,
            archived: __rampart_row.try_get("archived")?,
            secret: __rampart_row.try_get("secret")?,
            version: __rampart_row.try_get("version")?,
            created_at: __rampart_row.try_get("created_at")?,
            updated_at: __rampart_row.try_get("updated_at")?,
        })
    }
}
const _: () = {
    ///Lists the caller's projects.
    #[::rampart::__private::endpoint(
        get = "/projects",
        operation_id = "list_projects",
        role = "member",
        rate_limit = "60/min",
        timeout = "5s",
        auth = "jwt",
        tag = "projects",
    )]
    async fn __rampart_list(
        ctx: ::rampart::__private::Ctx,
        store: ::rampart::__private::Store<Project>,
        query: ::rampart::__private::ListQuery<Project>,
    ) -> ::rampart::__private::ApiResult<::rampart::__private::Paginated<Project>> {
        store.list(&ctx.scope()?, &query).await
    }
    ///One of the caller's projects, with its version as `ETag`.
    #[::rampart::__private::endpoint(
        get = "/projects/{id}",
        operation_id = "get_project",
        role = "member",
        rate_limit = "60/min",
        timeout = "5s",
        auth = "jwt",
        tag = "projects",
    )]
    async fn __rampart_get(
        ctx: ::rampart::__private::Ctx,
        store: ::rampart::__private::Store<Project>,
        ::rampart::__private::Path(
            id,
        ): ::rampart::__private::Path<::rampart::__private::uuid::Uuid>,
    ) -> ::rampart::__private::ApiResult<::rampart::__private::Tagged<Project>> {
        store.get(&ctx.scope()?, id).await.map(::rampart::__private::Tagged::new)
    }
    ///Creates a project owned by the caller.
    #[::rampart::__private::endpoint(
        post = "/projects",
        operation_id = "create_project",
        errors = [409,
        422],
        role = "member",
        rate_limit = "60/min",
        timeout = "5s",
        auth = "jwt",
        tag = "projects",
        body_limit = "16KiB",
    )]
    async fn __rampart_create(
        ctx: ::rampart::__private::Ctx,
        store: ::rampart::__private::Store<Project>,
        uri: ::rampart::__private::axum::extract::OriginalUri,
        ::rampart::__private::Json(input): ::rampart::__private::Json<NewProject>,
    ) -> ::rampart::__private::ApiResult<::rampart::__private::Created<Project>> {
        let row = store.create(&ctx.scope()?, input).await?;
        ::core::result::Result::Ok(::rampart::__private::created_under(&uri, row))
    }
    ///Replaces every writable field of a project at the version given (`version` in the body, or `If-Match`).
    #[::rampart::__private::endpoint(
        put = "/projects/{id}",
        operation_id = "replace_project",
        errors = [409,
        412],
        role = "member",
        rate_limit = "60/min",
        timeout = "5s",
        auth = "jwt",
        tag = "projects",
        body_limit = "16KiB",
    )]
    async fn __rampart_replace(
        ctx: ::rampart::__private::Ctx,
        store: ::rampart::__private::Store<Project>,
        ::rampart::__private::Path(
            id,
        ): ::rampart::__private::Path<::rampart::__private::uuid::Uuid>,
        if_match: ::rampart::__private::IfMatch,
        ::rampart::__private::Json(input): ::rampart::__private::Json<ProjectReplace>,
    ) -> ::rampart::__private::ApiResult<::rampart::__private::Tagged<Project>> {
        store
            .replace(&ctx.scope()?, id, input, if_match)
            .await
            .map(::rampart::__private::Tagged::new)
    }
    ///Changes the fields given of a project at the version given (`version` in the body, or `If-Match`).
    #[::rampart::__private::endpoint(
        patch = "/projects/{id}",
        operation_id = "patch_project",
        errors = [409,
        412],
        role = "member",
        rate_limit = "60/min",
        timeout = "5s",
        auth = "jwt",
        tag = "projects",
        body_limit = "16KiB",
    )]
    async fn __rampart_patch(
        ctx: ::rampart::__private::Ctx,
        store: ::rampart::__private::Store<Project>,
        ::rampart::__private::Path(
            id,
        ): ::rampart::__private::Path<::rampart::__private::uuid::Uuid>,
        if_match: ::rampart::__private::IfMatch,
        ::rampart::__private::Json(input): ::rampart::__private::Json<ProjectPatch>,
    ) -> ::rampart::__private::ApiResult<::rampart::__private::Tagged<Project>> {
        store
            .patch(&ctx.scope()?, id, input, if_match)
            .await
            .map(::rampart::__private::Tagged::new)
    }
    ///Deletes a project.
    #[::rampart::__private::endpoint(
        delete = "/projects/{id}",
        operation_id = "delete_project",
        errors = [409,
        412],
        role = "member",
        rate_limit = "60/min",
        timeout = "5s",
        auth = "jwt",
        tag = "projects",
    )]
    async fn __rampart_delete(
        ctx: ::rampart::__private::Ctx,
        store: ::rampart::__private::Store<Project>,
        ::rampart::__private::Path(
            id,
        ): ::rampart::__private::Path<::rampart::__private::uuid::Uuid>,
        if_match: ::rampart::__private::IfMatch,
    ) -> ::rampart::__private::ApiResult<::rampart::__private::NoContent> {
        store.delete(&ctx.scope()?, id, if_match).await?;
        ::core::result::Result::Ok(::rampart::__private::NoContent)
    }
    #[automatically_derived]
    impl ::rampart::__private::ResourceEndpoints for Project {
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
