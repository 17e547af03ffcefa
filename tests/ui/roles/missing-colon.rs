// A role without the `:` before its permissions.
rampart::roles! {
    member ["notes:read"],
}

fn main() {}
