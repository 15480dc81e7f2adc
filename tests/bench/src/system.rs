//! A fresh system: the four release binaries as four processes, each on a spare port with a
//! fresh database (SQLite files in a temporary folder, or new PostgreSQL databases that are
//! dropped at the end).

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use diesel::{Connection, RunQueryDsl, pg::PgConnection};

use crate::R;
use crate::api::Api;

pub const SERVICES: [&str; 4] = ["sales", "invoicing", "projects", "helpdesk"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// Scratch databases: SQLite files under a temporary folder, or PostgreSQL databases named
/// `bench_<pid>_<name>` on the server of `BENCH_DATABASE_URL`, dropped on drop.
pub struct Databases {
    pub backend: Backend,
    pub dir: tempfile::TempDir,
    admin_url: String,
    created: Vec<String>,
}

impl Databases {
    pub fn new(backend: Backend, admin_url: &str) -> R<Databases> {
        let dir = tempfile::Builder::new().prefix("prepaid-bench-").tempdir()?;
        Ok(Databases { backend, dir, admin_url: admin_url.to_owned(), created: vec![] })
    }

    /// A new, empty database called `name`; answers its URL.
    pub fn create(&mut self, name: &str) -> R<String> {
        match self.backend {
            Backend::Sqlite => Ok(self.dir.path().join(format!("{name}.db")).to_string_lossy().into_owned()),
            Backend::Postgres => {
                let db = format!("bench_{}_{}", std::process::id(), name);
                let mut conn = PgConnection::establish(&self.admin_url)
                    .map_err(|e| format!("PostgreSQL at BENCH_DATABASE_URL ({}): {e}", self.admin_url))?;
                diesel::sql_query(format!("DROP DATABASE IF EXISTS {db}")).execute(&mut conn)?;
                diesel::sql_query(format!("CREATE DATABASE {db}")).execute(&mut conn)?;
                self.created.push(db.clone());
                Ok(with_database(&self.admin_url, &db))
            }
        }
    }
}

impl Drop for Databases {
    fn drop(&mut self) {
        if self.created.is_empty() {
            return;
        }
        if let Ok(mut conn) = PgConnection::establish(&self.admin_url) {
            for db in self.created.drain(..) {
                if let Err(e) =
                    diesel::sql_query(format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)")).execute(&mut conn)
                {
                    eprintln!("bench: could not drop database {db}: {e}");
                }
            }
        }
    }
}

/// `url` with its database name replaced by `db`.
fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_part = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    format!("{host_part}/{db}{query}")
}

pub struct Proc {
    pub name: &'static str,
    pub url: String,
    child: Child,
    pub log: PathBuf,
}

/// The four services, running: one process each, or `replicas` each behind a local nginx (then
/// `fronts` are the addresses everyone, services included, calls).
pub struct System {
    pub procs: Vec<Proc>,
    fronts: Vec<(&'static str, String)>,
    nginx: Option<Child>,
}

fn spare_port() -> R<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

/// Starts one process of service `name` on `port` and `database`, calling its peers at
/// `peers` (in the order of [`SERVICES`]), logging to `log`.
fn spawn(
    bin_dir: &Path,
    name: &'static str,
    port: u16,
    database: &str,
    secret: &str,
    peers: &[String],
    log: PathBuf,
) -> R<Proc> {
    let bin = bin_dir.join(name);
    if !bin.exists() {
        return Err(format!(
            "{} not found: build the services first with `cargo build --release --bins` \
             (or run ./scripts/bench.sh), or pass --bin-dir",
            bin.display()
        )
        .into());
    }
    let out = File::create(&log)?;
    let mut cmd = Command::new(&bin);
    cmd.env("BIND", format!("127.0.0.1:{port}"))
        .env("DATABASE_URL", database)
        .env("AUTH_SECRET", secret)
        .env("RUST_LOG", std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into()))
        .stdin(Stdio::null())
        .stdout(out.try_clone()?)
        .stderr(out);
    for (peer, url) in SERVICES.iter().zip(peers) {
        cmd.env(format!("{}_URL", peer.to_uppercase()), url);
    }
    let child = cmd.spawn().map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
    Ok(Proc { name, url: format!("http://127.0.0.1:{port}"), child, log })
}

impl System {
    /// Starts the four binaries found in `bin_dir`, each on its own database from `dbs`.
    pub async fn start(bin_dir: &Path, dbs: &mut Databases, api: &Api, secret: &str) -> R<System> {
        let mut ports = vec![];
        for _ in SERVICES {
            ports.push(spare_port()?);
        }
        let url_of = |i: usize| format!("http://127.0.0.1:{}", ports[i]);
        let peers: Vec<String> = (0..SERVICES.len()).map(url_of).collect();
        let mut system = System { procs: vec![], fronts: vec![], nginx: None };
        for (i, name) in SERVICES.iter().enumerate() {
            let database = dbs.create(name)?;
            let log = dbs.dir.path().join(format!("{name}.log"));
            system.procs.push(spawn(bin_dir, name, ports[i], &database, secret, &peers, log)?);
        }
        for p in &mut system.procs {
            wait_healthy(p, api).await?;
        }
        Ok(system)
    }

    /// `replicas` processes of each service on one PostgreSQL database per service, behind a
    /// local nginx that spreads requests over them (round robin, keep-alive to each copy); the
    /// services call each other through nginx too, as copies behind a load balancer would.
    pub async fn start_replicated(
        bin_dir: &Path,
        dbs: &mut Databases,
        api: &Api,
        secret: &str,
        replicas: usize,
    ) -> R<System> {
        if dbs.backend != Backend::Postgres {
            return Err("--replicas needs --backend postgres: copies of a service share its database".into());
        }
        let nginx_bin =
            which("nginx").ok_or("nginx not found: `apt-get install nginx-light` (./scripts/bench.sh does)")?;
        let fronts: Vec<u16> = SERVICES.iter().map(|_| spare_port()).collect::<R<_>>()?;
        let front_of = |i: usize| format!("http://127.0.0.1:{}", fronts[i]);
        let mut system = System { procs: vec![], fronts: vec![], nginx: None };
        let peers: Vec<String> = (0..SERVICES.len()).map(front_of).collect();
        let mut upstreams = String::new();
        for (i, name) in SERVICES.iter().enumerate() {
            let database = dbs.create(name)?;
            let mut servers = String::new();
            for copy in 0..replicas {
                let port = spare_port()?;
                servers.push_str(&format!("    server 127.0.0.1:{port};\n"));
                let log = dbs.dir.path().join(format!("{name}-{copy}.log"));
                system.procs.push(spawn(bin_dir, name, port, &database, secret, &peers, log)?);
            }
            upstreams.push_str(&format!(
                "  upstream {name} {{\n{servers}    keepalive 64;\n  }}\n  server {{\n    listen 127.0.0.1:{};\n    \
                 location / {{\n      proxy_pass http://{name};\n      proxy_http_version 1.1;\n      \
                 proxy_set_header Connection \"\";\n      proxy_set_header Host $host;\n    }}\n  }}\n",
                fronts[i]
            ));
            system.fronts.push((name, front_of(i)));
        }
        let dir = dbs.dir.path();
        let conf = dir.join("nginx.conf");
        let d = dir.display();
        std::fs::write(
            &conf,
            format!(
                "daemon off;\nworker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/nginx.log warn;\n\
                 events {{ worker_connections 4096; }}\nhttp {{\n  access_log off;\n  \
                 client_body_temp_path {d}/nginx-body;\n  proxy_temp_path {d}/nginx-proxy;\n  \
                 fastcgi_temp_path {d}/nginx-fastcgi;\n  uwsgi_temp_path {d}/nginx-uwsgi;\n  \
                 scgi_temp_path {d}/nginx-scgi;\n{upstreams}}}\n"
            ),
        )?;
        let out = File::create(dir.join("nginx.out"))?;
        let nginx = Command::new(nginx_bin)
            .arg("-c")
            .arg(&conf)
            .arg("-p")
            .arg(dir)
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .spawn()
            .map_err(|e| format!("cannot start nginx: {e}"))?;
        system.nginx = Some(nginx);
        for p in &mut system.procs {
            wait_healthy(p, api).await?;
        }
        for (name, front) in &system.fronts {
            let deadline = Instant::now() + Duration::from_secs(10);
            while !matches!(api.call(reqwest::Method::GET, &format!("{front}/health"), None).await, Ok((200, _))) {
                if Instant::now() > deadline {
                    return Err(format!("nginx does not answer for {name} at {front} (see {d}/nginx.log)").into());
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        Ok(system)
    }

    /// Where `name` is called: its nginx front with replicas, else its one process.
    pub fn url(&self, name: &str) -> String {
        if let Some((_, front)) = self.fronts.iter().find(|(n, _)| *n == name) {
            return front.clone();
        }
        self.procs.iter().find(|p| p.name == name).map(|p| p.url.clone()).unwrap_or_default()
    }

    pub fn pids(&self) -> Vec<(&'static str, u32)> {
        self.procs.iter().map(|p| (p.name, p.child.id())).collect()
    }

    /// Each service's peak resident memory (`VmHWM`), in KiB.
    pub fn peak_rss_kib(&self) -> Vec<(&'static str, Option<u64>)> {
        self.procs.iter().map(|p| (p.name, vm_hwm(p.child.id()))).collect()
    }

    /// SIGTERM to each, then waits (up to 15 s, then kills).
    pub fn stop(mut self) -> Vec<(&'static str, String)> {
        if let Some(mut nginx) = self.nginx.take() {
            let _ = nginx.kill();
            let _ = nginx.wait();
        }
        let mut outcomes = vec![];
        for p in &self.procs {
            let _ = Command::new("kill").arg("-TERM").arg(p.child.id().to_string()).status();
        }
        for p in &mut self.procs {
            let deadline = Instant::now() + Duration::from_secs(15);
            let outcome = loop {
                match p.child.try_wait() {
                    Ok(Some(status)) => break format!("exited: {status}"),
                    Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
                    Ok(None) => {
                        let _ = p.child.kill();
                        let _ = p.child.wait();
                        break "killed after 15 s".to_owned();
                    }
                    Err(e) => break format!("wait failed: {e}"),
                }
            };
            outcomes.push((p.name, outcome));
        }
        self.procs.clear();
        outcomes
    }
}

impl Drop for System {
    fn drop(&mut self) {
        if let Some(mut nginx) = self.nginx.take() {
            let _ = nginx.kill();
            let _ = nginx.wait();
        }
        for p in &mut self.procs {
            let _ = p.child.kill();
            let _ = p.child.wait();
        }
    }
}

/// A fresh random HS256 secret for the services of one run (64 hex digits).
pub fn fresh_secret() -> R<String> {
    use std::io::Read;
    let mut bytes = [0u8; 32];
    File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// The bearer token of the bench: `BENCH_TOKEN` when set, else an admin token minted by
/// `stack token` (next to the service binaries) with `secret`; `None` when that `stack` cannot
/// mint tokens (a system without authentication).
pub fn token(bin_dir: &Path, secret: &str) -> Option<String> {
    if let Some(t) = std::env::var("BENCH_TOKEN").ok().filter(|t| !t.is_empty()) {
        return Some(t);
    }
    let out = Command::new(bin_dir.join("stack"))
        .args(["token", "--role", "admin", "--sub", "bench", "--ttl", "1d"])
        .env("AUTH_SECRET", secret)
        .stdin(Stdio::null())
        .output()
        .ok()?;
    let token = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (out.status.success() && !token.is_empty() && !token.contains(char::is_whitespace)).then_some(token)
}

/// The path of `program` on `PATH` (or the usual sbin folders, where Debian puts nginx).
fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var("PATH").unwrap_or_default();
    path.split(':').chain(["/usr/sbin", "/sbin"]).map(|d| Path::new(d).join(program)).find(|p| p.is_file())
}

fn vm_hwm(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

async fn wait_healthy(p: &mut Proc, api: &Api) -> R<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    let url = format!("{}/health", p.url);
    loop {
        if let Ok((200, _)) = api.call(reqwest::Method::GET, &url, None).await {
            return Ok(());
        }
        if let Ok(Some(status)) = p.child.try_wait() {
            let log = std::fs::read_to_string(&p.log).unwrap_or_default();
            let tail: String =
                log.lines().rev().take(20).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join("\n");
            return Err(format!("{} exited at start ({status}):\n{tail}", p.name).into());
        }
        if Instant::now() > deadline {
            return Err(format!("{} did not answer /health within 60 s (log: {})", p.name, p.log.display()).into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn database_name_is_replaced() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/postgres", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(with_database("postgres://u:p@h/db?sslmode=disable", "x"), "postgres://u:p@h/x?sslmode=disable");
        assert_eq!(with_database("postgres://h", "x"), "postgres://h/x");
    }
}
