// #[resource] on a tuple struct: columns are named after fields, so fields need names.
use rampart::prelude::*;
use uuid::Uuid;

#[resource(table = "pairs")]
struct Pair(Uuid, String);

fn main() {}
