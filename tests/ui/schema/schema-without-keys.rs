// A bare `#[schema]` on a field: it takes keys.
#[derive(rampart::Schema)]
struct Signup {
    #[schema]
    name: String,
}

fn main() {}
