// `endpoints(get = ..)`: the methods come with the six endpoints; the path is `path`.
use rampart::prelude::*;
use uuid::Uuid;

#[resource(table = "notes", endpoints(get = "/notes"))]
struct Note {
    #[resource(id)]
    id: Uuid,
    title: String,
}

fn main() {}
