//! The read replica's circuit breaker: after a connection failure the replica is left alone
//! for `DATABASE_REPLICA_RETRY` (reads go to the primary), then one background probe decides
//! whether it is used again.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::errors::is_connection_failure;
use super::statement::{Affected, Statement};
use super::{Db, DbConfig, DbError, Pool, connect_pool};

/// A read replica and its circuit breaker.
#[derive(Debug, Clone)]
pub(super) struct Replica {
    pub(super) pool: Pool,
    state: Arc<ReplicaState>,
}

impl Replica {
    /// Connects the replica. One that cannot be reached at start does not stop the app: it is
    /// marked down (reads on the primary), its pool connects lazily, and it is probed until it
    /// answers.
    pub(super) async fn connect(url: &str, config: &DbConfig) -> Result<Self, DbError> {
        let state = Arc::new(ReplicaState {
            down_until: AtomicU64::new(0),
            epoch: Instant::now(),
            retry: config.replica_retry,
        });
        let pool = match connect_pool(url, config, false).await {
            Ok(pool) => pool,
            Err(DbError::Sqlx(error)) if is_connection_failure(&error) => {
                tracing::warn!(error = %error, "read replica unreachable at start: reads use the primary until it answers");
                state.down_until.store(state.until(), Ordering::SeqCst);
                metrics::gauge!("rampart_dependency_up", "dependency" => "replica").set(0.0);
                connect_pool(url, config, true).await?
            }
            Err(error) => return Err(error),
        };
        Ok(Self { pool, state })
    }
}

/// When the replica failed: reads skip it until `down_until`, then one background probe
/// decides whether it is used again.
#[derive(Debug)]
struct ReplicaState {
    /// Milliseconds after `epoch` until which the replica is left alone; 0: in use.
    down_until: AtomicU64,
    epoch: Instant,
    retry: Duration,
}

impl ReplicaState {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis())
            .unwrap_or(u64::MAX)
            .max(1)
    }

    fn until(&self) -> u64 {
        let retry = u64::try_from(self.retry.as_millis()).unwrap_or(u64::MAX);
        self.now_ms().saturating_add(retry.max(1))
    }
}

impl Db {
    /// The replica if it is in use; when it is marked down, `None` (counted as a fallback),
    /// and once its retry time has passed one background probe decides whether it returns.
    pub(super) fn usable_replica(&self) -> Option<&Pool> {
        let replica = self.replica.as_ref()?;
        let state = &replica.state;
        let until = state.down_until.load(Ordering::SeqCst);
        if until == 0 {
            return Some(&replica.pool);
        }
        metrics::counter!("rampart_replica_fallback_total").increment(1);
        if state.now_ms() >= until
            && state
                .down_until
                .compare_exchange(until, state.until(), Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            let replica = replica.clone();
            runtime.spawn(async move {
                let _ = probe_replica(&replica).await;
            });
        }
        None
    }

    /// Pings the replica now and updates its breaker: `None` without a replica.
    pub async fn ping_replica(&self) -> Option<bool> {
        let replica = self.replica.as_ref()?;
        Some(probe_replica(replica).await)
    }
}

/// `SELECT 1` within a second; `Err(None)` when it took longer.
pub(super) async fn ping_pool(pool: &Pool) -> Result<(), Option<sqlx::Error>> {
    let check = pool.run::<Affected>(Statement::literal("SELECT 1", Vec::new()));
    match tokio::time::timeout(Duration::from_secs(1), check).await {
        Ok(result) => result.map(|_| ()).map_err(Some),
        Err(_) => Err(None),
    }
}

/// Pings the replica and sets its breaker from the answer.
async fn probe_replica(replica: &Replica) -> bool {
    match ping_pool(&replica.pool).await {
        Ok(()) => {
            if replica.state.down_until.swap(0, Ordering::SeqCst) != 0 {
                tracing::info!("read replica answers again: reads go back to it");
            }
            metrics::gauge!("rampart_dependency_up", "dependency" => "replica").set(1.0);
            true
        }
        Err(Some(error)) => {
            mark_replica_down(replica, &error);
            false
        }
        Err(None) => {
            mark_replica_down(replica, &sqlx::Error::PoolTimedOut);
            false
        }
    }
}

pub(super) fn mark_replica_down(replica: &Replica, error: &sqlx::Error) {
    let state = &replica.state;
    if state.down_until.swap(state.until(), Ordering::SeqCst) == 0 {
        tracing::warn!(
            error = %error,
            retry_ms = state.retry.as_millis() as u64,
            "read replica unavailable: reads use the primary"
        );
    }
    metrics::gauge!("rampart_dependency_up", "dependency" => "replica").set(0.0);
}
