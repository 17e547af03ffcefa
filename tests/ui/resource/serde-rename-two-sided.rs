// `#[serde(rename(serialize = ..))]` on a resource field: responses and inputs would differ.
use rampart::prelude::*;
use uuid::Uuid;

#[resource(table = "notes")]
struct Note {
    #[resource(id)]
    id: Uuid,
    #[serde(rename(serialize = "heading"))]
    title: String,
}

fn main() {}
