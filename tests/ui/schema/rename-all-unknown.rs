// `#[serde(rename_all = ..)]` with a rule serde knows and rampart's schema does not.
#[derive(serde::Deserialize, rampart::Schema)]
#[serde(rename_all = "SCREAMING-KEBAB-CASE")]
struct Signup {
    first_name: String,
}

fn main() {}
