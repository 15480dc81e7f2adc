//! One storage code path for SQLite and PostgreSQL: a `MultiConnection` enum, a pool that picks
//! the backend by URL scheme (so a PostgreSQL connection error is reported as it is), SQLite
//! tuned for concurrent writers, migrations per backend, and transactions that take the SQLite
//! write lock up front.

pub mod types;
mod writer;

use std::time::{Duration, Instant};

use diesel::Connection;
use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::pg::PgConnection;
use diesel::r2d2::{self, ManageConnection};
use diesel::sqlite::SqliteConnection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness};

pub use types::{DbDecimal, DbUuid, Dec, Uid, plus};

#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Pg(PgConnection),
    Sqlite(SqliteConnection),
}

/// What went wrong in the store, without a word of SQL or HTTP.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// The commit was sent and its answer lost: it may have been made.
    #[error("commit not confirmed: {0}")]
    Unconfirmed(String),
    #[error("database error: {0}")]
    Other(String),
}

impl From<diesel::result::Error> for StoreError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind as K, Error as E};
        match e {
            E::NotFound => StoreError::NotFound,
            E::DatabaseError(K::UniqueViolation, info) => StoreError::Conflict(info.message().to_owned()),
            E::DatabaseError(K::SerializationFailure, info) => StoreError::Conflict(info.message().to_owned()),
            E::DatabaseError(K::ClosedConnection, info) => StoreError::Unavailable(info.message().to_owned()),
            other => {
                let text = other.to_string();
                if text.contains("database is locked") {
                    StoreError::Unavailable(text)
                } else {
                    StoreError::Other(text)
                }
            }
        }
    }
}

impl From<r2d2::PoolError> for StoreError {
    fn from(e: r2d2::PoolError) -> Self {
        StoreError::Unavailable(e.to_string())
    }
}

/// Which backend a URL names: `postgres://` or `postgresql://` is PostgreSQL, anything else an
/// SQLite file path (or `sqlite://path`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

impl Backend {
    pub fn of(url: &str) -> Backend {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }
}

/// Opens connections of the backend its URL names, with SQLite's concurrency settings.
#[derive(Debug, Clone)]
pub struct Manager {
    url: String,
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConnectError(String);

/// A pooled connection, and when it last did its work without error. A checkout pings only a
/// connection that has been idle a while or failed last time: a ping on every checkout (r2d2's
/// default) was a round trip for every transaction, about one statement in six on the
/// time-logging path (BENCHMARKS.md).
pub struct Pooled {
    conn: DbConn,
    fine_at: Option<Instant>,
    broken: bool,
}

/// How long a connection that just worked is trusted without a ping.
const TRUSTED_FOR: Duration = Duration::from_secs(1);

impl Manager {
    fn open(&self) -> Result<DbConn, ConnectError> {
        match Backend::of(&self.url) {
            Backend::Postgres => {
                PgConnection::establish(&self.url).map(DbConn::Pg).map_err(|e| ConnectError(e.to_string()))
            }
            Backend::Sqlite => {
                let path = self.url.strip_prefix("sqlite://").unwrap_or(&self.url);
                let mut conn = SqliteConnection::establish(path).map_err(|e| ConnectError(e.to_string()))?;
                // Without these most concurrent writes fail with "database is locked".
                conn.batch_execute(
                    "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 10000; \
                     PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
                )
                .map_err(|e| ConnectError(e.to_string()))?;
                Ok(DbConn::Sqlite(conn))
            }
        }
    }
}

/// A PostgreSQL URL naming this machine (a loopback address, `localhost`, a Unix socket) and no
/// `sslmode` gets `sslmode=disable`: libpq's default (`prefer`) negotiates TLS, and TLS over
/// loopback protects nothing while it costs every statement (about 10 % of throughput on the
/// time-logging path, BENCHMARKS.md). Any other host, or an explicit `sslmode`, is left as given.
pub fn without_tls_on_loopback(url: &str) -> String {
    if Backend::of(url) != Backend::Postgres {
        return url.to_owned();
    }
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let params: Vec<(&str, &str)> = query.split('&').filter_map(|p| p.split_once('=')).collect();
    if params.iter().any(|(k, _)| *k == "sslmode") {
        return url.to_owned();
    }
    let authority = base.split_once("://").map_or("", |(_, rest)| rest.split('/').next().unwrap_or(""));
    let hosts = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = match params.iter().find(|(k, _)| *k == "host") {
        Some((_, h)) => (*h).to_owned(),
        None => hosts.to_owned(),
    };
    let local = |h: &str| {
        let h = h.trim();
        // `[::1]:5432`, `127.0.0.1:5432`, `localhost`: the address without its port.
        let name = match h.strip_prefix('[') {
            Some(v6) => v6.split(']').next().unwrap_or(""),
            None => h.rsplit_once(':').map_or(h, |(n, _)| n),
        };
        name.is_empty()
            || name.starts_with('/')
            || name.to_ascii_lowercase().starts_with("%2f")
            || name.eq_ignore_ascii_case("localhost")
            || name.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
    };
    if !host.split(',').all(local) {
        return url.to_owned();
    }
    let joiner = match (url.contains('?'), query.is_empty()) {
        (false, _) => "?",
        (true, true) => "",
        (true, false) => "&",
    };
    format!("{url}{joiner}sslmode=disable")
}

/// A connection left inside a transaction (a panic mid-use-case) is never reused.
fn left_in_transaction(conn: &mut DbConn) -> bool {
    <DbConn as Connection>::TransactionManager::transaction_manager_status_mut(conn)
        .transaction_depth()
        .map(|d| d.is_some())
        .unwrap_or(true)
}

impl ManageConnection for Manager {
    type Connection = Pooled;
    type Error = ConnectError;

    fn connect(&self) -> Result<Pooled, ConnectError> {
        Ok(Pooled { conn: self.open()?, fine_at: Some(Instant::now()), broken: false })
    }

    fn is_valid(&self, pooled: &mut Pooled) -> Result<(), ConnectError> {
        pooled.conn.batch_execute("SELECT 1").map_err(|e| ConnectError(e.to_string()))
    }

    fn has_broken(&self, pooled: &mut Pooled) -> bool {
        pooled.broken || left_in_transaction(&mut pooled.conn)
    }
}

/// A connection from the pool that answers: one that worked within `TRUSTED_FOR` is taken as
/// it is, any other is pinged first and, when the ping fails, dropped for another.
fn checkout(pool: &r2d2::Pool<Manager>) -> Result<r2d2::PooledConnection<Manager>, StoreError> {
    for _ in 0..pool.max_size() {
        let mut pooled = pool.get()?;
        if pooled.fine_at.is_some_and(|at| at.elapsed() < TRUSTED_FOR) {
            return Ok(pooled);
        }
        if pooled.conn.batch_execute("SELECT 1").is_ok() {
            pooled.fine_at = Some(Instant::now());
            return Ok(pooled);
        }
        pooled.broken = true;
    }
    Ok(pool.get()?)
}

/// Runs `f` on a pooled connection and notes whether it worked: after an error (which may have
/// been the connection's) the next checkout pings it.
fn use_pooled<T, E>(pooled: &mut Pooled, f: impl FnOnce(&mut DbConn) -> Result<T, E>) -> Result<T, E> {
    let out = f(&mut pooled.conn);
    pooled.fine_at = out.is_ok().then(Instant::now);
    out
}

/// Migrations of one service, one set per backend, kept in lockstep.
#[derive(Clone, Copy)]
pub struct Migrations {
    pub postgres: fn() -> EmbeddedMigrations,
    pub sqlite: fn() -> EmbeddedMigrations,
}

/// The database of one service: a pool and its backend.
#[derive(Clone)]
pub struct Db {
    pool: r2d2::Pool<Manager>,
    backend: Backend,
    /// SQLite only: the one thread that writes, committing the writes waiting together
    /// (`writer.rs`). SQLite allows one writer at a time anyway; with writers taking turns on
    /// pooled connections, a writer that found the file locked slept in SQLite's busy handler
    /// (1, 2, 5, 10, ... ms) holding a connection, and each write paid its own commit. Readers
    /// still use the pool. (BENCHMARKS.md)
    writer: Option<writer::Writer>,
}

impl Db {
    /// Connects, creating the SQLite file's folder when needed, and runs pending migrations.
    pub fn open(url: &str, migrations: Migrations) -> Result<Db, StoreError> {
        let backend = Backend::of(url);
        if backend == Backend::Sqlite {
            let path = std::path::Path::new(url.strip_prefix("sqlite://").unwrap_or(url));
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .map_err(|e| StoreError::Unavailable(format!("cannot create {}: {e}", dir.display())))?;
            }
        }
        let size = match backend {
            Backend::Postgres => 10,
            Backend::Sqlite => 8,
        };
        let manager = Manager { url: without_tls_on_loopback(url) };
        let pool = r2d2::Pool::builder()
            .max_size(size)
            .min_idle(Some(1))
            .connection_timeout(Duration::from_secs(5))
            .test_on_check_out(false)
            .build(manager.clone())
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let writer = match backend {
            Backend::Sqlite => Some(writer::Writer::start(manager)?),
            Backend::Postgres => None,
        };
        let db = Db { pool, backend, writer };
        db.migrate(migrations)?;
        Ok(db)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Runs every pending migration; returns how many ran.
    pub fn migrate(&self, migrations: Migrations) -> Result<usize, StoreError> {
        let mut pooled = checkout(&self.pool)?;
        let conn = &mut pooled.conn;
        let set = match self.backend {
            Backend::Postgres => (migrations.postgres)(),
            Backend::Sqlite => (migrations.sqlite)(),
        };
        // Copies of a service starting together on one PostgreSQL database take turns (an
        // advisory lock of this database, held for the session): the first makes the schema,
        // the others then find nothing pending. SQLite's file lock does this on its own.
        const MIGRATING: i64 = 0x0070_7265_7061_6964; // "prepaid" in ASCII
        let postgres = self.backend == Backend::Postgres;
        if postgres {
            use diesel::RunQueryDsl;
            diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATING})")).execute(conn)?;
        }
        let ran = conn
            .run_pending_migrations(set)
            .map(|ran| ran.len())
            .map_err(|e| StoreError::Other(format!("migration failed: {e}")));
        if postgres {
            use diesel::RunQueryDsl;
            diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATING})")).execute(conn)?;
        }
        ran
    }

    /// Runs blocking store work off the async executor.
    pub async fn run<T, E>(&self, f: impl FnOnce(&mut DbConn) -> Result<T, E> + Send + 'static) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let pool = self.pool.clone();
        let request_id = crate::telemetry::current_request_id();
        tokio::task::spawn_blocking(move || {
            crate::telemetry::in_blocking(request_id, || {
                let mut pooled = checkout(&pool).map_err(E::from)?;
                use_pooled(&mut pooled, f)
            })
        })
        .await
        .map_err(|e| E::from(StoreError::Other(format!("store task failed: {e}"))))?
    }

    /// Runs `f` as one atomic write: on PostgreSQL its own transaction; on SQLite a savepoint
    /// in the writer's `BEGIN IMMEDIATE` transaction (so a write that reads then writes never
    /// fails on upgrading its lock), in arrival order, answered once its batch committed (see
    /// the `writer` field).
    pub async fn write<T, E>(&self, f: impl FnOnce(&mut DbConn) -> Result<T, E> + Send + 'static) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        match &self.writer {
            Some(writer) => writer.write(f).await,
            None => self.run(move |conn| transaction(conn, f)).await,
        }
    }

    /// Runs `f`, a write made of one statement (atomic by itself), as a write: on PostgreSQL
    /// without `BEGIN` and `COMMIT`, two round trips fewer; on SQLite in the writer's turn.
    pub async fn write_statement<T, E>(
        &self,
        f: impl FnOnce(&mut DbConn) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        match self.writer {
            Some(_) => self.write(f).await,
            None => self.run(f).await,
        }
    }

    /// True while the database answers.
    pub async fn ping(&self) -> bool {
        self.run(|conn| conn.batch_execute("SELECT 1").map_err(StoreError::from)).await.is_ok()
    }
}

/// Begins a write transaction: on SQLite `BEGIN IMMEDIATE`, taking the write lock up front.
fn begin_write(conn: &mut DbConn) -> Result<(), StoreError> {
    let begun = match conn {
        DbConn::Sqlite(c) => AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE"),
        DbConn::Pg(c) => AnsiTransactionManager::begin_transaction(c),
    };
    begun.map_err(StoreError::from)
}

/// One write transaction on a connection already taken from the pool.
pub fn transaction<T, E>(conn: &mut DbConn, f: impl FnOnce(&mut DbConn) -> Result<T, E>) -> Result<T, E>
where
    E: From<StoreError>,
{
    begin_write(conn)?;
    match f(conn) {
        Ok(value) => {
            if let Err(e) = <DbConn as Connection>::TransactionManager::commit_transaction(conn) {
                let _ = <DbConn as Connection>::TransactionManager::rollback_transaction(conn);
                return Err(commit_failed(e).into());
            }
            Ok(value)
        }
        Err(e) => {
            let _ = <DbConn as Connection>::TransactionManager::rollback_transaction(conn);
            Err(e)
        }
    }
}

/// Breaks the connection from the database's side, as a network failure would (a fault of
/// test builds: the commit that follows gets no answer). SQLite has no connection to lose.
pub fn lose_connection(conn: &mut DbConn) {
    if let DbConn::Pg(c) = conn {
        let _ = c.batch_execute("SELECT pg_terminate_backend(pg_backend_pid())");
    }
}

/// What a failed commit means. The database's own refusal (a serialization failure, say) is
/// an answer: the transaction rolled back. A connection lost on the way, or a connection diesel
/// no longer trusts, gives no answer: the commit may have been made.
fn commit_failed(e: diesel::result::Error) -> StoreError {
    use diesel::result::{DatabaseErrorKind, Error};
    match e {
        Error::DatabaseError(DatabaseErrorKind::ClosedConnection, _) | Error::BrokenTransactionManager => {
            StoreError::Unconfirmed(e.to_string())
        }
        other => StoreError::from(other),
    }
}

/// A statement that the connection keeps prepared, keyed by its SQL text. Diesel prepares
/// every `INSERT`, `UPDATE` and `sql_query` afresh on each run (they may render differently
/// from run to run); keyed by the text they render, they are safe to keep. On the time-logging
/// path this spares PostgreSQL a parse and a plan for most statements (BENCHMARKS.md).
///
/// Only `load` and `get_result` keep it: `execute` hands diesel a reference, whose
/// `QueryFragment` does not pass the flag on, so a write wrapped here needs a `RETURNING`
/// clause (`shared/tests/prepared.rs` checks both paths).
#[derive(Debug, Clone, Copy)]
pub struct Cached<Q>(pub Q);

/// Keeps `query` prepared on the connection (see [`Cached`]).
pub fn cached<Q>(query: Q) -> Cached<Q> {
    Cached(query)
}

impl<Q, DB> diesel::query_builder::QueryFragment<DB> for Cached<Q>
where
    DB: diesel::backend::Backend,
    Q: diesel::query_builder::QueryFragment<DB>,
{
    fn walk_ast<'b>(&'b self, pass: diesel::query_builder::AstPass<'_, 'b, DB>) -> diesel::QueryResult<()> {
        self.0.walk_ast(pass)
    }

    fn is_safe_to_cache_prepared(&self, _backend: &DB) -> diesel::QueryResult<bool> {
        Ok(true)
    }
}

impl<Q> diesel::query_builder::QueryId for Cached<Q> {
    type QueryId = ();
    // No static id: the cache keys the statement by its SQL text and bind types.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q: diesel::query_builder::Query> diesel::query_builder::Query for Cached<Q> {
    type SqlType = Q::SqlType;
}

impl<Q, C> diesel::RunQueryDsl<C> for Cached<Q> {}

/// Now, in UTC, as stored in timestamp columns: to the microsecond, which is what PostgreSQL
/// keeps, so that an answer and a later read of the same record agree.
pub fn now() -> chrono::NaiveDateTime {
    now_utc().naive_utc()
}

/// Now, in UTC, to the microsecond.
pub fn now_utc() -> chrono::DateTime<chrono::Utc> {
    use chrono::{DurationRound, TimeDelta};
    let t = chrono::Utc::now();
    t.duration_trunc(TimeDelta::microseconds(1)).unwrap_or(t)
}

/// Makes sure a counter row keyed by `key` exists in `table` (columns `key_column`, plus the
/// given zero-valued columns), without failing when a concurrent transaction creates it first.
/// The one place where the two dialects differ in spelling.
pub fn insert_if_missing(
    conn: &mut DbConn,
    table: &str,
    key_column: &str,
    zeros: &str,
    key: Uid,
) -> Result<(), StoreError> {
    use diesel::RunQueryDsl;
    let columns: Vec<&str> = zeros.split(',').map(str::trim).filter(|c| !c.is_empty()).collect();
    let values = vec!["0"; columns.len()].join(", ");
    let cols = columns.join(", ");
    let sql = match conn {
        DbConn::Pg(_) => {
            format!("INSERT INTO {table} ({key_column}, {cols}) VALUES ($1, {values}) ON CONFLICT DO NOTHING")
        }
        DbConn::Sqlite(_) => {
            format!("INSERT OR IGNORE INTO {table} ({key_column}, {cols}) VALUES (?1, {values})")
        }
    };
    diesel::sql_query(sql).bind::<DbUuid, _>(key).execute(conn)?;
    Ok(())
}

#[derive(diesel::QueryableByName)]
struct TotalRow {
    #[diesel(sql_type = DbDecimal)]
    total: Dec,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    version: i64,
}

/// The statement of [`add_to_total`], without its `RETURNING`, with the key and the delta as the
/// parameters named `key` and `delta` (`$1`, `?1`, ...): for a caller that runs several such
/// upserts in one statement.
pub fn add_to_total_sql(table: &str, key_column: &str, value_column: &str, key: &str, delta: &str) -> String {
    format!(
        "INSERT INTO {table} ({key_column}, {value_column}, version) VALUES ({key}, {delta}, 1) \
         ON CONFLICT ({key_column}) DO UPDATE SET {value_column} = {table}.{value_column} + excluded.{value_column}, \
         version = {table}.version + 1"
    )
}

/// The `n`-th (1-based) parameter of a statement in the connection's dialect.
pub fn param(conn: &DbConn, n: usize) -> String {
    match conn {
        DbConn::Pg(_) => format!("${n}"),
        DbConn::Sqlite(_) => format!("?{n}"),
    }
}

/// Takes the row lock of record `id` of `table` (a no-op update) until the transaction ends, so
/// what the transaction reads of it next is what it changes. On SQLite writes are one at a time
/// already; this costs nothing there.
pub fn lock_row(conn: &mut DbConn, table: &str, id: uuid::Uuid) -> Result<(), StoreError> {
    use diesel::RunQueryDsl;
    let sql = format!("UPDATE {table} SET id = id WHERE id = {}", param(conn, 1));
    cached(diesel::sql_query(sql).bind::<DbUuid, _>(Uid(id))).execute(conn)?;
    Ok(())
}

/// Adds `delta` to a running total keyed by `key` in `table` (columns `key_column`, `value_column`
/// and `version`), creating it at `delta`, version 1, when missing; returns the new total and
/// version. One statement, so the row's lock is taken once and held as briefly as possible.
pub fn add_to_total(
    conn: &mut DbConn,
    table: &str,
    key_column: &str,
    value_column: &str,
    key: Uid,
    delta: rust_decimal::Decimal,
) -> Result<(rust_decimal::Decimal, i64), StoreError> {
    use diesel::RunQueryDsl;
    let (k, d) = (param(conn, 1), param(conn, 2));
    let upsert = add_to_total_sql(table, key_column, value_column, &k, &d);
    let sql = format!("{upsert} RETURNING {value_column} AS total, version");
    let row: TotalRow =
        cached(diesel::sql_query(sql).bind::<DbUuid, _>(key).bind::<DbDecimal, _>(Dec(delta))).get_result(conn)?;
    Ok((row.total.0, row.version))
}

#[cfg(test)]
mod tests {
    use super::without_tls_on_loopback as url;

    #[test]
    fn loopback_and_sockets_connect_without_tls_unless_told() {
        for (given, want) in [
            ("postgres://postgres@127.0.0.1:5432/db", "postgres://postgres@127.0.0.1:5432/db?sslmode=disable"),
            (
                "postgres://localhost/db?application_name=x",
                "postgres://localhost/db?application_name=x&sslmode=disable",
            ),
            ("postgresql://u:p@[::1]:5433/db", "postgresql://u:p@[::1]:5433/db?sslmode=disable"),
            ("postgres:///db", "postgres:///db?sslmode=disable"),
            ("postgres:///db?host=/var/run/postgresql", "postgres:///db?host=/var/run/postgresql&sslmode=disable"),
            ("postgres://127.0.0.2,localhost/db?", "postgres://127.0.0.2,localhost/db?sslmode=disable"),
        ] {
            assert_eq!(url(given), want);
        }
        for kept in [
            "postgres://postgres@127.0.0.1/db?sslmode=require",
            "postgres://db.example.com/db",
            "postgres://10.0.0.5:5432/db",
            "postgres://localhost,db.example.com/db",
            "postgres://localhost/db?host=db.example.com",
            "data/sales.db",
        ] {
            assert_eq!(url(kept), kept);
        }
    }
}
