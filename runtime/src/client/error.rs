//! [`ClientError`]: why an outgoing call failed, and what a handler that uses `?` on it
//! answers (a 502, 503 or 504 without internals, a 422 for a refused destination; never the
//! URL).

use axum::http::StatusCode;

use super::guard::Refusal;
use crate::error::{ApiError, ErrorCode};

/// Why an outgoing call failed. The texts name the host, never the path or query (they may
/// carry tokens); [`ApiError`] keeps them for the log only.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The destination is not allowed (a non-public address, a scheme other than http(s)).
    #[error("refused to call {host}: {reason} address")]
    Refused {
        /// The URL's host.
        host: String,
        /// Which kind of address it was.
        reason: Refusal,
    },
    /// No answer within the connect or total timeout, on every attempt.
    #[error("the call to {host} timed out")]
    Timeout {
        /// The URL's host.
        host: String,
    },
    /// No connection could be made, on every attempt.
    #[error("cannot connect to {host}")]
    Connect {
        /// The URL's host.
        host: String,
    },
    /// The upstream answered with an error status ([`Response::error_for_status`]).
    ///
    /// [`Response::error_for_status`]: super::Response::error_for_status
    #[error("{host} answered {status}")]
    Status {
        /// The URL's host.
        host: String,
        /// Its status.
        status: StatusCode,
    },
    /// The answer is larger than the client reads.
    #[error("the answer of {host} is larger than {limit} bytes")]
    BodyTooLarge {
        /// The URL's host.
        host: String,
        /// The client's limit.
        limit: usize,
    },
    /// The exchange failed after connecting (a reset, a malformed answer).
    #[error("the call to {host} failed ({kind})")]
    Transport {
        /// The URL's host.
        host: String,
        /// What failed, as a word (`body`, `request`, `protocol`).
        kind: &'static str,
    },
    /// The answer is not the JSON expected ([`Response::json`](super::Response::json)).
    #[error("the answer of {host} does not decode: {source}")]
    Decode {
        /// The URL's host.
        host: String,
        /// Why.
        source: serde_json::Error,
    },
    /// The URL does not parse, or a header does not encode (a bug of the calling code).
    #[error("invalid request: {0}")]
    Invalid(&'static str),
    /// The request body does not serialize.
    #[error("cannot encode the request body: {0}")]
    Encode(serde_json::Error),
    /// The client could not be built (its TLS configuration).
    #[error("cannot build the HTTP client: {0}")]
    Build(String),
}

impl ClientError {
    /// The failure as a word for logs and metrics (`refused`, `timeout`, `connect`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Refused { .. } => "refused",
            Self::Timeout { .. } => "timeout",
            Self::Connect { .. } => "connect",
            Self::Status { .. } => "status",
            Self::BodyTooLarge { .. } => "body_too_large",
            Self::Transport { .. } => "transport",
            Self::Decode { .. } => "decode",
            Self::Invalid(_) => "invalid",
            Self::Encode(_) => "encode",
            Self::Build(_) => "build",
        }
    }

    /// Whether trying again later may succeed: false for a refused destination and for bugs
    /// of the calling code (a job makes those permanent failures).
    pub fn is_retryable(&self) -> bool {
        !matches!(
            self,
            Self::Refused { .. } | Self::Invalid(_) | Self::Encode(_) | Self::Build(_)
        )
    }
}

/// A handler's `?` on a failed call: the upstream's failure as a gateway error, its cause in
/// the log under the request id, nothing of the URL in the body. A refused destination is the
/// caller's: the address guard exists because URLs come from requests, so it is a 422
/// `DESTINATION_REFUSED` (whose message names no address), never a 5xx.
impl From<ClientError> for ApiError {
    fn from(error: ClientError) -> Self {
        let code = match &error {
            ClientError::Refused { .. } => ErrorCode::DestinationRefused,
            ClientError::Timeout { .. } => ErrorCode::GatewayTimeout,
            ClientError::Connect { .. } => ErrorCode::Unavailable,
            ClientError::Status { status, .. } => match status.as_u16() {
                504 => ErrorCode::GatewayTimeout,
                429 | 503 => ErrorCode::Unavailable,
                _ => ErrorCode::BadGateway,
            },
            ClientError::BodyTooLarge { .. }
            | ClientError::Transport { .. }
            | ClientError::Decode { .. } => ErrorCode::BadGateway,
            ClientError::Invalid(_) | ClientError::Encode(_) | ClientError::Build(_) => {
                ErrorCode::Internal
            }
        };
        ApiError::new(code).with_source(error)
    }
}
