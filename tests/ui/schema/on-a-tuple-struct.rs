// derive(Schema) on a tuple struct.
#[derive(rampart::Schema)]
struct Pair(u32, u32);

fn main() {}
