//! Builds and runs one service: its database, outbox dispatcher, middleware (CORS when
//! configured, metrics, request ids, problem+json), `/health`, `/ready`, `/metrics`, `/docs`, and
//! its routes under `/api/v1`, on a given listener (port 0 in tests).

use std::net::TcpListener;
use std::time::Duration;

use actix_service::{IntoServiceFactory, ServiceFactory, ServiceFactoryExt};
use actix_web::dev::ServerHandle;
use actix_web::middleware::{Condition, from_fn};
use actix_web::{App, HttpResponse, web};
use serde_json::json;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use utoipa_actix_web::AppExt;

use crate::auth::{ServiceToken, Verifier};
use crate::config::{Config, CorsOrigins, Service};
use crate::connection::ProblemStream;
use crate::db::{Db, Migrations, StoreError};
use crate::outbox::{OnDelivered, Outbox};
use crate::peer::PeerClient;
use crate::problem::ApiError;

/// What a service crate hands over to be run.
#[derive(Clone)]
pub struct ServiceApp {
    pub service: Service,
    pub migrations: Migrations,
    /// Registers the routes under `/api/v1`, collecting their OpenAPI description.
    pub routes: for<'a> fn(&mut utoipa_actix_web::service_config::ServiceConfig<'a>),
    /// What to do with the answer to a delivered outbox message.
    pub on_delivered: OnDelivered,
    /// Work of the service's own that runs beside it until it stops (none: [`no_background`]).
    pub background: fn(Ctx, CancellationToken) -> futures_util::future::BoxFuture<'static, ()>,
    /// The service's catalogue of refusals: every 409 `code` its domain answers.
    pub refusals: &'static [&'static str],
    /// Schemas its operations name without registering them (the `sort` of each list).
    pub schemas: fn() -> Vec<(String, utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>)>,
}

/// For a service with no background work of its own.
pub fn no_background(_: Ctx, _: CancellationToken) -> futures_util::future::BoxFuture<'static, ()> {
    Box::pin(async {})
}

/// What every handler can reach.
#[derive(Clone)]
pub struct Ctx {
    pub service: Service,
    pub db: Db,
    pub peers: PeerClient,
    pub outbox: Outbox,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot listen on {bind}: {source}")]
    Bind { bind: String, source: std::io::Error },
    #[error("database {url}: {source}")]
    Database { url: String, source: StoreError },
    #[error("{0}")]
    Other(String),
}

/// A running service.
pub struct Running {
    pub service: Service,
    pub port: u16,
    pub ctx: Ctx,
    handle: ServerHandle,
    stop: CancellationToken,
    tasks: TaskTracker,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Running {
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Stops accepting, drains requests, then stops the dispatcher.
    pub async fn stop(self) {
        self.handle.stop(true).await;
        let _ = self.server.await;
        self.stop.cancel();
        self.tasks.close();
        self.tasks.wait().await;
    }

    /// Ends without draining, as a crash would (the dispatcher stops mid-pass).
    pub async fn kill(self) {
        self.stop.cancel();
        self.handle.stop(false).await;
        self.server.abort();
    }
}

/// Opens the database (running migrations) and returns it.
pub async fn open_db(url: &str, migrations: Migrations) -> Result<Db, StartError> {
    let owned = url.to_owned();
    tokio::task::spawn_blocking(move || Db::open(&owned, migrations))
        .await
        .map_err(|e| StartError::Other(e.to_string()))?
        .map_err(|source| StartError::Database { url: redact(url), source })
}

/// A database URL without its password, fit for a log line.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.find(':') {
                Some(c) => format!("{}{}:***{}", &url[..s + 3], &creds[..c], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// Starts `app` as `config` says; `listener` overrides `config.bind` (tests pass port 0).
pub async fn start(app: ServiceApp, config: Config, listener: Option<TcpListener>) -> Result<Running, StartError> {
    let db = open_db(&config.database_url, app.migrations).await?;
    let listener = match listener {
        Some(l) => l,
        None => {
            TcpListener::bind(&config.bind).map_err(|source| StartError::Bind { bind: config.bind.clone(), source })?
        }
    };
    let port = listener.local_addr().map_err(|e| StartError::Other(e.to_string()))?.port();
    let verifier = match &config.auth {
        Some(auth) => Some(Verifier::new(auth).map_err(|e| StartError::Other(format!("authentication: {e}")))?),
        None => None,
    };
    let peers = PeerClient::new(config.peers.clone(), crate::peer::Timings::from_env())
        .map_err(StartError::Other)?
        .with_token(ServiceToken::new(app.service.name(), config.auth.as_ref()));
    crate::telemetry::metrics_handle();
    let outbox = Outbox::new(db.clone(), peers.clone(), app.on_delivered.clone()).for_service(app.service);
    let ctx = Ctx { service: app.service, db: db.clone(), peers, outbox: outbox.clone() };

    let stop = CancellationToken::new();
    let tasks = TaskTracker::new();
    tasks.spawn(outbox.clone().run(stop.child_token()));
    tasks.spawn(housekeeping(db.clone(), stop.child_token()));
    tasks.spawn((app.background)(ctx.clone(), stop.child_token()));
    tasks.spawn(crate::telemetry::metrics_upkeep(stop.child_token()));

    let data = ctx.clone();
    let routes = app.routes;
    let collected = openapi(&app);
    let document = web::Data::new(ApiDocument(crate::openapi::finish(&collected, app.refusals)));
    let methods = web::Data::new(Methods::new(&collected));
    let docs_config = docs_config(app.service, &config);
    let cors_origins = config.cors.clone();
    if cors_origins != CorsOrigins::Off {
        tracing::debug!(service = %app.service, origins = ?cors_origins, "CORS on");
    }
    let app_for_worker = move || {
        let (app, _) = App::new()
            .into_utoipa_app()
            .service(
                utoipa_actix_web::scope("/api/v1")
                    .configure(routes)
                    .route("/openapi.json", web::get().to(openapi_json)),
            )
            .split_for_parts();
        let docs = utoipa_swagger_ui::SwaggerUi::new("/docs/{_:.*}").config(docs_config.clone());
        let app = match &verifier {
            Some(v) => app.app_data(web::Data::new(v.clone())),
            None => app,
        };
        app.app_data(web::Data::new(data.clone()))
            .app_data(web::Data::new(data.db.clone()))
            .app_data(document.clone())
            .app_data(methods.clone())
            .configure(crate::extract::configure)
            .route("/health", web::get().to(health))
            .route("/ready", web::get().to(ready))
            .route("/metrics", web::get().to(metrics))
            .service(web::redirect("/docs", "/docs/"))
            .service(docs)
            .default_service(web::to(not_found))
            .wrap(from_fn(head_as_get))
            .wrap(from_fn(crate::idempotency::idempotency))
            .wrap(from_fn(crate::extract::read_body_in_time))
            .wrap(from_fn(crate::auth::authenticate))
            .wrap(from_fn(problems))
            .wrap(from_fn(count_request))
            .wrap(from_fn(crate::telemetry::request_span))
            .wrap(Condition::new(cors_origins != CorsOrigins::Off, cors(&cors_origins)))
    };
    let server = serve(listener, app_for_worker).map_err(|e| StartError::Other(e.to_string()))?;
    let handle = server.handle();
    let server = tokio::spawn(server);
    tracing::info!(service = %app.service, port, backend = ?db.backend(), "listening");
    Ok(Running { service: app.service, port, ctx, handle, stop, tasks, server })
}

/// What `/docs` shows: this service's document, or, as `stack` serves them, the four (this
/// one first), each read from its own service (the documents are served to any origin).
fn docs_config(service: Service, config: &Config) -> utoipa_swagger_ui::Config<'static> {
    const OWN: &str = "/api/v1/openapi.json";
    let docs = if config.docs_portal {
        // The page's settings live as long as the server; four short strings per start.
        let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
        let mut urls = vec![utoipa_swagger_ui::Url::with_primary(service.name(), OWN, true)];
        for other in Service::ALL.into_iter().filter(|s| *s != service) {
            urls.push(utoipa_swagger_ui::Url::new(other.name(), leak(format!("{}{OWN}", config.peers.get(other)))));
        }
        utoipa_swagger_ui::Config::new(urls)
    } else {
        utoipa_swagger_ui::Config::from(OWN)
    };
    docs.persist_authorization(true)
}

/// The OpenAPI document of a service, as collected from its registered handlers.
pub fn openapi(app: &ServiceApp) -> utoipa::openapi::OpenApi {
    collected(app)
}

/// The document served at `/api/v1/openapi.json` and committed under `openapi/`: the
/// collected one, finished for generated clients ([`crate::openapi::finish`]).
pub fn document(app: &ServiceApp) -> serde_json::Value {
    crate::openapi::finish(&collected(app), app.refusals)
}

fn collected(app: &ServiceApp) -> utoipa::openapi::OpenApi {
    let (_, mut api) = App::new()
        .into_utoipa_app()
        .service(utoipa_actix_web::scope("/api/v1").configure(app.routes))
        .split_for_parts();
    let components = api.components.get_or_insert_with(Default::default);
    for (name, schema) in (app.schemas)() {
        components.schemas.entry(name).or_insert(schema);
    }
    api.info.title = format!("Prepaid Support: {} service", app.service.name());
    api.info.version = env!("CARGO_PKG_VERSION").to_owned();
    // The project's own licence (the LICENSE file), not the OpenAPI library's contact and
    // licence, which utoipa fills in from its own manifest by default.
    api.info.contact = None;
    let mut license = utoipa::openapi::License::new(env!("CARGO_PKG_LICENSE"));
    license.identifier = Some(env!("CARGO_PKG_LICENSE").to_owned());
    api.info.license = Some(license);
    // The project's repository, when the workspace names one (`repository` in Cargo.toml).
    let repository = env!("CARGO_PKG_REPOSITORY");
    if !repository.is_empty() {
        let mut docs = utoipa::openapi::external_docs::ExternalDocs::new(repository);
        docs.description = Some("Source code".into());
        api.external_docs = Some(docs);
    }
    api.info.description = Some(format!(
        "The {} service of Prepaid Support. Errors are RFC 9457 problem+json; decimals are strings \
         with two decimals; lists are newest first with `limit` and `cursor`; every POST accepts an \
         `Idempotency-Key`.",
        app.service.name()
    ));
    crate::openapi::complete(&mut api);
    api
}

/// Runs an application on a listener, each connection wrapped so that the answers actix-http
/// makes on its own leave as problem+json too (see [`crate::connection`]). This is what
/// `HttpServer::listen` does, with that one wrapper added.
fn serve<F, I, S, B>(listener: TcpListener, app: F) -> std::io::Result<actix_web::dev::Server>
where
    F: Fn() -> I + Send + Clone + 'static,
    I: IntoServiceFactory<S, actix_http::Request>,
    S: ServiceFactory<actix_http::Request, Config = actix_web::dev::AppConfig> + 'static,
    S::Error: Into<actix_web::Error> + 'static,
    S::InitError: std::fmt::Debug,
    S::Response: Into<actix_http::Response<B>> + 'static,
    <S::Service as actix_service::Service<actix_http::Request>>::Future: 'static,
    B: actix_web::body::MessageBody + 'static,
{
    let local = listener.local_addr()?;
    let builder = actix_server::Server::build();
    let shutdown = builder.graceful_shutdown_signal();
    let server = builder
        .workers(2)
        .disable_signals()
        .shutdown_timeout(10)
        .listen("http", listener, move || {
            let shutdown = shutdown.clone();
            let http = actix_http::HttpService::build()
                .client_request_timeout(HEADER_TIMEOUT)
                // As `HttpServer`: a connection closed after an early answer (a 413 before the
                // body) lingers a second, so the client's write of the rest does not meet a reset.
                .client_disconnect_timeout(Duration::from_secs(1))
                .local_addr(local)
                // Idle keep-alive connections close as soon as a stop begins.
                .graceful_shutdown_signal(move || {
                    let shutdown = shutdown.clone();
                    async move { shutdown.notified().await }
                })
                .finish(actix_service::map_config(app().into_factory().map_err(|e| e.into().error_response()), |()| {
                    actix_web::dev::AppConfig::default()
                }));
            actix_service::fn_service(|io: tokio::net::TcpStream| async move {
                // As actix's own TCP service does: answers leave without waiting for more.
                let _ = io.set_nodelay(true);
                let peer = io.peer_addr().ok();
                Ok((ProblemStream::new(io), actix_http::Protocol::Http1, peer))
            })
            .and_then(http)
        })?
        .run();
    Ok(server)
}

struct ApiDocument(serde_json::Value);

/// How long a client may take to send a request's headers (actix answers 408 itself after
/// that; [`crate::connection`] gives it a problem body).
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(5);

/// The methods each path answers, for the `Allow` header of a 405: the operations of the
/// service's document (HEAD wherever GET), and GET and HEAD on the open paths.
struct Methods(Vec<(Vec<String>, Vec<&'static str>)>);

impl Methods {
    fn new(api: &utoipa::openapi::OpenApi) -> Methods {
        let segments = |path: &str| path.trim_matches('/').split('/').map(str::to_owned).collect::<Vec<_>>();
        let mut table = vec![];
        for (path, item) in &api.paths.paths {
            let mut methods = vec![];
            if item.get.is_some() {
                methods.extend(["GET", "HEAD"]);
            }
            for (op, name) in
                [(&item.post, "POST"), (&item.put, "PUT"), (&item.patch, "PATCH"), (&item.delete, "DELETE")]
            {
                if op.is_some() {
                    methods.push(name);
                }
            }
            table.push((segments(path), methods));
        }
        for path in ["/health", "/ready", "/metrics", "/api/v1/openapi.json", "/docs", "/docs/{file}"] {
            table.push((segments(path), vec!["GET", "HEAD"]));
        }
        Methods(table)
    }

    /// The `Allow` value for `path`, if any route has it.
    fn allow(&self, path: &str) -> Option<String> {
        let path: Vec<&str> = path.trim_matches('/').split('/').collect();
        let mut allowed: Vec<&str> = vec![];
        for (template, methods) in &self.0 {
            let matches = template.len() == path.len()
                && template.iter().zip(&path).all(|(t, p)| t.starts_with('{') && !p.is_empty() || t == p);
            if matches {
                allowed.extend(methods.iter().filter(|m| !allowed.contains(m)).collect::<Vec<_>>());
            }
        }
        (!allowed.is_empty()).then(|| allowed.join(", "))
    }
}

/// `HEAD` is answered wherever `GET` is: routed as a GET, and actix leaves the body out of the
/// answer to a HEAD request (the headers, `Content-Length` included, stay).
async fn head_as_get<B: actix_web::body::MessageBody + 'static>(
    mut req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<B>,
) -> Result<actix_web::dev::ServiceResponse<B>, actix_web::Error> {
    if req.method() == actix_web::http::Method::HEAD {
        req.head_mut().method = actix_web::http::Method::GET;
    }
    next.call(req).await
}

/// The CORS middleware for `origins` (unused when they are [`CorsOrigins::Off`]). Answers
/// preflights itself; lets browsers read `Location`, `ETag` and `X-Request-Id` (and send
/// `If-Match` and `Idempotency-Key`: any header is allowed).
fn cors(origins: &CorsOrigins) -> actix_cors::Cors {
    use actix_web::http::{Method, header};
    let base = actix_cors::Cors::default()
        .allowed_methods([Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE])
        .allow_any_header()
        .expose_headers([
            header::LOCATION,
            header::ETAG,
            header::HeaderName::from_static(crate::telemetry::REQUEST_ID),
            header::HeaderName::from_static("idempotent-replayed"),
        ])
        .max_age(3600);
    match origins {
        CorsOrigins::Off => base,
        CorsOrigins::Any => base.allow_any_origin().send_wildcard(),
        CorsOrigins::List(list) => list.iter().fold(base, |c, o| c.allowed_origin(o)),
    }
}

/// Counts every answered request in `http_server_requests_total` and its latency, labelled
/// with the route's pattern (`/api/v1/orders/{id}`), never the raw path.
async fn count_request<B: actix_web::body::MessageBody + 'static>(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<B>,
) -> Result<actix_web::dev::ServiceResponse<B>, actix_web::Error> {
    let service = req.app_data::<web::Data<Ctx>>().map(|c| c.service);
    let route = req.match_pattern();
    let method = req.method().clone();
    let started = std::time::Instant::now();
    let res = next.call(req).await;
    if let Some(service) = service {
        let status = match &res {
            Ok(r) => r.status(),
            Err(e) => e.as_response_error().status_code(),
        };
        crate::telemetry::record_request(service, &method, route, status.as_u16(), started.elapsed().as_secs_f64());
    }
    res
}

/// `GET /metrics`: this service's series in the Prometheus text format.
async fn metrics(ctx: web::Data<Ctx>) -> HttpResponse {
    if let Err(e) = ctx.outbox.report_backlog().await {
        tracing::warn!(error = %e, "could not read the outbox backlog for metrics");
    }
    match crate::telemetry::render_metrics(ctx.service) {
        Some(text) => HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(text),
        None => crate::problem::problem_response(
            &ApiError::Unavailable("the metrics recorder is not installed".into()).to_problem(),
        ),
    }
}

async fn openapi_json(doc: web::Data<ApiDocument>) -> HttpResponse {
    // Public (no token), so any page may read it: the docs page of another service does.
    HttpResponse::Ok().insert_header((actix_web::http::header::ACCESS_CONTROL_ALLOW_ORIGIN, "*")).json(&doc.0)
}

async fn problems<B: actix_web::body::MessageBody + 'static>(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<B>,
) -> Result<actix_web::dev::ServiceResponse<actix_web::body::EitherBody<B>>, actix_web::Error> {
    use actix_web::http::header::{ALLOW, HeaderValue};
    let mut res = crate::problem::problem_for_framework_errors(next.call(req).await?).await;
    if res.status() == actix_web::http::StatusCode::METHOD_NOT_ALLOWED && !res.headers().contains_key(ALLOW) {
        let allow = res.request().app_data::<web::Data<Methods>>().and_then(|m| m.allow(res.request().path()));
        if let Some(v) = allow.and_then(|a| HeaderValue::from_str(&a).ok()) {
            res.headers_mut().insert(ALLOW, v);
        }
    }
    Ok(res)
}

/// Routes are registered per method, so a path that exists under another method falls here
/// too: that is a 405, not a 404.
async fn not_found(req: actix_web::HttpRequest) -> Result<HttpResponse, ApiError> {
    if req.resource_map().has_resource(req.path()) {
        return Err(ApiError::MethodNotAllowed);
    }
    Err(ApiError::NotFound(format!("no resource at {}", req.path())))
}

async fn health(ctx: web::Data<Ctx>) -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok", "service": ctx.service.name()}))
}

async fn ready(ctx: web::Data<Ctx>) -> HttpResponse {
    if !ctx.db.ping().await {
        return crate::problem::problem_response(&ApiError::Unavailable("database unreachable".into()).to_problem());
    }
    let backlog = ctx.outbox.backlog().await.ok();
    HttpResponse::Ok().json(json!({
        "status": "ready",
        "service": ctx.service.name(),
        "database": "ok",
        "outbox": backlog,
    }))
}

async fn housekeeping(db: Db, stop: CancellationToken) {
    loop {
        let purged = db.write(|conn| crate::idempotency::purge(conn, 24)).await;
        if let Err(e) = purged {
            tracing::warn!(error = %e, "could not purge old idempotency keys");
        }
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(Duration::from_secs(3600)) => {}
        }
    }
}

/// Waits for Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(t) => t,
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// The whole `main` of a service binary: `<name>` serves, `<name> migrate` only migrates.
pub async fn main(app: ServiceApp) -> std::process::ExitCode {
    crate::telemetry::init();
    let config = match Config::from_env(app.service) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{}: {e}", app.service);
            return std::process::ExitCode::from(2);
        }
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        None => {}
        Some("migrate") => {
            return match open_db(&config.database_url, app.migrations).await {
                Ok(_) => {
                    eprintln!("{}: migrations applied to {}", app.service, redact(&config.database_url));
                    std::process::ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("{}: {e}", app.service);
                    std::process::ExitCode::FAILURE
                }
            };
        }
        Some(other) => {
            eprintln!("usage: {} [migrate]\nunknown argument {other:?}", app.service);
            return std::process::ExitCode::from(2);
        }
    }
    if let Err(e) = config.require_auth() {
        eprintln!("{}: {e}", app.service);
        return std::process::ExitCode::from(2);
    }
    match start(app.clone(), config, None).await {
        Ok(running) => {
            shutdown_signal().await;
            running.stop().await;
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            tracing::error!(error = %e, "could not start");
            eprintln!("{}: {e}", app.service);
            std::process::ExitCode::FAILURE
        }
    }
}
