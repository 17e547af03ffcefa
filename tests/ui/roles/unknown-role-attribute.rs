// A role attribute other than `#[registration]` (here a misspelling).
rampart::roles! {
    #[registraton]
    member: ["notes:read"],
}

fn main() {}
