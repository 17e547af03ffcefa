// A role declared twice.
rampart::roles! {
    member: ["notes:read"],
    member: ["notes:write"],
}

fn main() {}
