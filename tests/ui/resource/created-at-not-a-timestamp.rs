// `created_at` (set by the server to the current time) declared as a string.
use rampart::prelude::*;
use uuid::Uuid;

#[resource(table = "notes")]
struct Note {
    #[resource(id)]
    id: Uuid,
    created_at: String,
}

fn main() {}
