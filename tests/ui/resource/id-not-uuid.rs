// The id field is not a `Uuid`.
use rampart::prelude::*;

#[resource(table = "notes")]
struct Note {
    #[resource(id)]
    id: i64,
    title: String,
}

fn main() {}
