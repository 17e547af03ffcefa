// `endpoints(cache(..))`: caching the generated endpoints is not supported yet.
use rampart::prelude::*;
use uuid::Uuid;

#[resource(table = "notes", endpoints(path = "/notes", cache(ttl = "30s", tags = ["notes"])))]
struct Note {
    #[resource(id)]
    id: Uuid,
    title: String,
}

fn main() {}
