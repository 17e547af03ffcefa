//! The in-process queue: the same [`Queue`] contract as Redis, held in this process's memory,
//! for development and tests without Redis. Nothing survives the process, and only this
//! process's workers see it; production refuses to start with jobs and no Redis
//! (`JobsError::NoQueue`).

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use futures_util::future::BoxFuture;
use tokio::sync::Notify;

use super::job::JobId;
use super::queue::{
    DeadJob, Delivery, Enqueued, JobRecord, Queue, QueueError, QueueStats, Revival, now_ms,
};

/// The in-process queue.
#[derive(Debug, Default)]
pub struct MemoryQueue {
    state: Mutex<State>,
    pushed: Notify,
}

#[derive(Debug, Default)]
struct State {
    ready: HashMap<String, VecDeque<Waiting>>,
    /// (run at, record), in no order: scanned on fetch (the in-process queue stays small).
    scheduled: Vec<(i64, JobRecord)>,
    leased: HashMap<String, Lease>,
    /// Newest last.
    dead: Vec<DeadJob>,
    unique: HashMap<String, (JobId, i64)>,
    /// Claimed scheduled runs: (job, tick) → when the claim is forgotten (ms).
    ticks: HashMap<(String, i64), i64>,
    next_token: u64,
}

/// A ready job, with how many of its attempt's deliveries were lost (taken over after their
/// lease expired): the same count Redis keeps per stream entry.
#[derive(Debug)]
struct Waiting {
    record: JobRecord,
    lost: u32,
}

impl Waiting {
    fn new(record: JobRecord) -> Self {
        Self { record, lost: 0 }
    }
}

#[derive(Debug)]
struct Lease {
    record: JobRecord,
    consumer: String,
    until: Instant,
    lease: Duration,
    /// Deliveries of this attempt lost before this one.
    lost: u32,
}

impl MemoryQueue {
    /// An empty queue.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes up to `max` deliveries, after promoting due jobs and up to `takeovers` expired
    /// leases (the longest expired first; the rest wait for a later fetch, as on Redis).
    fn take(
        &self,
        queue: &str,
        consumer: &str,
        max: usize,
        takeovers: usize,
        lease: Duration,
    ) -> Vec<Delivery> {
        let mut state = self.lock();
        let now = now_ms();
        let instant = Instant::now();
        let state = &mut *state;
        let mut due = Vec::new();
        state.scheduled.retain(|(at, record)| {
            let take = *at <= now && record.queue == queue;
            if take {
                due.push(record.clone());
            }
            !take
        });
        let mut expired: Vec<(Instant, String)> = state
            .leased
            .iter()
            .filter(|(_, held)| held.record.queue == queue && held.until <= instant)
            .map(|(token, held)| (held.until, token.clone()))
            .collect();
        expired.sort();
        expired.truncate(takeovers.min(max));
        let ready = state.ready.entry(queue.to_owned()).or_default();
        // In front, so that the `max` taken below include them.
        for (_, token) in expired.into_iter().rev() {
            if let Some(held) = state.leased.remove(&token) {
                ready.push_front(Waiting {
                    record: held.record,
                    lost: held.lost.saturating_add(1),
                });
            }
        }
        due.sort_by_key(|record| record.enqueued_at_ms);
        ready.extend(due.into_iter().map(Waiting::new));
        let mut taken = Vec::new();
        while taken.len() < max {
            let Some(Waiting { record, lost }) = ready.pop_front() else {
                break;
            };
            state.next_token += 1;
            let token = state.next_token.to_string();
            state.leased.insert(
                token.clone(),
                Lease {
                    record: record.clone(),
                    consumer: consumer.to_owned(),
                    until: instant + lease,
                    lease,
                    lost,
                },
            );
            taken.push(Delivery {
                record: Ok(record),
                token,
                queue: queue.to_owned(),
                consumer: consumer.to_owned(),
                deliveries: lost.saturating_add(1),
            });
        }
        taken
    }

    /// How long until the next scheduled job of `queue` is due, if one is.
    fn next_due(&self, queue: &str) -> Option<Duration> {
        let now = now_ms();
        self.lock()
            .scheduled
            .iter()
            .filter(|(_, record)| record.queue == queue)
            .map(|(at, _)| Duration::from_millis(u64::try_from(at - now).unwrap_or(0)))
            .min()
    }

    /// Takes the delivery's lease out, if its consumer still holds it.
    fn take_lease(state: &mut State, delivery: &Delivery) -> Option<Lease> {
        match state.leased.get(&delivery.token) {
            Some(held) if held.consumer == delivery.consumer => {
                state.leased.remove(&delivery.token)
            }
            _ => None,
        }
    }
}

fn ready<T: Send + 'static>(value: T) -> BoxFuture<'static, T> {
    Box::pin(std::future::ready(value))
}

impl Queue for MemoryQueue {
    fn push<'a>(
        &'a self,
        record: &'a JobRecord,
        run_at_ms: Option<i64>,
        unique: Option<(&'a str, Duration)>,
    ) -> BoxFuture<'a, Result<Enqueued, QueueError>> {
        let mut state = self.lock();
        let now = now_ms();
        if let Some((key, window)) = unique {
            // Expired windows go, so the map holds only live keys.
            state.unique.retain(|_, (_, until)| *until > now);
            match state.unique.get(key) {
                Some((id, until)) if *until > now => return ready(Ok(Enqueued::Duplicate(*id))),
                _ => {
                    let until = now.saturating_add(super::queue::millis(window));
                    state.unique.insert(key.to_owned(), (record.id, until));
                }
            }
        }
        match run_at_ms {
            Some(at) if at > now => state.scheduled.push((at, record.clone())),
            _ => state
                .ready
                .entry(record.queue.clone())
                .or_default()
                .push_back(Waiting::new(record.clone())),
        }
        drop(state);
        self.pushed.notify_waiters();
        ready(Ok(Enqueued::New(record.id)))
    }

    fn fetch_limited<'a>(
        &'a self,
        queue: &'a str,
        consumer: &'a str,
        max: usize,
        takeovers: usize,
        wait: Duration,
        lease: Duration,
    ) -> BoxFuture<'a, Result<Vec<Delivery>, QueueError>> {
        Box::pin(async move {
            let deadline = tokio::time::Instant::now() + wait;
            loop {
                // Registered before looking, so a push between the look and the wait wakes us.
                let pushed = self.pushed.notified();
                tokio::pin!(pushed);
                pushed.as_mut().enable();
                let taken = self.take(queue, consumer, max, takeovers, lease);
                let now = tokio::time::Instant::now();
                if !taken.is_empty() || now >= deadline {
                    return Ok(taken);
                }
                let mut until = deadline;
                if let Some(due) = self.next_due(queue) {
                    until = until.min(now + due);
                }
                // An expired lease is noticed on the next look: look at least every 50 ms.
                until = until.min(now + Duration::from_millis(50));
                let _ = tokio::time::timeout_at(until, pushed).await;
            }
        })
    }

    fn renew<'a>(&'a self, delivery: &'a Delivery) -> BoxFuture<'a, Result<bool, QueueError>> {
        let mut state = self.lock();
        match state.leased.get_mut(&delivery.token) {
            Some(held) if held.consumer == delivery.consumer => {
                held.until = Instant::now() + held.lease;
                ready(Ok(true))
            }
            _ => ready(Ok(false)),
        }
    }

    fn complete<'a>(&'a self, delivery: &'a Delivery) -> BoxFuture<'a, Result<(), QueueError>> {
        Self::take_lease(&mut self.lock(), delivery);
        ready(Ok(()))
    }

    fn retry<'a>(
        &'a self,
        delivery: &'a Delivery,
        next: &'a JobRecord,
        run_at_ms: i64,
    ) -> BoxFuture<'a, Result<(), QueueError>> {
        let mut state = self.lock();
        if Self::take_lease(&mut state, delivery).is_some() {
            state.scheduled.push((run_at_ms, next.clone()));
        }
        drop(state);
        self.pushed.notify_waiters();
        ready(Ok(()))
    }

    fn bury<'a>(
        &'a self,
        delivery: &'a Delivery,
        dead: &'a DeadJob,
    ) -> BoxFuture<'a, Result<(), QueueError>> {
        let mut state = self.lock();
        if Self::take_lease(&mut state, delivery).is_some() {
            state.dead.retain(|job| job.id != dead.id);
            state.dead.push(dead.clone());
        }
        ready(Ok(()))
    }

    fn bury_unqueued<'a>(&'a self, dead: &'a DeadJob) -> BoxFuture<'a, Result<(), QueueError>> {
        let mut state = self.lock();
        state.dead.retain(|job| job.id != dead.id);
        state.dead.push(dead.clone());
        ready(Ok(()))
    }

    fn release<'a>(&'a self, delivery: &'a Delivery) -> BoxFuture<'a, Result<(), QueueError>> {
        let mut state = self.lock();
        if let Some(held) = Self::take_lease(&mut state, delivery) {
            // Given back unrun: this delivery is not lost, the earlier lost ones still count.
            state
                .ready
                .entry(held.record.queue.clone())
                .or_default()
                .push_front(Waiting {
                    record: held.record,
                    lost: held.lost,
                });
        }
        drop(state);
        self.pushed.notify_waiters();
        ready(Ok(()))
    }

    fn prune_dead<'a>(
        &'a self,
        max_age: Duration,
        keep: usize,
    ) -> BoxFuture<'a, Result<u64, QueueError>> {
        let mut state = self.lock();
        let cutoff = now_ms().saturating_sub(super::queue::millis(max_age));
        let before = state.dead.len();
        state.dead.retain(|job| job.failed_at_ms >= cutoff);
        // Oldest first, by when they were buried, as Redis orders them (stable: ties keep their
        // burial order).
        state.dead.sort_by_key(|job| job.failed_at_ms);
        let excess = state.dead.len().saturating_sub(keep);
        state.dead.drain(..excess);
        ready(Ok((before - state.dead.len()) as u64))
    }

    fn forget_consumer(&self, _consumer: &str) {
        // Nothing is kept per consumer beyond its leases, which must stay until they expire.
    }

    fn dead<'a>(&'a self, limit: usize) -> BoxFuture<'a, Result<Vec<DeadJob>, QueueError>> {
        let state = self.lock();
        ready(Ok(state.dead.iter().rev().take(limit).cloned().collect()))
    }

    fn revive<'a>(&'a self, id: JobId) -> BoxFuture<'a, Result<Revival, QueueError>> {
        let mut state = self.lock();
        let Some(index) = state.dead.iter().position(|job| job.id == id) else {
            return ready(Ok(Revival::NotFound));
        };
        let dead = state.dead.remove(index);
        let record = match serde_json::from_str::<JobRecord>(&dead.record) {
            Ok(mut record) => {
                record.attempt = 1;
                record
            }
            Err(_) => {
                // A poison entry stays dead: reviving it would bury it again at once.
                state.dead.insert(index, dead);
                return ready(Ok(Revival::Undecodable));
            }
        };
        state
            .ready
            .entry(record.queue.clone())
            .or_default()
            .push_back(Waiting::new(record));
        drop(state);
        self.pushed.notify_waiters();
        ready(Ok(Revival::Queued))
    }

    fn discard<'a>(&'a self, id: JobId) -> BoxFuture<'a, Result<bool, QueueError>> {
        let mut state = self.lock();
        let before = state.dead.len();
        state.dead.retain(|job| job.id != id);
        ready(Ok(state.dead.len() != before))
    }

    fn stats<'a>(&'a self, queue: &'a str) -> BoxFuture<'a, Result<QueueStats, QueueError>> {
        let state = self.lock();
        let now = now_ms();
        let ready_jobs = state.ready.get(queue);
        let stats = QueueStats {
            ready: ready_jobs.map_or(0, |jobs| jobs.len() as u64),
            scheduled: state
                .scheduled
                .iter()
                .filter(|(_, record)| record.queue == queue)
                .count() as u64,
            in_flight: state
                .leased
                .values()
                .filter(|held| held.record.queue == queue)
                .count() as u64,
            oldest_ready_age_ms: ready_jobs
                .and_then(|jobs| jobs.iter().map(|job| job.record.enqueued_at_ms).min())
                .map_or(0, |oldest| u64::try_from(now - oldest).unwrap_or(0)),
            dead: state.dead.len() as u64,
        };
        ready(Ok(stats))
    }

    fn claim_tick<'a>(
        &'a self,
        job: &'a str,
        tick_ms: i64,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<bool, QueueError>> {
        let mut state = self.lock();
        let now = now_ms();
        // Forgotten claims go, so a long-running process keeps one entry per recent tick; the
        // same for unique keys whose window passed (every scheduled run leaves one).
        state.ticks.retain(|_, until| *until > now);
        state.unique.retain(|_, (_, until)| *until > now);
        let key = (job.to_owned(), tick_ms);
        if state.ticks.contains_key(&key) {
            return ready(Ok(false));
        }
        let until = now.saturating_add(super::queue::millis(ttl));
        state.ticks.insert(key, until);
        ready(Ok(true))
    }
}
