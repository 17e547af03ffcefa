// `owner = ...` names a field the struct does not have.
use rampart::prelude::*;
use uuid::Uuid;

#[resource(table = "notes", owner = user_id)]
struct Note {
    #[resource(id)]
    id: Uuid,
    owner_id: Uuid,
    title: String,
}

fn main() {}
