// Forging a scope: `Scope::of(&principal)` is not public; a scope comes from `ctx.scope()`.
use rampart::{Ctx, Scope};

fn another_users_rows(ctx: &Ctx) -> Scope {
    let principal = ctx.principal().cloned();
    Scope::of(&principal.unwrap())
}

fn main() {
    let _ = another_users_rows;
}
