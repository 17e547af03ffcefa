// `endpoints(operation_id = ..)`: each of the six endpoints has its own.
use rampart::prelude::*;
use uuid::Uuid;

#[resource(table = "notes", endpoints(path = "/notes", operation_id = "notes"))]
struct Note {
    #[resource(id)]
    id: Uuid,
    title: String,
}

fn main() {}
