// A role whose permissions are one string instead of a list.
rampart::roles! {
    member: "notes:read",
}

fn main() {}
