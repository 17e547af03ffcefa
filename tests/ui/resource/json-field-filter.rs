// A `#[resource(json)]` field marked `filter`: a JSON document is no list filter.
use rampart::prelude::*;
use uuid::Uuid;

#[resource(table = "notes")]
struct Note {
    #[resource(id)]
    id: Uuid,
    #[resource(json, filter)]
    tags: Vec<String>,
}

fn main() {}
