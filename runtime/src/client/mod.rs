//! Outgoing HTTP calls: [`HttpClient`], a `reqwest` client that a handler, service or job
//! receives as a typed dependency (`Dep<HttpClient>`, `ctx.dep::<HttpClient>()` in a job).
//!
//! Every call:
//! - carries `X-Request-ID` (the current request's id, or in a job the enqueuing request's)
//!   and a `traceparent` naming a child span of the current trace (none outside a trace);
//! - has a connect timeout and a timeout per attempt (2 s and 10 s by default), and a deadline
//!   for the whole call, retries and their backoff included (twice the attempt timeout by
//!   default): no attempt runs past it, and a retry is made only when at least 50 ms (or the
//!   attempt timeout, if shorter) is left after its backoff;
//! - is retried, when its method is idempotent (GET, HEAD, PUT, DELETE, OPTIONS) or the caller
//!   opted in ([`Call::retry_non_idempotent`]), on connect errors, timeouts and 502/503/504,
//!   with exponential backoff and full jitter, at most 3 attempts by default;
//! - refuses non-public destinations (loopback, private, link-local, ... see [`guard`]) after
//!   DNS resolution, unless the client's [`AddressPolicy`] allows them;
//! - follows no redirect (a 3xx is answered to the caller as it came);
//! - logs one line (target `rampart::client`: method, host, path without the query and with
//!   every segment that may be a credential written `:redacted`, status, duration, attempts;
//!   never headers or bodies; no path at all after [`Call::log_without_path`]) and records
//!   `rampart_client_*` metrics (labelled by host, never by path).
//!
//! [`HttpClient::check_destination`] applies the destination checks of a call without calling:
//! for URLs that come from users, to refuse them when they are given.

mod error;
pub mod guard;
mod log_path;

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use bytes::Bytes;
use reqwest::Url;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The header and status types calls take and answers carry (axum's `http`, one version).
pub use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
pub use error::ClientError;
pub use guard::{AddressPolicy, Refusal};

use crate::context::REQUEST_ID_HEADER;
use crate::trace::{TRACEPARENT, TRACESTATE, TraceContext};

/// How many distinct hosts get their own metric label; later ones share `other`, so a client
/// that calls user-supplied URLs (webhooks) cannot grow the metric series without bound.
const HOST_LABELS: usize = 64;

/// An HTTP client for outgoing calls; cheap to clone (one connection pool shared).
#[derive(Clone)]
pub struct HttpClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    policy: Arc<AddressPolicy>,
    max_attempts: u32,
    timeout: Duration,
    /// `None`: twice the timeout a call uses.
    deadline: Option<Duration>,
    backoff_base: Duration,
    backoff_max: Duration,
    max_body: usize,
    /// Bounds [`HttpClient::check_destination`]'s name lookup as it bounds a call's connect.
    connect_timeout: Duration,
    hosts: Mutex<HashSet<String>>,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient")
            .field("policy", &self.inner.policy)
            .field("max_attempts", &self.inner.max_attempts)
            .finish_non_exhaustive()
    }
}

/// The settings of an [`HttpClient`].
#[derive(Debug, Clone)]
pub struct HttpClientBuilder {
    connect_timeout: Duration,
    timeout: Duration,
    /// `None`: twice the timeout a call uses.
    deadline: Option<Duration>,
    max_attempts: u32,
    backoff_base: Duration,
    backoff_max: Duration,
    max_body: usize,
    policy: AddressPolicy,
    user_agent: String,
}

impl Default for HttpClientBuilder {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(2),
            timeout: Duration::from_secs(10),
            deadline: None,
            max_attempts: 3,
            backoff_base: Duration::from_millis(100),
            backoff_max: Duration::from_secs(2),
            max_body: 8 * 1024 * 1024,
            policy: AddressPolicy::default(),
            user_agent: concat!("rampart/", env!("CARGO_PKG_VERSION")).to_owned(),
        }
    }
}

impl HttpClientBuilder {
    /// How long connecting (TCP and TLS) may take, per attempt (default 2 s; between 1 ms and a
    /// day).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = bounded(timeout);
        self
    }

    /// How long one attempt may take from connecting to the end of the answer's body (default
    /// 10 s; between 1 ms and a day).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = bounded(timeout);
        self
    }

    /// How long a whole call may take, every attempt and the backoff between them included
    /// (default twice the attempt timeout the call uses, [`timeout`](Self::timeout) or the
    /// call's own): the last attempt is cut at the deadline, and a retry is made only when at
    /// least 50 ms (or the attempt timeout, if shorter) is left after its backoff (otherwise
    /// the call answers what the last attempt got). Between 1 ms and a day.
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = Some(bounded(deadline));
        self
    }

    /// How many attempts a retryable call gets, the first included (default 3; at least 1).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// The backoff before attempt n+1 is a random delay up to `base * 2^(n-1)`, capped at
    /// `max` (defaults 100 ms and 2 s).
    pub fn backoff(mut self, base: Duration, max: Duration) -> Self {
        self.backoff_base = base;
        self.backoff_max = max;
        self
    }

    /// The largest answer body read (default 8 MiB); a larger one is
    /// [`ClientError::BodyTooLarge`].
    pub fn max_body(mut self, bytes: usize) -> Self {
        self.max_body = bytes;
        self
    }

    /// Which non-public destinations are allowed (none by default).
    pub fn policy(mut self, policy: AddressPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Loopback destinations allowed (tests, local runs). Shorthand on the policy.
    pub fn allow_loopback(mut self, allow: bool) -> Self {
        self.policy = self.policy.allow_loopback(allow);
        self
    }

    /// The `User-Agent` sent (default `rampart/<version>`).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// The client.
    pub fn build(self) -> Result<HttpClient, ClientError> {
        let policy = Arc::new(self.policy);
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(
                crate::tls::client_config()
                    .map_err(|error| ClientError::Build(error.to_string()))?,
            )
            .connect_timeout(self.connect_timeout)
            .timeout(self.timeout)
            // A redirect would be a second destination chosen by the upstream: the caller sees
            // the 3xx and decides (see docs/design-notes.md, "Outgoing calls").
            .redirect(reqwest::redirect::Policy::none())
            // A proxy resolves names itself, past the address check: none, not even from the
            // environment's HTTP(S)_PROXY.
            .no_proxy()
            .dns_resolver(Arc::new(guard::GuardedResolver {
                policy: policy.clone(),
            }))
            .user_agent(self.user_agent)
            .build()
            .map_err(|error| ClientError::Build(error.to_string()))?;
        Ok(HttpClient {
            inner: Arc::new(Inner {
                http,
                policy,
                max_attempts: self.max_attempts,
                timeout: self.timeout,
                deadline: self.deadline,
                backoff_base: self.backoff_base,
                backoff_max: self.backoff_max,
                max_body: self.max_body,
                connect_timeout: self.connect_timeout,
                hosts: Mutex::new(HashSet::new()),
            }),
        })
    }
}

impl HttpClient {
    /// A client with the default settings (see [`HttpClientBuilder`]).
    pub fn new() -> Result<Self, ClientError> {
        Self::builder().build()
    }

    /// The settings, to change some before building.
    pub fn builder() -> HttpClientBuilder {
        HttpClientBuilder::default()
    }

    /// A call of `method` to `url`, sent by [`Call::send`].
    pub fn request(&self, method: Method, url: &str) -> Call<'_> {
        Call {
            client: self,
            method,
            url: parse_url(url),
            headers: HeaderMap::new(),
            body: None,
            retry_non_idempotent: false,
            path_in_log: true,
            timeout: None,
            deadline: None,
        }
    }

    /// Whether a call to `url` would be allowed to leave, checked as a call checks it: the URL
    /// parses ([`ClientError::Invalid`]), its scheme is http or https and its host, an IP
    /// literal or every address the name resolves to now, passes the client's
    /// [`AddressPolicy`] ([`ClientError::Refused`]); a name that does not resolve is
    /// [`ClientError::Connect`], one that does not resolve within the connect timeout
    /// [`ClientError::Timeout`]. Nothing is sent and no call is logged or counted.
    ///
    /// For a URL a user gives (a webhook): refused when it is given rather than when it is
    /// called. The call is checked again when made: a name may resolve elsewhere by then.
    pub async fn check_destination(&self, url: &str) -> Result<(), ClientError> {
        let url = parse_url(url)?;
        let host = destination_host(&url)?;
        if let Some(ip) = guard::literal_address(&host) {
            return self
                .inner
                .policy
                .check(None, ip)
                .map_err(|reason| ClientError::Refused { host, reason });
        }
        // Bounded like a call's connect (which includes its lookup): a name served slowly on
        // purpose cannot hold the request that checks it.
        let lookup = guard::allowed_addresses(&self.inner.policy, &host);
        match tokio::time::timeout(self.inner.connect_timeout, lookup).await {
            Err(_) => Err(ClientError::Timeout { host }),
            Ok(Ok(_)) => Ok(()),
            Ok(Err(guard::Unreachable::Refused(reason))) => {
                Err(ClientError::Refused { host, reason })
            }
            Ok(Err(guard::Unreachable::Lookup(_))) => Err(ClientError::Connect { host }),
        }
    }

    /// A GET.
    pub fn get(&self, url: &str) -> Call<'_> {
        self.request(Method::GET, url)
    }

    /// A POST (not retried unless [`Call::retry_non_idempotent`]).
    pub fn post(&self, url: &str) -> Call<'_> {
        self.request(Method::POST, url)
    }

    /// A PUT.
    pub fn put(&self, url: &str) -> Call<'_> {
        self.request(Method::PUT, url)
    }

    /// A PATCH (not retried unless [`Call::retry_non_idempotent`]).
    pub fn patch(&self, url: &str) -> Call<'_> {
        self.request(Method::PATCH, url)
    }

    /// A DELETE.
    pub fn delete(&self, url: &str) -> Call<'_> {
        self.request(Method::DELETE, url)
    }

    /// The metric label of `host`: itself for the first hosts seen, `other` after that.
    fn host_label(&self, host: &str) -> String {
        let mut hosts = self
            .inner
            .hosts
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if hosts.contains(host) {
            return host.to_owned();
        }
        if hosts.len() < HOST_LABELS {
            hosts.insert(host.to_owned());
            return host.to_owned();
        }
        "other".to_owned()
    }

    /// A random delay up to `base * 2^(attempt-1)`, capped (full jitter: retries of many
    /// callers spread out instead of arriving together).
    fn backoff(&self, attempt: u32) -> Duration {
        let ceiling = self
            .inner
            .backoff_base
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(16))
            .min(self.inner.backoff_max);
        let nanos = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
        match nanos {
            0 => Duration::ZERO,
            _ => {
                Duration::from_nanos(crate::context::next_random() % nanos.saturating_add(1).max(1))
            }
        }
    }
}

/// One outgoing call being prepared ([`HttpClient::get`], ...).
#[must_use = "a call does nothing until sent"]
pub struct Call<'a> {
    client: &'a HttpClient,
    method: Method,
    url: Result<Url, ClientError>,
    headers: HeaderMap,
    body: Option<Bytes>,
    retry_non_idempotent: bool,
    path_in_log: bool,
    timeout: Option<Duration>,
    deadline: Option<Duration>,
}

impl Call<'_> {
    /// Adds a header. `X-Request-ID`, `traceparent` and `tracestate` are the client's own and
    /// are replaced when sent.
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.append(name, value);
        self
    }

    /// The body as JSON (`Content-Type: application/json`).
    pub fn json<T: Serialize + ?Sized>(mut self, value: &T) -> Result<Self, ClientError> {
        let bytes = serde_json::to_vec(value).map_err(ClientError::Encode)?;
        self.headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        self.body = Some(Bytes::from(bytes));
        Ok(self)
    }

    /// The body as given (set `Content-Type` with [`Call::header`]).
    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = Some(body.into());
        self
    }

    /// This call's timeout per attempt, instead of the client's (a slow report, a fast probe).
    /// Without a deadline set on the call or the client, the call's deadline is twice this.
    /// Between 1 ms and a day.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(bounded(timeout));
        self
    }

    /// This call's deadline, retries included, instead of the client's (see
    /// [`HttpClientBuilder::deadline`]). Between 1 ms and a day.
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = Some(bounded(deadline));
        self
    }

    /// Retries this call like an idempotent one although its method is not (POST, PATCH): for
    /// an upstream that deduplicates (an idempotency key, a delivery id).
    pub fn retry_non_idempotent(mut self) -> Self {
        self.retry_non_idempotent = true;
        self
    }

    /// Logs this call's line without its path, for a URL whose path is a secret in every
    /// segment or whose shape is not known (a user-supplied webhook): the host, the status
    /// and the rest stay.
    pub fn log_without_path(mut self) -> Self {
        self.path_in_log = false;
        self
    }

    /// Sends the call, retrying as the module says; the answer whatever its status (see
    /// [`Response::error_for_status`]).
    pub async fn send(self) -> Result<Response, ClientError> {
        let Call {
            client,
            method,
            url,
            headers,
            body,
            retry_non_idempotent,
            path_in_log,
            timeout,
            deadline,
        } = self;
        let url = url?;
        let path = path_in_log.then(|| log_path::loggable_path(url.path()));
        let host = match destination_host(&url) {
            Ok(host) => host,
            Err(error) => {
                record_refusal(Refusal::Scheme);
                return Err(error);
            }
        };
        let label = client.host_label(&host);
        let method_label = method_label(&method);
        // An IP literal never reaches the resolver: check it here.
        if let Some(ip) = guard::literal_address(&host)
            && let Err(reason) = client.inner.policy.check(None, ip)
        {
            return Err(refused(host, reason, &method, path.as_deref()));
        }
        let retryable = retry_non_idempotent || is_idempotent(&method);
        let started = Instant::now();
        let timeout = timeout.unwrap_or(client.inner.timeout);
        // The call's deadline, else the client's, else twice the timeout this call uses (all
        // bounded by `MAX_WAIT`, so adding one to an `Instant` cannot overflow).
        let budget = deadline
            .or(client.inner.deadline)
            .unwrap_or_else(|| timeout.saturating_mul(2));
        let ends = started + budget;
        // An attempt is worth making only with this much time left (a retry woken late, or
        // backed off to the edge of the deadline, would time out at once and hide the answer
        // the previous attempt got).
        let least = timeout.min(MIN_ATTEMPT);
        let mut attempt = 1;
        let mut left = budget;
        let outcome = loop {
            // Never past the deadline: the attempt gets what is left of it, at most its own.
            let result = send_once(
                client,
                &method,
                &url,
                &headers,
                body.as_ref(),
                timeout.min(left),
            )
            .await
            .map_err(|error| classify_error(&error, host.clone()));
            let pause = client.backoff(attempt);
            let again = retryable
                && attempt < client.inner.max_attempts
                && pause.saturating_add(least) < ends.saturating_duration_since(Instant::now())
                && match &result {
                    Ok(response) => matches!(response.status().as_u16(), 502..=504),
                    // A refusal of the resolved address is final (asking again resolves
                    // again): `Refused`, not `Connect`.
                    Err(error) => matches!(
                        error,
                        ClientError::Connect { .. } | ClientError::Timeout { .. }
                    ),
                };
            if !again {
                break result;
            }
            tokio::time::sleep(pause).await;
            left = ends.saturating_duration_since(Instant::now());
            if left < least {
                break result;
            }
            metrics::counter!("rampart_client_retries_total", "host" => label.clone()).increment(1);
            attempt += 1;
        };
        let outcome = match outcome {
            Ok(response) => read(response, client.inner.max_body, &host).await,
            Err(error) => Err(error),
        };
        let elapsed = started.elapsed();
        let duration_ms = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX);
        let path = path.as_deref();
        metrics::histogram!("rampart_client_request_duration_seconds", "host" => label.clone())
            .record(elapsed.as_secs_f64());
        match &outcome {
            Ok(response) => {
                metrics::counter!(
                    "rampart_client_requests_total",
                    "host" => label,
                    "method" => method_label,
                    "status" => response.status.as_str().to_owned()
                )
                .increment(1);
                tracing::info!(
                    target: "rampart::client",
                    method = method_label,
                    host = %host,
                    path,
                    status = response.status.as_u16(),
                    duration_ms,
                    attempts = attempt,
                    "outgoing call"
                );
            }
            Err(error) => {
                metrics::counter!(
                    "rampart_client_requests_total",
                    "host" => label,
                    "method" => method_label,
                    "status" => "error"
                )
                .increment(1);
                if let ClientError::Refused { reason, .. } = error {
                    record_refusal(*reason);
                }
                tracing::warn!(
                    target: "rampart::client",
                    method = method_label,
                    host = %host,
                    path,
                    error = error.kind(),
                    duration_ms,
                    attempts = attempt,
                    "outgoing call failed"
                );
            }
        }
        outcome
    }
}

/// The longest timeout or deadline a call takes (a longer one is this): a day.
const MAX_WAIT: Duration = Duration::from_secs(24 * 60 * 60);

/// The least time left for which a retry is made (or the attempt timeout, when shorter).
const MIN_ATTEMPT: Duration = Duration::from_millis(50);

/// `wait` between 1 ms and [`MAX_WAIT`].
fn bounded(wait: Duration) -> Duration {
    wait.clamp(Duration::from_millis(1), MAX_WAIT)
}

/// One attempt: the request with this attempt's span and the request id.
async fn send_once(
    client: &HttpClient,
    method: &Method,
    url: &Url,
    extra: &HeaderMap,
    body: Option<&Bytes>,
    timeout: Duration,
) -> reqwest::Result<reqwest::Response> {
    let mut request = reqwest::Request::new(method.clone(), url.clone());
    // From connecting to the end of the body (which `read` takes within it).
    *request.timeout_mut() = Some(timeout);
    let headers = request.headers_mut();
    headers.extend(extra.clone());
    headers.remove(TRACEPARENT);
    headers.remove(TRACESTATE);
    headers.remove(REQUEST_ID_HEADER);
    if let Some(id) = crate::context::origin_request_id() {
        headers.insert(REQUEST_ID_HEADER, id.header_value().clone());
    }
    let host = url.host_str().unwrap_or_default();
    let (exported, trace) = match crate::spans::client(method.as_str(), host) {
        Some((span, trace)) => (Some(span), Some(trace)),
        None => (None, call_span()),
    };
    if let Some(trace) = trace {
        headers.insert(TRACEPARENT, trace.header_value());
        if let Some(state) = &trace.state {
            headers.insert(TRACESTATE, state.clone());
        }
    }
    if let Some(body) = body {
        *request.body_mut() = Some(reqwest::Body::from(body.clone()));
    }
    let sent = crate::spans::in_span(exported.clone(), client.inner.http.execute(request)).await;
    if let (Some(span), Ok(response)) = (&exported, &sent) {
        span.record("http.response.status_code", response.status().as_u16());
    }
    sent
}

/// The span an attempt names as the upstream's parent when spans are not exported (with them,
/// `crate::spans::client` makes a real client span under the current one): a child of the
/// current request's span (or of the running job's), `None` outside a trace.
fn call_span() -> Option<TraceContext> {
    let parent = crate::context::origin_trace()?;
    let span_id = loop {
        let id = crate::context::next_random();
        if id != 0 {
            break id;
        }
    };
    Some(parent.with_span(span_id))
}

fn is_idempotent(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS
    )
}

/// The method as a bounded label.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

fn record_refusal(reason: Refusal) {
    metrics::counter!("rampart_client_refused_total", "reason" => reason.as_str()).increment(1);
}

/// `url` parsed, or the calling code's [`ClientError::Invalid`] (the text names nothing of it).
fn parse_url(url: &str) -> Result<Url, ClientError> {
    Url::parse(url).map_err(|_| ClientError::Invalid("the URL does not parse"))
}

/// The host a call to `url` goes to, when its scheme is http or https and it has one; the
/// scheme's refusal otherwise.
fn destination_host(url: &Url) -> Result<String, ClientError> {
    match (url.scheme(), url.host_str()) {
        ("http" | "https", Some(host)) => Ok(host.to_owned()),
        _ => Err(ClientError::Refused {
            host: url.host_str().unwrap_or_default().to_owned(),
            reason: Refusal::Scheme,
        }),
    }
}

/// A refusal before anything was sent: its metrics and log line (`path` as logged, `None`
/// when the caller asked for none).
fn refused(host: String, reason: Refusal, method: &Method, path: Option<&str>) -> ClientError {
    record_refusal(reason);
    let error = ClientError::Refused { host, reason };
    if let ClientError::Refused { host, .. } = &error {
        tracing::warn!(
            target: "rampart::client",
            method = method_label(method),
            host = %host,
            path,
            error = error.kind(),
            reason = reason.as_str(),
            attempts = 0,
            "outgoing call refused"
        );
    }
    error
}

/// What a transport error was, for the caller: the address guard's refusal is found in the
/// error's chain (the resolver returned it), in the one walk of that chain.
fn classify_error(error: &reqwest::Error, host: String) -> ClientError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = source {
        if let Some(refusal) = current.downcast_ref::<guard::RefusedAddress>() {
            return ClientError::Refused {
                host,
                reason: refusal.reason,
            };
        }
        source = current.source();
    }
    if error.is_timeout() {
        ClientError::Timeout { host }
    } else if error.is_connect() {
        ClientError::Connect { host }
    } else {
        let kind = if error.is_body() {
            "body"
        } else if error.is_request() {
            "request"
        } else {
            "protocol"
        };
        ClientError::Transport { host, kind }
    }
}

/// Reads the answer's body, at most `limit` bytes.
async fn read(
    mut response: reqwest::Response,
    limit: usize,
    host: &str,
) -> Result<Response, ClientError> {
    let status = response.status();
    let headers = std::mem::take(response.headers_mut());
    let too_large = || ClientError::BodyTooLarge {
        host: host.to_owned(),
        limit,
    };
    if response
        .content_length()
        .is_some_and(|length| length > limit as u64)
    {
        return Err(too_large());
    }
    let mut body = bytes::BytesMut::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > limit {
                    return Err(too_large());
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => break,
            Err(error) => return Err(classify_error(&error, host.to_owned())),
        }
    }
    Ok(Response {
        status,
        headers,
        body: body.freeze(),
        host: host.to_owned(),
    })
}

/// An answer, read whole.
#[derive(Debug, Clone)]
pub struct Response {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
    host: String,
}

impl Response {
    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The body.
    pub fn body(&self) -> &Bytes {
        &self.body
    }

    /// The body as JSON.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, ClientError> {
        serde_json::from_slice(&self.body).map_err(|source| ClientError::Decode {
            host: self.host.clone(),
            source,
        })
    }

    /// The answer if its status is 2xx, else [`ClientError::Status`].
    pub fn error_for_status(self) -> Result<Self, ClientError> {
        if self.status.is_success() {
            Ok(self)
        } else {
            Err(ClientError::Status {
                host: self.host,
                status: self.status,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_and_deadlines_are_bounded_so_no_instant_overflows() {
        assert_eq!(bounded(Duration::ZERO), Duration::from_millis(1));
        assert_eq!(bounded(Duration::MAX), MAX_WAIT);
        let client = HttpClient::builder()
            .timeout(Duration::MAX)
            .build()
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(client.inner.timeout, MAX_WAIT);
        // The default deadline, twice the largest timeout, still fits after now.
        assert!(
            Instant::now()
                .checked_add(client.inner.timeout.saturating_mul(2))
                .is_some()
        );
    }

    #[test]
    fn backoff_is_jittered_under_an_exponential_ceiling() {
        let client = HttpClient::builder()
            .backoff(Duration::from_millis(100), Duration::from_millis(350))
            .build()
            .unwrap_or_else(|e| panic!("{e}"));
        for _ in 0..200 {
            assert!(client.backoff(1) <= Duration::from_millis(100));
            assert!(client.backoff(2) <= Duration::from_millis(200));
            assert!(client.backoff(3) <= Duration::from_millis(350));
            assert!(client.backoff(30) <= Duration::from_millis(350));
        }
        let spread: HashSet<Duration> = (0..50).map(|_| client.backoff(3)).collect();
        assert!(spread.len() > 1, "full jitter draws different delays");
    }

    #[test]
    fn only_idempotent_methods_retry_by_default() {
        for method in [
            Method::GET,
            Method::HEAD,
            Method::PUT,
            Method::DELETE,
            Method::OPTIONS,
        ] {
            assert!(is_idempotent(&method), "{method}");
        }
        assert!(!is_idempotent(&Method::POST));
        assert!(!is_idempotent(&Method::PATCH));
    }

    #[test]
    fn host_labels_are_bounded() {
        let client = HttpClient::new().unwrap_or_else(|e| panic!("{e}"));
        for n in 0..HOST_LABELS {
            assert_eq!(
                client.host_label(&format!("h{n}.example")),
                format!("h{n}.example")
            );
        }
        assert_eq!(client.host_label("late.example"), "other");
        assert_eq!(client.host_label("h0.example"), "h0.example");
    }

    #[test]
    fn a_call_outside_a_trace_names_no_span() {
        assert!(call_span().is_none());
    }
}
