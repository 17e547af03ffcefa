//! The TLS configuration of rampart's outgoing HTTPS (the HTTP client, the OpenTelemetry
//! exporter): rustls on ring, verifying with the operating system's trust store. An explicit
//! provider, so the build needs no aws-lc (no cmake) and nothing process-wide is installed.
//!
//! A leaf: it imports nothing from the crate, so both users may call it without importing
//! each other.

use std::sync::Arc;

/// A client configuration on ring with the platform verifier.
pub(crate) fn client_config() -> Result<rustls::ClientConfig, rustls::Error> {
    use rustls_platform_verifier::BuilderVerifierExt;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|builder| builder.with_platform_verifier())
        .map(|builder| builder.with_no_client_auth())
}
