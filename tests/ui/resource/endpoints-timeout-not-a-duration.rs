// `endpoints(timeout = ..)` that is not a duration: #[endpoint]'s error, once, not once per endpoint.
use rampart::prelude::*;
use uuid::Uuid;

#[resource(table = "notes", endpoints(path = "/notes", timeout = "soon"))]
struct Note {
    #[resource(id)]
    id: Uuid,
    title: String,
}

fn main() {}
