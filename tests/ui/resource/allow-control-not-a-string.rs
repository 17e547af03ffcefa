// `#[resource(allow_control)]` on a field that is not a string.
use rampart::prelude::*;
use uuid::Uuid;

#[resource(table = "counters")]
struct Counter {
    #[resource(id)]
    id: Uuid,
    #[resource(allow_control)]
    hits: i64,
}

fn main() {}
