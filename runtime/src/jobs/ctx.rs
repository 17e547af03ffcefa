//! [`JobCtx`]: what a running job knows about its delivery, and the services it reaches.

use std::fmt;
use std::sync::Arc;

use super::handle::Jobs;
use super::job::{JobError, JobId};
use super::queue::JobRecord;
use std::future::Future;

use crate::db::{Db, Tx};
use crate::dependency::{Dep, Dependencies, Dependency};
use crate::error::ApiError;
use crate::resource::{CursorKey, Resource, Scope, Store};

/// The services every job of a worker shares.
#[derive(Clone)]
pub struct JobServices {
    pub(crate) db: Option<Db>,
    pub(crate) dependencies: Dependencies,
    pub(crate) cursor_key: CursorKey,
    pub(crate) jobs: Jobs,
}

impl JobServices {
    /// The services a worker hands its jobs: the database, the app's typed dependencies, the
    /// key captured scopes are verified with, and the queue for follow-up jobs.
    pub fn new(
        db: Option<Db>,
        dependencies: Dependencies,
        cursor_key: CursorKey,
        jobs: Jobs,
    ) -> Self {
        Self {
            db,
            dependencies,
            cursor_key,
            jobs,
        }
    }
}

impl JobServices {
    /// The enqueue handle the jobs share.
    pub fn jobs(&self) -> &Jobs {
        &self.jobs
    }

    /// Relays the job outbox until `stop` turns true (nothing to do without a database).
    pub async fn relay(self, stop: tokio::sync::watch::Receiver<bool>) {
        if let Some(db) = self.db {
            super::outbox::relay(db, self.jobs, stop).await;
        }
    }
}

impl fmt::Debug for JobServices {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JobServices")
            .field("dependencies", &self.dependencies)
            .finish_non_exhaustive()
    }
}

/// What a running job is given besides its input: which delivery this is, and the app's
/// services.
#[derive(Clone)]
pub struct JobCtx {
    record: Arc<JobRecord>,
    max_attempts: u32,
    services: JobServices,
}

impl fmt::Debug for JobCtx {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JobCtx")
            .field("id", &self.record.id)
            .field("job", &self.record.job)
            .field("attempt", &self.record.attempt)
            .finish_non_exhaustive()
    }
}

impl JobCtx {
    pub(crate) fn new(record: Arc<JobRecord>, max_attempts: u32, services: JobServices) -> Self {
        Self {
            record,
            max_attempts,
            services,
        }
    }

    /// The job's id: the same on every delivery and retry, so an effect keyed by it happens
    /// once (see [`JobCtx::once`]).
    pub fn id(&self) -> JobId {
        self.record.id
    }

    /// The attempt this delivery runs: 1 first, then one more per failed attempt. A delivery
    /// repeated because its worker died keeps its number.
    pub fn attempt(&self) -> u32 {
        self.record.attempt
    }

    /// Whether a failure now sends the job to the dead-letter queue.
    pub fn is_last_attempt(&self) -> bool {
        self.record.attempt >= self.max_attempts
    }

    /// The request id of the request that enqueued the job, if one did.
    pub fn request_id(&self) -> Option<&str> {
        self.record.request_id.as_deref()
    }

    /// The error of the previous attempt, on a retry.
    pub fn last_error(&self) -> Option<&str> {
        self.record.last_error.as_deref()
    }

    /// The owner scope captured when the job was enqueued (`Jobs::enqueue_for`). A job enqueued
    /// without one, or whose capture does not verify (edited, forged, or signed by another
    /// app), fails permanently: no retry can fix it.
    pub fn scope(&self) -> Result<Scope, JobError> {
        let captured = self.record.scope.as_ref().ok_or_else(|| {
            JobError::permanent("the job was enqueued without a scope (use Jobs::enqueue_for)")
        })?;
        captured
            .restore_bound(
                &self.services.cursor_key,
                &super::handle::scope_binding(&self.record.job, self.record.id),
            )
            .map_err(|error| JobError::permanent(error.to_string()))
    }

    /// The app's database.
    pub fn db(&self) -> Result<&Db, JobError> {
        self.services
            .db
            .as_ref()
            .ok_or_else(|| JobError::permanent("the worker has no database"))
    }

    /// A store of `R` on the app's database, for the generated repository of `R`
    /// (`ProjectRepo::new(ctx.store()?)`). Owned rows still need a [`Scope`]: the one
    /// [`JobCtx::scope`] gives back.
    pub fn store<R: Resource>(&self) -> Result<Store<R>, JobError> {
        Ok(Store::new(
            self.db()?.clone(),
            self.services.cursor_key.clone(),
        ))
    }

    /// A typed dependency registered on the app (`App::dep`).
    pub fn dep<T: Dependency>(&self) -> Result<Dep<T>, JobError> {
        self.services.dependencies.get::<T>().ok_or_else(|| {
            JobError::permanent(format!(
                "dependency `{}` is not registered: {}",
                std::any::type_name::<T>(),
                crate::dependency::how_to_register(std::any::type_name::<T>())
            ))
        })
    }

    /// Runs `effect` once across every delivery of this job: in a transaction that also
    /// records the job's id (`rampart_job_done`), so a repeated delivery (a worker died after
    /// the effect, before acknowledging) finds the record and skips it (`Ok(None)`). The
    /// effect's writes go through `tx`; an error rolls everything back and the attempt fails.
    pub async fn once<T, F, Fut>(&self, effect: F) -> Result<Option<T>, JobError>
    where
        F: FnOnce(Tx) -> Fut,
        Fut: Future<Output = Result<T, ApiError>>,
    {
        let tx = Tx::begin(self.db()?).await?;
        if !super::outbox::claim_once(&tx, self.record.id, &self.record.job).await? {
            tx.rollback().await?;
            return Ok(None);
        }
        let value = effect(tx.clone()).await?;
        tx.commit().await?;
        Ok(Some(value))
    }

    /// The queue, to enqueue follow-up jobs.
    pub fn jobs(&self) -> &Jobs {
        &self.services.jobs
    }
}

impl AsRef<CursorKey> for JobServices {
    fn as_ref(&self) -> &CursorKey {
        &self.cursor_key
    }
}
