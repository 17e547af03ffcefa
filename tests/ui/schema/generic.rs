// derive(Schema) on a generic struct.
#[derive(rampart::Schema)]
struct Wrapper<T> {
    inner: T,
}

fn main() {}
