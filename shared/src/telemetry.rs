//! Logs to stderr through `tracing`, a request id on every request that travels on the
//! calls this request makes to other services, and Prometheus metrics.
//!
//! Metrics go through the `metrics` facade into one process-wide Prometheus recorder, installed
//! once ([`metrics_handle`]). Every series carries a `service` label, so that `stack`, which runs
//! the four services in one process, can still give each service's `/metrics` its own series
//! only ([`render_metrics`]).

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
///
/// actix-server's own start and stop lines ("starting 2 workers", "listening on: …", "shutting
/// down idle worker", once per worker) are kept to warnings unless `RUST_LOG` names
/// `actix_server` itself: each service logs its one `listening` line instead.
pub fn init() {
    use tracing_subscriber::EnvFilter;
    let directives = log_directives(std::env::var(crate::config::LOG_VAR).ok().as_deref());
    let filter = EnvFilter::try_new(&directives).unwrap_or_else(|_| EnvFilter::new(log_directives(None)));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_ansi(ansi).with_writer(std::io::stderr).try_init();
}

/// The filter [`init`] installs for a `RUST_LOG` value: `info` when unset or empty, and
/// `actix_server=warn` added unless the value names `actix_server`.
fn log_directives(rust_log: Option<&str>) -> String {
    let given = rust_log.map(str::trim).filter(|v| !v.is_empty()).unwrap_or("info");
    if given.contains("actix_server") { given.to_owned() } else { format!("{given},actix_server=warn") }
}

/// The paths that probes and scrapers call every few seconds: logged at DEBUG, not INFO.
pub const QUIET_PATHS: &[&str] = &["/health", "/ready", "/metrics"];

/// A request's duration in milliseconds for a log line, rounded to hundredths (`ms=0.05`,
/// `ms=12.35`), i.e. to ten microseconds.
pub fn log_ms(elapsed: std::time::Duration) -> f64 {
    (elapsed.as_secs_f64() * 100_000.0).round() / 100.0
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
    let quiet = QUIET_PATHS.contains(&req.path());
    let span = tracing::info_span!("request", method = %req.method(), path = %req.path(), request_id = %id);
    let started = std::time::Instant::now();
    let result = with_request_id(id.clone(), next.call(req)).instrument(span.clone()).await;
    let _enter = span.enter();
    match result {
        Ok(mut res) => {
            let status = res.status().as_u16();
            let ms = log_ms(started.elapsed());
            if status >= 500 {
                tracing::error!(status, ms, "request failed");
            } else if quiet {
                tracing::debug!(status, ms, "request");
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

/// Latency buckets, in seconds, for `http_server_request_duration_seconds`: histograms, not
/// summaries, so that several copies of a service can be aggregated.
pub const LATENCY_BUCKETS: &[f64] =
    &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

/// The `route` label of a request that matched no registered route: raw paths would let any
/// client create series without end.
pub const UNMATCHED_ROUTE: &str = "unmatched";

static METRICS: std::sync::OnceLock<Option<metrics_exporter_prometheus::PrometheusHandle>> = std::sync::OnceLock::new();

/// The process-wide Prometheus recorder, installed on first use. `None` when another recorder
/// was installed first (then `/metrics` says so instead of lying).
pub fn metrics_handle() -> Option<&'static metrics_exporter_prometheus::PrometheusHandle> {
    METRICS
        .get_or_init(|| {
            let installed = metrics_exporter_prometheus::PrometheusBuilder::new()
                .set_buckets(LATENCY_BUCKETS)
                .and_then(|b| b.install_recorder());
            match installed {
                Ok(handle) => {
                    describe_metrics();
                    Some(handle)
                }
                Err(e) => {
                    tracing::warn!(error = %e, "could not install the Prometheus recorder; /metrics will be empty");
                    None
                }
            }
        })
        .as_ref()
}

fn describe_metrics() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!("http_server_requests_total", "HTTP requests answered, by route pattern, method and status");
    describe_histogram!(
        "http_server_request_duration_seconds",
        Unit::Seconds,
        "Time to answer an HTTP request, by route pattern, method and status"
    );
    describe_gauge!("outbox_pending_messages", "Outbox messages not yet delivered");
    describe_gauge!(
        "outbox_oldest_pending_age_seconds",
        Unit::Seconds,
        "Age of the oldest undelivered outbox message (0 when none)"
    );
    describe_gauge!("outbox_failing_messages", "Undelivered outbox messages that failed at least once");
    describe_counter!("outbox_delivery_failures_total", "Failed outbox delivery attempts, by target service");
    describe_counter!("outbox_deliveries_total", "Outbox messages delivered, by target service");
}

/// Runs the recorder's upkeep (histogram buckets roll over) until `stop` is cancelled.
pub async fn metrics_upkeep(stop: tokio_util::sync::CancellationToken) {
    loop {
        if let Some(h) = metrics_handle() {
            h.run_upkeep();
        }
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(std::time::Duration::from_secs(5)) => {}
        }
    }
}

/// The `method` label of a request: the standard methods by name, anything else `other`, so
/// that made-up methods cannot create series without end.
pub fn method_label(method: &actix_web::http::Method) -> &'static str {
    use actix_web::http::Method as M;
    match *method {
        M::GET => "GET",
        M::HEAD => "HEAD",
        M::POST => "POST",
        M::PUT => "PUT",
        M::PATCH => "PATCH",
        M::DELETE => "DELETE",
        M::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Counts one answered request and its latency by route pattern, method and status.
pub fn record_request(
    service: crate::config::Service,
    method: &actix_web::http::Method,
    route: Option<String>,
    status: u16,
    secs: f64,
) {
    let route = route.unwrap_or_else(|| UNMATCHED_ROUTE.to_owned());
    let labels = [
        ("service", service.name().to_owned()),
        ("method", method_label(method).to_owned()),
        ("route", route),
        ("status", status.to_string()),
    ];
    metrics::counter!("http_server_requests_total", &labels).increment(1);
    metrics::histogram!("http_server_request_duration_seconds", &labels).record(secs);
}

/// The Prometheus text of `service`'s series only (all four services share the recorder when
/// `stack` runs them in one process). `HELP`/`TYPE` lines are kept for the families it has.
pub fn render_metrics(service: crate::config::Service) -> Option<String> {
    Some(filter_service(&metrics_handle()?.render(), service.name()))
}

fn filter_service(text: &str, service: &str) -> String {
    let wanted = format!("service=\"{service}\"");
    let mut out = String::with_capacity(text.len() / 2);
    let mut header: Vec<&str> = vec![];
    let mut in_samples = false;
    for line in text.lines() {
        if line.starts_with('#') {
            if in_samples {
                header.clear();
                in_samples = false;
            }
            header.push(line);
            continue;
        }
        if line.trim().is_empty() {
            continue;
        }
        in_samples = true;
        let labels = line.split_once('{').and_then(|(_, rest)| rest.rsplit_once('}')).map(|(l, _)| l);
        if labels.is_some_and(|l| l.contains(&wanted)) {
            for h in header.drain(..) {
                out.push_str(h);
                out.push('\n');
            }
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::filter_service;

    #[test]
    fn made_up_methods_share_one_label() -> Result<(), Box<dyn std::error::Error>> {
        use actix_web::http::Method;
        assert_eq!(super::method_label(&Method::GET), "GET");
        assert_eq!(super::method_label(&Method::from_bytes(b"BREW")?), "other");
        assert_eq!(super::method_label(&Method::TRACE), "other");
        Ok(())
    }

    #[test]
    fn durations_are_logged_to_hundredths_of_a_millisecond() {
        use std::time::Duration;
        assert_eq!(super::log_ms(Duration::from_nanos(53_779)), 0.05);
        assert_eq!(format!("{:?}", super::log_ms(Duration::from_nanos(53_779))), "0.05");
        assert_eq!(super::log_ms(Duration::from_micros(12_345)), 12.35);
        assert_eq!(super::log_ms(Duration::from_nanos(4_000)), 0.0);
        assert_eq!(super::log_ms(Duration::from_millis(1_500)), 1500.0);
        for n in [1u64, 999, 53_779, 1_234_567, 98_765_432_109] {
            let text = format!("{:?}", super::log_ms(Duration::from_nanos(n)));
            let decimals = text.split_once('.').map_or(0, |(_, d)| d.len());
            assert!(decimals <= 2, "{n} ns logs as {text}");
        }
    }

    #[test]
    fn actix_server_start_lines_are_quiet_unless_asked_for() {
        assert_eq!(super::log_directives(None), "info,actix_server=warn");
        assert_eq!(super::log_directives(Some(" ")), "info,actix_server=warn");
        assert_eq!(super::log_directives(Some("debug")), "debug,actix_server=warn");
        assert_eq!(super::log_directives(Some("info,actix_server=info")), "info,actix_server=info");
    }

    #[test]
    fn metrics_are_filtered_by_service() {
        let text = "# HELP a_total A\n# TYPE a_total counter\na_total{service=\"sales\",route=\"/x\"} 1\n\
                    a_total{service=\"helpdesk\",route=\"/x\"} 2\n\n# HELP b B\n# TYPE b gauge\n\
                    b{service=\"helpdesk\"} 3\n";
        let sales = filter_service(text, "sales");
        assert_eq!(sales, "# HELP a_total A\n# TYPE a_total counter\na_total{service=\"sales\",route=\"/x\"} 1\n");
        let helpdesk = filter_service(text, "helpdesk");
        assert!(helpdesk.contains("a_total{service=\"helpdesk\"") && helpdesk.contains("# TYPE b gauge\nb{"));
        assert!(!helpdesk.contains("sales"));
    }
}
