// The table named without quotes: one error at the value, with the form it takes.
use rampart::prelude::*;
use uuid::Uuid;

#[resource(table = notes)]
struct Note {
    #[resource(id)]
    id: Uuid,
    title: String,
}

fn main() {}
