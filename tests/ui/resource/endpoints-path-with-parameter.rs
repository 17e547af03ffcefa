// `endpoints(path = ..)` with a parameter: it is the collection's path.
use rampart::prelude::*;
use uuid::Uuid;

#[resource(table = "notes", endpoints(path = "/notes/{id}"))]
struct Note {
    #[resource(id)]
    id: Uuid,
    title: String,
}

fn main() {}
