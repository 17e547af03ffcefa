// Forging a caller: building a `Principal` by hand (its fields are private).
use rampart::{AuthScheme, Principal};

fn main() {
    let _ = Principal {
        user_id: uuid::Uuid::nil(),
        roles: vec!["admin".to_owned()],
        scheme: AuthScheme::Jwt,
    };
}
