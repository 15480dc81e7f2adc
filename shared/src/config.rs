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

/// The variable that filters log lines (read by [`crate::telemetry::init`]).
pub const LOG_VAR: &str = "RUST_LOG";
/// The variable that turns CORS on: comma-separated origins, or `*`.
pub const CORS_VAR: &str = "CORS_ALLOWED_ORIGINS";
/// The HS256 secret the services share (at least 32 bytes).
pub const AUTH_SECRET_VAR: &str = "AUTH_SECRET";
/// A PEM public key (RS256 or ES256) of an identity provider that issues the tokens.
pub const AUTH_PUBLIC_KEY_VAR: &str = "AUTH_PUBLIC_KEY";
/// With only a public key: the token this service sends to its peers.
pub const AUTH_SERVICE_TOKEN_VAR: &str = "AUTH_SERVICE_TOKEN";

/// Every environment variable a service binary reads: the one list that [`Config::from_vars`],
/// the README and the compose file check agree on. (`stack` reads the same ones, except that it
/// takes `<SERVICE>_BIND` and `<SERVICE>_DATABASE_URL` per service instead of `BIND` and
/// `DATABASE_URL`: see [`stack_vars`].)
pub const VARS: &[&str] = &[
    "BIND",
    "DATABASE_URL",
    "SALES_URL",
    "INVOICING_URL",
    "PROJECTS_URL",
    "HELPDESK_URL",
    CORS_VAR,
    LOG_VAR,
    AUTH_SECRET_VAR,
    AUTH_PUBLIC_KEY_VAR,
    AUTH_SERVICE_TOKEN_VAR,
];

/// The variables `stack` reads: [`CORS_VAR`], [`LOG_VAR`], and `<SERVICE>_BIND` and
/// `<SERVICE>_DATABASE_URL` for each of the four.
pub fn stack_vars() -> Vec<String> {
    let mut v = vec![
        CORS_VAR.to_owned(),
        LOG_VAR.to_owned(),
        AUTH_SECRET_VAR.to_owned(),
        AUTH_PUBLIC_KEY_VAR.to_owned(),
        AUTH_SERVICE_TOKEN_VAR.to_owned(),
    ];
    for s in Service::ALL {
        let up = s.name().to_uppercase();
        v.push(format!("{up}_BIND"));
        v.push(format!("{up}_DATABASE_URL"));
    }
    v
}

/// Which browser origins may call the API (CORS). Off unless configured.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum CorsOrigins {
    /// No CORS headers at all: browsers on other origins cannot read the answers.
    #[default]
    Off,
    /// Any origin (`*`); no credentials.
    Any,
    /// These origins exactly, e.g. `https://app.example.com`.
    List(Vec<String>),
}

impl CorsOrigins {
    /// Parses the value of [`CORS_VAR`]: empty for off, `*` for any origin, or
    /// comma-separated origins (`scheme://host[:port]`, no path).
    pub fn parse(value: &str) -> Result<CorsOrigins, ConfigError> {
        let value = value.trim();
        if value.is_empty() {
            return Ok(CorsOrigins::Off);
        }
        if value == "*" {
            return Ok(CorsOrigins::Any);
        }
        let mut origins = vec![];
        for item in value.split(',').map(str::trim).filter(|o| !o.is_empty()) {
            origins.push(parse_origin(item)?);
        }
        if origins.is_empty() {
            return Ok(CorsOrigins::Off);
        }
        Ok(CorsOrigins::List(origins))
    }
}

fn parse_origin(item: &str) -> Result<String, ConfigError> {
    let bad = |why: &str| {
        ConfigError(format!(
            "{CORS_VAR}: {item:?} is not an origin ({why}); give comma-separated origins such as \
             https://app.example.com,http://localhost:3000, or * for any origin"
        ))
    };
    if item == "*" {
        return Err(bad("`*` must stand alone"));
    }
    let origin = item.strip_suffix('/').unwrap_or(item);
    let rest = match origin.split_once("://") {
        Some(("http" | "https", rest)) => rest,
        _ => return Err(bad("it must start with http:// or https://")),
    };
    if rest.is_empty() || rest.contains(['/', '?', '#', '@', ' ']) {
        return Err(bad("it must be scheme://host[:port], without a path"));
    }
    if origin.parse::<actix_web::http::Uri>().is_err() {
        return Err(bad("it does not parse as a URI"));
    }
    Ok(origin.to_owned())
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
    /// Browser origins allowed to call the API; [`CorsOrigins::Off`] by default.
    pub cors: CorsOrigins,
    /// How callers are authenticated. `None` only in in-process tests: the binaries refuse to
    /// start without it (see [`Config::require_auth`]).
    pub auth: Option<crate::auth::AuthConfig>,
    /// `/docs` shows the four services' documents in one page, this one first (as `stack`
    /// serves them); otherwise only this service's.
    pub docs_portal: bool,
}

#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(pub String);

impl Config {
    /// Reads `BIND`, `DATABASE_URL`, the peers' `*_URL` and `CORS_ALLOWED_ORIGINS` through `var`,
    /// with the defaults of DESIGN.md. `var` is the environment in `main`, a map in tests. Every
    /// name it reads is in [`VARS`].
    pub fn from_vars(service: Service, var: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let var = |k: &str| {
            debug_assert!(VARS.contains(&k), "{k} is read but missing from config::VARS");
            var(k)
        };
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
        let cors = CorsOrigins::parse(&var(CORS_VAR).unwrap_or_default())?;
        let auth = auth_from_vars(&var)?;
        Ok(Config { service, bind, database_url, peers, cors, auth, docs_portal: false })
    }

    /// The binaries' check: a service never runs open to anyone who can reach its port.
    pub fn require_auth(&self) -> Result<(), ConfigError> {
        match &self.auth {
            Some(_) => Ok(()),
            None => Err(ConfigError(format!(
                "set {AUTH_SECRET_VAR} (HS256, at least 32 bytes, shared by the services) or {AUTH_PUBLIC_KEY_VAR} \
                 (RS256/ES256 PEM) with {AUTH_SERVICE_TOKEN_VAR}; `stack` makes a secret of its own"
            ))),
        }
    }

    pub fn from_env(service: Service) -> Result<Config, ConfigError> {
        Config::from_vars(service, |k| std::env::var(k).ok().filter(|v| !v.is_empty()))
    }
}

/// Reads the authentication variables; `None` when neither a secret nor a public key is set.
pub fn auth_from_vars(var: &impl Fn(&str) -> Option<String>) -> Result<Option<crate::auth::AuthConfig>, ConfigError> {
    let secret = var(AUTH_SECRET_VAR).map(String::into_bytes);
    let public_key_pem = var(AUTH_PUBLIC_KEY_VAR);
    let service_token = var(AUTH_SERVICE_TOKEN_VAR);
    if secret.is_none() && public_key_pem.is_none() {
        return Ok(None);
    }
    if secret.as_ref().is_some_and(|s| s.len() < crate::auth::MIN_SECRET_LEN) {
        return Err(ConfigError(format!("{AUTH_SECRET_VAR} must be at least {} bytes", crate::auth::MIN_SECRET_LEN)));
    }
    if secret.is_none() && service_token.is_none() {
        return Err(ConfigError(format!(
            "with only {AUTH_PUBLIC_KEY_VAR}, set {AUTH_SERVICE_TOKEN_VAR} (a token of role service) for calls between services"
        )));
    }
    let config = crate::auth::AuthConfig { secret, public_key_pem, service_token };
    crate::auth::Verifier::new(&config).map_err(ConfigError)?;
    Ok(Some(config))
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

    #[test]
    fn from_vars_reads_every_listed_variable() -> Result<(), ConfigError> {
        let asked = std::cell::RefCell::new(Vec::<String>::new());
        Config::from_vars(Service::Sales, |k| {
            asked.borrow_mut().push(k.to_owned());
            None
        })?;
        let asked = asked.into_inner();
        for v in VARS.iter().filter(|v| **v != LOG_VAR) {
            assert!(asked.iter().any(|a| a == v), "{v} is in VARS but from_vars never reads it");
        }
        Ok(())
    }

    #[test]
    fn cors_is_off_by_default_and_parses_origins() -> Result<(), ConfigError> {
        assert_eq!(Config::from_vars(Service::Sales, |_| None)?.cors, CorsOrigins::Off);
        assert_eq!(CorsOrigins::parse("  ")?, CorsOrigins::Off);
        assert_eq!(CorsOrigins::parse("*")?, CorsOrigins::Any);
        assert_eq!(
            CorsOrigins::parse("https://app.example.com/, http://localhost:3000")?,
            CorsOrigins::List(vec!["https://app.example.com".into(), "http://localhost:3000".into()])
        );
        for bad in ["app.example.com", "https://a.com/app", "*,https://a.com", "ftp://a.com"] {
            let err = CorsOrigins::parse(bad).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(err.contains("CORS_ALLOWED_ORIGINS") && err.contains("is not an origin"), "{bad}: {err}");
        }
        Ok(())
    }
}
