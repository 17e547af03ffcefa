//! The latency half of the jobs benchmark: a request whose handler enqueues one job beside the
//! same endpoint enqueueing nothing, `Jobs::enqueue` alone, and a bare `XADD` of the same
//! record, each sequential and with requests in flight.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rampart::Jobs;
use rampart::prelude::*;
use tokio::task::JoinSet;

use super::support::{self, Redis, median, percentile};
use super::{IN_FLIGHT, Tick, job_set, tick};

/// Public endpoint that enqueues one job.
#[endpoint(post = "/enqueue", public)]
async fn enqueue_one(jobs: Dep<Jobs>) -> ApiResult<NoContent> {
    jobs.enqueue(tick, Tick { n: 1 }).await?;
    Ok(NoContent)
}

/// The baseline: the same endpoint and dependency, enqueueing nothing.
#[endpoint(post = "/no-enqueue", public)]
async fn enqueue_none(jobs: Dep<Jobs>) -> ApiResult<NoContent> {
    let _ = &jobs;
    Ok(NoContent)
}

/// One timed operation of the latency runs.
#[derive(Clone)]
enum Op {
    /// A POST of this path through the router, answered 204.
    Http(axum::Router, &'static str),
    /// `Jobs::enqueue` called directly, outside any request.
    Enqueue(Jobs),
    /// The floor: `XADD` of a body as long as the record, on a multiplexed connection.
    Xadd(redis::aio::MultiplexedConnection, Arc<str>, Arc<str>),
}

impl Op {
    async fn run(&mut self) {
        match self {
            Op::Http(router, path) => {
                use tower::ServiceExt;
                let request = axum::http::Request::post(*path)
                    .header("host", "localhost")
                    .body(axum::body::Body::empty())
                    .unwrap_or_default();
                let response = match router.clone().oneshot(request).await {
                    Ok(response) => response,
                    Err(never) => match never {},
                };
                let status = response.status();
                let body = axum::body::to_bytes(response.into_body(), 1 << 16)
                    .await
                    .unwrap_or_default();
                if status != axum::http::StatusCode::NO_CONTENT {
                    panic!("{path}: {status} {}", String::from_utf8_lossy(&body));
                }
            }
            Op::Enqueue(jobs) => {
                jobs.enqueue(tick, Tick { n: 1 })
                    .await
                    .unwrap_or_else(|e| panic!("enqueue: {e:?}"));
            }
            Op::Xadd(connection, stream, body) => {
                redis::cmd("XADD")
                    .arg(&**stream)
                    .arg("*")
                    .arg("record")
                    .arg(&**body)
                    .query_async::<redis::Value>(connection)
                    .await
                    .unwrap_or_else(|e| panic!("XADD: {e}"));
            }
        }
    }
}

/// Sorted latencies of `count` runs of `op`, `in_flight` at a time, and runs per second.
async fn latencies(op: &Op, count: usize, in_flight: usize) -> (Vec<Duration>, f64) {
    let tickets = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = JoinSet::new();
    for _ in 0..in_flight {
        let (mut op, tickets) = (op.clone(), tickets.clone());
        tasks.spawn(async move {
            let mut latencies = Vec::with_capacity(count / in_flight + 1);
            while tickets.fetch_add(1, Ordering::Relaxed) < count {
                let sent = Instant::now();
                op.run().await;
                latencies.push(sent.elapsed());
            }
            latencies
        });
    }
    let mut all = Vec::with_capacity(count);
    while let Some(latencies) = tasks.join_next().await {
        all.extend(latencies.unwrap_or_else(|e| panic!("{e}")));
    }
    let per_second = all.len() as f64 / started.elapsed().as_secs_f64();
    all.sort_unstable();
    (all, per_second)
}

/// p50, p99 (µs) and operations per second of one latency run.
type Latency = (f64, f64, f64);

pub(crate) async fn latency_runs(redis: &Redis, prefix: &str, rounds: usize, requests: usize) {
    let config = rampart::Config::from_lookup(&|name| match name {
        "JWT_SECRET" => Some("bench-secret-bench-secret-bench-secret".to_owned()),
        "RAMPART_DOCS" => Some("false".to_owned()),
        // Price the work, not the refusals: no limit triggers during the run.
        "RAMPART_RATE_LIMIT_MULTIPLIER" => Some("1000000".to_owned()),
        _ => None,
    })
    .unwrap_or_else(|e| panic!("{e}"));
    let app = rampart::App::new(config, None);
    let queue = Arc::new(redis.queue(prefix).await);
    let jobs = Jobs::new(queue, job_set(), app.cursor_key().clone());
    let app = app.with_job_handle(jobs.clone());
    let router = Api::new()
        .mount(enqueue_one)
        .mount(enqueue_none)
        .into_router(&app)
        .unwrap_or_else(|e| panic!("{e}"));
    let stream: Arc<str> = Arc::from(format!("{prefix}bare-latency"));
    let body: Arc<str> = Arc::from(support::record_body("tick", &Tick { n: 1 }));
    let xadd = Op::Xadd(redis.connection().await, stream, body);
    let mut cases: Vec<(&str, Op, usize)> = Vec::new();
    for in_flight in [1, IN_FLIGHT] {
        cases.push((
            "POST, handler enqueues nothing (baseline)",
            Op::Http(router.clone(), "/api/v1/no-enqueue"),
            in_flight,
        ));
        cases.push((
            "POST, handler enqueues one job",
            Op::Http(router.clone(), "/api/v1/enqueue"),
            in_flight,
        ));
        cases.push((
            "`Jobs::enqueue` alone (no request)",
            Op::Enqueue(jobs.clone()),
            in_flight,
        ));
        cases.push(("bare `XADD` of the record (floor)", xadd.clone(), in_flight));
    }
    // Warm-up: connections, the script cache, the router's first-use work.
    for (_, op, in_flight) in &cases {
        let _ = latencies(op, 500, *in_flight).await;
    }
    let mut samples: Vec<Vec<Latency>> = vec![Vec::new(); cases.len()];
    for round in 0..rounds {
        // Baselines first in even rounds, last in odd ones.
        let mut order: Vec<usize> = (0..cases.len()).collect();
        if round % 2 == 1 {
            order.reverse();
        }
        for index in order {
            let (name, op, in_flight) = &cases[index];
            let (latencies, per_second) = latencies(op, requests, *in_flight).await;
            let micros = |q| percentile(&latencies, q).as_secs_f64() * 1e6;
            samples[index].push((micros(0.50), micros(0.99), per_second));
            eprintln!(
                "round {round}: {name} x{in_flight}: p50 {:.1} µs, p99 {:.1} µs, {per_second:.0}/s",
                micros(0.50),
                micros(0.99)
            );
        }
        redis.clean(prefix).await;
    }
    println!();
    println!(
        "Enqueue latency: {requests} operations each, sequential and {IN_FLIGHT} in flight; requests through the router in process (`oneshot`); median of {rounds} alternating rounds"
    );
    println!();
    println!(
        "| operation | in flight | p50 (µs) | p99 (µs) | per second | p50 added by the enqueue |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    for (index, (name, _, in_flight)) in cases.iter().enumerate() {
        let runs = &samples[index];
        let p50 = median(runs.iter().map(|run| run.0).collect());
        let p99 = median(runs.iter().map(|run| run.1).collect());
        let rate = median(runs.iter().map(|run| run.2).collect());
        // Against the endpoint without the enqueue, the case just before it.
        let added = if index % 4 == 1 {
            let base = median(samples[index - 1].iter().map(|run| run.0).collect());
            format!("+{:.1} µs", p50 - base)
        } else {
            "—".to_owned()
        };
        println!("| {name} | {in_flight} | {p50:.1} | {p99:.1} | {rate:.0} | {added} |");
    }
}
