//! Test support: a fresh database per test, on SQLite (a file in a temporary folder) or on
//! PostgreSQL (a new database on the server `TEST_DATABASE_URL` names, default
//! `postgres://postgres@127.0.0.1:5432/postgres`). When no PostgreSQL answers, the PostgreSQL
//! half of a test says loudly that it is skipped; `REQUIRE_POSTGRES=1` makes that a failure.

use diesel::Connection;
use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;

use crate::db::Backend;

/// Migrations to open a [`crate::db::Db`] with in store tests that need a real schema but no
/// particular one (invoicing's: the smallest).
pub const SOME_MIGRATIONS: crate::db::Migrations = crate::db::Migrations { postgres: || PG, sqlite: || SQLITE };
const PG: diesel_migrations::EmbeddedMigrations =
    diesel_migrations::embed_migrations!("../migrations/invoicing/postgres");
const SQLITE: diesel_migrations::EmbeddedMigrations =
    diesel_migrations::embed_migrations!("../migrations/invoicing/sqlite");

/// A database that exists for one test.
pub struct TestDb {
    pub url: String,
    pub backend: Backend,
    admin_url: Option<String>,
    name: String,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    pub fn sqlite(name: &str) -> std::io::Result<TestDb> {
        let dir = tempfile::tempdir()?;
        let url = dir.path().join(format!("{name}.db")).to_string_lossy().into_owned();
        Ok(TestDb { url, backend: Backend::Sqlite, admin_url: None, name: name.to_owned(), _dir: Some(dir) })
    }

    /// A fresh PostgreSQL database, or `None` (with a loud message) when no server answers.
    pub fn postgres(name: &str) -> Option<TestDb> {
        let admin =
            std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        let mut conn = match PgConnection::establish(&admin) {
            Ok(c) => c,
            Err(e) => {
                if std::env::var("REQUIRE_POSTGRES").is_ok_and(|v| v == "1") {
                    panic!("REQUIRE_POSTGRES=1 but PostgreSQL at {admin} is unreachable: {e}");
                }
                eprintln!("\n*** SKIPPED: the PostgreSQL half of this test: no server at {admin} ({e}) ***\n");
                return None;
            }
        };
        let db = format!("t_{}_{}", name, uuid::Uuid::now_v7().simple());
        if let Err(e) = conn.batch_execute(&format!("CREATE DATABASE \"{db}\"")) {
            panic!("cannot create test database {db}: {e}");
        }
        let base = admin.rsplit_once('/').map(|(b, _)| b.to_owned()).unwrap_or(admin.clone());
        Some(TestDb {
            url: format!("{base}/{db}"),
            backend: Backend::Postgres,
            admin_url: Some(admin),
            name: db,
            _dir: None,
        })
    }

    /// Both backends, the PostgreSQL one only when a server answers.
    #[allow(clippy::expect_used)] // test support: no temporary folder, no test
    pub fn both(name: &str) -> Vec<TestDb> {
        let mut v = vec![TestDb::sqlite(name).expect("temporary folder")];
        v.extend(TestDb::postgres(name));
        v
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(mut conn) = self.admin_url.as_deref().and_then(|a| PgConnection::establish(a).ok()) {
            let _ = conn.batch_execute(&format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name));
        }
    }
}

/// Starts `app` on a free port with the database `db`, its peers at `peers`.
pub async fn spawn(
    app: crate::server::ServiceApp,
    db: &TestDb,
    peers: crate::config::PeerUrls,
) -> Result<crate::server::Running, crate::server::StartError> {
    let listener =
        std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| crate::server::StartError::Other(e.to_string()))?;
    spawn_on(app, db, peers, listener).await
}

/// As [`spawn`], on a listener bound beforehand (so that peers started earlier know its URL).
pub async fn spawn_on(
    app: crate::server::ServiceApp,
    db: &TestDb,
    peers: crate::config::PeerUrls,
    listener: std::net::TcpListener,
) -> Result<crate::server::Running, crate::server::StartError> {
    let config = crate::config::Config {
        service: app.service,
        bind: "127.0.0.1:0".into(),
        database_url: db.url.clone(),
        peers,
        cors: Default::default(),
        auth: None,
        docs_portal: false,
    };
    crate::server::start(app, config, Some(listener)).await
}
