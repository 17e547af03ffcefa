// `path` twice in `endpoints(...)`: one error at the second.
use rampart::prelude::*;
use uuid::Uuid;

#[resource(table = "notes", endpoints(path = "/notes", path = "/tasks"))]
struct Note {
    #[resource(id)]
    id: Uuid,
    title: String,
}

fn main() {}
