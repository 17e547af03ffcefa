// A `#[schema(pattern = ..)]` that is no regular expression (an unclosed class).
#[derive(rampart::Schema)]
struct Signup {
    #[schema(pattern = "^[a-z+$")]
    name: String,
}

fn main() {}
