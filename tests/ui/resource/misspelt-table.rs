// The one required key misspelt (`tabel`): the unknown key is the one error, not also a missing `table`.
use rampart::prelude::*;
use uuid::Uuid;

#[resource(tabel = "notes")]
struct Note {
    #[resource(id)]
    id: Uuid,
    title: String,
}

fn main() {}
