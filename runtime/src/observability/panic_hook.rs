//! The panic hook: a panic inside a request is logged as one JSON `error` event with its
//! message, location and backtrace; the log line carries the request id (the hook runs on the
//! panicking thread, inside the request's context). The response is the edge service's generic
//! 500, which carries none of them. The message goes through the layer's redaction like any
//! value (a panic formatting a token or an email has it replaced, `redact.rs`).

use std::sync::Once;

/// Installs a panic hook that logs a panic inside a request as a JSON `error` event with the
/// message, location and backtrace (and the request id, from the request context). Panics outside
/// requests (startup, background tasks, test assertions) still go to the previous hook as
/// well. Idempotent.
pub fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !crate::context::in_request() {
                previous(info);
                return;
            }
            let message = info
                .payload()
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| info.payload().downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "non-string panic payload".to_owned());
            let location = info
                .location()
                .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()));
            // Captured whatever `RUST_BACKTRACE` says: a panic in a request is rare and the
            // line is the only record of where it came from. Only the log gets it.
            let backtrace = std::backtrace::Backtrace::force_capture();
            tracing::error!(
                panic_message = %message,
                panic_location = location.as_deref().unwrap_or("unknown"),
                backtrace = %backtrace,
                "panic"
            );
        }));
    });
}
