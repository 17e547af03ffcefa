// `default_sort` names a field that is not declared sortable.
use rampart::prelude::*;
use uuid::Uuid;

#[resource(table = "notes", default_sort = "-title")]
struct Note {
    #[resource(id)]
    id: Uuid,
    title: String,
}

fn main() {}
