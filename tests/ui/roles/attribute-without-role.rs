// An attribute with no role after it.
rampart::roles! {
    member: ["notes:read"],
    #[registration],
}

fn main() {}
