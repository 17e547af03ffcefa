//! What a job is: the [`Job`] trait `#[job]` implements, its declared [`JobSpec`], and the
//! outcome types a job returns.

use std::fmt;
use std::time::Duration;

use futures_util::future::BoxFuture;
use serde::Serialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use super::ctx::JobCtx;
use crate::dependency::DepProbeFn;

/// A declared job: `#[job]` on an `async fn(ctx: JobCtx, input: T) -> JobResult` makes a unit
/// struct of the function's name implementing this trait, so `jobs.enqueue(send_welcome, input)`
/// is checked against the job's input type.
pub trait Job: Copy + Send + Sync + 'static {
    /// The payload: serialized into the queue at enqueue, deserialized by the worker.
    type Input: Serialize + DeserializeOwned + Send + 'static;

    /// The job's declaration (`#[job(queue = .., retries = .., ..)]`).
    fn spec(self) -> &'static JobSpec;

    /// Runs the job once.
    fn run(self, ctx: JobCtx, input: Self::Input) -> BoxFuture<'static, JobResult>;

    /// The input each scheduled run of a [`JobSpec::cron`] job is enqueued with:
    /// `Default::default()` for `#[job(cron = "..")]`, which requires the input to implement
    /// `Default`; `None` (the default) for a job that is not scheduled.
    fn scheduled_input(self) -> Option<Self::Input> {
        None
    }
}

/// How a job is run, as `#[job(...)]` declares it.
#[derive(Debug, Clone, Copy)]
pub struct JobSpec {
    /// The name jobs are queued under: the function's name unless `name = ".."` says
    /// otherwise. It is the job's identity across deploys: renaming it orphans queued jobs.
    pub name: &'static str,
    /// The queue (`queue = "mail"`, default `"default"`).
    pub queue: &'static str,
    /// Runs after the first failed one (`retries = 8`, default 5): at most `retries + 1`
    /// attempts, then the dead-letter queue.
    pub retries: u32,
    /// The delay before each retry.
    pub backoff: Backoff,
    /// The longest one attempt may run (`timeout = "30s"`, default 60 s); past it the attempt
    /// fails and is retried like any failure.
    pub timeout: Duration,
    /// `unique = "10m"`: jobs with the same payload (or the same key given at enqueue)
    /// enqueued within the window collapse into the first.
    pub unique: Option<Duration>,
    /// `cron = "0 3 * * *"`: the worker enqueues the job (with
    /// [`Job::scheduled_input`]) at every time the expression names, in UTC, once across all
    /// workers; a time that passes while no worker runs is not caught up later.
    pub cron: Option<&'static str>,
    /// The doc comment's first paragraph, for logs and docs.
    pub description: &'static str,
    /// The job's arguments after its input, probed like an endpoint's: `Some(key)` for each
    /// `Dep<T>`. A worker (and the API that enqueues) refuses to start when one is not
    /// registered on the app ([`JobsError::MissingDependency`](super::JobsError)).
    pub deps: &'static [DepProbeFn],
}

impl JobSpec {
    /// A spec with the defaults, for `name`: what `#[job]` starts from.
    pub const fn new(name: &'static str) -> Self {
        Self {
            name,
            queue: "default",
            retries: 5,
            backoff: Backoff::Exponential {
                base: Duration::from_secs(1),
            },
            timeout: Duration::from_secs(60),
            unique: None,
            cron: None,
            description: "",
            deps: &[],
        }
    }
}

/// The delay before a retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backoff {
    /// `base`, then twice as long per attempt, capped at one hour, with full jitter (a delay
    /// drawn uniformly from its upper half), so retries of jobs that failed together spread out.
    Exponential {
        /// The first delay (`backoff_base = "1s"`).
        base: Duration,
    },
    /// The same delay before every retry, with the same jitter.
    Fixed {
        /// The delay (`backoff_base`).
        delay: Duration,
    },
    /// Retry at once.
    None,
}

/// The longest delay exponential backoff reaches.
const BACKOFF_CAP: Duration = Duration::from_secs(3600);

impl Backoff {
    /// The delay before attempt `next` (2 for the first retry), with `unit` in `[0, 1)` as the
    /// jitter draw.
    pub(crate) fn delay(self, next: u32, unit: f64) -> Duration {
        let ceiling = match self {
            Backoff::Exponential { base } => {
                let doublings = next.saturating_sub(2).min(32);
                base.saturating_mul(1u32 << doublings.min(31))
                    .min(BACKOFF_CAP)
            }
            // Capped like exponential backoff: a hand-built spec's huge delay must not
            // overflow the arithmetic below.
            Backoff::Fixed { delay } => delay.min(BACKOFF_CAP),
            Backoff::None => return Duration::ZERO,
        };
        // Upper half of the ceiling: never much sooner than asked, spread over the rest.
        ceiling.mul_f64(0.5 + 0.5 * unit.clamp(0.0, 1.0))
    }
}

/// What a job returns.
pub type JobResult = Result<(), JobError>;

/// Why an attempt failed. Any error converts into it with `?`; the text goes to the job's log
/// line and, after the last attempt, to its dead-letter record (never to an API response).
pub struct JobError {
    message: String,
    permanent: bool,
}

impl JobError {
    /// A failure worth retrying.
    pub fn retry(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            permanent: false,
        }
    }

    /// A failure no retry can fix (bad input, a captured scope that does not verify): the job
    /// goes to the dead-letter queue at once.
    pub fn permanent(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            permanent: true,
        }
    }

    /// Whether retries are skipped.
    pub fn is_permanent(&self) -> bool {
        self.permanent
    }

    /// The failure's text.
    pub fn message(&self) -> &str {
        &self.message
    }
}

// Like `anyhow::Error`, `JobError` is not itself an `Error`, so that every error converts.
impl<E: std::error::Error + Send + Sync + 'static> From<E> for JobError {
    fn from(error: E) -> Self {
        Self::retry(crate::error::error_chain(&error))
    }
}

impl fmt::Debug for JobError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JobError")
            .field("message", &self.message)
            .field("permanent", &self.permanent)
            .finish()
    }
}

impl fmt::Display for JobError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// A job's id: a UUIDv7 given at enqueue, the same on every delivery and retry.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct JobId(Uuid);

impl JobId {
    /// A new id.
    pub fn new() -> Self {
        Self(Uuid::now_v7())
    }

    /// The id as a UUID.
    pub fn uuid(self) -> Uuid {
        self.0
    }
}

impl Default for JobId {
    fn default() -> Self {
        Self::new()
    }
}

impl From<Uuid> for JobId {
    fn from(id: Uuid) -> Self {
        Self(id)
    }
}

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_within_jitter_and_caps() {
        let backoff = Backoff::Exponential {
            base: Duration::from_secs(1),
        };
        assert_eq!(backoff.delay(2, 0.999_999).as_millis(), 999);
        assert_eq!(backoff.delay(2, 0.0), Duration::from_millis(500));
        assert_eq!(backoff.delay(3, 0.0), Duration::from_secs(1));
        assert_eq!(backoff.delay(5, 0.0), Duration::from_secs(4));
        assert_eq!(backoff.delay(60, 0.0), BACKOFF_CAP / 2);
        assert_eq!(backoff.delay(60, 1.0), BACKOFF_CAP);
        let fixed = Backoff::Fixed {
            delay: Duration::from_millis(100),
        };
        assert_eq!(fixed.delay(9, 0.0), Duration::from_millis(50));
        assert_eq!(Backoff::None.delay(4, 0.5), Duration::ZERO);
    }

    #[test]
    fn any_error_converts_and_is_retried() {
        let error: JobError = std::io::Error::other("disk full").into();
        assert!(!error.is_permanent());
        assert!(error.message().contains("disk full"));
        assert!(JobError::permanent("bad input").is_permanent());
    }
}
