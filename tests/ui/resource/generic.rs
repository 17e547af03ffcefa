// A generic resource: its table and columns are fixed.
use rampart::prelude::*;
use uuid::Uuid;

#[resource(table = "notes")]
struct Note<T> {
    #[resource(id)]
    id: Uuid,
    body: T,
}

fn main() {}
