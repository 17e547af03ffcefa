// `read_only_when` naming a field that is not a `bool`.
use rampart::prelude::*;
use uuid::Uuid;

#[resource(table = "projects", read_only_when = status)]
struct Project {
    #[resource(id)]
    id: Uuid,
    status: String,
}

fn main() {}
