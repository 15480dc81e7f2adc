//! Helpers for the end-to-end tests: start the four real services in-process on free ports,
//! each with a fresh database, and speak to them over HTTP only.

pub mod sorting;
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::Value;
use shared::config::Service;
use shared::db::Backend;
use shared::testing::TestDb;
use stack::Stack;

pub mod auth;

pub type R<T = ()> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// A running system and the databases it lives on. Its HTTP helpers are [`Api`]'s.
pub struct System {
    pub stack: Stack,
    pub api: Api,
    pub dbs: Vec<(Service, TestDb)>,
}

impl std::ops::Deref for System {
    type Target = Api;
    fn deref(&self) -> &Api {
        &self.api
    }
}

/// Speaks HTTP to the four services at `urls`: every request of every test is built by
/// [`Api::request`], the one place to add a header all of them need (e.g. `Authorization`).
/// Cheap to clone, so concurrent clients each take one.
#[derive(Clone)]
pub struct Api {
    pub http: reqwest::Client,
    pub urls: shared::config::PeerUrls,
    /// The bearer token every request carries, when the services check tokens.
    pub token: Option<String>,
}

/// Runs one scenario (`async fn(Backend) -> R`) as a test per backend, named `$sqlite` and
/// `$postgres` (the PostgreSQL one passes, saying loudly it is skipped, when no server answers).
#[macro_export]
macro_rules! on_both {
    ($scenario:ident, $sqlite:ident, $postgres:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn $sqlite() -> $crate::R {
            $scenario(shared::db::Backend::Sqlite).await
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn $postgres() -> $crate::R {
            if !$crate::backends().contains(&shared::db::Backend::Postgres) {
                return Ok(());
            }
            $scenario(shared::db::Backend::Postgres).await
        }
    };
}

/// The backends to run on: SQLite always, PostgreSQL when a server answers (else it says,
/// loudly, that it is skipped).
pub fn backends() -> Vec<Backend> {
    let mut v = vec![Backend::Sqlite];
    if TestDb::postgres("probe").is_some() {
        v.push(Backend::Postgres);
    }
    v
}

pub fn fresh(backend: Backend, name: &str) -> R<TestDb> {
    Ok(match backend {
        Backend::Sqlite => TestDb::sqlite(name)?,
        Backend::Postgres => TestDb::postgres(name).ok_or("PostgreSQL went away")?,
    })
}

impl System {
    /// Starts all four services, each with a fresh database on `backend`.
    pub async fn start(backend: Backend) -> R<System> {
        System::start_with_auth(backend, None).await
    }

    /// As [`System::start`], with tokens checked as `auth` says (`None`: every caller an admin).
    pub async fn start_with_auth(backend: Backend, auth: Option<shared::auth::AuthConfig>) -> R<System> {
        let mut dbs = vec![];
        for s in Service::ALL {
            dbs.push((s, fresh(backend, s.name())?));
        }
        let urls: Vec<(Service, String)> = dbs.iter().map(|(s, d)| (*s, d.url.clone())).collect();
        let plan = stack::plan(
            |_| "127.0.0.1:0".into(),
            |s| urls.iter().find(|(x, _)| *x == s).map(|(_, u)| u.clone()).unwrap_or_default(),
        )?;
        let stack = stack::start_all(stack::Plan { auth, ..plan }).await?;
        let api = Api::new(stack.peers.clone());
        Ok(System { stack, api, dbs })
    }

    /// Stops one service (draining its requests), keeping its database.
    pub async fn stop_service(&mut self, s: Service) -> R<u16> {
        let i = self.stack.services.iter().position(|r| r.service == s).ok_or("no such service")?;
        let running = self.stack.services.remove(i);
        let port = running.port;
        running.stop().await;
        Ok(port)
    }

    /// Starts a stopped service again on its old port and database.
    pub async fn restart_service(&mut self, s: Service, port: u16) -> R {
        let db = self.dbs.iter().find(|(x, _)| *x == s).map(|(_, d)| d.url.clone()).ok_or("no db")?;
        let listener = std::net::TcpListener::bind(("127.0.0.1", port))?;
        let config = shared::config::Config {
            service: s,
            bind: String::new(),
            database_url: db,
            peers: self.stack.peers.clone(),
            cors: Default::default(),
            auth: None,
            docs_portal: false,
        };
        let running = shared::server::start(stack::app(s), config, Some(listener)).await?;
        self.stack.services.push(running);
        Ok(())
    }

    pub async fn stop(self) {
        self.stack.stop().await;
    }
}

/// Status, JSON body (null when none) and headers of an answer.
pub struct Answer {
    pub status: StatusCode,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Api {
    pub fn new(urls: shared::config::PeerUrls) -> Api {
        Api { http: reqwest::Client::new(), urls, token: None }
    }

    /// The same, with every request carrying `token`.
    pub fn with_token(self, token: impl Into<String>) -> Api {
        Api { token: Some(token.into()), ..self }
    }

    pub fn url(&self, s: Service) -> String {
        self.urls.get(s).to_owned()
    }

    /// Builds every request the tests send to `service` at `/api/v1{path}`.
    pub fn request(&self, s: Service, method: Method, path: &str) -> reqwest::RequestBuilder {
        let req = self.http.request(method, format!("{}/api/v1{}", self.url(s), path));
        match &self.token {
            Some(t) => req.bearer_auth(t),
            None => req,
        }
    }

    /// Sends a prepared request; answers status, headers and body.
    pub async fn send(&self, req: reqwest::RequestBuilder) -> R<Answer> {
        // The causes too: "error sending request" alone says nothing.
        let res = req.send().await.map_err(|e| format!("{e:?}"))?;
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await?;
        Ok(Answer { status, body: serde_json::from_str(&text).unwrap_or(Value::Null), headers, text })
    }

    /// Sends a request to `service` at `/api/v1{path}`; answers the status and JSON body.
    pub async fn call(&self, s: Service, method: Method, path: &str, body: Option<&Value>) -> R<(StatusCode, Value)> {
        let mut req = self.request(s, method, path);
        if let Some(b) = body {
            req = req.json(b);
        }
        let a = self.send(req).await?;
        Ok((a.status, a.body))
    }

    /// A POST with an `Idempotency-Key`; answers everything about the answer.
    pub async fn post_keyed(&self, s: Service, path: &str, body: &Value, key: &str) -> R<Answer> {
        self.send(self.request(s, Method::POST, path).header("Idempotency-Key", key).json(body)).await
    }

    /// A request with a raw body and content type (malformed JSON, wrong types, huge bodies).
    pub async fn raw(&self, s: Service, method: Method, path: &str, content_type: &str, body: Vec<u8>) -> R<Answer> {
        self.send(self.request(s, method, path).header("content-type", content_type).body(body)).await
    }

    /// POST that must answer `want`; returns the body.
    pub async fn post(&self, s: Service, path: &str, body: &Value, want: StatusCode) -> R<Value> {
        let (status, v) = self.call(s, Method::POST, path, Some(body)).await?;
        if status != want {
            return Err(format!("POST {s} {path}: {status}, want {want}: {v}").into());
        }
        Ok(v)
    }

    pub async fn get(&self, s: Service, path: &str) -> R<Value> {
        let (status, v) = self.call(s, Method::GET, path, None).await?;
        if status != StatusCode::OK {
            return Err(format!("GET {s} {path}: {status}: {v}").into());
        }
        Ok(v)
    }

    pub async fn patch(&self, s: Service, path: &str, body: &Value) -> R<Value> {
        let (status, v) = self.call(s, Method::PATCH, path, Some(body)).await?;
        if status != StatusCode::OK {
            return Err(format!("PATCH {s} {path}: {status}: {v}").into());
        }
        Ok(v)
    }
}

/// Retries `check` until it passes or `secs` run out; answers its last error then.
pub async fn eventually<T, F, Fut>(secs: u64, mut check: F) -> R<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = R<T>>,
{
    let end = Instant::now() + Duration::from_secs(secs);
    loop {
        match check().await {
            Ok(v) => return Ok(v),
            Err(e) if Instant::now() >= end => return Err(e),
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

/// Compares decimals by value ("4.50" == "4.5").
pub fn dec(v: &Value) -> R<rust_decimal::Decimal> {
    let s = v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string());
    Ok(s.parse()?)
}

pub fn same(label: &str, got: &Value, want: &str) -> R {
    let want_d: rust_decimal::Decimal = want.parse()?;
    if dec(got)? != want_d {
        return Err(format!("{label}: got {got}, want {want}").into());
    }
    Ok(())
}

/// The `id` of an answer, as a string (empty when it has none).
pub fn id(v: &Value) -> String {
    v["id"].as_str().unwrap_or_default().to_owned()
}

/// The `items` of a list answer.
pub fn items(v: &Value) -> Vec<Value> {
    v["items"].as_array().cloned().unwrap_or_default()
}

impl Api {
    /// A request whose status is checked by the caller; answers status and body.
    pub async fn status(&self, s: Service, method: Method, path: &str, body: Option<&Value>) -> R<(StatusCode, Value)> {
        self.call(s, method, path, body).await
    }

    /// A request that must answer `want`, with a problem+json body when it is an error.
    pub async fn expect(
        &self,
        s: Service,
        method: Method,
        path: &str,
        body: Option<&Value>,
        want: StatusCode,
    ) -> R<Value> {
        let (status, v) = self.call(s, method.clone(), path, body).await?;
        if status != want {
            return Err(format!("{method} {s} {path}: {status}, want {want}: {v}").into());
        }
        if status.is_client_error() && v["status"].as_u64() != Some(u64::from(want.as_u16())) {
            return Err(format!("{method} {s} {path}: not a problem+json body: {v}").into());
        }
        Ok(v)
    }

    /// A 422 whose problem names `field` among its errors.
    pub async fn invalid(&self, s: Service, method: Method, path: &str, body: &Value, field: &str) -> R<Value> {
        let v = self.expect(s, method, path, Some(body), StatusCode::UNPROCESSABLE_ENTITY).await?;
        let named = v["errors"].as_array().is_some_and(|es| es.iter().any(|e| e["field"] == field));
        if !named {
            return Err(format!("{path}: the problem does not name {field}: {v}").into());
        }
        Ok(v)
    }

    /// Every item of a list, all pages.
    pub async fn all(&self, s: Service, path: &str) -> R<Vec<Value>> {
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut out = vec![];
        let mut cursor: Option<String> = None;
        loop {
            let p = match &cursor {
                Some(c) => format!("{path}{sep}limit=200&cursor={c}"),
                None => format!("{path}{sep}limit=200"),
            };
            let page = self.get(s, &p).await?;
            out.extend(items(&page));
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => return Ok(out),
            }
        }
    }

    /// Confirms an order and waits until every line that wants a task or project has it;
    /// answers the order.
    pub async fn confirm(&self, order: &str) -> R<Value> {
        self.post(Service::Sales, &format!("/orders/{order}/confirm"), &serde_json::json!({}), StatusCode::OK).await?;
        self.wait_for_tasks(order).await
    }

    /// Waits until every line of a confirmed order that wants a task or project has it;
    /// answers the order.
    pub async fn wait_for_tasks(&self, order: &str) -> R<Value> {
        eventually(10, || async {
            let o = self.get(Service::Sales, &format!("/orders/{order}")).await?;
            for l in o["lines"].as_array().cloned().unwrap_or_default() {
                let pid =
                    self.get(Service::Sales, &format!("/products/{}", l["product_id"].as_str().unwrap_or(""))).await?;
                let wants_task =
                    matches!(pid["service_tracking"].as_str(), Some("task_in_project" | "task_in_new_project"));
                let wants_project = pid["service_tracking"].as_str() == Some("project_only");
                if (wants_task && l["task_id"].is_null()) || (wants_project && l["project_id"].is_null()) {
                    return Err("lines still wait for their task or project".into());
                }
            }
            Ok(o)
        })
        .await
    }
}

// ---------------------------------------------------------------------------------------------
// The real binaries, each in a process of its own.

/// The path of a service binary built next to the running test (`target/<profile>/<name>`).
/// `./scripts/test.sh` builds every binary of the workspace before any test runs; when one is
/// missing (a test run alone with `-p e2e`), it is built here, once, or the test fails saying so.
pub fn binary(name: &str) -> R<std::path::PathBuf> {
    static BUILD: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let exe = std::env::current_exe()?;
    // target/<profile>/deps/<test>-<hash>  →  target/<profile>
    let dir = exe.parent().and_then(|d| d.parent()).ok_or("the test executable has no target directory")?;
    let path = dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    if path.exists() {
        return Ok(path);
    }
    let _guard = BUILD.lock().unwrap_or_else(|e| e.into_inner());
    if !path.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        // Packages named, so that it works from any folder of the workspace.
        let bins = ["sales", "invoicing", "projects", "helpdesk"].map(|b| format!("--package={b}"));
        let status = std::process::Command::new(&cargo).args(["build", "--bins"]).args(bins).status();
        if !status.as_ref().is_ok_and(|s| s.success()) || !path.exists() {
            return Err(format!(
                "the binary {} is missing and `{cargo} build` could not make it ({status:?}); run \
                 `cargo build --workspace --bins` before these tests",
                path.display()
            )
            .into());
        }
    }
    Ok(path)
}

/// A free TCP port on 127.0.0.1 (free when asked; a process binds it right after).
pub fn free_port() -> R<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// One copy of a service running as its real binary.
pub struct Proc {
    pub service: Service,
    pub port: u16,
    pub database_url: String,
    child: Option<std::process::Child>,
    log: std::path::PathBuf,
}

impl Proc {
    /// The last lines the process logged, for failure messages.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(15)..].join("\n")
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// `kill -9`: no draining, no shutdown hook.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The four services as separate processes of their real binaries, each on its own fresh
/// database and free port, knowing where the others listen. More copies of a service may be
/// added on the same database ([`Cluster::add_copy`]).
pub struct Cluster {
    pub api: Api,
    pub procs: Vec<Proc>,
    pub dbs: Vec<(Service, TestDb)>,
    pub backend: Backend,
    dir: tempfile::TempDir,
    /// Variables a service's next processes get on top of the usual ones (fault points,
    /// shorter timeouts: settings only test builds read).
    env: Vec<(Service, String, String)>,
}

impl std::ops::Deref for Cluster {
    type Target = Api;
    fn deref(&self) -> &Api {
        &self.api
    }
}

impl Cluster {
    pub async fn start(backend: Backend) -> R<Cluster> {
        let mut urls = shared::config::PeerUrls::local();
        let mut ports = vec![];
        for s in Service::ALL {
            let port = free_port()?;
            urls.set(s, format!("http://127.0.0.1:{port}"));
            ports.push((s, port));
        }
        let mut dbs = vec![];
        for s in Service::ALL {
            dbs.push((s, fresh(backend, s.name())?));
        }
        let api = Api::new(urls).with_token(auth::token(shared::auth::Role::Admin, "cluster", None)?);
        let mut c = Cluster { api, procs: vec![], dbs, backend, dir: tempfile::tempdir()?, env: vec![] };
        for (s, port) in ports {
            c.spawn(s, port).await?;
        }
        Ok(c)
    }

    pub fn database_url(&self, s: Service) -> String {
        self.dbs.iter().find(|(x, _)| *x == s).map(|(_, d)| d.url.clone()).unwrap_or_default()
    }

    /// Starts a process of `s` on `port` and its database; waits until it answers `/health`.
    async fn spawn(&mut self, s: Service, port: u16) -> R<usize> {
        let n = self.procs.len();
        let log = self.dir.path().join(format!("{}-{n}.log", s.name()));
        let out = std::fs::File::create(&log)?;
        let mut cmd = std::process::Command::new(binary(s.name())?);
        cmd.env("BIND", format!("127.0.0.1:{port}"))
            .env("DATABASE_URL", self.database_url(s))
            .env(shared::config::AUTH_SECRET_VAR, auth::SECRET)
            .env("RUST_LOG", std::env::var("SERVICE_LOG").unwrap_or_else(|_| "warn".into()))
            .env_remove("CORS_ALLOWED_ORIGINS")
            .stdin(std::process::Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out);
        for peer in Service::ALL {
            cmd.env(peer.url_var(), self.api.url(peer));
        }
        for (_, k, v) in self.env.iter().filter(|(x, _, _)| *x == s) {
            cmd.env(k, v);
        }
        let child = cmd.spawn()?;
        self.procs.push(Proc { service: s, port, database_url: self.database_url(s), child: Some(child), log });
        let health = format!("http://127.0.0.1:{port}/health");
        let end = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(r) = self.api.http.get(&health).send().await
                && r.status() == StatusCode::OK
            {
                return Ok(n);
            }
            let exited = self.procs[n].child.as_mut().and_then(|c| c.try_wait().ok().flatten());
            if exited.is_some() || Instant::now() >= end {
                return Err(
                    format!("{s} on port {port} did not come up ({exited:?}):\n{}", self.procs[n].log_tail()).into()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The first running process of `s`.
    fn main_proc(&mut self, s: Service) -> R<&mut Proc> {
        let port = self.api.urls.get(s).rsplit(':').next().unwrap_or("").parse::<u16>()?;
        self.procs.iter_mut().find(|p| p.service == s && p.port == port).ok_or_else(|| format!("no {s}").into())
    }

    /// Sets `key` for the next processes of `s` (started by [`Cluster::restart`]); `None` unsets it.
    pub fn set_env(&mut self, s: Service, key: &str, value: Option<&str>) {
        self.env.retain(|(x, k, _)| !(*x == s && k == key));
        if let Some(v) = value {
            self.env.push((s, key.to_owned(), v.to_owned()));
        }
    }

    /// True while the process of `s` the others talk to is running (not dead of a fault point).
    pub fn is_running(&mut self, s: Service) -> R<bool> {
        let p = self.main_proc(s)?;
        Ok(p.child.as_mut().is_some_and(|c| c.try_wait().ok().flatten().is_none()))
    }

    /// `kill -9` of the service the others talk to; answers its port.
    pub fn kill(&mut self, s: Service) -> R<u16> {
        let p = self.main_proc(s)?;
        p.kill();
        Ok(p.port)
    }

    /// Starts the service again on its port and database (after [`Cluster::kill`]).
    pub async fn restart(&mut self, s: Service) -> R {
        let port = self.main_proc(s)?.port;
        self.procs.retain(|p| !(p.service == s && p.port == port));
        self.spawn(s, port).await?;
        Ok(())
    }

    /// Another process of `s` on the same database, on a port of its own; answers its base URL.
    pub async fn add_copy(&mut self, s: Service) -> R<String> {
        let port = free_port()?;
        self.spawn(s, port).await?;
        Ok(format!("http://127.0.0.1:{port}"))
    }

    /// What the processes logged, for failure messages.
    pub fn logs(&self) -> String {
        self.procs.iter().map(|p| format!("--- {} :{}\n{}\n", p.service, p.port, p.log_tail())).collect()
    }
}

/// A plain connection to a service's database (for faults the API cannot cause).
pub fn connect(url: &str) -> R<shared::db::DbConn> {
    use diesel::Connection;
    use diesel::connection::SimpleConnection;
    let mut c = shared::db::DbConn::establish(url)?;
    if !url.starts_with("postgres") {
        c.batch_execute("PRAGMA busy_timeout = 10000")?;
    }
    Ok(c)
}

/// A service's committed OpenAPI document (`openapi/<service>.json`), parsed.
pub fn document(s: Service) -> Value {
    // Read when the test runs, not compiled in: a document changed since the last build is the
    // one checked (cargo does not always see a change to a file outside the crate).
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../openapi/{}.json", s.name()));
    // Checked by the openapi test: the committed documents are what the services serve.
    std::fs::read_to_string(&path).ok().and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// A small world many tests start from.

/// A customer, a project, and a product of hours (`policy`) that makes a task per line there.
pub struct Shop {
    pub customer: String,
    pub project: String,
    pub product: String,
}

impl Api {
    pub async fn shop(&self, policy: &str) -> R<Shop> {
        let customer = id(&self
            .post(Service::Sales, "/customers", &serde_json::json!({"name": "Deco Addict"}), StatusCode::CREATED)
            .await?);
        let project = id(&self
            .post(Service::Projects, "/projects", &serde_json::json!({"name": "Support"}), StatusCode::CREATED)
            .await?);
        let product = id(&self
            .post(
                Service::Sales,
                "/products",
                &serde_json::json!({"name": format!("Support hours ({policy})"), "type": "service", "uom": "hour",
                    "list_price": "100", "service_policy": policy, "service_tracking": "task_in_project",
                    "project_id": project}),
                StatusCode::CREATED,
            )
            .await?);
        Ok(Shop { customer, project, product })
    }

    /// A draft order of `n` lines of `qty` of `product`; answers its id.
    pub async fn draft_order(&self, customer: &str, product: &str, n: usize, qty: &str) -> R<String> {
        let lines: Vec<Value> = (0..n).map(|_| serde_json::json!({"product_id": product, "quantity": qty})).collect();
        let o = self
            .post(
                Service::Sales,
                "/orders",
                &serde_json::json!({"customer_id": customer, "lines": lines}),
                StatusCode::CREATED,
            )
            .await?;
        Ok(id(&o))
    }

    /// A confirmed order of `n` lines of `qty` hours, each with its task; answers the order id
    /// and (line id, task id) per line.
    pub async fn sold(&self, shop: &Shop, n: usize, qty: &str) -> R<(String, Vec<(String, String)>)> {
        let order = self.draft_order(&shop.customer, &shop.product, n, qty).await?;
        let o = self.confirm(&order).await?;
        let lines = o["lines"]
            .as_array()
            .ok_or("no lines")?
            .iter()
            .map(|l| (id(l), l["task_id"].as_str().unwrap_or_default().to_owned()))
            .collect();
        Ok((order, lines))
    }

    /// A support team on the shop's project that logs time on tickets (and bills it when
    /// `reinvoicing`), and a ticket of the shop's customer on `task`: answers (team, ticket).
    pub async fn desk(&self, shop: &Shop, task: &str, reinvoicing: bool) -> R<(String, String)> {
        let team = id(&self
            .post(
                Service::Helpdesk,
                "/teams",
                &serde_json::json!({"name": "Support", "use_timesheets": true,
                    "use_time_reinvoicing": reinvoicing, "project_id": shop.project}),
                StatusCode::CREATED,
            )
            .await?);
        let ticket = id(&self
            .post(
                Service::Helpdesk,
                "/tickets",
                &serde_json::json!({"team_id": team, "customer_id": shop.customer, "title": "Help", "task_id": task}),
                StatusCode::CREATED,
            )
            .await?);
        Ok((team, ticket))
    }

    /// Logs `hours` of "Ann" on `ticket` through helpdesk; answers the timesheet.
    pub async fn log_on_ticket(&self, ticket: &str, hours: &str) -> R<Value> {
        let body = serde_json::json!({"employee": "Ann", "hours": hours});
        self.post(Service::Helpdesk, &format!("/tickets/{ticket}/timesheets"), &body, StatusCode::CREATED).await
    }

    /// A request with an optional body and `If-Match`; answers everything about the answer.
    pub async fn conditional(
        &self,
        s: Service,
        method: Method,
        path: &str,
        body: Option<&Value>,
        if_match: Option<&str>,
    ) -> R<Answer> {
        let mut req = self.request(s, method, path);
        if let Some(b) = body {
            req = req.json(b);
        }
        if let Some(tag) = if_match {
            req = req.header("If-Match", tag);
        }
        self.send(req).await
    }

    /// The exact sum of the hours of a sale line's timesheets, as projects lists them.
    pub async fn logged_hours(&self, line: &str) -> R<rust_decimal::Decimal> {
        let mut sum = rust_decimal::Decimal::ZERO;
        for t in self.all(Service::Projects, &format!("/timesheets?sale_line_id={line}")).await? {
            sum += dec(&t["hours"])?;
        }
        Ok(sum)
    }

    /// Waits until every line's `qty_delivered` (hour lines) is the exact sum of its timesheets;
    /// answers the total hours.
    pub async fn converged(&self, lines: &[String], secs: u64) -> R<rust_decimal::Decimal> {
        eventually(secs, || async {
            let mut total = rust_decimal::Decimal::ZERO;
            for l in lines {
                let want = self.logged_hours(l).await?;
                let got = dec(&self.get(Service::Sales, &format!("/order-lines/{l}")).await?["qty_delivered"])?;
                if got != want {
                    return Err(
                        format!("line {l}: sales shows {got} delivered, projects has {want} hours logged").into()
                    );
                }
                total += want;
            }
            Ok(total)
        })
        .await
    }
}

/// As [`on_both!`], each of the two tests under the `#[tokio::test(...)]` attribute given first:
/// for a scenario that keeps a runtime of its own (e.g. `worker_threads = 2`).
/// `on_both_with!(#[tokio::test(flavor = "multi_thread", worker_threads = 2)], scenario, a, b);`
#[macro_export]
macro_rules! on_both_with {
    (#[$test:meta], $scenario:ident, $sqlite:ident, $postgres:ident $(,)?) => {
        #[$test]
        async fn $sqlite() -> $crate::R {
            $scenario(shared::db::Backend::Sqlite).await
        }

        #[$test]
        async fn $postgres() -> $crate::R {
            if !$crate::backends().contains(&shared::db::Backend::Postgres) {
                return Ok(());
            }
            $scenario(shared::db::Backend::Postgres).await
        }
    };
}
