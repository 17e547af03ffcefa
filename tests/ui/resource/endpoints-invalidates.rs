// `endpoints(invalidates = [..])`: the generated writes make their table's tag stale already.
use rampart::prelude::*;
use uuid::Uuid;

#[resource(table = "notes", endpoints(path = "/notes", invalidates = ["notes"]))]
struct Note {
    #[resource(id)]
    id: Uuid,
    title: String,
}

fn main() {}
