//! `OperationDoc` and `SuccessDoc`: what one operation takes and answers, as recorded by the
//! code `#[endpoint]` generates (the endpoint's `document` fn).

use utoipa::ToSchema;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::{Ref, RefOr};

use super::ApiSchema;

/// Named schemas an operation needs in `components.schemas`.
type Components = Vec<(String, RefOr<Schema>)>;

/// `T` as a component reference, registering `T` and the schemas it refers to.
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
    pub components: Vec<(String, RefOr<Schema>)>,
    /// `data` is an array and `meta` a page meta.
    pub paginated: bool,
    /// A `Location` header is sent.
    pub location: bool,
    /// An `ETag` header (the resource's version) is sent.
    pub etag: bool,
    /// `Cache-Control: no-store` (credentials in the body): no validator, never a 304.
    pub no_store: bool,
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
            no_store: false,
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
            no_store: false,
        }
    }
}

/// What an endpoint's inputs and output look like; filled by the code `#[endpoint]` generates.
///
/// The methods that need a type from elsewhere live with that type: `success::<O>` (the
/// success response of a return type) in `response.rs`, `list::<R>` (the query parameters of
/// a resource list) in `resource/query.rs`.
#[derive(Debug, Clone)]
pub struct OperationDoc {
    /// Path parameters, in the order the path names them.
    pub(crate) path_params: Vec<(String, RefOr<Schema>)>,
    /// Query parameters: name, schema, required.
    pub(crate) query: Vec<(String, RefOr<Schema>, bool)>,
    /// Header parameters: name, description, schema.
    pub(crate) headers: Vec<(&'static str, &'static str, RefOr<Schema>)>,
    /// The JSON request body, as a reference.
    pub(crate) body: Option<RefOr<Schema>>,
    /// Components the body needs.
    pub(crate) components: Components,
    /// The success response.
    pub(crate) success: SuccessDoc,
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

    /// The optional `Idempotency-Key` header of an `idempotent` endpoint.
    pub(crate) fn idempotency_key(&mut self) {
        let schema = ObjectBuilder::new()
            .schema_type(Type::String)
            .min_length(Some(1))
            .max_length(Some(255))
            // Visible ASCII, as the key is checked (`crate::idempotency::key`).
            .pattern(Some("^[!-~]+$"))
            .build()
            .into();
        self.headers.push((
            "Idempotency-Key",
            "Makes the request safe to repeat: a repeat with the same key and the same request gets the first answer again (`Idempotent-Replayed: true`) without running twice; the same key with another request is a 422, and a repeat while the first runs a 409. Answers are kept per caller (a user's token, or each API key) for the endpoint's time to live (24 hours by default); 5xx answers are not kept.",
            schema,
        ));
    }

    /// A JSON request body of type `T`.
    pub fn body<T: ToSchema>(&mut self) {
        self.body = Some(reference::<T>(&mut self.components));
    }

    /// Whether the operation reads any input (a path, query, header or body parameter).
    pub(crate) fn has_input(&self) -> bool {
        !self.path_params.is_empty()
            || !self.query.is_empty()
            || !self.headers.is_empty()
            || self.body.is_some()
    }
}
