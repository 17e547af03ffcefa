// `#[serde(flatten)]`, which the schema does not support.
#[derive(serde::Serialize, rampart::Schema)]
struct Inner {
    a: i64,
}

#[derive(serde::Serialize, rampart::Schema)]
struct Outer {
    #[serde(flatten)]
    inner: Inner,
}

fn main() {}
