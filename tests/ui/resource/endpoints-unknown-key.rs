// `endpoints(...)` with a key it does not have (`roel`).
use rampart::prelude::*;
use uuid::Uuid;

#[resource(table = "notes", endpoints(path = "/notes", roel = "member"))]
struct Note {
    #[resource(id)]
    id: Uuid,
    title: String,
}

fn main() {}
