// `endpoints(...)` without a `path`.
use rampart::prelude::*;
use uuid::Uuid;

#[resource(table = "notes", endpoints(timeout = "5s"))]
struct Note {
    #[resource(id)]
    id: Uuid,
    title: String,
}

fn main() {}
