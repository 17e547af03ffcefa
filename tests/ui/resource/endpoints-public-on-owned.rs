// `endpoints(public)` on an owned resource: an anonymous caller owns no rows.
use rampart::prelude::*;
use uuid::Uuid;

#[resource(table = "notes", owner = owner_id, endpoints(path = "/notes", public))]
struct Note {
    #[resource(id)]
    id: Uuid,
    owner_id: Uuid,
    title: String,
}

fn main() {}
