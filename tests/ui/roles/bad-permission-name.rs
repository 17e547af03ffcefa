// A permission that is not `resource:action`.
rampart::roles! {
    member: ["notes"],
}

fn main() {}
