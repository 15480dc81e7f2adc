//! Logs to stderr through `tracing`, and a request id on every request that travels on the
//! calls this request makes to other services.

use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use tracing::Instrument;

pub const REQUEST_ID: &str = "x-request-id";

tokio::task_local! {
    static CURRENT_REQUEST_ID: String;
}

thread_local! {
    static BLOCKING_REQUEST_ID: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// The id of the request being served, if any (also inside its blocking store work).
pub fn current_request_id() -> Option<String> {
    CURRENT_REQUEST_ID.try_with(Clone::clone).ok().or_else(|| BLOCKING_REQUEST_ID.with(|r| r.borrow().clone()))
}

/// Runs blocking work `f` as part of request `id`, so that what it writes (an outbox message)
/// carries the id on to the next service.
pub fn in_blocking<T>(id: Option<String>, f: impl FnOnce() -> T) -> T {
    BLOCKING_REQUEST_ID.with(|r| *r.borrow_mut() = id);
    let out = f();
    BLOCKING_REQUEST_ID.with(|r| *r.borrow_mut() = None);
    out
}

/// Runs `f` as part of request `id`.
pub async fn with_request_id<F: std::future::Future>(id: String, f: F) -> F::Output {
    CURRENT_REQUEST_ID.scope(id, f).await
}

/// Installs the stderr subscriber, filtered by `RUST_LOG` (default `info`). Safe to call twice.
pub fn init() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_ansi(ansi).with_writer(std::io::stderr).try_init();
}

fn accept_incoming(v: &HeaderValue) -> Option<String> {
    let s = v.to_str().ok()?;
    let ok = !s.is_empty() && s.len() <= 128 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b));
    ok.then(|| s.to_owned())
}

/// Middleware body: take or make the request id, log the request, echo the id.
pub async fn request_span<B>(
    req: ServiceRequest,
    next: actix_web::middleware::Next<B>,
) -> Result<ServiceResponse<B>, actix_web::Error>
where
    B: actix_web::body::MessageBody + 'static,
{
    let id =
        req.headers().get(REQUEST_ID).and_then(accept_incoming).unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    let span = tracing::info_span!("request", method = %req.method(), path = %req.path(), request_id = %id);
    let started = std::time::Instant::now();
    let result = with_request_id(id.clone(), next.call(req)).instrument(span.clone()).await;
    let _enter = span.enter();
    match result {
        Ok(mut res) => {
            let status = res.status().as_u16();
            let ms = started.elapsed().as_secs_f64() * 1000.0;
            if status >= 500 {
                tracing::error!(status, ms, "request failed");
            } else {
                tracing::info!(status, ms, "request");
            }
            if let Ok(v) = HeaderValue::from_str(&id) {
                res.headers_mut().insert(HeaderName::from_static(REQUEST_ID), v);
            }
            Ok(res)
        }
        Err(e) => {
            tracing::error!(error = %e, "request error");
            Err(e)
        }
    }
}
