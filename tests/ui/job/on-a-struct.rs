// #[job] on something that is not a fn.
use rampart::job;

#[job(queue = "mail")]
struct Welcome;

fn main() {}
