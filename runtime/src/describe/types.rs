//! `ApiSchema`: the schema of a field type, for `#[derive(rampart::Schema)]`.
//!
//! utoipa 5 implements `PartialSchema` for primitives only through its derive's hidden
//! `ComposeSchema`, and not at all for `Uuid` or `DateTime`, so rampart keeps its own small
//! trait: primitives, strings, `Uuid`, chrono dates, JSON values, `Option`, `Vec`, `Box`, maps,
//! and every struct that derives `rampart::Schema`.

use std::collections::{BTreeMap, HashMap};

use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{
    AdditionalProperties, ArrayBuilder, KnownFormat, ObjectBuilder, OneOfBuilder, Schema,
    SchemaFormat, Type,
};

/// The OpenAPI schema of a type used as a field, parameter or body.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no rampart schema",
    note = "derive it with `#[derive(rampart::Schema)]`, or use a primitive, `String`, `Uuid`, `DateTime<Utc>`, `Option<T>` or `Vec<T>`"
)]
pub trait ApiSchema {
    /// The schema, inline.
    fn schema() -> RefOr<Schema>;
}

fn typed(ty: Type, format: Option<SchemaFormat>) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(ty)
        .format(format)
        .build()
        .into()
}

/// What every string input accepts, as a JSON Schema pattern: no C0/C1 control character other
/// than tab, LF and CR (`text::is_refused_control`), so the document says what the API refuses.
/// A field that opts out (`allow_control`) drops it.
pub(crate) const TEXT_PATTERN: &str =
    "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$";

fn text() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(TEXT_PATTERN))
        .build()
        .into()
}

impl ApiSchema for String {
    fn schema() -> RefOr<Schema> {
        text()
    }
}

impl ApiSchema for str {
    fn schema() -> RefOr<Schema> {
        text()
    }
}

macro_rules! primitive {
    ($($ty:ty => $kind:expr, $format:expr;)*) => {$(
        impl ApiSchema for $ty {
            fn schema() -> RefOr<Schema> {
                typed($kind, $format)
            }
        }
    )*};
}

primitive! {
    bool => Type::Boolean, None;
    i8 => Type::Integer, Some(SchemaFormat::KnownFormat(KnownFormat::Int32));
    i16 => Type::Integer, Some(SchemaFormat::KnownFormat(KnownFormat::Int32));
    i32 => Type::Integer, Some(SchemaFormat::KnownFormat(KnownFormat::Int32));
    i64 => Type::Integer, Some(SchemaFormat::KnownFormat(KnownFormat::Int64));
    u8 => Type::Integer, Some(SchemaFormat::KnownFormat(KnownFormat::Int32));
    u16 => Type::Integer, Some(SchemaFormat::KnownFormat(KnownFormat::Int32));
    u32 => Type::Integer, Some(SchemaFormat::KnownFormat(KnownFormat::Int64));
    u64 => Type::Integer, Some(SchemaFormat::KnownFormat(KnownFormat::Int64));
    usize => Type::Integer, Some(SchemaFormat::KnownFormat(KnownFormat::Int64));
    f32 => Type::Number, Some(SchemaFormat::KnownFormat(KnownFormat::Float));
    f64 => Type::Number, Some(SchemaFormat::KnownFormat(KnownFormat::Double));
    uuid::Uuid => Type::String, Some(SchemaFormat::KnownFormat(KnownFormat::Uuid));
    chrono::DateTime<chrono::Utc> => Type::String, Some(SchemaFormat::KnownFormat(KnownFormat::DateTime));
    chrono::NaiveDate => Type::String, Some(SchemaFormat::KnownFormat(KnownFormat::Date));
}

impl ApiSchema for serde_json::Value {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new().build().into()
    }
}

impl<T: ApiSchema + ?Sized> ApiSchema for &T {
    fn schema() -> RefOr<Schema> {
        T::schema()
    }
}

impl<T: ApiSchema + ?Sized> ApiSchema for Box<T> {
    fn schema() -> RefOr<Schema> {
        T::schema()
    }
}

impl<T: ApiSchema> ApiSchema for Option<T> {
    fn schema() -> RefOr<Schema> {
        RefOr::T(Schema::OneOf(
            OneOfBuilder::new()
                .item(ObjectBuilder::new().schema_type(Type::Null))
                .item(T::schema())
                .build(),
        ))
    }
}

impl<T: ApiSchema> ApiSchema for Vec<T> {
    fn schema() -> RefOr<Schema> {
        ArrayBuilder::new().items(T::schema()).build().into()
    }
}

impl<T: ApiSchema> ApiSchema for [T] {
    fn schema() -> RefOr<Schema> {
        ArrayBuilder::new().items(T::schema()).build().into()
    }
}

fn map_of(values: RefOr<Schema>) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .additional_properties(Some(AdditionalProperties::RefOr(values)))
        .build()
        .into()
}

impl<T: ApiSchema, S> ApiSchema for HashMap<String, T, S> {
    fn schema() -> RefOr<Schema> {
        map_of(T::schema())
    }
}

impl<T: ApiSchema> ApiSchema for BTreeMap<String, T> {
    fn schema() -> RefOr<Schema> {
        map_of(T::schema())
    }
}
