// A `#[schema(..)]` key rampart does not have (`patern`).
#[derive(rampart::Schema)]
struct Signup {
    #[schema(patern = "^[a-z]+$")]
    name: String,
}

fn main() {}
