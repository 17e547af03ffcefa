//! Values bound to generated statements: one small enum so that a statement built at run time
//! (filters, keyset, patches) binds the same way on SQLite and PostgreSQL.
//!
//! Nulls carry their kind: PostgreSQL infers parameter types from what the client declares, and
//! an untyped NULL against a `uuid` column is an error.
//!
//! A value is normalised to what both databases store when it becomes a [`Value`], so that what
//! a write answers (the row the statement returns) is what a later read returns, on either
//! backend: timestamps to microseconds ([`storable`]), `-0.0` to `0.0` (SQLite keeps an
//! integral REAL as an integer and reads it back as `0.0`).

use chrono::{DateTime, SubsecRound, Utc};
use uuid::Uuid;

/// The column kinds a resource field can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `bool`.
    Bool,
    /// `i32`.
    Int32,
    /// `i64`.
    Int64,
    /// `f64`.
    Float,
    /// `String`.
    Text,
    /// `Uuid`.
    Uuid,
    /// `DateTime<Utc>`.
    Timestamp,
    /// A `#[resource(json)]` field: JSONB on PostgreSQL, JSON text on SQLite.
    Json,
}

impl Kind {
    /// What a client must send for a value of this kind (used in 400 details).
    pub const fn expected(self) -> &'static str {
        match self {
            Kind::Bool => "must be true or false",
            Kind::Int32 | Kind::Int64 => "must be an integer",
            Kind::Float => "must be a number",
            Kind::Text => "must be text",
            Kind::Uuid => "must be a UUID",
            Kind::Timestamp => "must be an RFC 3339 timestamp",
            Kind::Json => "must be JSON",
        }
    }
}

/// One bound parameter. Non-exhaustive: a new kind of column adds a variant (as `Bytes` was),
/// so code outside rampart that matches on it keeps a `_` arm.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Value {
    /// A typed NULL.
    Null(Kind),
    /// A boolean.
    Bool(bool),
    /// A 32-bit integer.
    Int32(i32),
    /// A 64-bit integer.
    Int64(i64),
    /// A float.
    Float(f64),
    /// Text.
    Text(String),
    /// A UUID.
    Uuid(Uuid),
    /// A UTC timestamp, to the microsecond.
    Timestamp(DateTime<Utc>),
    /// A JSON document (a `#[resource(json)]` field), built by [`Value::json`].
    Json(JsonDocument),
    /// Bytes (rampart's own tables: token and key hashes). No resource field has this kind.
    Bytes(Vec<u8>),
}

impl Value {
    /// Appends this value's key form to `out`: its kind, then its value in a fixed form,
    /// length prefixed, so that `Int32(1)`, `Int64(1)` and `Text("1")` differ, and a list of
    /// values cannot imitate another (the query cache's key).
    pub fn key_bytes(&self, out: &mut Vec<u8>) {
        let mut part = |bytes: &[u8]| {
            out.extend_from_slice(&(bytes.len() as u64).to_be_bytes());
            out.extend_from_slice(bytes);
        };
        match self {
            Value::Null(kind) => {
                part(b"null");
                part(format!("{kind:?}").as_bytes());
            }
            Value::Bool(value) => part(if *value { b"bool:1" } else { b"bool:0" }),
            Value::Int32(value) => {
                part(b"i32");
                part(&value.to_be_bytes());
            }
            Value::Int64(value) => {
                part(b"i64");
                part(&value.to_be_bytes());
            }
            Value::Float(value) => {
                part(b"f64");
                part(&value.to_bits().to_be_bytes());
            }
            Value::Text(value) => {
                part(b"text");
                part(value.as_bytes());
            }
            Value::Uuid(value) => {
                part(b"uuid");
                part(value.as_bytes());
            }
            Value::Timestamp(value) => {
                part(b"timestamp");
                part(&value.timestamp_micros().to_be_bytes());
            }
            Value::Json(document) => {
                part(b"json");
                match document.as_json() {
                    Ok(json) => part(json.to_string().as_bytes()),
                    Err(error) => part(error.as_bytes()),
                }
            }
            Value::Bytes(value) => {
                part(b"bytes");
                part(value);
            }
        }
    }
}

/// The JSON of a `#[resource(json)]` field. A value whose `Serialize` fails (a map with
/// non-string keys) is kept as the error, so that binding it fails the statement (a 500: a bug
/// in the type, not in the request) before anything is written.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonDocument(pub(crate) Result<serde_json::Value, String>);

impl JsonDocument {
    /// The document, or why it could not be serialized.
    pub fn as_json(&self) -> Result<&serde_json::Value, &str> {
        self.0.as_ref().map_err(String::as_str)
    }
}

/// A timestamp as both databases store it: truncated to the microsecond (PostgreSQL keeps
/// microseconds; SQLite keeps the text it is given, so the framework gives it the same), and a
/// leap second (`23:59:60.x`) as the last microsecond before it (`23:59:59.999999`):
/// PostgreSQL has no leap seconds, and this keeps the order.
pub fn storable(timestamp: DateTime<Utc>) -> DateTime<Utc> {
    use chrono::Timelike;
    let truncated = timestamp.trunc_subsecs(6);
    if truncated.nanosecond() >= 1_000_000_000 {
        truncated.with_nanosecond(999_999_000).unwrap_or(truncated)
    } else {
        truncated
    }
}

/// Now, as the databases store it ([`storable`]): for timestamps a handler writes itself.
pub fn now() -> DateTime<Utc> {
    storable(Utc::now())
}

/// A Rust type a resource field or a query argument can have.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a resource column or a query parameter",
    note = "use bool, i32, i64, f64, String, Uuid, DateTime<Utc>, or an Option of one of them"
)]
pub trait IntoValue {
    /// The column kind.
    const KIND: Kind;
    /// The bound value.
    fn into_value(self) -> Value;
}

macro_rules! into_value {
    ($($ty:ty => $kind:ident;)*) => {$(
        impl IntoValue for $ty {
            const KIND: Kind = Kind::$kind;
            fn into_value(self) -> Value {
                Value::$kind(self)
            }
        }
        impl IntoValue for &$ty {
            const KIND: Kind = Kind::$kind;
            fn into_value(self) -> Value {
                Value::$kind(self.clone())
            }
        }
    )*};
}

into_value! {
    bool => Bool;
    i32 => Int32;
    i64 => Int64;
    String => Text;
    Uuid => Uuid;
}

impl IntoValue for f64 {
    const KIND: Kind = Kind::Float;
    fn into_value(self) -> Value {
        // `-0.0 == 0.0`: one zero, the one SQLite reads back.
        Value::Float(if self == 0.0 { 0.0 } else { self })
    }
}

impl IntoValue for &f64 {
    const KIND: Kind = Kind::Float;
    fn into_value(self) -> Value {
        (*self).into_value()
    }
}

impl IntoValue for DateTime<Utc> {
    const KIND: Kind = Kind::Timestamp;
    fn into_value(self) -> Value {
        Value::Timestamp(storable(self))
    }
}

impl IntoValue for &DateTime<Utc> {
    const KIND: Kind = Kind::Timestamp;
    fn into_value(self) -> Value {
        (*self).into_value()
    }
}

impl IntoValue for &str {
    const KIND: Kind = Kind::Text;
    fn into_value(self) -> Value {
        Value::Text(self.to_owned())
    }
}

impl<T: IntoValue> IntoValue for Option<T> {
    const KIND: Kind = T::KIND;
    fn into_value(self) -> Value {
        match self {
            Some(value) => value.into_value(),
            None => Value::Null(T::KIND),
        }
    }
}

impl<T: IntoValue + Clone> IntoValue for &Option<T> {
    const KIND: Kind = T::KIND;
    fn into_value(self) -> Value {
        self.clone().into_value()
    }
}

/// `-0.0` → `0.0` inside a JSON document (PostgreSQL's `numeric`, under JSONB, has one zero).
fn one_zero(json: &mut serde_json::Value) {
    use serde_json::Value as Json;
    match json {
        Json::Number(number) if number.is_f64() && number.as_f64() == Some(0.0) => {
            if let Some(zero) = serde_json::Number::from_f64(0.0) {
                *number = zero;
            }
        }
        Json::Array(items) => items.iter_mut().for_each(one_zero),
        Json::Object(fields) => fields.values_mut().for_each(one_zero),
        _ => {}
    }
}

impl Value {
    /// The value of a `#[resource(json)]` field.
    pub fn json<T: serde::Serialize + ?Sized>(value: &T) -> Value {
        let document = serde_json::to_value(value)
            .map(|mut json| {
                one_zero(&mut json);
                json
            })
            .map_err(|error| error.to_string());
        Value::Json(JsonDocument(document))
    }

    /// The value of an optional `#[resource(json)]` field: `None` is SQL NULL.
    pub fn json_option<T: serde::Serialize>(value: &Option<T>) -> Value {
        match value {
            Some(value) => Value::json(value),
            None => Value::Null(Kind::Json),
        }
    }

    /// Parses a query-string value as `kind`; the error is the 400 issue text.
    pub fn parse(kind: Kind, text: &str) -> Result<Value, &'static str> {
        let parsed = match kind {
            Kind::Bool => match text {
                "true" => Some(Value::Bool(true)),
                "false" => Some(Value::Bool(false)),
                _ => None,
            },
            Kind::Int32 => text.parse().ok().map(Value::Int32),
            Kind::Int64 => text.parse().ok().map(Value::Int64),
            Kind::Float => text
                .parse::<f64>()
                .ok()
                .filter(|f| f.is_finite())
                .map(Value::Float),
            Kind::Text => Some(Value::Text(text.to_owned())),
            Kind::Uuid => Uuid::parse_str(text).ok().map(Value::Uuid),
            Kind::Timestamp => DateTime::parse_from_rfc3339(text)
                .ok()
                .map(|t| Value::Timestamp(storable(t.with_timezone(&Utc)))),
            // Never a filter (the macro refuses one on a json field).
            Kind::Json => None,
        };
        parsed.ok_or(kind.expected())
    }

    /// The value as JSON (inside cursors).
    pub(crate) fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as Json;
        match self {
            Value::Null(_) => Json::Null,
            Value::Bool(b) => Json::Bool(*b),
            Value::Int32(i) => Json::from(*i),
            Value::Int64(i) => Json::from(*i),
            Value::Float(f) => Json::from(*f),
            Value::Text(s) => Json::String(s.clone()),
            Value::Uuid(u) => Json::String(u.to_string()),
            Value::Timestamp(t) => Json::String(t.to_rfc3339()),
            Value::Json(document) => document.as_json().cloned().unwrap_or(Json::Null),
            Value::Bytes(bytes) => Json::from(bytes.clone()),
        }
    }

    /// Reads a value of `kind` back from JSON (inside cursors).
    pub(crate) fn from_json(kind: Kind, json: &serde_json::Value) -> Option<Value> {
        use serde_json::Value as Json;
        match (kind, json) {
            (_, Json::Null) => Some(Value::Null(kind)),
            (Kind::Bool, Json::Bool(b)) => Some(Value::Bool(*b)),
            (Kind::Int32, Json::Number(n)) => n
                .as_i64()
                .and_then(|i| i32::try_from(i).ok())
                .map(Value::Int32),
            (Kind::Int64, Json::Number(n)) => n.as_i64().map(Value::Int64),
            (Kind::Float, Json::Number(n)) => n.as_f64().map(Value::Float),
            (Kind::Text, Json::String(s)) => Some(Value::Text(s.clone())),
            (Kind::Uuid | Kind::Timestamp, Json::String(s)) => Value::parse(kind, s).ok(),
            _ => None,
        }
    }
}

#[cfg(test)]
mod key_tests {
    use super::*;

    fn key(values: &[Value]) -> Vec<u8> {
        let mut out = Vec::new();
        for value in values {
            value.key_bytes(&mut out);
        }
        out
    }

    #[test]
    fn every_bound_value_and_its_kind_count_in_a_key() {
        assert_eq!(key(&[Value::Int64(1)]), key(&[Value::Int64(1)]));
        assert_ne!(key(&[Value::Int64(1)]), key(&[Value::Int64(2)]));
        assert_ne!(key(&[Value::Int64(1)]), key(&[Value::Int32(1)]));
        assert_ne!(key(&[Value::Int64(1)]), key(&[Value::Text("1".into())]));
        assert_ne!(
            key(&[Value::Text("a".into()), Value::Text("b".into())]),
            key(&[Value::Text("ab".into())])
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_values_are_typed() {
        assert_eq!(Value::parse(Kind::Bool, "true"), Ok(Value::Bool(true)));
        assert!(Value::parse(Kind::Bool, "maybe").is_err());
        assert!(Value::parse(Kind::Bool, "1").is_err());
        assert!(Value::parse(Kind::Int64, "12x").is_err());
        assert!(Value::parse(Kind::Float, "NaN").is_err());
        assert!(Value::parse(Kind::Uuid, "not-a-uuid").is_err());
        assert!(Value::parse(Kind::Timestamp, "2026-01-01T00:00:00Z").is_ok());
    }

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default()
    }

    #[test]
    fn values_are_what_both_databases_store() {
        // Microseconds, truncated toward the past even before 2000 (PostgreSQL's epoch).
        for (sent, stored) in [
            (
                "2026-03-01T12:34:56.123456789Z",
                "2026-03-01T12:34:56.123456Z",
            ),
            (
                "1999-12-31T23:59:59.999999999Z",
                "1999-12-31T23:59:59.999999Z",
            ),
            ("2016-12-31T23:59:60.5Z", "2016-12-31T23:59:59.999999Z"),
            ("2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z"),
        ] {
            assert_eq!(
                at(sent).into_value(),
                Value::Timestamp(at(stored)),
                "{sent}"
            );
        }
        assert_eq!(
            Value::parse(Kind::Timestamp, "2026-03-01T12:34:56.1234567Z"),
            Ok(Value::Timestamp(at("2026-03-01T12:34:56.123456Z")))
        );
        let negative_zero = (-0.0f64).into_value();
        assert!(matches!(negative_zero, Value::Float(f) if f.is_sign_positive()));
        let Value::Json(document) = Value::json(&serde_json::json!({"w": -0.0, "n": [u64::MAX]}))
        else {
            panic!("not json");
        };
        assert_eq!(
            document.as_json().map(|j| j.to_string()).ok(),
            Some(r#"{"n":[18446744073709551615],"w":0.0}"#.to_owned())
        );
        assert_eq!(
            Value::json_option::<Vec<u8>>(&None),
            Value::Null(Kind::Json)
        );
        assert!(Value::parse(Kind::Json, "[]").is_err(), "never a filter");
    }

    #[test]
    fn a_json_value_that_cannot_be_serialized_fails_the_statement() {
        let map: std::collections::BTreeMap<(u8, u8), u8> = [((1, 2), 3)].into();
        let value = Value::json(&map);
        assert!(matches!(&value, Value::Json(document) if document.as_json().is_err()));
        use crate::db::statement::Driver;
        assert!(<sqlx::Sqlite as Driver>::arguments(vec![value.clone()]).is_err());
        assert!(<sqlx::Postgres as Driver>::arguments(vec![value]).is_err());
    }

    #[test]
    fn json_round_trip() {
        let values = [
            Value::Bool(true),
            Value::Int64(-4),
            Value::Text("x'); DROP TABLE tasks; --".into()),
            Value::Uuid(Uuid::now_v7()),
            Value::Timestamp(now()),
        ];
        for value in values {
            let kind = match value {
                Value::Bool(_) => Kind::Bool,
                Value::Int64(_) => Kind::Int64,
                Value::Text(_) => Kind::Text,
                Value::Uuid(_) => Kind::Uuid,
                _ => Kind::Timestamp,
            };
            assert_eq!(Value::from_json(kind, &value.to_json()), Some(value));
        }
    }
}
