// `endpoints(role = ..)` naming an undeclared role: one error at the string, not six.
use rampart::prelude::*;
use uuid::Uuid;

rampart::roles! { member: ["notes:read"] }

#[resource(table = "notes", endpoints(path = "/notes", role = "membr"))]
struct Note {
    #[resource(id)]
    id: Uuid,
    title: String,
}

fn main() {}
