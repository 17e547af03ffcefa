// derive(Schema) on an enum.
#[derive(rampart::Schema)]
enum Kind { A, B }

fn main() {}
