// `endpoints(auth = ..)` naming a scheme rampart does not have.
use rampart::prelude::*;
use uuid::Uuid;

#[resource(table = "notes", endpoints(path = "/notes", auth = "oauth"))]
struct Note {
    #[resource(id)]
    id: Uuid,
    title: String,
}

fn main() {}
