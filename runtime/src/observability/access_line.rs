//! The access line (`request completed`, target `rampart::access`), written directly.
//!
//! Through `tracing` the line cost ~2.8k instructions a request, most of the edge's work: the
//! subscriber's dispatch, the visitor walking the event's fields (`status` and `duration_ms`,
//! each key escaped and checked against the secret markers), the message formatted through
//! `fmt::Arguments`. This module writes the same bytes from the three values it knows, in the
//! same order, when the current subscriber is rampart's own ([`Installed`]: its filter, its
//! one layer) and that filter lets the event through. With any other subscriber the event is
//! emitted through `tracing` as before, so a user's own subscriber still gets it.

use std::io::Write as _;

use tracing::level_filters::{LevelFilter, STATIC_MAX_LEVEL};
use tracing::{Level, Metadata};
use tracing_core::callsite::DefaultCallsite;
use tracing_core::field::FieldSet;
use tracing_core::metadata::Kind;
use tracing_subscriber::fmt::MakeWriter as _;

use super::json::{push_digits, push_f64};
use super::log::{Installed, InstalledLayer, LINE, request_fields};

/// The access line's target.
pub(crate) const ACCESS_TARGET: &str = "rampart::access";

/// The access line's message.
const MESSAGE: &str = "request completed";

/// A callsite with the access event's target, level, fields and kind: the filter's verdict on
/// it (its cached interest, else its `enabled`) is its verdict on the event itself.
static CALLSITE: DefaultCallsite = DefaultCallsite::new(&METADATA);
static METADATA: Metadata<'static> = Metadata::new(
    "access line",
    ACCESS_TARGET,
    Level::INFO,
    Some(file!()),
    Some(line!()),
    Some(module_path!()),
    FieldSet::new(
        &["message", "status", "duration_ms"],
        tracing_core::identify_callsite!(&CALLSITE),
    ),
    Kind::EVENT,
);

/// Logs the access line of a request that ended with `status` after `duration_ms`: directly
/// when rampart's subscriber is current, else as a `tracing` event.
pub(crate) fn log_access(status: u16, duration_ms: f64) {
    if !write_direct(status, duration_ms) {
        access_event(status, duration_ms);
    }
}

/// The level of the `request started` line (`RAMPART_LOG_REQUEST_START`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RequestStartLevel {
    /// Written only when the filter lets debug lines of `rampart::access` through (default).
    #[default]
    Debug,
    /// Written with the access lines: every request leaves a line when it enters, so one that
    /// hangs until its timeout (or takes the process down) is still in the log.
    Info,
}

/// Logs `request started` (target `rampart::access`) for the request entering the edge; the
/// layer adds its id, method and route from the request context. When the level is filtered
/// out, this is the `tracing` macro's level and callsite-interest check, no more (nothing
/// is formatted or allocated).
pub(crate) fn log_request_start(level: RequestStartLevel) {
    match level {
        RequestStartLevel::Debug => tracing::debug!(target: ACCESS_TARGET, "request started"),
        RequestStartLevel::Info => tracing::info!(target: ACCESS_TARGET, "request started"),
    }
}

/// The access line as a `tracing` event, for any subscriber.
pub(crate) fn access_event(status: u16, duration_ms: f64) {
    tracing::info!(target: ACCESS_TARGET, status, duration_ms, "request completed");
}

/// Whether the current subscriber's filter lets the access event through, decided as the
/// `tracing::info!` macro decides it (level, then the callsite's interest, then `enabled`).
fn enabled() -> bool {
    if Level::INFO > STATIC_MAX_LEVEL || Level::INFO > LevelFilter::current() {
        return false;
    }
    let interest = CALLSITE.interest();
    !interest.is_never()
        && (interest.is_always()
            || tracing::dispatcher::get_default(|dispatch| dispatch.enabled(&METADATA)))
}

/// Writes the access line without `tracing` when rampart's subscriber is current (nothing at
/// all when its filter drops the event); `false` when the event must go through `tracing`: a
/// subscriber that is not rampart's, or no request context to read the request's fields from.
pub(crate) fn write_direct(status: u16, duration_ms: f64) -> bool {
    // Before `get_default`: `enabled` may call it, and a nested call inside a scoped dispatcher
    // would see no subscriber.
    let enabled = enabled();
    tracing::dispatcher::get_default(|dispatch| {
        if !dispatch.is::<Installed>() {
            return false;
        }
        let Some(layer) = dispatch.downcast_ref::<InstalledLayer>() else {
            return false;
        };
        !enabled || write_line(layer, status, duration_ms)
    })
}

/// Formats the line as the layer's `on_event` would for this event, and writes it.
fn write_line(layer: &InstalledLayer, status: u16, duration_ms: f64) -> bool {
    LINE.with(|cell| {
        // Borrowed: a line is being written on this thread already, and the layer drops an
        // event in that case too.
        let Ok(mut guard) = cell.try_borrow_mut() else {
            return true;
        };
        let (line, _) = &mut *guard;
        line.clear();
        let in_request = crate::context::with(|context| {
            layer.access_head(line);
            request_fields(
                line,
                context.request_id().as_str(),
                context.trace(),
                context.user_id(),
                context.method(),
                context.route(),
            );
        });
        if in_request.is_none() {
            return false;
        }
        // The event's fields in the visitor's order; neither key is secret or needs escaping.
        line.push_str(",\"status\":");
        push_digits(line, u64::from(status), 1);
        line.push_str(",\"duration_ms\":");
        push_f64(line, duration_ms);
        line.push_str(",\"message\":\"");
        line.push_str(MESSAGE);
        line.push_str("\"}\n");
        let _ = layer.writer.make_writer().write_all(line.as_bytes());
        true
    })
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use axum::extract::MatchedPath;
    use axum::http::HeaderValue;
    use tower::ServiceExt as _;
    use tracing_subscriber::EnvFilter;
    use tracing_subscriber::layer::SubscriberExt as _;

    use super::*;
    use crate::context::{RequestContext, RequestId};

    /// A writer into memory, the `MakeWriter` shape the test capture uses.
    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if let Ok(mut bytes) = self.0.lock() {
                bytes.extend_from_slice(buf);
            }
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Buffer {
        type Writer = Buffer;
        fn make_writer(&'a self) -> Self::Writer {
            self.clone()
        }
    }

    impl Buffer {
        fn take(&self) -> String {
            let bytes = self.0.lock().map(|mut b| std::mem::take(&mut *b));
            String::from_utf8(bytes.unwrap_or_default()).unwrap_or_default()
        }
    }

    /// A matched route that needs escaping, as axum puts it on a request.
    fn matched_path() -> MatchedPath {
        let seen: Arc<Mutex<Option<MatchedPath>>> = Arc::default();
        let slot = seen.clone();
        let router = axum::Router::new().route(
            "/items/{id}/\"quoted\"\\",
            axum::routing::get(move |path: MatchedPath| async move {
                if let Ok(mut slot) = slot.lock() {
                    *slot = Some(path);
                }
            }),
        );
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap_or_else(|e| panic!("runtime: {e}"));
        let request = axum::http::Request::builder()
            .uri("/items/7/\"quoted\"\\")
            .body(axum::body::Body::empty())
            .unwrap_or_else(|e| panic!("request: {e}"));
        let response = runtime.block_on(router.oneshot(request));
        assert_eq!(response.map(|r| r.status().as_u16()).ok(), Some(200));
        let path = seen.lock().ok().and_then(|mut slot| slot.take());
        path.unwrap_or_else(|| panic!("no matched path"))
    }

    /// The line with its timestamp value (the one part that differs between two lines)
    /// replaced, after checking that it has the layer's shape.
    fn masked(line: &str) -> String {
        let prefix = "{\"timestamp\":\"";
        assert!(line.starts_with(prefix), "{line}");
        let stamp = &line[prefix.len()..prefix.len() + 27];
        let b = stamp.as_bytes();
        assert!(
            b[4] == b'-' && b[10] == b'T' && b[19] == b'.' && b[26] == b'Z',
            "timestamp {stamp}"
        );
        format!("{prefix}<time>{}", &line[prefix.len() + 27..])
    }

    #[test]
    fn direct_line_is_the_layers_line_byte_for_byte() {
        let buffer = Buffer::default();
        // A service name that needs escaping, the filter tests use.
        let subscriber =
            super::super::log::installed("svc \"a\"\\\n", buffer.clone(), EnvFilter::new("debug"));
        let route = matched_path();
        let user = uuid::Uuid::now_v7();
        tracing::subscriber::with_default(subscriber, || {
            for (user, route) in [(None, None), (Some(user), Some(route.clone()))] {
                let id = RequestId::accept(&HeaderValue::from_static("req-1.a_b"))
                    .unwrap_or_else(|| panic!("request id"));
                let context = RequestContext::new(id, None, "PATCH", route);
                let ((direct, through_tracing), _) = crate::context::sync_scope(context, || {
                    if let Some(user) = user {
                        crate::context::set_user_id(user);
                    }
                    assert!(
                        write_direct(404, 12.3456),
                        "rampart's subscriber is current"
                    );
                    let direct = buffer.take();
                    access_event(404, 12.3456);
                    (direct, buffer.take())
                });
                assert_eq!(direct.lines().count(), 1, "{direct}");
                assert_eq!(masked(&direct), masked(&through_tracing));
                let parsed: serde_json::Value =
                    serde_json::from_str(&direct).unwrap_or_else(|e| panic!("{e}: {direct}"));
                let keys: Vec<&str> = parsed
                    .as_object()
                    .map(|o| o.keys().map(String::as_str).collect())
                    .unwrap_or_default();
                let mut expected = vec!["timestamp", "level", "service", "target", "request_id"];
                if user.is_some() {
                    expected.push("user_id");
                }
                expected.extend(["method", "route", "status", "duration_ms", "message"]);
                let order: Vec<usize> = expected
                    .iter()
                    .map(|key| direct.find(&format!("\"{key}\":")).unwrap_or(usize::MAX))
                    .collect();
                assert!(order.windows(2).all(|w| w[0] < w[1]), "{direct}");
                assert_eq!(keys.len(), expected.len(), "{direct}");
                assert_eq!(parsed["service"], "svc \"a\"\\\n");
                assert_eq!(parsed["route"], route_label(&user));
                assert_eq!(parsed["duration_ms"], 12.346);
                assert_eq!(
                    parsed["user_id"].as_str(),
                    user.map(|u| u.to_string()).as_deref()
                );
            }
        });

        fn route_label(user: &Option<uuid::Uuid>) -> &'static str {
            // The first request has no route, the second the quoted one.
            if user.is_some() {
                "/items/{id}/\"quoted\"\\"
            } else {
                "unmatched"
            }
        }
    }

    #[test]
    fn filtered_out_writes_nothing_and_other_subscribers_get_the_event() {
        let buffer = Buffer::default();
        let quiet = super::super::log::installed("svc", buffer.clone(), EnvFilter::new("warn"));
        let context = || {
            let id = RequestId::accept(&HeaderValue::from_static("req-2"))
                .unwrap_or_else(|| panic!("request id"));
            RequestContext::new(id, None, "GET", None)
        };
        tracing::subscriber::with_default(quiet, || {
            crate::context::sync_scope(context(), || {
                assert!(
                    write_direct(200, 1.0),
                    "filtered out: handled, nothing to write"
                );
                log_access(200, 1.0);
            });
        });
        assert_eq!(buffer.take(), "");

        // Another subscriber (the same layer in a stack of someone else's): the event goes
        // through `tracing`, and the layer writes it.
        let other = tracing_subscriber::Registry::default()
            .with(EnvFilter::new("info"))
            .with(super::super::log::JsonLogLayer::new("svc", buffer.clone()));
        tracing::subscriber::with_default(other, || {
            crate::context::sync_scope(context(), || {
                assert!(!write_direct(200, 1.0), "not rampart's subscriber");
                log_access(200, 1.0);
            });
        });
        let line = buffer.take();
        assert!(
            line.contains("\"request_id\":\"req-2\"") && line.contains("\"status\":200,"),
            "{line}"
        );

        // No request context: through `tracing` (the layer reads the request from spans).
        let ours = super::super::log::installed("svc", buffer.clone(), EnvFilter::new("info"));
        tracing::subscriber::with_default(ours, || {
            assert!(!write_direct(200, 1.0), "outside a request");
            log_access(200, 1.0);
        });
        assert!(buffer.take().contains("\"message\":\"request completed\""));
    }
}
