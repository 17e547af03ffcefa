// A struct-level key that does not exist, then the resource mounted and its input type named: one error.
use rampart::prelude::*;
use uuid::Uuid;

#[resource(table = "notes", paginaton = "offset", endpoints(path = "/notes"))]
pub struct Note {
    #[resource(id)]
    pub id: Uuid,
    pub title: String,
}

fn main() {
    let _ = Api::new().resource::<Note>();
    let _: Option<rampart::Json<NewNote>> = None;
}
