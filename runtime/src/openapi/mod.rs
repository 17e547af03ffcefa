//! The OpenAPI 3.1 document, built at runtime from the mounted endpoints.
//!
//! The macro only records what the declaration says (`OperationDoc` via the endpoint's
//! `document` fn); everything here is plain typed code that unit tests reach without a
//! compiler. Error responses are derived from the same declaration that drives the layers.

mod schema;
mod types;

pub use schema::{Constraint, FieldDoc, object_schema};
pub use types::ApiSchema;

use std::collections::BTreeMap;

use utoipa::ToSchema;
use utoipa::openapi::extensions::ExtensionsBuilder;
use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::response::{ResponseBuilder, ResponsesBuilder};
use utoipa::openapi::schema::{
    ArrayBuilder, KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type,
};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{
    ComponentsBuilder, ContentBuilder, Deprecated, Header, InfoBuilder, OpenApi, OpenApiBuilder,
    PathsBuilder, Ref, RefOr, Required,
};

use crate::auth::{Access, Requirement, Schemes};
use crate::endpoint::EndpointDef;
use crate::error::ErrorCode;
use crate::pagination::PageMeta;

const RATE_LIMIT_DOC: &str =
    "Remaining requests and seconds until the quota resets: `\"default\";r=42;t=17`.";
const RATE_LIMIT_POLICY_DOC: &str =
    "The quota and its window in seconds: `\"default\";q=100;w=60`.";

/// Name of the error envelope component.
pub const ERROR_ENVELOPE: &str = "ErrorEnvelope";
/// Name of the API-key security scheme.
pub const API_KEY_AUTH: &str = "apiKeyAuth";
/// Name of the bearer security scheme.
pub const BEARER_AUTH: &str = "bearerAuth";

type Components = Vec<(String, RefOr<Schema>)>;

fn reference<T: ToSchema>(components: &mut Components) -> RefOr<Schema> {
    let name = T::name().into_owned();
    T::schemas(components);
    components.push((name.clone(), T::schema()));
    RefOr::Ref(Ref::from_schema_name(name))
}

/// The success response of an endpoint, from its return type.
#[derive(Debug, Clone)]
pub struct SuccessDoc {
    /// HTTP status (200, 201, 204).
    pub status: u16,
    /// Response description.
    pub description: &'static str,
    /// Schema of `data`, as a reference.
    pub data: Option<RefOr<Schema>>,
    /// Components the data schema needs.
    pub components: Components,
    /// `data` is an array and `meta` a page meta.
    pub paginated: bool,
    /// A `Location` header is sent.
    pub location: bool,
    /// An `ETag` header (the resource's version) is sent.
    pub etag: bool,
}

impl SuccessDoc {
    /// A success response whose `data` is `T`.
    pub fn of<T: ToSchema>(status: u16, description: &'static str) -> Self {
        let mut components = Vec::new();
        let data = reference::<T>(&mut components);
        Self {
            status,
            description,
            data: Some(data),
            components,
            paginated: false,
            location: false,
            etag: false,
        }
    }

    /// A success response without a body.
    pub fn empty(status: u16, description: &'static str) -> Self {
        Self {
            status,
            description,
            data: None,
            components: Vec::new(),
            paginated: false,
            location: false,
            etag: false,
        }
    }
}

/// What an endpoint's inputs and output look like; filled by the code `#[endpoint]` generates.
#[derive(Debug, Clone)]
pub struct OperationDoc {
    path_params: Vec<(String, RefOr<Schema>)>,
    query: Vec<(String, RefOr<Schema>, bool)>,
    headers: Vec<(&'static str, &'static str, RefOr<Schema>)>,
    body: Option<RefOr<Schema>>,
    components: Components,
    success: SuccessDoc,
}

impl Default for OperationDoc {
    fn default() -> Self {
        Self {
            path_params: Vec::new(),
            query: Vec::new(),
            headers: Vec::new(),
            body: None,
            components: Vec::new(),
            success: SuccessDoc::empty(200, "OK"),
        }
    }
}

fn object_properties(schema: RefOr<Schema>) -> Vec<(String, RefOr<Schema>, bool)> {
    match schema {
        RefOr::T(Schema::Object(object)) => object
            .properties
            .into_iter()
            .map(|(name, property)| {
                let required = object.required.contains(&name);
                (name, property, required)
            })
            .collect(),
        _ => Vec::new(),
    }
}

impl OperationDoc {
    /// A path parameter of type `T`, named as in the path template.
    pub fn path_param<T: ApiSchema>(&mut self, name: &str) {
        self.path_params.push((name.to_owned(), T::schema()));
    }

    /// Path parameters from the fields of a `Path<Struct>`.
    pub fn path_struct<T: ApiSchema>(&mut self) {
        for (name, schema, _) in object_properties(T::schema()) {
            self.path_params.push((name, schema));
        }
    }

    /// Query parameters from the fields of a `Query<T>`.
    pub fn query<T: ApiSchema>(&mut self) {
        self.query.extend(object_properties(T::schema()));
    }

    /// `page` and `per_page` query parameters.
    pub fn page(&mut self) {
        let page = ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(1))
            .maximum(Some(u32::MAX))
            .build();
        let per_page = ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(1))
            .maximum(Some(100))
            .build();
        self.query.push(("page".to_owned(), page.into(), false));
        self.query
            .push(("per_page".to_owned(), per_page.into(), false));
    }

    /// The query parameters of a resource list: `per_page`, `page` or `cursor`, `sort` (an
    /// enum of the declared orders), and one typed parameter per declared filter.
    pub fn list<R: crate::resource::Resource>(&mut self) {
        use crate::resource::{Kind, Pagination};
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
                .pattern((field.kind == Kind::Text).then_some(types::TEXT_PATTERN))
                .description(Some(format!(
                    "Only items whose `{}` equals this.",
                    field.name
                )))
                .build();
            self.query
                .push((field.name.to_owned(), schema.into(), false));
        }
    }

    /// The optional `If-Match` header of a conditional write.
    pub fn if_match(&mut self) {
        let schema = ObjectBuilder::new()
            .schema_type(Type::String)
            // Only the quoted version is documented: `*` (accepted too, as RFC 9110 requires)
            // adds nothing to these writes, and an alternation in the pattern defeats
            // schemathesis's header generation (it then sends a bare `0` as "valid").
            .pattern(Some(r#"^"[0-9]+"$"#))
            .build()
            .into();
        self.headers.push((
            "If-Match",
            "The `ETag` of the version this write is based on; a stale one is a 412.",
            schema,
        ));
    }

    /// A JSON request body of type `T`.
    pub fn body<T: ToSchema>(&mut self) {
        self.body = Some(reference::<T>(&mut self.components));
    }

    /// The success response of the return type.
    pub fn success<O: crate::response::EndpointOutput>(&mut self) {
        self.success = O::describe();
    }

    fn has_input(&self) -> bool {
        !self.path_params.is_empty()
            || !self.query.is_empty()
            || !self.headers.is_empty()
            || self.body.is_some()
    }
}

fn error_envelope_schema() -> Schema {
    let detail = ObjectBuilder::new()
        .property("field", ObjectBuilder::new().schema_type(Type::String))
        .property("issue", ObjectBuilder::new().schema_type(Type::String))
        .required("field")
        .required("issue");
    let codes = [
        ErrorCode::ValidationError,
        ErrorCode::BadRequest,
        ErrorCode::Unauthenticated,
        ErrorCode::InvalidCredentials,
        ErrorCode::Forbidden,
        ErrorCode::NotFound,
        ErrorCode::MethodNotAllowed,
        ErrorCode::RequestTimeout,
        ErrorCode::Conflict,
        ErrorCode::VersionConflict,
        ErrorCode::PreconditionFailed,
        ErrorCode::PayloadTooLarge,
        ErrorCode::UnsupportedMediaType,
        ErrorCode::Unprocessable,
        ErrorCode::RateLimited,
        ErrorCode::Internal,
        ErrorCode::Unavailable,
    ];
    let error = ObjectBuilder::new()
        .property(
            "code",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(codes.iter().map(|c| c.as_str()))),
        )
        .property("message", ObjectBuilder::new().schema_type(Type::String))
        .property("details", ArrayBuilder::new().items(detail))
        .property(
            "request_id",
            ObjectBuilder::new().schema_type(utoipa::openapi::schema::SchemaType::from_iter([
                Type::String,
                Type::Null,
            ])),
        )
        .required("code")
        .required("message")
        .required("details")
        .required("request_id");
    ObjectBuilder::new()
        .description(Some(
            "The error envelope: `data` is null and `error` says what went wrong.",
        ))
        .property("data", ObjectBuilder::new().schema_type(Type::Null))
        .property("error", error)
        .required("data")
        .required("error")
        .build()
        .into()
}

fn success_envelope(success: &SuccessDoc) -> Schema {
    let data: RefOr<Schema> = match (&success.data, success.paginated) {
        (Some(data), true) => ArrayBuilder::new().items(data.clone()).build().into(),
        (Some(data), false) => data.clone(),
        (None, _) => ObjectBuilder::new().schema_type(Type::Null).build().into(),
    };
    let meta: RefOr<Schema> = if success.paginated {
        RefOr::Ref(Ref::from_schema_name("PageMeta"))
    } else {
        ObjectBuilder::new().schema_type(Type::Null).build().into()
    };
    ObjectBuilder::new()
        .property("data", data)
        .property("meta", meta)
        .property("error", ObjectBuilder::new().schema_type(Type::Null))
        .required("data")
        .required("meta")
        .required("error")
        .build()
        .into()
}

fn integer_header(description: &str) -> Header {
    let mut header = Header::new(ObjectBuilder::new().schema_type(Type::Integer));
    header.description = Some(description.to_owned());
    header
}

fn string_header(description: &str) -> Header {
    let mut header = Header::new(ObjectBuilder::new().schema_type(Type::String));
    header.description = Some(description.to_owned());
    header
}

/// The statuses an endpoint can return besides its success, derived from its declaration.
pub fn error_statuses(def: &EndpointDef, doc: &OperationDoc) -> BTreeMap<u16, String> {
    let mut statuses = BTreeMap::new();
    if doc.has_input() {
        statuses.insert(
            400,
            "The input is malformed or failed validation.".to_owned(),
        );
    }
    if let Access::Protected { requirement, .. } = def.access {
        statuses.insert(401, "Missing or invalid credentials.".to_owned());
        let needs = match requirement {
            Requirement::Authenticated => None,
            Requirement::AnyRole(roles) => {
                Some(format!("Requires one of the roles: {}.", roles.join(", ")))
            }
            Requirement::Permission(permission, _) => {
                Some(format!("Requires the permission `{permission}`."))
            }
        };
        if let Some(needs) = needs {
            statuses.insert(403, needs);
        }
    }
    if !doc.path_params.is_empty() {
        statuses.insert(404, "Not found.".to_owned());
    }
    if doc.body.is_some() {
        statuses.insert(
            413,
            "The body is larger than the endpoint accepts.".to_owned(),
        );
        statuses.insert(415, "The body is not application/json.".to_owned());
    }
    if doc.body.is_some() {
        statuses.insert(
            408,
            "The body did not arrive within the endpoint's body deadline; the connection is closed."
                .to_owned(),
        );
    }
    let in_flight_capped = def.prefixed || !crate::pipeline::HEALTH_PATHS.contains(&def.path);
    match def.rate_limit {
        Some(spec) => {
            statuses.insert(
                429,
                format!(
                    "Rate limited: {} requests per {} s (bursts of {}) per user, or per client IP when anonymous, or too many requests of this client in flight; retry after `Retry-After` seconds.",
                    spec.count,
                    spec.per.as_secs(),
                    spec.burst
                ),
            );
        }
        None if in_flight_capped => {
            statuses.insert(
                429,
                "Too many requests of this user (or client IP when anonymous) in flight; retry after `Retry-After` seconds."
                    .to_owned(),
            );
        }
        None => {}
    }
    for status in def.errors {
        let code =
            ErrorCode::for_status(axum::http::StatusCode::from_u16(*status).unwrap_or_default());
        statuses
            .entry(*status)
            .or_insert_with(|| format!("{}.", capitalize(code.default_message())));
    }
    statuses.insert(
        500,
        "Internal error; details are in the server log under the request id.".to_owned(),
    );
    statuses.insert(
        503,
        "Overloaded, timed out or a dependency is down; retry after `Retry-After` seconds."
            .to_owned(),
    );
    statuses
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn http_method(method: &axum::http::Method) -> HttpMethod {
    match *method {
        axum::http::Method::POST => HttpMethod::Post,
        axum::http::Method::PUT => HttpMethod::Put,
        axum::http::Method::PATCH => HttpMethod::Patch,
        axum::http::Method::DELETE => HttpMethod::Delete,
        _ => HttpMethod::Get,
    }
}

/// The document as JSON. utoipa 5.5 serializes the Link Object's fields in snake case
/// (`operation_id`), which OpenAPI does not know; this renames them (`operationId`,
/// `operationRef`, `requestBody`) in every response's `links`, and touches nothing else.
pub fn to_json(document: &OpenApi) -> serde_json::Value {
    let mut json = serde_json::to_value(document).unwrap_or_default();
    if let Some(paths) = json.get_mut("paths").and_then(|p| p.as_object_mut()) {
        for operation in paths
            .values_mut()
            .filter_map(|p| p.as_object_mut())
            .flat_map(|p| p.values_mut())
        {
            let Some(responses) = operation
                .get_mut("responses")
                .and_then(|r| r.as_object_mut())
            else {
                continue;
            };
            for response in responses.values_mut() {
                let Some(links) = response.get_mut("links").and_then(|l| l.as_object_mut()) else {
                    continue;
                };
                for link in links.values_mut().filter_map(|l| l.as_object_mut()) {
                    for (snake, camel) in [
                        ("operation_id", "operationId"),
                        ("operation_ref", "operationRef"),
                        ("request_body", "requestBody"),
                    ] {
                        if let Some(value) = link.remove(snake) {
                            link.insert(camel.to_owned(), value);
                        }
                    }
                }
            }
        }
    }
    json
}

/// The data schema of a success response, as a component reference (`#/components/schemas/Task`).
fn data_ref(doc: &OperationDoc) -> Option<&str> {
    match &doc.success.data {
        Some(RefOr::Ref(reference)) if !doc.success.paginated => Some(&reference.ref_location),
        _ => None,
    }
}

/// OpenAPI links from a 201 to the operations on what it created, so that clients and tools
/// (schemathesis's stateful phase) can follow them: the created item's path is the path of an
/// operation that takes one `{id}` and answers with the same schema (`GET /tasks/{id}` for a
/// `Task`), and every operation on that path or under it gets `id = $response.body#/data/id`.
fn creation_links(
    created: usize,
    endpoints: &[(String, &EndpointDef)],
    docs: &[OperationDoc],
) -> Vec<(String, utoipa::openapi::link::Link)> {
    let Some(schema) = docs.get(created).and_then(data_ref) else {
        return Vec::new();
    };
    let takes_one_id = |doc: &OperationDoc| {
        doc.path_params.len() == 1
            && doc
                .path_params
                .first()
                .is_some_and(|(name, _)| name == "id")
    };
    let item_paths: Vec<&str> = endpoints
        .iter()
        .zip(docs)
        .filter(|((path, _), doc)| {
            path.ends_with("/{id}") && takes_one_id(doc) && data_ref(doc) == Some(schema)
        })
        .map(|((path, _), _)| path.as_str())
        .collect();
    endpoints
        .iter()
        .zip(docs)
        .filter(|((path, _), doc)| {
            takes_one_id(doc)
                && item_paths.iter().any(|item| {
                    path == item
                        || path
                            .strip_prefix(item)
                            .is_some_and(|rest| rest.starts_with('/'))
                })
        })
        .map(|((_, def), _)| {
            let link = utoipa::openapi::link::LinkBuilder::new()
                .operation_id(def.operation_id)
                .parameter("id", "$response.body#/data/id")
                .build();
            (def.operation_id.to_owned(), link)
        })
        .collect()
}

/// Title, version and description of the document.
#[derive(Debug, Clone)]
pub struct ApiInfo {
    /// `info.title`.
    pub title: String,
    /// `info.version`.
    pub version: String,
    /// `info.description`.
    pub description: Option<String>,
    /// `info.license`: an SPDX expression (`MIT OR Apache-2.0`).
    pub license: Option<String>,
    /// Descriptions of the tags operations use, by tag name.
    pub tags: Vec<(String, String)>,
}

/// Builds the document of the given endpoints, each under its full path.
pub fn build_document(info: &ApiInfo, endpoints: &[(String, &EndpointDef)]) -> OpenApi {
    let mut paths = PathsBuilder::new().build();
    let mut components: Components = Vec::new();
    components.push((
        "PageMeta".to_owned(),
        <PageMeta as utoipa::PartialSchema>::schema(),
    ));
    let mut tags: Vec<String> = Vec::new();
    let docs: Vec<OperationDoc> = endpoints
        .iter()
        .map(|(_, def)| {
            let mut doc = OperationDoc::default();
            (def.document)(&mut doc);
            doc
        })
        .collect();
    for (index, ((full_path, def), doc)) in endpoints.iter().zip(&docs).enumerate() {
        let mut operation = OperationBuilder::new()
            .operation_id(Some(def.operation_id))
            .summary(def.summary)
            .description(def.description)
            .deprecated(def.deprecated.then_some(Deprecated::True));
        for tag in def.tags {
            operation = operation.tag(*tag);
            if !tags.iter().any(|t| t == tag) {
                tags.push((*tag).to_owned());
            }
        }
        for (name, schema) in &doc.path_params {
            operation = operation.parameter(
                ParameterBuilder::new()
                    .name(name)
                    .parameter_in(ParameterIn::Path)
                    .required(Required::True)
                    .schema(Some(schema.clone())),
            );
        }
        for (name, schema, required) in &doc.query {
            operation = operation.parameter(
                ParameterBuilder::new()
                    .name(name)
                    .parameter_in(ParameterIn::Query)
                    .required(if *required {
                        Required::True
                    } else {
                        Required::False
                    })
                    .schema(Some(schema.clone())),
            );
        }
        for (name, description, schema) in &doc.headers {
            operation = operation.parameter(
                ParameterBuilder::new()
                    .name(*name)
                    .parameter_in(ParameterIn::Header)
                    .required(Required::False)
                    .description(Some(*description))
                    .schema(Some(schema.clone())),
            );
        }
        if let Some(body) = &doc.body {
            operation = operation.request_body(Some(
                RequestBodyBuilder::new()
                    .required(Some(Required::True))
                    .content(
                        "application/json",
                        ContentBuilder::new().schema(Some(body.clone())).build(),
                    )
                    .build(),
            ));
        }
        let success = &doc.success;
        let mut ok = ResponseBuilder::new().description(success.description);
        if success.status != 204 {
            ok = ok.content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(success_envelope(success)))
                    .build(),
            );
        }
        if success.location {
            ok = ok.header(
                "Location",
                string_header("Where the created resource can be read."),
            );
            for (name, link) in creation_links(index, endpoints, &docs) {
                ok = ok.link(name, link);
            }
        }
        if success.etag {
            ok = ok.header(
                "ETag",
                string_header("The version of the resource; send it back in `If-Match` to write only if it is unchanged."),
            );
        }
        ok = ok.header(
            "X-Request-ID",
            string_header("The request id, also in every log line."),
        );
        if def.rate_limit.is_some() {
            ok = ok
                .header("RateLimit", string_header(RATE_LIMIT_DOC))
                .header("RateLimit-Policy", string_header(RATE_LIMIT_POLICY_DOC));
        }
        let mut responses =
            ResponsesBuilder::new().response(success.status.to_string(), ok.build());
        let error_content = ContentBuilder::new()
            .schema(Some(Ref::from_schema_name(ERROR_ENVELOPE)))
            .build();
        for (status, description) in error_statuses(def, doc) {
            let mut response = ResponseBuilder::new()
                .description(description)
                .content("application/json", error_content.clone())
                .header("X-Request-ID", string_header("The request id."));
            if status == 401 {
                response = response.header(
                    "WWW-Authenticate",
                    string_header("`Bearer` (JWT endpoints)."),
                );
            }
            if status == 503 || status == 429 {
                response = response.header(
                    "Retry-After",
                    integer_header("Seconds to wait before retrying."),
                );
            }
            if status == 429 {
                response = response
                    .header("RateLimit", string_header(RATE_LIMIT_DOC))
                    .header("RateLimit-Policy", string_header(RATE_LIMIT_POLICY_DOC));
            }
            responses = responses.response(status.to_string(), response.build());
        }
        operation = operation.responses(responses.build());
        if let Some(spec) = def.rate_limit {
            let limit = serde_json::json!({
                "limit": spec.count,
                "window_seconds": spec.per.as_secs(),
                "burst": spec.burst,
                "key": "user id when authenticated, else client IP",
            });
            operation = operation.extensions(Some(
                ExtensionsBuilder::new().add("x-rate-limit", limit).build(),
            ));
        }
        // Alternatives: any one listed scheme authenticates. A public operation says so with
        // the empty requirement (`security: [{}]`), rather than by leaving security out.
        if matches!(def.access, Access::Public) {
            operation = operation.security(SecurityRequirement::default());
        }
        if let Access::Protected { schemes, .. } = def.access {
            if schemes != Schemes::ApiKey {
                operation =
                    operation.security(SecurityRequirement::new(BEARER_AUTH, Vec::<String>::new()));
            }
            if schemes != Schemes::Jwt {
                operation = operation
                    .security(SecurityRequirement::new(API_KEY_AUTH, Vec::<String>::new()));
            }
        }
        paths.add_path_operation(full_path, vec![http_method(&def.method)], operation.build());
        components.extend(doc.components.iter().cloned());
        components.extend(success.components.iter().cloned());
    }
    let mut builder = ComponentsBuilder::new()
        .schema(ERROR_ENVELOPE, error_envelope_schema())
        .security_scheme(
            API_KEY_AUTH,
            SecurityScheme::ApiKey(utoipa::openapi::security::ApiKey::Header(
                utoipa::openapi::security::ApiKeyValue::with_description(
                    "X-API-Key",
                    "An API key created with POST /auth/api-keys.",
                ),
            )),
        )
        .security_scheme(
            BEARER_AUTH,
            SecurityScheme::Http(
                Http::builder()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    // Later duplicates are the same type registered by another endpoint.
    let mut seen = std::collections::BTreeSet::new();
    for (name, schema) in components {
        if seen.insert(name.clone()) {
            builder = builder.schema(name, schema);
        }
    }
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title(&info.title)
                .version(&info.version)
                .description(info.description.clone())
                .license(info.license.as_ref().map(|spdx| {
                    utoipa::openapi::LicenseBuilder::new()
                        .name(spdx)
                        .identifier(Some(spdx))
                        .build()
                })),
        )
        // Paths carry their full prefix, so the API lives at the root of whatever serves it.
        .servers(Some([utoipa::openapi::ServerBuilder::new()
            .url("/")
            .description(Some("The server this document is served from"))
            .build()]))
        .paths(paths)
        .components(Some(builder.build()))
        .tags(Some(tags.into_iter().map(|name| {
            let description = info
                .tags
                .iter()
                .find(|(tag, _)| *tag == name)
                .map(|(_, text)| text.clone());
            utoipa::openapi::tag::TagBuilder::new()
                .name(name)
                .description(description)
                .build()
        })))
        .build()
}
