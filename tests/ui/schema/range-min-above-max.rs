// `range(min = 18, max = -1)`: no value passes.
#[derive(validator::Validate, rampart::Schema)]
struct Person {
    #[validate(range(min = 18, max = -1))]
    age: i32,
}

fn main() {}
