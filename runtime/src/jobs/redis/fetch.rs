//! Fetching from [`RedisQueue`]: due scheduled jobs moved to the stream, expired leases taken
//! over, new entries read (blocking on a connection of their own), and idle consumers
//! forgotten now and then.

use std::time::{Duration, Instant};

use ::redis::Value;

use super::super::queue::{Delivery, QueueError, millis};
use super::{CLAIM_ROUNDS, GROUP, MAX_BLOCK, PROMOTE_BATCH, REAP_EVERY, RedisQueue, lock, reply};

impl RedisQueue {
    /// Forgets idle consumers of `stream`, at most once per [`REAP_EVERY`] (or per expiry, if
    /// shorter). A failure is only logged: it must not fail the fetch.
    pub(super) async fn reap(&self, stream: &str) {
        let now = Instant::now();
        let every = REAP_EVERY.min(self.consumer_expiry);
        {
            let mut reaped = lock(&self.reaped);
            if reaped
                .get(stream)
                .is_some_and(|last| now.duration_since(*last) < every)
            {
                return;
            }
            reaped.insert(stream.to_owned(), now);
        }
        let idle = millis(self.consumer_expiry).to_string();
        match self
            .script(&self.scripts.reap, &[stream], &[&idle], Some(stream))
            .await
        {
            Ok(Value::Int(forgotten)) if forgotten > 0 => {
                tracing::debug!(target: "rampart::jobs", stream, forgotten, "forgot idle consumers");
            }
            Ok(_) => {}
            Err(error) => {
                tracing::debug!(target: "rampart::jobs", stream, error = %error, "cannot forget idle consumers");
            }
        }
    }

    /// Takes over entries of `stream` idle longer than `lease`, up to `max`, each with its
    /// delivery count (XAUTOCLAIM counts the takeover; a renewal, `XCLAIM ... JUSTID`, does
    /// not), so the worker can bury a job that keeps killing its workers.
    async fn claim(
        &self,
        stream: &str,
        queue: &str,
        consumer: &str,
        max: usize,
        lease: Duration,
    ) -> Result<Vec<Delivery>, QueueError> {
        let mut taken = Vec::new();
        let mut cursor = "0-0".to_owned();
        let mut connection = self.shared.clone();
        for _ in 0..CLAIM_ROUNDS {
            let mut command = ::redis::cmd("XAUTOCLAIM");
            command
                .arg(stream)
                .arg(GROUP)
                .arg(consumer)
                .arg(millis(lease).max(1))
                .arg(&cursor)
                .arg("COUNT")
                .arg(max - taken.len());
            let value = self.query(&mut connection, &command, Some(stream)).await?;
            let (next, entries) = reply::auto_claim(&value)?;
            let entries: Vec<(String, Vec<(String, String)>)> = entries
                .into_iter()
                .filter_map(|entry| Some((entry.id, entry.fields?)))
                .collect();
            if !entries.is_empty() {
                // Only after a worker died (rare): one round trip for all the counts. This
                // consumer holds the entries now, so nothing changes them in between.
                let mut counts = ::redis::pipe();
                for (id, _) in &entries {
                    counts
                        .cmd("XPENDING")
                        .arg(stream)
                        .arg(GROUP)
                        .arg(id)
                        .arg(id)
                        .arg(1);
                }
                let counts: Vec<Value> = counts
                    .query_async(&mut connection)
                    .await
                    .map_err(|error| super::queue_error(&error))?;
                if counts.len() != entries.len() {
                    return Err(QueueError::Protocol(format!(
                        "unexpected reply to XPENDING: {} answers for {} entries",
                        counts.len(),
                        entries.len()
                    )));
                }
                for ((id, fields), count) in entries.into_iter().zip(&counts) {
                    // Not pending any more (it cannot be, but if so it is not this worker's).
                    if let Some(delivered) = reply::delivery_count(count)? {
                        taken.push(reply::delivery(queue, consumer, id, fields, delivered));
                    }
                }
            }
            if next == "0-0" || taken.len() >= max {
                break;
            }
            cursor = next;
        }
        Ok(taken)
    }

    /// Reads up to `count` new entries, blocking up to `block` (not at all when `None`).
    async fn read(
        &self,
        stream: &str,
        queue: &str,
        consumer: &str,
        count: usize,
        block: Option<Duration>,
    ) -> Result<Vec<Delivery>, QueueError> {
        let mut command = ::redis::cmd("XREADGROUP");
        command
            .arg("GROUP")
            .arg(GROUP)
            .arg(consumer)
            .arg("COUNT")
            .arg(count);
        let mut connection = match block {
            Some(block) => {
                // BLOCK 0 would wait forever: a block is at least 1 ms.
                command.arg("BLOCK").arg(millis(block).max(1));
                self.blocking_connection(queue, consumer)?
            }
            None => self.shared.clone(),
        };
        command.arg("STREAMS").arg(stream).arg(">");
        let value = self.query(&mut connection, &command, Some(stream)).await?;
        Ok(reply::read_group(&value)?
            .into_iter()
            .filter_map(|entry| {
                let fields = entry.fields?;
                // A new entry: handed out for the first time.
                Some(reply::delivery(queue, consumer, entry.id, fields, 1))
            })
            .collect())
    }

    pub(super) async fn fetch_now(
        &self,
        queue: &str,
        consumer: &str,
        max: usize,
        takeovers: usize,
        wait: Duration,
        lease: Duration,
    ) -> Result<Vec<Delivery>, QueueError> {
        if max == 0 {
            return Ok(Vec::new());
        }
        let stream = self.stream(queue)?;
        let scheduled = Self::scheduled(&stream);
        self.ensure_group(&stream).await?;
        let batch = PROMOTE_BATCH.to_string();
        let promoted = self
            .script(
                &self.scripts.promote,
                &[&scheduled, &stream],
                &[&batch],
                None,
            )
            .await?;
        let [moved, next_due] = reply::ints("PROMOTE", &promoted, 2)?[..] else {
            return Err(reply::unexpected("PROMOTE", &promoted));
        };
        self.reap(&stream).await;
        let mut taken = match takeovers.min(max) {
            0 => Vec::new(),
            most => self.claim(&stream, queue, consumer, most, lease).await?,
        };
        if taken.len() >= max {
            return Ok(taken);
        }
        // Wait only when there is nothing to hand out now, and no longer than until the next
        // scheduled job is due (it is moved to the stream by the next fetch).
        let mut block = wait.min(MAX_BLOCK);
        if let Ok(due) = u64::try_from(next_due) {
            block = block.min(Duration::from_millis(due));
        }
        let block =
            (taken.is_empty() && moved == 0 && block >= Duration::from_millis(1)).then_some(block);
        let read = self
            .read(&stream, queue, consumer, max - taken.len(), block)
            .await?;
        taken.extend(read);
        Ok(taken)
    }
}
