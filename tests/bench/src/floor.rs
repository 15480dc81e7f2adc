//! The storage floor: a bare insert of one row, one transaction per row, in a scratch database
//! of the same backend, with the same connection settings as the services (on SQLite: WAL,
//! `busy_timeout`, `synchronous = NORMAL`, as in `shared/src/db/mod.rs`). Timed per row from
//! `threads` threads, each with its own connection.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::sql_types::{BigInt, Text};
use diesel::sqlite::SqliteConnection;
use diesel::{Connection, RunQueryDsl};

use crate::R;
use crate::load::{Latencies, Run};

/// The same settings `shared::db::Manager` gives every SQLite connection.
pub const SQLITE_PRAGMAS: &str =
    "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 10000; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;";

enum Conn {
    Sqlite(SqliteConnection),
    Pg(PgConnection),
}

fn connect(url: &str) -> R<Conn> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Conn::Pg(PgConnection::establish(url)?))
    } else {
        let mut c = SqliteConnection::establish(url)?;
        c.batch_execute(SQLITE_PRAGMAS)?;
        Ok(Conn::Sqlite(c))
    }
}

/// Creates the scratch table in the database at `url`.
pub fn prepare(url: &str) -> R<()> {
    let ddl = "CREATE TABLE IF NOT EXISTS scratch (id TEXT PRIMARY KEY, hours BIGINT NOT NULL, note TEXT NOT NULL)";
    match connect(url)? {
        Conn::Sqlite(mut c) => c.batch_execute(ddl)?,
        Conn::Pg(mut c) => c.batch_execute(ddl)?,
    }
    Ok(())
}

fn insert(conn: &mut Conn, id: &str, hours: i64) -> Result<(), diesel::result::Error> {
    match conn {
        Conn::Sqlite(c) => diesel::sql_query("INSERT INTO scratch (id, hours, note) VALUES (?, ?, ?)")
            .bind::<Text, _>(id)
            .bind::<BigInt, _>(hours)
            .bind::<Text, _>("Bench Agent")
            .execute(c)
            .map(|_| ()),
        Conn::Pg(c) => diesel::sql_query("INSERT INTO scratch (id, hours, note) VALUES ($1, $2, $3)")
            .bind::<Text, _>(id)
            .bind::<BigInt, _>(hours)
            .bind::<Text, _>("Bench Agent")
            .execute(c)
            .map(|_| ()),
    }
}

/// Inserts rows from `threads` threads until `max` rows or `duration`; `tag` keeps ids unique
/// across runs.
pub fn run(url: &str, threads: usize, max: u64, duration: Duration, tag: &str) -> R<Run> {
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut handles = vec![];
    for t in 0..threads {
        let mut conn = connect(url)?;
        let next = next.clone();
        let tag = format!("{tag}-{t}");
        handles.push(std::thread::spawn(move || {
            let mut lat = Vec::with_capacity(4096);
            let mut errors = 0u64;
            let mut first = vec![];
            loop {
                if started.elapsed() >= duration {
                    break;
                }
                let seq = next.fetch_add(1, Ordering::Relaxed);
                if seq >= max {
                    break;
                }
                let id = format!("{tag}-{seq}");
                let t0 = Instant::now();
                let r = insert(&mut conn, &id, (seq % 8 + 1) as i64 * 25);
                lat.push(t0.elapsed().as_micros() as u64);
                if let Err(e) = r {
                    errors += 1;
                    if first.len() < 3 {
                        first.push(e.to_string());
                    }
                }
            }
            (lat, errors, first)
        }));
    }
    let mut all = vec![];
    let mut errors = 0;
    let mut first_errors = vec![];
    for h in handles {
        match h.join() {
            Ok((lat, e, first)) => {
                all.extend(lat);
                errors += e;
                first_errors.extend(first);
            }
            Err(_) => {
                errors += 1;
                first_errors.push("insert thread panicked".into());
            }
        }
    }
    let elapsed = started.elapsed();
    Ok(Run {
        concurrency: threads,
        requests: all.len() as u64,
        errors,
        first_errors,
        elapsed,
        latencies: Latencies::new(all),
    })
}
