// `#[schema(pattern = ..)]` given a number: one error at the value, with the form it takes.
#[derive(rampart::Schema)]
struct Signup {
    #[schema(pattern = 5)]
    name: String,
}

fn main() {}
