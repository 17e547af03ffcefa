//! Passwords: argon2id with OWASP's minimum (m = 19456 KiB, t = 2, p = 1), hashed and verified
//! on the blocking pool so async workers never stall; lengths checked before any hashing.

use std::sync::OnceLock;

use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};

use crate::error::{ApiError, ErrorCode};

/// Memory cost in KiB (OWASP 2023 minimum for argon2id).
pub const MEMORY_KIB: u32 = 19_456;
/// Iterations.
pub const ITERATIONS: u32 = 2;
/// Parallelism.
pub const PARALLELISM: u32 = 1;
/// Fewest characters a password may have.
pub const MIN_CHARS: usize = 12;
/// Most characters a password may have.
pub const MAX_CHARS: usize = 128;
/// Most bytes a password may have (128 four-byte characters would be 512; 1 KiB is the cap).
pub const MAX_BYTES: usize = 1024;

/// Password work (hash and verify) runs on a few dedicated threads at the lowest scheduling
/// priority. Argon2 is CPU- and memory-bound on purpose; on the shared blocking pool a burst of
/// logins would take every core from the async workers and every other request would wait. At
/// nice 19 the scheduler lets the workers win, so logins slow down instead of the whole API
/// (docs/benchmarks.md). `RAMPART_HASHING_CONCURRENCY` threads (default: half the cores, ≥ 1);
/// at most `QUEUE` jobs wait, beyond that a login is 503 with `Retry-After` instead of a queue
/// that grows without bound.
struct HashingPool {
    jobs: std::sync::mpsc::SyncSender<Job>,
}

type Job = Box<dyn FnOnce() + Send>;

const QUEUE: usize = 256;

/// Password jobs waiting for a hashing thread or running on one: `rampart_password_hash_queue_depth`.
static IN_QUEUE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Counts a job in the queue from its enqueueing until it is dropped (run or not), so the
/// gauge cannot drift when a job panics or the pool goes away.
struct Queued;

impl Queued {
    fn enter() -> Self {
        let depth = IN_QUEUE.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        metrics::gauge!("rampart_password_hash_queue_depth").set(depth as f64);
        Self
    }
}

impl Drop for Queued {
    fn drop(&mut self) {
        let depth = IN_QUEUE.fetch_sub(1, std::sync::atomic::Ordering::Relaxed) - 1;
        metrics::gauge!("rampart_password_hash_queue_depth").set(depth as f64);
    }
}

fn hashing_pool() -> &'static HashingPool {
    static POOL: OnceLock<HashingPool> = OnceLock::new();
    POOL.get_or_init(|| {
        let configured = std::env::var("RAMPART_HASHING_CONCURRENCY")
            .ok()
            .and_then(|v| v.parse::<usize>().ok());
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        let threads = configured.unwrap_or(cores / 2).max(1);
        let (jobs, queue) = std::sync::mpsc::sync_channel::<Job>(QUEUE);
        let queue = std::sync::Arc::new(std::sync::Mutex::new(queue));
        for index in 0..threads {
            let queue = queue.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("rampart-hash-{index}"))
                .spawn(move || {
                    // Linux keeps nice values per thread: this lowers only this thread.
                    if let Err(error) = rustix::process::setpriority_process(None, 19) {
                        tracing::warn!(error = %error, "password hashing runs at normal priority");
                    }
                    loop {
                        let job = match queue.lock() {
                            Ok(receiver) => receiver.recv(),
                            Err(poisoned) => poisoned.into_inner().recv(),
                        };
                        match job {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    }
                });
            if let Err(error) = spawned {
                tracing::error!(error = %error, "cannot start a password hashing thread");
            }
        }
        HashingPool { jobs }
    })
}

/// Runs CPU-heavy password work on the hashing threads and waits for it without blocking.
async fn on_hashing_pool<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let (reply, answer) = tokio::sync::oneshot::channel();
    let queued = Queued::enter();
    let enqueued = std::time::Instant::now();
    let job: Job = Box::new(move || {
        let _queued = queued;
        metrics::histogram!("rampart_password_hash_wait_seconds")
            .record(enqueued.elapsed().as_secs_f64());
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work))
            .unwrap_or_else(|_| Err(ApiError::internal("password hashing panicked")));
        let _ = reply.send(outcome);
    });
    match hashing_pool().jobs.try_send(job) {
        Ok(()) => {}
        Err(std::sync::mpsc::TrySendError::Full(_)) => {
            metrics::counter!("auth_hashing_queue_full_total").increment(1);
            return Err(ApiError::unavailable(1)
                .with_message("too many sign-ins in progress, retry shortly"));
        }
        Err(std::sync::mpsc::TrySendError::Disconnected(_)) => {
            return Err(ApiError::internal("no password hashing thread is running"));
        }
    }
    answer
        .await
        .map_err(|_| ApiError::internal("password hashing stopped"))?
}

fn hasher() -> Result<Argon2<'static>, ApiError> {
    let params = Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None)
        .map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Checks a new password's length before it costs a hash: a 100 KiB password is a fast 400.
pub fn check_new_password(field: &str, password: &str) -> Result<(), ApiError> {
    let chars = password.chars().count();
    if password.len() > MAX_BYTES || chars > MAX_CHARS {
        return Err(
            ApiError::new(ErrorCode::ValidationError).with_detail(field, "at most 128 characters")
        );
    }
    if chars < MIN_CHARS {
        return Err(
            ApiError::new(ErrorCode::ValidationError).with_detail(field, "at least 12 characters")
        );
    }
    Ok(())
}

fn hash_now(password: &str) -> Result<String, ApiError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| ApiError::internal(e.to_string()))?;
    hasher()?
        .hash_password_with_salt(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| ApiError::internal(e.to_string()))
}

/// Hashes a password on the blocking pool.
pub async fn hash(password: String) -> Result<String, ApiError> {
    on_hashing_pool(move || hash_now(&password)).await
}

/// A hash of a password nobody knows, verified when an email is unknown so that a login takes
/// as long whether or not the account exists.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash_now("rampart-dummy-password-for-timing").unwrap_or_default())
}

/// Verifies `password` against `stored` (or against the dummy hash when `stored` is `None`),
/// on the blocking pool. Over-long input is refused without hashing.
pub async fn verify(password: String, stored: Option<String>) -> Result<bool, ApiError> {
    if password.len() > MAX_BYTES {
        return Ok(false);
    }
    on_hashing_pool(move || {
        let known = stored.is_some();
        let hash = stored.unwrap_or_else(|| dummy_hash().to_owned());
        let matches = hasher()?
            .verify_password(password.as_bytes(), hash.as_str())
            .is_ok();
        Ok(known && matches)
    })
    .await
}

/// Whether a stored hash was made with weaker parameters than today's (then it is upgraded at
/// the next successful login).
pub fn needs_rehash(stored: &str) -> bool {
    let Some(params) = stored.split('$').find(|part| part.starts_with("m=")) else {
        return true;
    };
    let value = |key: &str| {
        params
            .split(',')
            .find_map(|kv| kv.strip_prefix(key).and_then(|v| v.parse::<u32>().ok()))
            .unwrap_or(0)
    };
    !stored.starts_with("$argon2id$")
        || value("m=") < MEMORY_KIB
        || value("t=") < ITERATIONS
        || value("p=") != PARALLELISM
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_are_checked_before_hashing() {
        assert!(check_new_password("password", "short").is_err());
        assert!(check_new_password("password", &"x".repeat(129)).is_err());
        assert!(check_new_password("password", &"x".repeat(100 * 1024)).is_err());
        assert!(check_new_password("password", "correct horse battery").is_ok());
        assert!(
            check_new_password("password", &"é".repeat(128)).is_ok(),
            "characters, not bytes"
        );
    }

    #[test]
    fn hashes_are_argon2id_with_owasp_parameters_and_salted() {
        let first = hash_now("correct horse battery").unwrap_or_default();
        let second = hash_now("correct horse battery").unwrap_or_default();
        assert!(
            first.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{first}"
        );
        assert_ne!(first, second);
        assert!(!needs_rehash(&first));
        assert!(needs_rehash("$argon2id$v=19$m=4096,t=3,p=1$c2FsdA$aGFzaA"));
        assert!(needs_rehash("$argon2i$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA"));
    }
}
