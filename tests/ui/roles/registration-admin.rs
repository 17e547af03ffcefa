// `#[registration]` on `admin`: anyone who registers would be an administrator.
rampart::roles! {
    member: ["notes:read"],
    #[registration]
    admin: [],
}

fn main() {}
