// `range(exclusive_min = 5.0, exclusive_max = 5.0)`: both exclude the one value they allow.
#[derive(validator::Validate, rampart::Schema)]
struct Gauge {
    #[validate(range(exclusive_min = 5.0, exclusive_max = 5.0))]
    level: f64,
}

fn main() {}
