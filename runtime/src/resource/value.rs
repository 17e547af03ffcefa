//! Values bound to generated statements: one small enum so that a statement built at run time
//! (filters, keyset, patches) binds the same way on SQLite and PostgreSQL.
//!
//! Nulls carry their kind: PostgreSQL infers parameter types from what the client declares, and
//! an untyped NULL against a `uuid` column is an error.

use chrono::{DateTime, Utc};
use sqlx::Arguments;
use sqlx::error::BoxDynError;
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
        }
    }
}

/// One bound parameter.
#[derive(Debug, Clone, PartialEq)]
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
    /// A UTC timestamp.
    Timestamp(DateTime<Utc>),
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
    f64 => Float;
    String => Text;
    Uuid => Uuid;
    DateTime<Utc> => Timestamp;
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

impl Value {
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
                .map(|t| Value::Timestamp(t.with_timezone(&Utc))),
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

/// Builds the argument list of one backend from bound values.
pub(crate) trait BindValues: sqlx::Database {
    fn arguments(values: Vec<Value>) -> Result<Self::Arguments, BoxDynError>;
}

macro_rules! bind_values {
    ($db:ty) => {
        impl BindValues for $db {
            fn arguments(values: Vec<Value>) -> Result<Self::Arguments, BoxDynError> {
                let mut arguments = <Self as sqlx::Database>::Arguments::default();
                for value in values {
                    match value {
                        Value::Null(Kind::Bool) => arguments.add(None::<bool>)?,
                        Value::Null(Kind::Int32) => arguments.add(None::<i32>)?,
                        Value::Null(Kind::Int64) => arguments.add(None::<i64>)?,
                        Value::Null(Kind::Float) => arguments.add(None::<f64>)?,
                        Value::Null(Kind::Text) => arguments.add(None::<String>)?,
                        Value::Null(Kind::Uuid) => arguments.add(None::<Uuid>)?,
                        Value::Null(Kind::Timestamp) => arguments.add(None::<DateTime<Utc>>)?,
                        Value::Bool(v) => arguments.add(v)?,
                        Value::Int32(v) => arguments.add(v)?,
                        Value::Int64(v) => arguments.add(v)?,
                        Value::Float(v) => arguments.add(v)?,
                        Value::Text(v) => arguments.add(v)?,
                        Value::Uuid(v) => arguments.add(v)?,
                        Value::Timestamp(v) => arguments.add(v)?,
                    }
                }
                Ok(arguments)
            }
        }
    };
}

bind_values!(sqlx::Sqlite);
bind_values!(sqlx::Postgres);

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

    #[test]
    fn json_round_trip() {
        let values = [
            Value::Bool(true),
            Value::Int64(-4),
            Value::Text("x'); DROP TABLE tasks; --".into()),
            Value::Uuid(Uuid::now_v7()),
            Value::Timestamp(Utc::now()),
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
