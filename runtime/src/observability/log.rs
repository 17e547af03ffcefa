//! A JSON-lines `tracing` layer written for the hot path.
//!
//! tracing-subscriber's JSON formatter goes through serde and a generic visitor and measured
//! at ~8.5 µs per access-log line on this class of machine (DESIGN.md). This layer writes
//! each line into one reused buffer with a hand-rolled escaper, reads the request id, user id,
//! method and route from the request context (`crate::context`, no per-request span), redacts
//! fields whose names look secret or personal and values shaped like credentials or emails
//! (`redact.rs`), and hands the line to the batching writer (`writer.rs`) so no worker waits
//! on stdout. The access line has a shortcut past this layer when rampart's own subscriber is
//! current (`access_line.rs`);
//! the pieces both write with are in `json.rs`.

use std::cell::RefCell;
use std::fmt::{self, Write as _};
use std::io::{self, Write as _};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::{Context, Layer, Layered};
use tracing_subscriber::prelude::*;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::{EnvFilter, Registry};

use super::json::{Line, escape_into, push_digits, push_f64};
use super::redact::escape_redacted_into;

/// Field names whose values are never written, whatever logs them (values of any field are
/// also scanned for credential and email shapes: `redact.rs`).
const SECRET_MARKERS: &[&str] = &[
    "password",
    "token",
    "secret",
    "authorization",
    "api_key",
    "apikey",
    "cookie",
];

/// Field names whose values are personal data (`log.rs` redacts them like secrets). Redacted,
/// not hashed: an unkeyed digest of an email is reversed by hashing candidate addresses, and
/// lines after authentication already carry `user_id` to correlate by (docs/design-notes.md).
const PII_MARKERS: &[&str] = &["email", "e_mail", "phone", "address", "postal", "birth"];

fn is_secret(name: &str) -> bool {
    // The fields rampart itself logs on every request are known not to be secret.
    if matches!(
        name,
        "status" | "duration_ms" | "message" | "method" | "route" | "user_id" | "request_id"
    ) {
        return false;
    }
    let name = name.as_bytes();
    SECRET_MARKERS.iter().chain(PII_MARKERS).any(|marker| {
        name.windows(marker.len())
            .any(|window| window.eq_ignore_ascii_case(marker.as_bytes()))
    })
}

/// What a `request` span remembers of its request, for events logged on another thread (the
/// SQLite worker runs statements, and logs them, inside the span sqlx carries across).
struct SpanFields {
    request_id: crate::context::RequestId,
    trace: Option<crate::trace::TraceContext>,
    /// The user when the span started (none yet, for the edge's span)...
    user: Option<uuid::Uuid>,
    /// ...and the cell authentication fills in later, which the edge's span shares with the
    /// context.
    shared_user: Option<std::sync::Arc<crate::context::SharedUser>>,
    method: &'static str,
    route: Option<axum::extract::MatchedPath>,
}

/// Records `trace` on a `request` span made before the request's context knew it (the
/// exporter gives a span its ids when it is made), so that lines logged on another thread
/// inside the span carry it too.
pub fn record_trace_on_span(span: &tracing::Span, trace: &crate::trace::TraceContext) {
    span.with_subscriber(|(id, dispatch)| {
        let Some(registry) = dispatch.downcast_ref::<Registry>() else {
            return;
        };
        if let Some(span) = registry.span(id)
            && let Some(fields) = span.extensions_mut().get_mut::<SpanFields>()
        {
            fields.trace = Some(trace.clone());
        }
    });
}

/// Appends the request's fields, in the order every line has them.
pub(super) fn request_fields(
    line: &mut Line,
    request_id: &str,
    trace: Option<&crate::trace::TraceContext>,
    user: Option<uuid::Uuid>,
    method: &str,
    route: Option<&str>,
) {
    line.push_str(",\"request_id\":\"");
    // Accepted ids are `[A-Za-z0-9._-]` and generated ones UUIDs: nothing to escape.
    line.push_str(request_id);
    line.push('"');
    if let Some(trace) = trace {
        trace_fields(line, trace);
    }
    if let Some(user) = user {
        let mut buffer = uuid::Uuid::encode_buffer();
        line.push_str(",\"user_id\":\"");
        line.push_str(user.hyphenated().encode_lower(&mut buffer));
        line.push('"');
    }
    line.push_str(",\"method\":\"");
    line.push_str(method);
    line.push_str("\",\"route\":\"");
    escape_into(line, route.unwrap_or("unmatched"));
    line.push('"');
}

/// Appends what a job's line names of it: the id of the request that enqueued it and the
/// job's trace (a span in that request's trace), in the order request lines have them.
fn job_fields(line: &mut Line, origin: &crate::context::JobOrigin) {
    if let Some(request_id) = &origin.request_id {
        line.push_str(",\"request_id\":\"");
        // An accepted id: `[A-Za-z0-9._-]`, nothing to escape.
        line.push_str(request_id.as_str());
        line.push('"');
    }
    if let Some(trace) = &origin.trace {
        trace_fields(line, trace);
    }
}

/// Appends `trace`'s ids.
fn trace_fields(line: &mut Line, trace: &crate::trace::TraceContext) {
    // Hex digits: nothing to escape.
    line.push_str(",\"trace_id\":\"");
    line.push_str(std::str::from_utf8(&trace.trace_id_hex()).unwrap_or_default());
    line.push_str("\",\"span_id\":\"");
    line.push_str(std::str::from_utf8(&trace.span_id_hex()).unwrap_or_default());
    line.push('"');
}

/// Writes an event's fields as `,"key":value` pairs; `message` goes to its own slot.
struct JsonVisitor<'a> {
    out: &'a mut Line,
    message: &'a mut String,
}

impl JsonVisitor<'_> {
    fn key(&mut self, name: &str) {
        self.out.push_str(",\"");
        escape_into(self.out, name);
        self.out.push_str("\":");
    }
    fn string(&mut self, name: &str, value: &str) {
        if name == "message" {
            self.message.push_str(value);
            return;
        }
        self.key(name);
        if is_secret(name) {
            self.out.push_str("\"[redacted]\"");
        } else {
            self.out.push('"');
            escape_redacted_into(self.out, value);
            self.out.push('"');
        }
    }
    /// A number written digit by digit (`core::fmt` costs more than the rest of the line).
    fn integer(&mut self, name: &str, negative: bool, magnitude: u64) {
        self.key(name);
        if is_secret(name) {
            self.out.push_str("\"[redacted]\"");
            return;
        }
        if negative {
            self.out.push('-');
        }
        push_digits(self.out, magnitude, 1);
    }
    fn raw(&mut self, name: &str, value: fmt::Arguments<'_>) {
        self.key(name);
        if is_secret(name) {
            self.out.push_str("\"[redacted]\"");
        } else {
            let _ = self.out.write_fmt(value);
        }
    }
}

impl Visit for JsonVisitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.string(field.name(), value);
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
            return;
        }
        let text = format!("{value:?}");
        self.string(field.name(), &text);
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.integer(field.name(), value < 0, value.unsigned_abs());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.integer(field.name(), false, value);
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.raw(field.name(), format_args!("{value}"));
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.key(field.name());
        if is_secret(field.name()) {
            self.out.push_str("\"[redacted]\"");
        } else {
            push_f64(self.out, value);
        }
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        let chain = crate::error::error_chain(value);
        self.string(field.name(), &chain);
    }
}

thread_local! {
    pub(super) static LINE: RefCell<(Line, String)> = const { RefCell::new((Line::new(), String::new())) };
    /// `YYYY-MM-DDTHH:MM:SS.` of the current second: formatted once per second, not per line.
    static SECOND: RefCell<(u64, String)> = const { RefCell::new((u64::MAX, String::new())) };
}

/// Appends an RFC 3339 UTC timestamp with microseconds.
pub(super) fn write_timestamp(out: &mut Line) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let seconds = now.as_secs();
    SECOND.with(|cell| {
        let Ok(mut cached) = cell.try_borrow_mut() else {
            return;
        };
        if cached.0 != seconds {
            cached.1.clear();
            let datetime = chrono::DateTime::from_timestamp(i64::try_from(seconds).unwrap_or(0), 0)
                .unwrap_or_default();
            let _ = write!(cached.1, "{}.", datetime.format("%Y-%m-%dT%H:%M:%S"));
            cached.0 = seconds;
        }
        out.push_str(&cached.1);
    });
    push_digits(out, u64::from(now.subsec_micros()), 6);
    out.push('Z');
}

/// The JSON-lines layer; `W` is where lines go (stdout through a non-blocking writer, or a
/// test's buffer).
pub struct JsonLogLayer<W> {
    /// The service name as JSON string contents, escaped once rather than per line.
    service: String,
    /// What follows the timestamp on every access line: level, service and target, which are
    /// the same on all of them (`access_line.rs`).
    access_head: String,
    pub(super) writer: W,
}

impl<W> JsonLogLayer<W> {
    /// A layer that stamps every line with `service`.
    pub fn new(service: impl Into<String>, writer: W) -> Self {
        let mut escaped = Line::new();
        escape_into(&mut escaped, &service.into());
        let service = String::from_utf8(escaped.into_bytes()).unwrap_or_default();
        let access_head = format!(
            "\",\"level\":\"INFO\",\"service\":\"{service}\",\"target\":\"{}\"",
            super::access_line::ACCESS_TARGET
        );
        Self {
            service,
            access_head,
            writer,
        }
    }

    /// The start of an access line, up to and with its target: what [`Self::head`] writes for
    /// an INFO event of the access target, in two pieces instead of seven.
    pub(super) fn access_head(&self, line: &mut Line) {
        line.push_str("{\"timestamp\":\"");
        write_timestamp(line);
        line.push_str(&self.access_head);
    }

    /// How every line starts, up to the target's value: `{"timestamp":…,"level":…,
    /// "service":…,"target":"` (the caller writes the target, escaped unless known clean).
    pub(super) fn head(&self, line: &mut Line, level: &tracing::Level) {
        line.push_str("{\"timestamp\":\"");
        write_timestamp(line);
        line.push_str("\",\"level\":\"");
        line.push_str(level.as_str());
        line.push_str("\",\"service\":\"");
        line.push_str(&self.service);
        line.push_str("\",\"target\":\"");
    }
}

/// Writes one whole line: [`MakeWriter`] with its type erased.
trait LineSink: Send + Sync {
    fn write_line(&self, line: &[u8]) -> io::Result<()>;
}

impl<W> LineSink for W
where
    W: for<'w> MakeWriter<'w> + Send + Sync,
{
    fn write_line(&self, line: &[u8]) -> io::Result<()> {
        self.make_writer().write_all(line)
    }
}

/// The writer of the subscriber [`init_logging_with`] installs, its type erased so that the
/// subscriber has one concrete type, [`Installed`]. The type is private to this crate, so no
/// subscriber built elsewhere has it: finding it through `Dispatch::downcast_ref` proves the
/// current subscriber is rampart's own (its filter and its one layer), which is what lets the
/// access line skip `tracing`'s dispatch (`access_line.rs`).
pub(super) struct InstalledWriter(Box<dyn LineSink>);

/// [`InstalledWriter`]'s writer: each `write` is one whole line from the layer, written with
/// one `write_all` to the wrapped writer, as the layer would write it without the erasure.
pub(super) struct LineWriter<'a>(&'a dyn LineSink);

impl io::Write for LineWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write_line(buf)?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for InstalledWriter {
    type Writer = LineWriter<'a>;
    fn make_writer(&'a self) -> Self::Writer {
        LineWriter(&*self.0)
    }
}

/// The layer of the subscriber [`init_logging_with`] installs.
pub(super) type InstalledLayer = JsonLogLayer<InstalledWriter>;

/// The subscriber [`init_logging_with`] installs: the filter, then the JSON layer.
pub(super) type Installed = Layered<InstalledLayer, Layered<EnvFilter, Registry>>;

/// Builds [`Installed`] (also for tests, which make it current for a scope).
pub(super) fn installed<W>(service: &str, writer: W, filter: EnvFilter) -> Installed
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    Registry::default().with(filter).with(JsonLogLayer::new(
        service,
        InstalledWriter(Box::new(writer)),
    ))
}

impl<S, W> Layer<S> for JsonLogLayer<W>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + 'static,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        // A request's span, or a task's it spawned (`crate::task::spawn`): worker-thread lines
        // inside them (sqlx on SQLite) read the request's fields from the span.
        if !matches!(attrs.metadata().name(), "request" | "task") {
            return;
        }
        let fields = crate::context::with(|context| SpanFields {
            request_id: context.request_id().clone(),
            trace: context.trace().cloned(),
            user: context.user_id(),
            shared_user: context.shared_user().cloned(),
            method: context.method(),
            route: context.matched_path().cloned(),
        });
        if let (Some(fields), Some(span)) = (fields, ctx.span(id)) {
            span.extensions_mut().insert(fields);
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        LINE.with(|cell| {
            let Ok(mut guard) = cell.try_borrow_mut() else {
                return;
            };
            let (line, message) = &mut *guard;
            line.clear();
            message.clear();
            let metadata = event.metadata();
            self.head(line, metadata.level());
            escape_into(line, metadata.target());
            line.push('"');
            let in_request = crate::context::with(|context| {
                request_fields(
                    line,
                    context.request_id().as_str(),
                    context.trace(),
                    context.user_id(),
                    context.method(),
                    context.route(),
                );
            });
            let in_job = in_request.is_none()
                && crate::context::with_job_origin(|origin| job_fields(line, origin)).is_some();
            if in_request.is_none()
                && !in_job
                && let Some(scope) = ctx.event_scope(event)
            {
                for span in scope.from_root() {
                    if let Some(fields) = span.extensions().get::<SpanFields>() {
                        request_fields(
                            line,
                            fields.request_id.as_str(),
                            fields.trace.as_ref(),
                            fields
                                .shared_user
                                .as_ref()
                                .and_then(|shared| shared.get())
                                .or(fields.user),
                            fields.method,
                            fields.route.as_ref().map(|r| r.as_str()),
                        );
                    }
                }
            }
            event.record(&mut JsonVisitor { out: line, message });
            line.push_str(",\"message\":\"");
            escape_redacted_into(line, message);
            line.push_str("\"}\n");
            let _ = self.writer.make_writer().write_all(line.as_bytes());
        });
    }
}

/// Keeps the non-blocking log writer alive; dropping it flushes pending lines.
#[must_use = "dropping the guard stops the log writer"]
pub struct LogGuard {
    /// Dropped first: the last spans are exported while the writer still takes lines.
    #[cfg(feature = "otel")]
    _export: Option<super::otel::Export>,
    _writer: Option<super::BatchGuard>,
}

impl fmt::Debug for LogGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LogGuard")
    }
}

/// Installs JSON logging to stdout through the batching writer, filtered by `RUST_LOG`
/// (default `info`). Also installs the panic hook that logs panics with their location.
/// When a global subscriber is already installed the guard holds nothing.
pub fn init_logging(service: &str) -> LogGuard {
    match super::BatchWriter::new(std::io::stdout()) {
        Ok((writer, guard)) => {
            let installed = install(service, writer, "info");
            LogGuard {
                _writer: installed.is_some().then_some(guard),
                #[cfg(feature = "otel")]
                _export: installed.flatten(),
            }
        }
        // No thread for the writer: log synchronously rather than not at all.
        Err(_) => {
            let _installed = install(service, std::io::stdout, "info");
            LogGuard {
                #[cfg(feature = "otel")]
                _export: _installed.flatten(),
                _writer: None,
            }
        }
    }
}

/// Installs JSON logging to any writer, filtered by `RUST_LOG` or else `default_filter`;
/// `false` when a global subscriber already exists.
pub fn init_logging_with<W>(service: &str, writer: W, default_filter: &str) -> bool
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    match install(service, writer, default_filter) {
        // No guard to hold it: the span export runs for the rest of the process (spans of
        // its last batch may be lost at exit; `init_logging`'s guard flushes them).
        #[cfg(feature = "otel")]
        Some(Some(export)) => {
            super::otel::keep_for_the_process(export);
            true
        }
        Some(_) => true,
        None => false,
    }
}

/// What [`install`] keeps running besides the writer: the span export, with the `otel`
/// feature and the variables that ask for it.
#[cfg(feature = "otel")]
type Kept = Option<super::otel::Export>;
#[cfg(not(feature = "otel"))]
type Kept = ();

/// Installs the subscriber (and, with the `otel` feature, the span export when the
/// environment asks for it); `None` when a global subscriber already exists.
fn install<W>(service: &str, writer: W, default_filter: &str) -> Option<Kept>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    #[cfg(feature = "otel")]
    let (subscriber, kept) = {
        let (layer, export) = match super::otel::layer::<Installed>(service) {
            Some((layer, export)) => (Some(layer), Some(export)),
            None => (None, None),
        };
        // The filter is the subscriber's, before every layer: rampart's spans pass it
        // whatever level the log lines are filtered at (`RUST_LOG=warn` keeps its traces).
        let filter = match (&layer, super::otel::SPANS_DIRECTIVE.parse()) {
            (Some(_), Ok(directive)) => filter.add_directive(directive),
            _ => filter,
        };
        (installed(service, writer, filter).with(layer), export)
    };
    #[cfg(not(feature = "otel"))]
    let subscriber = installed(service, writer, filter);
    #[cfg(not(feature = "otel"))]
    let kept = ();
    if tracing::subscriber::set_global_default(subscriber).is_err() {
        return None;
    }
    super::install_panic_hook();
    Some(kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lines written into memory.
    #[derive(Clone, Default)]
    struct Lines(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl io::Write for Lines {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if let Ok(mut bytes) = self.0.lock() {
                bytes.extend_from_slice(buf);
            }
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Lines {
        type Writer = Lines;
        fn make_writer(&'a self) -> Self::Writer {
            self.clone()
        }
    }

    #[test]
    fn shapes_are_redacted_in_messages_fields_debug_values_and_errors() {
        let lines = Lines::default();
        let subscriber = installed("svc", lines.clone(), EnvFilter::new("info"));
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl";
        let key = "rk_abcdefghijkl_0123456789abcdefghijklmnopqrstuv";
        #[derive(Debug)]
        #[allow(dead_code)] // read through Debug only
        struct Presented<'a> {
            key: &'a str,
        }
        #[derive(Debug, thiserror::Error)]
        #[error("no account for {0}")]
        struct Unknown(&'static str);
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!("rejected {jwt} at the door");
            tracing::info!(presented = ?Presented { key }, "key");
            tracing::info!(
                error = &Unknown("ann@example.org") as &dyn std::error::Error,
                "lookup"
            );
            tracing::info!(email = "plain", contact_phone = 5551234_u64, "named");
        });
        let written = lines.0.lock().map(|b| b.clone()).unwrap_or_default();
        let written = String::from_utf8(written).unwrap_or_default();
        let parsed: Vec<serde_json::Value> = written
            .lines()
            .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
            .collect();
        assert_eq!(parsed.len(), 4, "{written}");
        assert_eq!(parsed[0]["message"], "rejected [redacted] at the door");
        assert_eq!(parsed[1]["presented"], "Presented { key: \"[redacted]\" }");
        assert_eq!(parsed[2]["error"], "no account for [redacted]");
        assert_eq!(
            parsed[3]["email"], "[redacted]",
            "by name, whatever the value"
        );
        assert_eq!(parsed[3]["contact_phone"], "[redacted]");
        for secret in [jwt, key, "ann@example.org"] {
            assert!(!written.contains(secret), "{written}");
        }
    }

    #[test]
    fn secrets() {
        assert!(is_secret("password"));
        assert!(is_secret("refresh_token"));
        assert!(is_secret("Authorization"));
        assert!(!is_secret("route"));
        assert!(is_secret("email"));
        assert!(is_secret("owner_e_mail"));
        assert!(is_secret("phone_number"));
        assert!(is_secret("billing_address"));
    }
}
