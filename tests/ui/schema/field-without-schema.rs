// A field whose type has no schema.
struct Opaque;

#[derive(rampart::Schema)]
struct Holder {
    inner: Opaque,
}

fn main() {}
