// `endpoints` given a value instead of options: one error at the value.
use rampart::prelude::*;
use uuid::Uuid;

#[resource(table = "notes", endpoints = "/notes")]
struct Note {
    #[resource(id)]
    id: Uuid,
    title: String,
}

fn main() {}
