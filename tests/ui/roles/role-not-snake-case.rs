// A role name that is not snake_case.
rampart::roles! {
    Member: ["notes:read"],
}

fn main() {}
