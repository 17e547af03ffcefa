// `read_only_when` naming no field of the struct.
use rampart::prelude::*;
use uuid::Uuid;

#[resource(table = "projects", read_only_when = archived)]
struct Project {
    #[resource(id)]
    id: Uuid,
    name: String,
}

fn main() {}
