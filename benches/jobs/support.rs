//! What the jobs benchmark needs from Redis besides the queue: connections, the server's own
//! counters (commands, CPU) around a timed window, cleanup of the run's keys, and the small
//! statistics of the tables.

use std::collections::BTreeMap;
use std::time::Duration;

use rampart::jobs::{JobId, JobRecord, RedisQueue};
use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, Value};

pub(crate) struct Redis {
    url: String,
    client: redis::Client,
    admin: MultiplexedConnection,
}

impl Redis {
    pub(crate) async fn connect() -> Self {
        let url = std::env::var("RAMPART_TEST_REDIS_URL")
            .unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
        let client = redis::Client::open(url.as_str()).unwrap_or_else(|e| panic!("{url}: {e}"));
        let admin = client
            .get_multiplexed_async_connection()
            .await
            .unwrap_or_else(|e| panic!("this bench needs a Redis at {url}: {e}"));
        Self { url, client, admin }
    }

    /// A rampart queue on this Redis, keys under `prefix`.
    pub(crate) async fn queue(&self, prefix: &str) -> RedisQueue {
        RedisQueue::connect(&self.url, prefix)
            .await
            .unwrap_or_else(|e| panic!("RedisQueue::connect: {e}"))
    }

    /// A multiplexed connection with the client's default timeouts.
    pub(crate) async fn connection(&self) -> MultiplexedConnection {
        self.client
            .get_multiplexed_async_connection()
            .await
            .unwrap_or_else(|e| panic!("connect: {e}"))
    }

    /// A connection for blocking reads: its response timeout outlasts the block.
    pub(crate) async fn blocking_connection(&self) -> MultiplexedConnection {
        let config =
            AsyncConnectionConfig::new().set_response_timeout(Some(Duration::from_secs(5)));
        self.client
            .get_multiplexed_async_connection_with_config(&config)
            .await
            .unwrap_or_else(|e| panic!("connect: {e}"))
    }

    async fn info(&self, section: &str) -> String {
        let mut admin = self.admin.clone();
        redis::cmd("INFO")
            .arg(section)
            .query_async(&mut admin)
            .await
            .unwrap_or_else(|e| panic!("INFO {section}: {e}"))
    }

    /// The server's version and persistence, for the report.
    pub(crate) async fn describe(&self) -> String {
        let server = self.info("server").await;
        let persistence = self.info("persistence").await;
        let field = |text: &str, name: &str| {
            text.lines()
                .find_map(|line| line.strip_prefix(&format!("{name}:")))
                .unwrap_or("?")
                .trim()
                .to_owned()
        };
        format!(
            "Redis {} at {} (appendonly {}, io-threads {})",
            field(&server, "redis_version"),
            self.url,
            if field(&persistence, "aof_enabled") == "1" {
                "yes"
            } else {
                "no"
            },
            field(&server, "io_threads_active"),
        )
    }

    /// The counters a window is measured with.
    pub(crate) async fn usage(&self) -> Usage {
        let mut commands = BTreeMap::new();
        for line in self.info("commandstats").await.lines() {
            let Some((name, stats)) = line
                .strip_prefix("cmdstat_")
                .and_then(|rest| rest.split_once(':'))
            else {
                continue;
            };
            let stat = |key: &str| -> u64 {
                stats
                    .split(',')
                    .find_map(|pair| pair.strip_prefix(key))
                    .and_then(|value| value.parse().ok())
                    .unwrap_or(0)
            };
            commands.insert(name.to_owned(), (stat("calls="), stat("usec=")));
        }
        let cpu = self.info("cpu").await;
        let seconds = |name: &str| -> f64 {
            cpu.lines()
                .find_map(|line| line.strip_prefix(&format!("{name}:")))
                .and_then(|value| value.trim().parse().ok())
                .unwrap_or(0.0)
        };
        Usage {
            commands: Commands(commands),
            client_cpu: process_cpu_seconds(),
            redis_cpu: seconds("used_cpu_user") + seconds("used_cpu_sys"),
        }
    }

    /// Deletes every key under `prefix`.
    pub(crate) async fn clean(&self, prefix: &str) {
        let mut admin = self.admin.clone();
        let mut cursor = 0u64;
        loop {
            let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(format!("{prefix}*"))
                .arg("COUNT")
                .arg(1000)
                .query_async(&mut admin)
                .await
                .unwrap_or_else(|e| panic!("SCAN: {e}"));
            if !keys.is_empty() {
                let _: i64 = redis::cmd("DEL")
                    .arg(&keys)
                    .query_async(&mut admin)
                    .await
                    .unwrap_or_else(|e| panic!("DEL: {e}"));
            }
            if next == 0 {
                return;
            }
            cursor = next;
        }
    }
}

/// Calls and microseconds spent per command name, as `INFO commandstats` counts them (a
/// script's time includes the commands it runs, which are also counted under their own names).
#[derive(Debug, Clone, Default)]
pub(crate) struct Commands(BTreeMap<String, (u64, u64)>);

impl Commands {
    pub(crate) fn calls(&self, name: &str) -> u64 {
        self.0.get(name).map_or(0, |stat| stat.0)
    }

    fn usec(&self, name: &str) -> u64 {
        self.0.get(name).map_or(0, |stat| stat.1)
    }

    /// `name calls/job` for every command that ran, most frequent first (the `INFO` calls of
    /// the measurement itself left out).
    pub(crate) fn per_job(&self, jobs: u64) -> String {
        let mut counts: Vec<(&String, &(u64, u64))> = self
            .0
            .iter()
            .filter(|(name, stat)| name.as_str() != "info" && stat.0 > 0)
            .collect();
        counts.sort_by(|a, b| b.1.0.cmp(&a.1.0).then(a.0.cmp(b.0)));
        counts
            .iter()
            .map(|(name, (calls, usec))| {
                format!(
                    "{} {:.3} ({:.1} µs each)",
                    name.to_uppercase(),
                    *calls as f64 / jobs as f64,
                    *usec as f64 / *calls as f64
                )
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Counters at one instant; [`Usage::since`] makes a window of two.
#[derive(Debug, Clone)]
pub(crate) struct Usage {
    pub(crate) commands: Commands,
    /// CPU seconds of this process (user + system).
    pub(crate) client_cpu: f64,
    /// CPU seconds of the Redis server (user + system).
    pub(crate) redis_cpu: f64,
}

impl Usage {
    pub(crate) fn since(&self, before: &Usage) -> Usage {
        let commands = self
            .commands
            .0
            .iter()
            .map(|(name, (calls, usec))| {
                let calls = calls.saturating_sub(before.commands.calls(name));
                let usec = usec.saturating_sub(before.commands.usec(name));
                (name.clone(), (calls, usec))
            })
            .collect();
        Usage {
            commands: Commands(commands),
            client_cpu: self.client_cpu - before.client_cpu,
            redis_cpu: self.redis_cpu - before.redis_cpu,
        }
    }
}

/// User + system CPU of this process, from `/proc/self/stat` (clock ticks of 10 ms).
fn process_cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The command name may hold spaces: fields are counted after its closing parenthesis,
    // where utime and stime are the 12th and 13th.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |index: usize| -> f64 {
        fields
            .get(index)
            .and_then(|value| value.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

/// The ids of an `XREADGROUP` reply (`nil`, or `[[stream, [[id, fields], ...]]]`).
pub(crate) fn entry_ids(reply: &Value) -> Vec<String> {
    let mut ids = Vec::new();
    let Value::Array(streams) = reply else {
        return ids;
    };
    for stream in streams {
        let Value::Array(pair) = stream else { continue };
        let Some(Value::Array(entries)) = pair.get(1) else {
            continue;
        };
        for entry in entries {
            if let Value::Array(parts) = entry
                && let Some(Value::BulkString(id)) = parts.first()
            {
                ids.push(String::from_utf8_lossy(id).into_owned());
            }
        }
    }
    ids
}

/// The JSON of the record `Jobs::enqueue` queues for `input` (its length is the bare loop's
/// body length).
pub(crate) fn record_body<T: serde::Serialize>(job: &str, input: &T) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let record = JobRecord {
        id: JobId::new(),
        job: job.to_owned(),
        queue: "default".to_owned(),
        payload: serde_json::to_string(input).unwrap_or_else(|e| panic!("{e}")),
        attempt: 1,
        enqueued_at_ms: i64::try_from(now.as_millis()).unwrap_or(i64::MAX),
        request_id: None,
        traceparent: None,
        scope: None,
        last_error: None,
    };
    serde_json::to_string(&record).unwrap_or_else(|e| panic!("{e}"))
}

/// The median of `values` (the upper one of an even count).
pub(crate) fn median(mut values: Vec<f64>) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// The `q` quantile of sorted `values`.
pub(crate) fn percentile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() as f64 * q) as usize).min(sorted.len() - 1);
    sorted[index]
}

/// `/proc/loadavg`'s first three fields.
pub(crate) fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|_| "?".to_owned())
}
