// #[resource] on a union: a resource is a table row, a struct with named fields.
use rampart::prelude::*;

#[resource(table = "values")]
union Value { int: i64, float: f64 }

fn main() {}
