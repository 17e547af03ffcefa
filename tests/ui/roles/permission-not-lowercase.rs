// A permission with capitals: permission names are lowercase `resource:action`.
rampart::roles! {
    member: ["Notes:Read"],
}

fn main() {}
