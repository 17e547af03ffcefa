// `endpoints` written without its options.
use rampart::prelude::*;
use uuid::Uuid;

#[resource(table = "notes", endpoints)]
struct Note {
    #[resource(id)]
    id: Uuid,
    title: String,
}

fn main() {}
