// A role name written as a string.
rampart::roles! {
    "member": ["notes:read"],
}

fn main() {}
