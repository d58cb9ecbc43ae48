//! A small async-middleware adapter shared by the limiter, fault and log layers.
//!
//! `axum::middleware::from_fn` returns a layer whose type cannot be named, so a public
//! `fn layer(&self) -> …` could not hand it out. This adapter turns any [`Middleware`] into
//! a nameable tower [`Layer`] usable with `Router::layer`, which keeps `MatchedPath` visible.

use std::{
    convert::Infallible,
    future::Future,
    pin::Pin,
    task::{Context, Poll},
};

use axum::{extract::Request, response::Response};
use tower::{Layer, Service, ServiceExt};

/// A boxed, sendable future of a response.
pub type BoxResponse = Pin<Box<dyn Future<Output = Response> + Send + 'static>>;

/// The rest of the stack; call it at most once.
pub struct Next(Box<dyn FnOnce(Request) -> BoxResponse + Send>);

impl Next {
    /// Runs the inner service.
    pub async fn run(self, req: Request) -> Response {
        (self.0)(req).await
    }
}

/// One async step around the inner service.
pub trait Middleware: Clone + Send + Sync + 'static {
    /// Handles `req`, usually by calling `next`.
    fn handle(&self, req: Request, next: Next) -> BoxResponse;
}

/// The tower layer of a [`Middleware`].
#[derive(Clone)]
pub struct MiddlewareLayer<M>(pub M);

impl<M: Clone, S> Layer<S> for MiddlewareLayer<M> {
    type Service = MiddlewareService<M, S>;
    fn layer(&self, inner: S) -> Self::Service {
        MiddlewareService {
            middleware: self.0.clone(),
            inner,
        }
    }
}

/// The tower service of a [`Middleware`].
#[derive(Clone)]
pub struct MiddlewareService<M, S> {
    middleware: M,
    inner: S,
}

impl<M, S> Service<Request> for MiddlewareService<M, S>
where
    M: Middleware,
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send + 'static>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let inner = self.inner.clone();
        let next = Next(Box::new(move |req| {
            Box::pin(async move {
                match inner.oneshot(req).await {
                    Ok(response) => response,
                    Err(never) => match never {},
                }
            })
        }));
        let fut = self.middleware.handle(req, next);
        Box::pin(async move { Ok(fut.await) })
    }
}
