//! Background jobs (see `rampart_runtime::jobs` for the machinery), and the administrators'
//! endpoints over the dead-letter queue:
//!
//! - `GET /admin/jobs/dead`: the newest dead jobs (at most 100): id, job, queue, attempts,
//!   last error, when it failed; never the payload, which may hold personal data;
//! - `POST /admin/jobs/dead/{id}/retry`: queue it again from its first attempt (204; 404
//!   when there is no such dead job; 409 for an entry that does not decode);
//! - `DELETE /admin/jobs/dead/{id}`: forget it (204; 404).
//!
//! ```no_run
//! # fn build(api: rampart::Api) -> rampart::Api {
//! rampart::jobs::mount_admin(api)
//! # }
//! ```

use serde::Serialize;

use crate::prelude::*;
pub use rampart_runtime::jobs::*;

/// How many dead jobs the list shows.
const DEAD_LIST_LIMIT: usize = 100;

/// A job in the dead-letter queue, as administrators see it.
#[derive(Debug, Serialize, Schema)]
pub struct DeadJobView {
    /// The job's id (the same on every attempt).
    pub id: uuid::Uuid,
    /// The job's name; null when the queued entry could not be decoded.
    pub job: Option<String>,
    /// The queue it was taken from.
    pub queue: String,
    /// Attempts made.
    pub attempts: u32,
    /// The last attempt's error (control characters shown as spaces).
    pub error: String,
    /// When it was moved to the dead-letter queue.
    pub failed_at: chrono::DateTime<chrono::Utc>,
}

/// The dead-letter queue, newest first.
#[derive(Debug, Serialize, Schema)]
pub struct DeadJobList {
    /// At most 100 dead jobs.
    pub items: Vec<DeadJobView>,
}

impl From<DeadJob> for DeadJobView {
    fn from(dead: DeadJob) -> Self {
        Self {
            id: dead.id.uuid(),
            job: dead.job,
            queue: dead.queue,
            attempts: dead.attempts,
            // A job's own error text may hold newlines; the API answers no control characters.
            error: dead
                .error
                .chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect(),
            failed_at: chrono::DateTime::from_timestamp_millis(dead.failed_at_ms)
                .unwrap_or_default(),
        }
    }
}

/// List the dead-letter queue (administrators): jobs that failed every attempt, failed
/// permanently, or could not be decoded.
#[endpoint(get = "/admin/jobs/dead", role = "admin", tag = "jobs")]
pub async fn admin_dead_jobs(jobs: Dep<Jobs>) -> ApiResult<DeadJobList> {
    let items = jobs.dead(DEAD_LIST_LIMIT).await?;
    Ok(DeadJobList {
        items: items.into_iter().map(DeadJobView::from).collect(),
    })
}

/// Queue a dead job again from its first attempt (administrators); 409 for an entry that does
/// not decode (it can only be discarded).
#[endpoint(post = "/admin/jobs/dead/{id}/retry", role = "admin", tag = "jobs", errors = [409])]
pub async fn admin_retry_dead_job(
    jobs: Dep<Jobs>,
    Path(id): Path<uuid::Uuid>,
) -> ApiResult<NoContent> {
    match jobs.revive(JobId::from(id)).await? {
        Revival::Queued => Ok(NoContent),
        Revival::NotFound => Err(ApiError::not_found()),
        Revival::Undecodable => Err(ApiError::new(ErrorCode::Conflict)
            .with_message("this dead job cannot run again: its entry does not decode; discard it")),
    }
}

/// Delete a dead job (administrators).
#[endpoint(delete = "/admin/jobs/dead/{id}", role = "admin", tag = "jobs")]
pub async fn admin_discard_dead_job(
    jobs: Dep<Jobs>,
    Path(id): Path<uuid::Uuid>,
) -> ApiResult<NoContent> {
    if jobs.discard(JobId::from(id)).await? {
        Ok(NoContent)
    } else {
        Err(ApiError::not_found())
    }
}

/// Mounts the dead-letter endpoints (role `admin`). The app must declare its jobs
/// (`App::with_jobs`): `Api::into_router` refuses to start without the `Jobs` handle.
pub fn mount_admin(api: Api) -> Api {
    api.tag("jobs", "Background jobs: the dead-letter queue.")
        .mount(admin_dead_jobs)
        .mount(admin_retry_dead_job)
        .mount(admin_discard_dead_job)
}
