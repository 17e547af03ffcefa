// `endpoints(cache(.., shared))` on an owned resource: one entry would answer one caller's
// rows to another.
use rampart::prelude::*;
use uuid::Uuid;

#[resource(
    table = "notes",
    owner = owner_id,
    endpoints(path = "/notes", role = "member", cache(ttl = "30s", shared))
)]
struct Note {
    #[resource(id)]
    id: Uuid,
    owner_id: Uuid,
    title: String,
}

fn main() {}
