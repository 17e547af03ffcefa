::core::compile_error! {
    "`soon` is not a duration\nhelp: write a duration such as \"500ms\", \"5s\" or \"2m\""
}
pub struct Note {
    pub id: Uuid,
    pub title: String,
}
#[automatically_derived]
impl ::rampart::__private::serde::Serialize for Note {
    fn serialize<__S: ::rampart::__private::serde::Serializer>(
        &self,
        _: __S,
    ) -> ::core::result::Result<__S::Ok, __S::Error> {
        ::core::unreachable!()
    }
}
#[automatically_derived]
impl ::rampart::__private::ApiSchema for Note {
    fn schema() -> ::rampart::__private::utoipa::openapi::RefOr<
        ::rampart::__private::utoipa::openapi::schema::Schema,
    > {
        ::core::unreachable!()
    }
}
#[automatically_derived]
impl ::rampart::__private::utoipa::PartialSchema for Note {
    fn schema() -> ::rampart::__private::utoipa::openapi::RefOr<
        ::rampart::__private::utoipa::openapi::schema::Schema,
    > {
        ::core::unreachable!()
    }
}
#[automatically_derived]
impl ::rampart::__private::utoipa::ToSchema for Note {
    fn name() -> ::std::borrow::Cow<'static, str> {
        ::std::borrow::Cow::Borrowed("Note")
    }
}
///A new note: the fields a client may set.
#[derive(
    ::core::fmt::Debug,
    ::rampart::__private::serde::Deserialize,
    ::rampart::__private::validator::Validate,
    ::rampart::__private::Schema
)]
#[serde(crate = "::rampart::__private::serde", deny_unknown_fields)]
#[allow(non_snake_case)]
pub struct NewNote {
    #[serde(
        default,
        skip_serializing,
        deserialize_with = "::rampart::__private::input::server_set_present"
    )]
    #[validate(custom(function = ::rampart::__private::input::server_set))]
    #[allow(dead_code)]
    id: ::core::option::Option<::rampart::__private::input::ServerSet>,
    #[serde(deserialize_with = "::rampart::__private::input::trimmed")]
    pub title: String,
}
///A partial update of a note: fields left out stay as they are.
#[derive(
    ::core::fmt::Debug,
    ::rampart::__private::serde::Deserialize,
    ::rampart::__private::validator::Validate,
    ::rampart::__private::Schema
)]
#[serde(crate = "::rampart::__private::serde", deny_unknown_fields)]
#[allow(non_snake_case)]
pub struct NotePatch {
    #[serde(
        default,
        skip_serializing,
        deserialize_with = "::rampart::__private::input::server_set_present"
    )]
    #[validate(custom(function = ::rampart::__private::input::server_set))]
    #[allow(dead_code)]
    id: ::core::option::Option<::rampart::__private::input::ServerSet>,
    #[serde(default, deserialize_with = "::rampart::__private::input::present_trimmed")]
    #[schema(non_null)]
    pub title: ::core::option::Option<String>,
}
///A full replacement of a note's writable fields.
#[derive(
    ::core::fmt::Debug,
    ::rampart::__private::serde::Deserialize,
    ::rampart::__private::validator::Validate,
    ::rampart::__private::Schema
)]
#[serde(crate = "::rampart::__private::serde", deny_unknown_fields)]
#[allow(non_snake_case)]
pub struct NoteReplace {
    #[serde(
        default,
        skip_serializing,
        deserialize_with = "::rampart::__private::input::server_set_present"
    )]
    #[validate(custom(function = ::rampart::__private::input::server_set))]
    #[allow(dead_code)]
    id: ::core::option::Option<::rampart::__private::input::ServerSet>,
    #[serde(deserialize_with = "::rampart::__private::input::trimmed")]
    pub title: String,
}
#[automatically_derived]
impl ::rampart::__private::Resource for Note {
    const SPEC: ::rampart::__private::ResourceSpec = ::rampart::__private::ResourceSpec {
        name: "note",
        table: "notes",
        columns: &["id", "title"],
        id: "id",
        owner: ::core::option::Option::None,
        version: ::core::option::Option::None,
        parent: ::core::option::Option::None,
        read_only_when: ::core::option::Option::None,
        created_at: ::core::option::Option::None,
        updated_at: ::core::option::Option::None,
        writable: &["title"],
        filters: &[],
        sorts: &[],
        default_sort: ::rampart::__private::SortOrder {
            field: ::rampart::__private::Field {
                name: "id",
                kind: ::rampart::__private::Kind::Uuid,
            },
            descending: false,
        },
        pagination: ::rampart::__private::Pagination::Cursor,
        labels: ::rampart::__private::Labels {
            get: "notes.get",
            list: "notes.list",
            count: "notes.count",
            insert: "notes.insert",
            update: "notes.update",
            delete: "notes.delete",
        },
        cascades: &[],
        left_out_of_json: &[],
    };
    type Create = NewNote;
    type Patch = NotePatch;
    type Replace = NoteReplace;
    fn values(&self) -> ::std::vec::Vec<::rampart::__private::Value> {
        ::core::unreachable!()
    }
    fn id(&self) -> ::rampart::__private::uuid::Uuid {
        ::core::unreachable!()
    }
    fn version(&self) -> ::core::option::Option<i64> {
        ::core::unreachable!()
    }
    fn sort_value(
        &self,
        _: &str,
    ) -> ::core::option::Option<::rampart::__private::Value> {
        ::core::unreachable!()
    }
    fn statements() -> &'static ::rampart::__private::StatementCache {
        ::core::unreachable!()
    }
    fn assemble(_: NewNote, _: ::rampart::__private::ServerFields) -> Self {
        ::core::unreachable!()
    }
}
#[automatically_derived]
impl<
    'r,
> ::rampart::__private::sqlx::FromRow<'r, ::rampart::__private::sqlx::sqlite::SqliteRow>
for Note {
    fn from_row(
        _: &'r ::rampart::__private::sqlx::sqlite::SqliteRow,
    ) -> ::core::result::Result<Self, ::rampart::__private::sqlx::Error> {
        ::core::unreachable!()
    }
}
#[automatically_derived]
impl<
    'r,
> ::rampart::__private::sqlx::FromRow<'r, ::rampart::__private::sqlx::postgres::PgRow>
for Note {
    fn from_row(
        _: &'r ::rampart::__private::sqlx::postgres::PgRow,
    ) -> ::core::result::Result<Self, ::rampart::__private::sqlx::Error> {
        ::core::unreachable!()
    }
}
#[automatically_derived]
impl ::rampart::__private::Changes for NotePatch {
    fn expected_version(&self) -> ::core::option::Option<i64> {
        ::core::unreachable!()
    }
    fn into_changes(
        self,
    ) -> ::std::vec::Vec<(&'static str, ::rampart::__private::Value)> {
        ::core::unreachable!()
    }
}
#[automatically_derived]
impl ::rampart::__private::Changes for NoteReplace {
    fn expected_version(&self) -> ::core::option::Option<i64> {
        ::core::unreachable!()
    }
    fn into_changes(
        self,
    ) -> ::std::vec::Vec<(&'static str, ::rampart::__private::Value)> {
        ::core::unreachable!()
    }
}
#[automatically_derived]
impl ::rampart::__private::ResourceEndpoints for Note {
    fn mount(_: ::rampart::__private::Api) -> ::rampart::__private::Api {
        ::core::unreachable!()
    }
}
