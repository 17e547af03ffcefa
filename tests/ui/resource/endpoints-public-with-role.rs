// `endpoints(public, role = ..)`: public endpoints take no role (the same rule as #[endpoint]).
use rampart::prelude::*;
use uuid::Uuid;

rampart::roles! { member: ["notes:read"] }

#[resource(table = "notes", endpoints(path = "/notes", public, role = "member"))]
struct Note {
    #[resource(id)]
    id: Uuid,
    title: String,
}

fn main() {}
