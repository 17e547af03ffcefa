// The taskboard's RBAC table. Included at the crate root of the example and of the tests that
// drive it (an RBAC table lives at a crate root; see `rampart::roles!`).
// New accounts are members (`#[registration]`); auditors and admins are appointed.
rampart::roles! {
    #[registration]
    member: ["notes:read", "notes:write"],
    auditor: ["notes:read", "stats:read"],
}
