// An empty role between two commas.
rampart::roles! {
    member: ["notes:read"],,
    editor: ["notes:write"],
}

fn main() {}
