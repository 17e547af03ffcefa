// `length(min = 10, max = 5)`: no length passes.
#[derive(validator::Validate, rampart::Schema)]
struct Signup {
    #[validate(length(min = 10, max = 5))]
    name: String,
}

fn main() {}
