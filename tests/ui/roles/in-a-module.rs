// `roles!` inside a module instead of at the crate root.
mod access {
    rampart::roles! {
        member: ["notes:read"],
    }
}

fn main() {}
