//! Layer 5: load shedding. Over the concurrency limit a request is refused at once with 503
//! and `Retry-After` instead of joining a queue that grows without bound. The health endpoints
//! are not counted and never shed: a load balancer must still see the instance alive and
//! ready when it is busy.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::http::Request;
use axum::response::{IntoResponse, Response};
use tokio::sync::Semaphore;
use tower::{Layer, Service};

use crate::error::ApiError;

/// Layer 5: at most `max` requests in flight across every route that shares this layer.
#[derive(Clone, Debug)]
pub struct LoadShedLayer {
    permits: Arc<Semaphore>,
    exempt: Arc<[String]>,
}

impl LoadShedLayer {
    /// A limit of `max` concurrent requests (at least 1).
    pub fn new(max: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(max.max(1))),
            exempt: Arc::new([]),
        }
    }

    /// Requests to these exact paths are neither counted nor shed.
    pub fn exempt(mut self, paths: impl IntoIterator<Item = String>) -> Self {
        self.exempt = paths.into_iter().collect();
        self
    }
}

impl<S> Layer<S> for LoadShedLayer {
    type Service = LoadShedService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        LoadShedService {
            inner,
            permits: self.permits.clone(),
            exempt: self.exempt.clone(),
        }
    }
}

/// The service of [`LoadShedLayer`].
#[derive(Clone, Debug)]
pub struct LoadShedService<S> {
    inner: S,
    permits: Arc<Semaphore>,
    exempt: Arc<[String]>,
}

impl<S> Service<Request<Body>> for LoadShedService<S>
where
    S: Service<Request<Body>, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        if self.exempt.iter().any(|path| path == request.uri().path()) {
            return Box::pin(self.inner.call(request));
        }
        let Ok(permit) = self.permits.clone().try_acquire_owned() else {
            metrics::counter!("http_shed_total").increment(1);
            return Box::pin(async {
                Ok(ApiError::unavailable(1)
                    .with_message("the server is overloaded, retry later")
                    .into_response())
            });
        };
        let future = self.inner.call(request);
        Box::pin(async move {
            let response = future.await;
            drop(permit);
            response
        })
    }
}
