// A `#[resource(json)]` field marked `sort`: a JSON document has no order for keyset pages.
use rampart::prelude::*;
use uuid::Uuid;

#[resource(table = "notes")]
struct Note {
    #[resource(id)]
    id: Uuid,
    #[resource(sort, json)]
    tags: Vec<String>,
}

fn main() {}
