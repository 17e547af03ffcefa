// `cascades` lists table names: `"Tasks!"` is not one.
use rampart::prelude::*;
use uuid::Uuid;

#[resource(table = "projects", owner = owner_id, cascades = ["Tasks!"])]
struct Project {
    #[resource(id)]
    id: Uuid,
    owner_id: Uuid,
    name: String,
}

fn main() {}
