// A permission written without quotes.
rampart::roles! {
    member: [notes],
}

fn main() {}
