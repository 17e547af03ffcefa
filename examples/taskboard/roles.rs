// The taskboard's RBAC table. Included at the crate root of the example and of the tests that
// drive it (an RBAC table lives at a crate root; see `rampart::roles!`).
rampart::roles! {
    member: ["notes:read", "notes:write"],
    auditor: ["notes:read", "stats:read"],
}
