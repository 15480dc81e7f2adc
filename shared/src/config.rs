//! Configuration from the environment, loaded once in `main` and passed explicitly.

use std::fmt;

/// The four services and their default ports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Service {
    Sales,
    Invoicing,
    Projects,
    Helpdesk,
}

impl Service {
    pub const ALL: [Service; 4] = [Service::Sales, Service::Invoicing, Service::Projects, Service::Helpdesk];

    pub fn name(self) -> &'static str {
        match self {
            Service::Sales => "sales",
            Service::Invoicing => "invoicing",
            Service::Projects => "projects",
            Service::Helpdesk => "helpdesk",
        }
    }

    pub fn default_port(self) -> u16 {
        match self {
            Service::Sales => 8081,
            Service::Invoicing => 8082,
            Service::Projects => 8083,
            Service::Helpdesk => 8084,
        }
    }

    /// The variable naming this service's base URL for its peers, e.g. `SALES_URL`.
    pub fn url_var(self) -> String {
        format!("{}_URL", self.name().to_uppercase())
    }
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Base URLs of the four services.
#[derive(Debug, Clone)]
pub struct PeerUrls {
    pub sales: String,
    pub invoicing: String,
    pub projects: String,
    pub helpdesk: String,
}

impl PeerUrls {
    pub fn get(&self, s: Service) -> &str {
        match s {
            Service::Sales => &self.sales,
            Service::Invoicing => &self.invoicing,
            Service::Projects => &self.projects,
            Service::Helpdesk => &self.helpdesk,
        }
    }

    pub fn set(&mut self, s: Service, url: String) {
        let url = url.trim_end_matches('/').to_owned();
        match s {
            Service::Sales => self.sales = url,
            Service::Invoicing => self.invoicing = url,
            Service::Projects => self.projects = url,
            Service::Helpdesk => self.helpdesk = url,
        }
    }

    /// The defaults: every service on 127.0.0.1 at its own port.
    pub fn local() -> PeerUrls {
        let url = |s: Service| format!("http://127.0.0.1:{}", s.default_port());
        PeerUrls {
            sales: url(Service::Sales),
            invoicing: url(Service::Invoicing),
            projects: url(Service::Projects),
            helpdesk: url(Service::Helpdesk),
        }
    }
}

/// What one service needs to run.
#[derive(Debug, Clone)]
pub struct Config {
    pub service: Service,
    /// Address to listen on, e.g. `127.0.0.1:8081`.
    pub bind: String,
    /// A `postgres://` URL or an SQLite file path.
    pub database_url: String,
    pub peers: PeerUrls,
}

#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(pub String);

impl Config {
    /// Reads `BIND`, `DATABASE_URL` and the peers' `*_URL` through `var`, with the defaults of
    /// DESIGN.md. `var` is the environment in `main`, a map in tests.
    pub fn from_vars(service: Service, var: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let bind = var("BIND").unwrap_or_else(|| format!("127.0.0.1:{}", service.default_port()));
        if bind.parse::<std::net::SocketAddr>().is_err() && !bind.contains(':') {
            return Err(ConfigError(format!("BIND must be host:port, got {bind:?}")));
        }
        let database_url = var("DATABASE_URL").unwrap_or_else(|| format!("data/{}.db", service.name()));
        if database_url.trim().is_empty() {
            return Err(ConfigError("DATABASE_URL is empty: set a postgres:// URL or an SQLite file path".into()));
        }
        let mut peers = PeerUrls::local();
        for s in Service::ALL {
            if let Some(url) = var(&s.url_var()) {
                if !(url.starts_with("http://") || url.starts_with("https://")) {
                    return Err(ConfigError(format!("{} must be an http:// URL, got {url:?}", s.url_var())));
                }
                peers.set(s, url);
            }
        }
        Ok(Config { service, bind, database_url, peers })
    }

    pub fn from_env(service: Service) -> Result<Config, ConfigError> {
        Config::from_vars(service, |k| std::env::var(k).ok().filter(|v| !v.is_empty()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn defaults_follow_the_design() -> Result<(), ConfigError> {
        let c = Config::from_vars(Service::Projects, |_| None)?;
        assert_eq!(c.bind, "127.0.0.1:8083");
        assert_eq!(c.database_url, "data/projects.db");
        assert_eq!(c.peers.sales, "http://127.0.0.1:8081");
        Ok(())
    }

    #[test]
    fn environment_overrides_and_rejects_bad_urls() {
        let vars: HashMap<&str, &str> =
            [("SALES_URL", "http://sales:9000/"), ("DATABASE_URL", "postgres://x/y")].into();
        let c = Config::from_vars(Service::Helpdesk, |k| vars.get(k).map(|v| v.to_string()));
        assert!(matches!(c, Ok(ref c) if c.peers.sales == "http://sales:9000" && c.database_url == "postgres://x/y"));
        let bad = Config::from_vars(Service::Helpdesk, |k| (k == "PROJECTS_URL").then(|| "ftp://x".to_string()));
        assert!(bad.is_err());
    }
}
