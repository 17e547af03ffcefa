// Forging a scope: building a `Scope` from an arbitrary owner id (its field is private).
use rampart::Scope;

fn main() {
    let _ = Scope { owner: uuid::Uuid::nil() };
}
