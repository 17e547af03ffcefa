// Two `#[resource(id)]` fields.
use rampart::prelude::*;
use uuid::Uuid;

#[resource(table = "notes")]
struct Note {
    #[resource(id)]
    id: Uuid,
    #[resource(id)]
    other_id: Uuid,
}

fn main() {}
