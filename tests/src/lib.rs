//! Helpers for the end-to-end tests: start the four real services in-process on free ports,
//! each with a fresh database, and speak to them over HTTP only.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::Value;
use shared::config::Service;
use shared::db::Backend;
use shared::testing::TestDb;
use stack::Stack;

pub type R<T = ()> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// A running system and the databases it lives on.
pub struct System {
    pub stack: Stack,
    pub http: reqwest::Client,
    pub dbs: Vec<(Service, TestDb)>,
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

fn fresh(backend: Backend, name: &str) -> R<TestDb> {
    Ok(match backend {
        Backend::Sqlite => TestDb::sqlite(name)?,
        Backend::Postgres => TestDb::postgres(name).ok_or("PostgreSQL went away")?,
    })
}

impl System {
    /// Starts all four services, each with a fresh database on `backend`.
    pub async fn start(backend: Backend) -> R<System> {
        let mut dbs = vec![];
        for s in Service::ALL {
            dbs.push((s, fresh(backend, s.name())?));
        }
        let urls: Vec<(Service, String)> = dbs.iter().map(|(s, d)| (*s, d.url.clone())).collect();
        let plan = stack::plan(
            |_| "127.0.0.1:0".into(),
            |s| urls.iter().find(|(x, _)| *x == s).map(|(_, u)| u.clone()).unwrap_or_default(),
        )?;
        let stack = stack::start_all(plan).await?;
        Ok(System { stack, http: reqwest::Client::new(), dbs })
    }

    pub fn url(&self, s: Service) -> String {
        self.stack.url(s).to_owned()
    }

    /// Sends a request to `service` at `/api/v1{path}`; answers the status and JSON body.
    pub async fn call(&self, s: Service, method: Method, path: &str, body: Option<&Value>) -> R<(StatusCode, Value)> {
        let mut req = self.http.request(method, format!("{}/api/v1{}", self.url(s), path));
        if let Some(b) = body {
            req = req.json(b);
        }
        let res = req.send().await?;
        let status = res.status();
        let text = res.text().await?;
        Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
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
        };
        let running = shared::server::start(stack::app(s), config, Some(listener)).await?;
        self.stack.services.push(running);
        Ok(())
    }

    pub async fn stop(self) {
        self.stack.stop().await;
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

impl System {
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
