// derive(Schema) on a union.
#[derive(rampart::Schema)]
union Value { int: i64, float: f64 }

fn main() {}
