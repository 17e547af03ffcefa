// Two roles without the `,` between them.
rampart::roles! {
    member: ["notes:read"]
    editor: ["notes:write"],
}

fn main() {}
