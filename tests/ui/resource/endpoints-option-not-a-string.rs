// An `#[endpoint]` option of the wrong shape in `endpoints(...)`: `#[endpoint]`'s message.
use rampart::prelude::*;
use uuid::Uuid;

#[resource(table = "notes", endpoints(path = "/notes", timeout = 5))]
struct Note {
    #[resource(id)]
    id: Uuid,
    title: String,
}

fn main() {}
