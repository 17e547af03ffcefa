//! Integration tests: the real router, a real SQLite file and a real PostgreSQL database.
//! One binary with a module per concern, so the suite links once.

include!("../../examples/taskboard/roles.rs");

#[path = "../../examples/taskboard/app.rs"]
#[allow(dead_code)]
mod taskboard;

mod admin;
mod api_builder;
mod api_keys;
mod client;
mod cluster;
mod common;
mod database;
mod dependencies;
mod envelope;
mod fidelity;
mod foreign_keys;
mod hardening;
mod http_caching;
mod idempotency;
mod identity;
mod jobs_cron;
mod jobs_macro;
mod jobs_outbox;
mod jobs_redis;
mod logging;

mod openapi;
mod owasp;
mod pipeline;
mod query_cache;
mod rate_limit;
mod read_your_writes;
mod readiness;
mod redis_rate_limit;
mod resource_endpoints;
mod resource_store;
mod resources;
mod response_cache;
mod role_matrix;
mod security;
mod shutdown;
mod slow_clients;
mod taskboard_jobs;
mod taskboard_notes;
mod trace_context;
mod transactions;
