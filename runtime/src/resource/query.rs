//! What a list or a conditional write asks for: [`ListQuery`] (filters, sort, page or cursor),
//! [`IfMatch`] (a precondition on the version), and [`Tagged`] (a reply with an `ETag`).

use std::marker::PhantomData;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type};

use super::{Kind, Pagination, Resource, SortOrder, Value};
use crate::describe::{OperationDoc, SuccessDoc, TEXT_PATTERN};
use crate::error::{ApiError, ErrorCode, FieldIssue};
use crate::pagination::OffsetPage;
use crate::response::{Reply, Validator, envelope_with};

/// Which page of a list.
#[derive(Debug, Clone)]
pub(crate) enum PageRequest {
    Offset(OffsetPage),
    Cursor {
        per_page: u32,
        after: Option<String>,
    },
}

/// A list request for resource `R`, read from the query string: `per_page`, `page` (offset
/// resources) or `cursor` (cursor resources), `sort` (`title` or `-title`), and one `field=value`
/// per declared filter. Anything else — an undeclared filter or sort field, a value of the
/// wrong type, a repeated parameter — is a 400 naming the parameter.
#[derive(Debug, Clone)]
pub struct ListQuery<R> {
    pub(crate) page: PageRequest,
    pub(crate) sort: SortOrder,
    pub(crate) filters: Vec<(&'static str, Value)>,
    marker: PhantomData<fn() -> R>,
}

fn invalid(issues: Vec<FieldIssue>) -> ApiError {
    ApiError::new(ErrorCode::ValidationError)
        .with_message("the query string is invalid")
        .with_details(issues)
}

fn names(fields: &[super::Field]) -> String {
    fields.iter().map(|f| f.name).collect::<Vec<_>>().join(", ")
}

impl<R: Resource> ListQuery<R> {
    /// Parses a query string (without the `?`).
    pub fn parse(query: &str) -> Result<Self, ApiError> {
        let spec = &R::SPEC;
        let mut issues = Vec::new();
        let mut seen: Vec<String> = Vec::new();
        let mut per_page = None;
        let mut page = None;
        let mut cursor = None;
        let mut sort = spec.default_sort;
        let mut filters = Vec::new();
        for (key, value) in form_urlencoded::parse(query.as_bytes()) {
            // The same refusal as every other string input: a control character in a filter
            // value or a parameter name is a 400 naming it.
            if let Some(issue) =
                crate::text::refused_control(&key).or_else(|| crate::text::refused_control(&value))
            {
                issues.push(FieldIssue::new(key.as_ref(), issue));
                continue;
            }
            if seen.iter().any(|k| *k == key) {
                issues.push(FieldIssue::new(key.as_ref(), "given more than once"));
                continue;
            }
            seen.push(key.to_string());
            match key.as_ref() {
                // Ranges are checked once, by `OffsetPage::new`, below.
                "per_page" => match value.parse::<u32>() {
                    Ok(n) => per_page = Some(n),
                    Err(_) => {
                        issues.push(FieldIssue::new("per_page", "expected a positive integer"))
                    }
                },
                "page" if spec.pagination == Pagination::Offset => match value.parse::<u32>() {
                    Ok(n) => page = Some(n),
                    Err(_) => issues.push(FieldIssue::new("page", "expected a positive integer")),
                },
                "cursor" if spec.pagination == Pagination::Cursor => {
                    cursor = Some(value.into_owned())
                }
                "sort" => {
                    let (descending, name) = match value.strip_prefix('-') {
                        Some(name) => (true, name),
                        None => (false, value.as_ref()),
                    };
                    match spec.sorts.iter().find(|f| f.name == name) {
                        Some(field) => {
                            sort = SortOrder {
                                field: *field,
                                descending,
                            }
                        }
                        None => issues.push(FieldIssue::new(
                            "sort",
                            format!("not a sortable field; sortable: {}", names(spec.sorts)),
                        )),
                    }
                }
                name => match spec.filters.iter().find(|f| f.name == name) {
                    Some(field) => match Value::parse(field.kind, &value) {
                        Ok(value) => filters.push((field.name, value)),
                        Err(expected) => issues.push(FieldIssue::new(field.name, expected)),
                    },
                    None => issues.push(FieldIssue::new(
                        name,
                        if spec.filters.is_empty() {
                            "unknown query parameter".to_owned()
                        } else {
                            format!("unknown query parameter; filters: {}", names(spec.filters))
                        },
                    )),
                },
            }
        }
        let offset = OffsetPage::new(page, per_page);
        if let Err(error) = &offset {
            issues.extend(error.details().iter().cloned());
        }
        let offset = match offset {
            Ok(offset) if issues.is_empty() => offset,
            _ => return Err(invalid(issues)),
        };
        let page = match spec.pagination {
            Pagination::Offset => PageRequest::Offset(offset),
            Pagination::Cursor => PageRequest::Cursor {
                per_page: offset.per_page(),
                after: cursor,
            },
        };
        Ok(Self {
            page,
            sort,
            filters,
            marker: PhantomData,
        })
    }
}

impl<S: Send + Sync, R: Resource> FromRequestParts<S> for ListQuery<R> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Self::parse(parts.uri.query().unwrap_or_default())
    }
}

// The parameters `ListQuery::from_request_parts` reads, documented next to it. Here rather than
// in `describe`, which names nothing of the crate (resources depend on it, not it on them).
impl OperationDoc {
    /// The query parameters of a resource list: `per_page`, `page` or `cursor`, `sort` (an
    /// enum of the declared orders), and one typed parameter per declared filter.
    pub fn list<R: Resource>(&mut self) {
        let spec = &R::SPEC;
        let integer = |min: i64, max: Option<i64>| -> RefOr<Schema> {
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(min))
                .maximum(max)
                .build()
                .into()
        };
        self.query
            .push(("per_page".to_owned(), integer(1, Some(100)), false));
        match spec.pagination {
            Pagination::Offset => self
                .query
                .push(("page".to_owned(), integer(1, Some(i64::from(u32::MAX))), false)),
            Pagination::Cursor => self.query.push((
                "cursor".to_owned(),
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .min_length(Some(1))
                    .description(Some(
                        "`meta.next_cursor` of the previous page: opaque and signed, so any other value is a 400.",
                    ))
                    .build()
                    .into(),
                false,
            )),
        }
        let sorts = spec
            .sorts
            .iter()
            .flat_map(|f| [f.name.to_owned(), format!("-{}", f.name)]);
        self.query.push((
            "sort".to_owned(),
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(sorts))
                .description(Some("A sortable field; `-` sorts descending."))
                .build()
                .into(),
            false,
        ));
        for field in spec.filters {
            let (ty, format) = match field.kind {
                Kind::Bool => (Type::Boolean, None),
                Kind::Int32 | Kind::Int64 => (Type::Integer, None),
                Kind::Float => (Type::Number, None),
                Kind::Text => (Type::String, None),
                Kind::Uuid => (Type::String, Some(KnownFormat::Uuid)),
                Kind::Timestamp => (Type::String, Some(KnownFormat::DateTime)),
                Kind::Json => (Type::Object, None),
            };
            let schema = ObjectBuilder::new()
                .schema_type(ty)
                .format(format.map(SchemaFormat::KnownFormat))
                .pattern((field.kind == Kind::Text).then_some(TEXT_PATTERN))
                .description(Some(format!(
                    "Only items whose `{}` equals this.",
                    field.name
                )))
                .build();
            self.query
                .push((field.name.to_owned(), schema.into(), false));
        }
    }
}

/// What `If-Match` requires of the current version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precondition {
    /// `If-Match: *`: the resource must exist.
    Any,
    /// `If-Match: "7"`: the version must be 7.
    Version(i64),
    /// Any other entity tag (weak, not a version, several): it matches no version, so the write
    /// is a 412 (RFC 9110 §13.1.1: If-Match uses strong comparison against the current tag).
    Never,
}

/// A version no row has (versions start at 1): what [`Precondition::Never`] binds.
const NO_VERSION: i64 = i64::MIN;

/// The optional `If-Match` header of a write. A value that is not visible ASCII is a 400; any
/// other that does not name the current version (`"7"`) or `*` makes the write a 412
/// `PRECONDITION_FAILED`, so nothing is written on a precondition the server cannot honour.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IfMatch(pub Option<Precondition>);

impl IfMatch {
    /// The version it requires, if any.
    pub fn version(self) -> Option<i64> {
        match self.0 {
            Some(Precondition::Version(version)) => Some(version),
            Some(Precondition::Never) => Some(NO_VERSION),
            Some(Precondition::Any) | None => None,
        }
    }

    fn parse(value: &HeaderValue) -> Result<Self, ApiError> {
        let malformed = || {
            ApiError::bad_request("If-Match must be one entity tag as sent in ETag, or *")
                .with_detail("If-Match", "malformed")
        };
        let text = value.to_str().map_err(|_| malformed())?;
        if text == "*" {
            return Ok(Self(Some(Precondition::Any)));
        }
        // A read's tag is `"<version>.<body hash>"`, a write's `"<version>"`: the version is
        // what a write is conditional on.
        let version = text
            .strip_prefix('"')
            .and_then(|t| t.strip_suffix('"'))
            .map(|inner| inner.split_once('.').map_or(inner, |(version, _)| version))
            .and_then(|inner| inner.parse::<i64>().ok())
            .filter(|version| *version >= 1);
        Ok(Self(Some(match version {
            Some(version) => Precondition::Version(version),
            None => Precondition::Never,
        })))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        match parts.headers.get(header::IF_MATCH) {
            Some(value) => Self::parse(value),
            None => Ok(Self(None)),
        }
    }
}

/// A resource in the envelope with its version as a strong `ETag` (`"7"`), when it has one.
#[derive(Debug)]
pub struct Tagged<T> {
    value: T,
    version: Option<i64>,
}

impl<R: Resource> Tagged<R> {
    /// Tags a resource with its version.
    pub fn new(value: R) -> Self {
        let version = value.version();
        Self { value, version }
    }
}

impl<T> Tagged<T> {
    /// The value.
    pub fn into_inner(self) -> T {
        self.value
    }
}

impl<T: Resource + Serialize + ToSchema> Reply for Tagged<T> {
    fn into_reply(self) -> Response {
        let validator = match self.version {
            Some(version) => Validator::Version(version),
            None => Validator::Body,
        };
        let mut response = envelope_with(StatusCode::OK, &self.value, None, validator);
        // A write's answer has no body validator (it is not a read): the version alone, which
        // the next write can send back in `If-Match`.
        if let Some(version) = self.version
            && !response.headers().contains_key(header::ETAG)
            && let Ok(etag) = HeaderValue::try_from(format!("\"{version}\""))
        {
            response.headers_mut().insert(header::ETAG, etag);
        }
        response
    }
    fn describe() -> SuccessDoc {
        let mut doc = SuccessDoc::of::<T>(200, "OK");
        // Only a versioned resource's tag can be sent back in `If-Match`; any other read's is
        // a body validator (documented as such).
        doc.etag = T::SPEC.version.is_some();
        doc
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_forms() {
        let parse = |v: &'static str| IfMatch::parse(&HeaderValue::from_static(v));
        assert_eq!(
            parse("\"7\"").ok(),
            Some(IfMatch(Some(Precondition::Version(7))))
        );
        assert_eq!(parse("*").ok(), Some(IfMatch(Some(Precondition::Any))));
        // Not text at all (obs-text bytes): 400.
        let opaque = HeaderValue::from_bytes(b"\"\xff\"");
        assert!(opaque.is_ok_and(|value| IfMatch::parse(&value).is_err()));
        // Well-formed or not, a tag that is not a current version matches nothing: 412.
        for never in ["", "7", "W/\"7\"", "\"x\"", "\"1\", \"2\"", "\"0\""] {
            assert_eq!(
                parse(never).ok(),
                Some(IfMatch(Some(Precondition::Never))),
                "{never}"
            );
        }
    }
}
