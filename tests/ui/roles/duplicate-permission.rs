// The same permission listed twice for one role.
rampart::roles! {
    member: ["notes:read", "notes:read"],
}

fn main() {}
