//! The dead-letter queue of [`RedisQueue`]: listing, reviving, discarding, retention.

use std::time::Duration;

use super::super::job::JobId;
use super::super::queue::{DeadJob, JobRecord, QueueError, Revival, millis};
use super::{PRUNE_BATCH, RedisQueue, json, reply};

impl RedisQueue {
    pub(super) async fn revive_now(&self, id: JobId) -> Result<Revival, QueueError> {
        let (dead, index) = self.dead_keys();
        let field = id.to_string();
        // Read, then revive only if unchanged: the stream to queue it on is in the record.
        for _ in 0..3 {
            let mut connection = self.shared.clone();
            let value = self
                .query(
                    &mut connection,
                    ::redis::cmd("HGET").arg(&dead).arg(&field),
                    None,
                )
                .await?;
            let Some(stored) = reply::text(&value) else {
                return Ok(Revival::NotFound);
            };
            // A dead entry or record that does not decode (a poison entry) cannot run again.
            let Ok(dead_job) = serde_json::from_str::<DeadJob>(&stored) else {
                return Ok(Revival::Undecodable);
            };
            let Ok(mut record) = serde_json::from_str::<JobRecord>(&dead_job.record) else {
                return Ok(Revival::Undecodable);
            };
            record.attempt = 1;
            let stream = self.stream(&record.queue)?;
            let body = json(&record)?;
            let revived = self
                .script(
                    &self.scripts.revive,
                    &[&dead, &index, &stream],
                    &[&field, &stored, &body],
                    None,
                )
                .await?;
            if reply::int("REVIVE", &revived)? == 1 {
                return Ok(Revival::Queued);
            }
        }
        Err(QueueError::Protocol(
            "the dead job kept changing while it was revived".to_owned(),
        ))
    }

    pub(super) async fn dead_now(&self, limit: usize) -> Result<Vec<DeadJob>, QueueError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let (dead, index) = self.dead_keys();
        let limit = limit.min(i64::MAX as usize).to_string();
        let value = self
            .script(&self.scripts.dead, &[&dead, &index], &[&limit], None)
            .await?;
        let mut jobs = Vec::new();
        for stored in reply::texts("DEAD", &value)?.into_iter().flatten() {
            match serde_json::from_str::<DeadJob>(&stored) {
                Ok(job) => jobs.push(job),
                Err(error) => {
                    tracing::warn!(target: "rampart::jobs", error = %error, "a dead-letter entry does not decode; skipped")
                }
            }
        }
        Ok(jobs)
    }

    pub(super) async fn discard_now(&self, id: JobId) -> Result<bool, QueueError> {
        let (hash, index) = self.dead_keys();
        let field = id.to_string();
        let value = self
            .script(&self.scripts.discard, &[&hash, &index], &[&field], None)
            .await?;
        Ok(reply::int("DISCARD", &value)? == 1)
    }

    /// Deletes dead jobs older than `max_age`, then the oldest beyond `keep`, a batch per
    /// script call (each one short, so Redis serves other clients between them).
    pub(super) async fn prune_dead_now(
        &self,
        max_age: Duration,
        keep: usize,
    ) -> Result<u64, QueueError> {
        let (dead, index) = self.dead_keys();
        let age = millis(max_age).to_string();
        let keep = keep.to_string();
        let batch = PRUNE_BATCH.to_string();
        let mut pruned = 0u64;
        loop {
            let value = self
                .script(
                    &self.scripts.prune_dead,
                    &[&dead, &index],
                    &[&age, &keep, &batch],
                    None,
                )
                .await?;
            let deleted = u64::try_from(reply::int("PRUNE_DEAD", &value)?).unwrap_or(0);
            pruned = pruned.saturating_add(deleted);
            if deleted < PRUNE_BATCH as u64 {
                return Ok(pruned);
            }
        }
    }
}
