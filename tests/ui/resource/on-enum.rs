// #[resource] on an enum: a resource is a table row, a struct with named fields.
use rampart::prelude::*;

#[resource(table = "states")]
enum State { Open, Closed }

fn main() {}
