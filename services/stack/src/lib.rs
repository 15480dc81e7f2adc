//! The four services in one process: what `stack` runs and what the end-to-end tests start.

use std::net::TcpListener;

use shared::config::{Config, CorsOrigins, PeerUrls, Service};
use shared::server::{Running, ServiceApp, StartError, start};

/// The service crate behind each service.
pub fn app(service: Service) -> ServiceApp {
    match service {
        Service::Sales => sales::app(),
        Service::Invoicing => invoicing::app(),
        Service::Projects => projects::app(),
        Service::Helpdesk => helpdesk::app(),
    }
}

/// Where each service listens and keeps its data.
pub struct Plan {
    pub listeners: Vec<(Service, TcpListener)>,
    pub databases: Vec<(Service, String)>,
    /// Browser origins allowed to call any of the four (unless set: the four themselves, for
    /// the docs page).
    pub cors: CorsOrigins,
    /// How the four authenticate callers; `None` only in in-process tests.
    pub auth: Option<shared::auth::AuthConfig>,
}

/// The four running services.
pub struct Stack {
    pub services: Vec<Running>,
    pub peers: PeerUrls,
}

impl Stack {
    pub fn url(&self, s: Service) -> &str {
        self.peers.get(s)
    }

    pub async fn stop(self) {
        for r in self.services {
            r.stop().await;
        }
    }
}

/// Binds each service to `bind(service)` (port 0 for a free port) and names its database.
pub fn plan(bind: impl Fn(Service) -> String, database: impl Fn(Service) -> String) -> Result<Plan, StartError> {
    let mut listeners = vec![];
    for s in Service::ALL {
        let addr = bind(s);
        let l = TcpListener::bind(&addr).map_err(|source| StartError::Bind { bind: addr, source })?;
        listeners.push((s, l));
    }
    Ok(Plan {
        listeners,
        databases: Service::ALL.iter().map(|s| (*s, database(*s))).collect(),
        cors: CorsOrigins::Off,
        auth: None,
    })
}

/// Starts all four, each knowing where the others listen.
pub async fn start_all(plan: Plan) -> Result<Stack, StartError> {
    let mut peers = PeerUrls::local();
    for (s, l) in &plan.listeners {
        let port = l.local_addr().map_err(|e| StartError::Other(e.to_string()))?.port();
        peers.set(*s, format!("http://127.0.0.1:{port}"));
    }
    // Each one's /docs shows the four documents; trying an operation of another from there is
    // a cross-origin call, allowed by default between the four (tokens are bearer headers,
    // never cookies, so no other origin gains anything).
    let cors = match &plan.cors {
        CorsOrigins::Off => CorsOrigins::List(Service::ALL.iter().map(|s| peers.get(*s).to_owned()).collect()),
        other => other.clone(),
    };
    let mut services = vec![];
    for (s, listener) in plan.listeners {
        let database_url = plan.databases.iter().find(|(d, _)| *d == s).map(|(_, u)| u.clone()).unwrap_or_default();
        let config = Config {
            service: s,
            bind: String::new(),
            database_url,
            peers: peers.clone(),
            cors: cors.clone(),
            auth: plan.auth.clone(),
            docs_portal: true,
        };
        services.push(start(app(s), config, Some(listener)).await?);
    }
    Ok(Stack { services, peers })
}

/// The OpenAPI document of a service as committed under `openapi/`: pretty JSON, newline-ended.
pub fn openapi_text(service: Service) -> Result<String, StartError> {
    let doc = shared::server::document(&app(service));
    let mut text = serde_json::to_string_pretty(&doc).map_err(|e| StartError::Other(e.to_string()))?;
    text.push('\n');
    Ok(text)
}

/// Writes the four documents into `dir` (the command that keeps `openapi/` current).
pub fn write_openapi(dir: &std::path::Path) -> Result<(), StartError> {
    std::fs::create_dir_all(dir).map_err(|e| StartError::Other(format!("{}: {e}", dir.display())))?;
    for s in Service::ALL {
        let path = dir.join(format!("{}.json", s.name()));
        std::fs::write(&path, openapi_text(s)?).map_err(|e| StartError::Other(format!("{}: {e}", path.display())))?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

/// The file under the data directory that holds the secret `stack` signs and checks tokens
/// with when `AUTH_SECRET` is not set.
pub const SECRET_FILE: &str = "auth-secret";

/// The HS256 secret of an embedded stack: read from `<data_dir>/auth-secret`, made (64 random
/// hex characters, readable by the owner only) on first start.
pub fn local_secret(data_dir: &std::path::Path) -> Result<Vec<u8>, String> {
    let path = data_dir.join(SECRET_FILE);
    match std::fs::read_to_string(&path) {
        Ok(s) if s.trim().len() >= shared::auth::MIN_SECRET_LEN => return Ok(s.trim().as_bytes().to_vec()),
        Ok(_) => return Err(format!("{} is too short; delete it to make a new one", path.display())),
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(format!("{}: {e}", path.display())),
        Err(_) => {}
    }
    std::fs::create_dir_all(data_dir).map_err(|e| format!("{}: {e}", data_dir.display()))?;
    let secret: String = {
        use rand::Rng;
        let mut rng = rand::rng();
        (0..32).map(|_| format!("{:02x}", rng.random::<u8>())).collect()
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    std::io::Write::write_all(&mut file, secret.as_bytes()).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(secret.into_bytes())
}
