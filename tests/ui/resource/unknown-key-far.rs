// An unknown key close to no key (`storage`): the help lists the keys.
use rampart::prelude::*;
use uuid::Uuid;

#[resource(table = "notes", storage = "sqlite")]
struct Note {
    #[resource(id)]
    id: Uuid,
    title: String,
}

fn main() {}
