//! Object schemas for `#[derive(rampart::Schema)]`, with validator rules as constraints.

use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{
    AdditionalProperties, KnownFormat, Object, ObjectBuilder, Schema, SchemaFormat, Type,
};

/// A `#[validate]` rule that has an OpenAPI equivalent.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Constraint {
    /// `length(min = n)`: minLength, or minItems on arrays.
    MinLength(usize),
    /// `length(max = n)`: maxLength, or maxItems on arrays.
    MaxLength(usize),
    /// `range(min = n)`.
    Minimum(f64),
    /// `range(max = n)`.
    Maximum(f64),
    /// `range(exclusive_min = n)`: exclusiveMinimum (the value must be above `n`).
    ExclusiveMinimum(f64),
    /// `range(exclusive_max = n)`: exclusiveMaximum (the value must be below `n`).
    ExclusiveMaximum(f64),
    /// `email`: format email.
    Email,
    /// `url`: format uri.
    Url,
    /// `regex(...)` with a pattern known at compile time.
    Pattern(&'static str),
    /// A string that may hold control characters (`allow_control`): no refusal pattern.
    AllowControl,
    /// An optional field that may be left out but not sent as `null` (a patch of a required
    /// field): the type itself, not "the type or null".
    NonNull,
}

/// One field of a documented struct.
#[derive(Debug, Clone)]
pub struct FieldDoc {
    /// The JSON name.
    pub name: &'static str,
    /// The field type's schema.
    pub schema: RefOr<Schema>,
    /// Whether the field must be present.
    pub required: bool,
    /// The field's doc comment.
    pub description: Option<&'static str>,
    /// Rules to show as constraints.
    pub constraints: &'static [Constraint],
}

fn constrain_object(object: &mut Object, constraint: Constraint) {
    match constraint {
        Constraint::MinLength(n) => object.min_length = Some(n),
        Constraint::MaxLength(n) => object.max_length = Some(n),
        Constraint::Minimum(n) => object.minimum = Some(n.into()),
        Constraint::Maximum(n) => object.maximum = Some(n.into()),
        Constraint::ExclusiveMinimum(n) => object.exclusive_minimum = Some(n.into()),
        Constraint::ExclusiveMaximum(n) => object.exclusive_maximum = Some(n.into()),
        Constraint::Email => object.format = Some(SchemaFormat::KnownFormat(KnownFormat::Email)),
        Constraint::Url => object.format = Some(SchemaFormat::Custom("uri".to_owned())),
        Constraint::Pattern(pattern) => object.pattern = Some(pattern.to_owned()),
        Constraint::AllowControl => {
            if object.pattern.as_deref() == Some(super::TEXT_PATTERN) {
                object.pattern = None;
            }
        }
        // Already the type alone (see `constrain`).
        Constraint::NonNull => {}
    }
}

/// Applies a constraint to a field schema, looking through `Option` (oneOf with null).
fn constrain(schema: &mut RefOr<Schema>, constraint: Constraint) {
    if constraint == Constraint::NonNull {
        if let RefOr::T(Schema::OneOf(one_of)) = schema
            && let Some(item) = one_of.items.iter().find(|item| {
                !matches!(item, RefOr::T(Schema::Object(o)) if o.schema_type == Type::Null.into())
            })
        {
            *schema = item.clone();
        }
        return;
    }
    match schema {
        RefOr::T(Schema::Object(object)) => constrain_object(object, constraint),
        RefOr::T(Schema::Array(array)) => match constraint {
            Constraint::MinLength(n) => array.min_items = Some(n),
            Constraint::MaxLength(n) => array.max_items = Some(n),
            _ => {}
        },
        RefOr::T(Schema::OneOf(one_of)) => {
            for item in one_of.items.iter_mut() {
                let is_null = matches!(item, RefOr::T(Schema::Object(o)) if o.schema_type == Type::Null.into());
                if !is_null {
                    constrain(item, constraint);
                }
            }
        }
        _ => {}
    }
}

/// Builds the object schema of a struct from its fields.
pub fn object_schema(
    description: Option<&str>,
    closed: bool,
    fields: Vec<FieldDoc>,
) -> RefOr<Schema> {
    let mut object = ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(description);
    if closed {
        // `#[serde(deny_unknown_fields)]`: an unknown property is a 400, so say so.
        object = object.additional_properties(Some(AdditionalProperties::FreeForm(false)));
    }
    for mut field in fields {
        for constraint in field.constraints {
            constrain(&mut field.schema, *constraint);
        }
        // On the field's own schema, whatever its shape: a nullable field (`oneOf` null or T)
        // and a list keep their description too.
        if let (Some(text), RefOr::T(schema)) = (field.description, &mut field.schema) {
            match schema {
                Schema::Object(inner) => inner.description = Some(text.to_owned()),
                Schema::OneOf(inner) => inner.description = Some(text.to_owned()),
                Schema::Array(inner) => inner.description = Some(text.to_owned()),
                _ => {}
            }
        }
        object = object.property(field.name, field.schema);
        if field.required {
            object = object.required(field.name);
        }
    }
    RefOr::T(Schema::Object(object.build()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::describe::ApiSchema;

    #[test]
    fn constraints_land_on_the_property() {
        let schema = object_schema(
            Some("A note"),
            false,
            vec![
                FieldDoc {
                    name: "title",
                    schema: <String as ApiSchema>::schema(),
                    required: true,
                    description: Some("The title"),
                    constraints: &[Constraint::MinLength(1), Constraint::MaxLength(200)],
                },
                FieldDoc {
                    name: "email",
                    schema: <Option<String> as ApiSchema>::schema(),
                    required: false,
                    description: None,
                    constraints: &[Constraint::Email],
                },
                FieldDoc {
                    name: "priority",
                    schema: <i32 as ApiSchema>::schema(),
                    required: true,
                    description: None,
                    constraints: &[Constraint::Minimum(1.0), Constraint::Maximum(5.0)],
                },
            ],
        );
        let json = serde_json::to_value(&schema).unwrap_or_default();
        assert_eq!(json["properties"]["title"]["maxLength"], 200);
        assert_eq!(json["properties"]["title"]["minLength"], 1);
        assert_eq!(json["properties"]["title"]["description"], "The title");
        assert_eq!(json["properties"]["priority"]["minimum"], 1.0);
        assert_eq!(json["properties"]["priority"]["maximum"], 5.0);
        assert_eq!(json["required"], serde_json::json!(["title", "priority"]));
        assert!(
            json["properties"]["email"]
                .to_string()
                .contains("\"format\":\"email\""),
            "{json}"
        );
    }
}
