// `#[registration]` written twice on a role.
rampart::roles! {
    #[registration]
    #[registration]
    member: ["notes:read"],
}

fn main() {}
