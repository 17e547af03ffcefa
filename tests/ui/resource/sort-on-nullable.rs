// `#[resource(sort)]` on a nullable field: keyset pages need a value on every row.
use rampart::prelude::*;
use uuid::Uuid;

#[resource(table = "notes")]
struct Note {
    #[resource(id)]
    id: Uuid,
    #[resource(sort)]
    due: Option<i64>,
}

fn main() {}
