// `rbac!()` given an argument: it takes none.
rampart::roles! {
    member: ["notes:read"],
}

fn main() {
    let _ = rampart::rbac!(member);
}
