//! `build_document`: the OpenAPI document of the mounted endpoints, from their definitions and
//! what each one's `document` fn records.

use std::collections::BTreeSet;

use utoipa::openapi::extensions::ExtensionsBuilder;
use utoipa::openapi::path::{
    HttpMethod, Operation, OperationBuilder, Parameter, ParameterBuilder, ParameterIn,
};
use utoipa::openapi::request_body::{RequestBody, RequestBodyBuilder};
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::tag::{Tag, TagBuilder};
use utoipa::openapi::{
    Components, ComponentsBuilder, ContentBuilder, Deprecated, Info, InfoBuilder, LicenseBuilder,
    OpenApi, OpenApiBuilder, PathsBuilder, RefOr, Required, ServerBuilder,
};

use super::links::creation_links;
use super::responses::{error_envelope_schema, responses, revalidates};
use super::{API_KEY_AUTH, BEARER_AUTH, ERROR_ENVELOPE};
use crate::auth::{Access, Schemes};
use crate::describe::OperationDoc;
use crate::endpoint::EndpointDef;
use crate::pagination::PageMeta;

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
    let docs: Vec<OperationDoc> = endpoints
        .iter()
        .map(|(_, def)| {
            let mut doc = OperationDoc::default();
            (def.document)(&mut doc);
            if def.idempotency.is_some() {
                doc.idempotency_key();
            }
            doc
        })
        .collect();
    let mut paths = PathsBuilder::new().build();
    let mut schemas = vec![(
        "PageMeta".to_owned(),
        <PageMeta as utoipa::PartialSchema>::schema(),
    )];
    let mut tags: Vec<&str> = Vec::new();
    for (index, ((full_path, def), doc)) in endpoints.iter().zip(&docs).enumerate() {
        for tag in def.tags {
            if !tags.contains(tag) {
                tags.push(tag);
            }
        }
        let links = if doc.success.location {
            creation_links(index, endpoints, &docs)
        } else {
            Vec::new()
        };
        paths.add_path_operation(
            full_path,
            vec![http_method(&def.method)],
            operation(def, doc, links),
        );
        schemas.extend(doc.components.iter().cloned());
        schemas.extend(doc.success.components.iter().cloned());
    }
    OpenApiBuilder::new()
        .info(info_of(info))
        // Paths carry their full prefix, so the API lives at the root of whatever serves it.
        .servers(Some([ServerBuilder::new()
            .url("/")
            .description(Some("The server this document is served from"))
            .build()]))
        .paths(paths)
        .components(Some(components(schemas)))
        .tags(Some(tags.into_iter().map(|name| tag(info, name))))
        .build()
}

fn operation(
    def: &EndpointDef,
    doc: &OperationDoc,
    links: Vec<(String, utoipa::openapi::link::Link)>,
) -> Operation {
    let mut operation = OperationBuilder::new()
        .operation_id(Some(def.operation_id))
        .summary(def.summary)
        .description(def.description)
        .deprecated(def.deprecated.then_some(Deprecated::True));
    for tag in def.tags {
        operation = operation.tag(*tag);
    }
    for parameter in parameters(doc) {
        operation = operation.parameter(parameter);
    }
    if revalidates(def, &doc.success) {
        operation = operation.parameter(
            ParameterBuilder::new()
                .name("If-None-Match")
                .parameter_in(ParameterIn::Header)
                .required(Required::False)
                .description(Some(
                    "An `ETag` this client holds: answered 304 with no body while it is current.",
                ))
                .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                .build(),
        );
    }
    if let Some(body) = &doc.body {
        operation = operation.request_body(Some(request_body(body)));
    }
    operation = operation.responses(responses(def, doc, links));
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
    for requirement in security(def.access) {
        operation = operation.security(requirement);
    }
    operation.build()
}

/// Path parameters, then query parameters, then headers, each in declaration order.
fn parameters(doc: &OperationDoc) -> Vec<Parameter> {
    let path = doc.path_params.iter().map(|(name, schema)| {
        ParameterBuilder::new()
            .name(name)
            .parameter_in(ParameterIn::Path)
            .required(Required::True)
            .schema(Some(schema.clone()))
            .build()
    });
    let query = doc.query.iter().map(|(name, schema, required)| {
        ParameterBuilder::new()
            .name(name)
            .parameter_in(ParameterIn::Query)
            .required(if *required {
                Required::True
            } else {
                Required::False
            })
            .schema(Some(schema.clone()))
            .build()
    });
    let headers = doc.headers.iter().map(|(name, description, schema)| {
        ParameterBuilder::new()
            .name(*name)
            .parameter_in(ParameterIn::Header)
            .required(Required::False)
            .description(Some(*description))
            .schema(Some(schema.clone()))
            .build()
    });
    path.chain(query).chain(headers).collect()
}

fn request_body(body: &RefOr<Schema>) -> RequestBody {
    RequestBodyBuilder::new()
        .required(Some(Required::True))
        .content(
            "application/json",
            ContentBuilder::new().schema(Some(body.clone())).build(),
        )
        .build()
}

/// Alternatives: any one listed scheme authenticates. A public operation says so with the
/// empty requirement (`security: [{}]`), rather than by leaving security out.
fn security(access: Access) -> Vec<SecurityRequirement> {
    match access {
        Access::Public => vec![SecurityRequirement::default()],
        Access::Protected { schemes, .. } => {
            let mut requirements = Vec::new();
            if schemes != Schemes::ApiKey {
                requirements.push(SecurityRequirement::new(BEARER_AUTH, Vec::<String>::new()));
            }
            if schemes != Schemes::Jwt {
                requirements.push(SecurityRequirement::new(API_KEY_AUTH, Vec::<String>::new()));
            }
            requirements
        }
    }
}

/// The error envelope, the security schemes, and each named schema once.
fn components(schemas: Vec<(String, RefOr<Schema>)>) -> Components {
    let mut builder = ComponentsBuilder::new()
        .schema(ERROR_ENVELOPE, error_envelope_schema())
        .security_scheme(
            API_KEY_AUTH,
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-API-Key",
                "An API key created with POST /auth/api-keys.",
            ))),
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
    let mut seen = BTreeSet::new();
    for (name, schema) in schemas {
        if seen.insert(name.clone()) {
            builder = builder.schema(name, schema);
        }
    }
    builder.build()
}

fn info_of(info: &ApiInfo) -> Info {
    InfoBuilder::new()
        .title(&info.title)
        .version(&info.version)
        .description(info.description.clone())
        .license(info.license.as_ref().map(|spdx| {
            LicenseBuilder::new()
                .name(spdx)
                .identifier(Some(spdx))
                .build()
        }))
        .build()
}

fn tag(info: &ApiInfo, name: &str) -> Tag {
    let description = info
        .tags
        .iter()
        .find(|(tag, _)| tag == name)
        .map(|(_, text)| text.clone());
    TagBuilder::new()
        .name(name)
        .description(description)
        .build()
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
