// #[resource] on a fn.
use rampart::prelude::*;

#[resource(table = "notes")]
fn note() {}

fn main() {}
