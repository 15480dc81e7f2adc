#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The statements of the time-logging path stay prepared on PostgreSQL (`shared::db::cached`):
//! run twice, each is parsed once and then only bound and executed. A diesel change that made
//! them fall back to one-off statements would cost every timesheet a parse and a plan each.

use diesel::Connection;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use shared::config::Service;
use shared::db::{DbConn, Uid, add_to_total, cached};
use shared::outbox::{Message, enqueue, enqueue_all};
use shared::schema::outbox;
use shared::testing::TestDb;

const DDL_PG: &str = include_str!("../../migrations/projects/postgres/2026-11-29-000001_init/up.sql");

#[derive(QueryableByName)]
struct Statement {
    #[diesel(sql_type = diesel::sql_types::Text)]
    statement: String,
}

fn message(n: u32) -> Message {
    Message {
        aggregate: format!("probe:{n}"),
        target: Service::Sales,
        method: "PUT",
        path: format!("/probe/{n}"),
        body: serde_json::json!({ "n": n }),
        absolute: true,
    }
}

fn prepared(conn: &mut DbConn) -> Vec<String> {
    diesel::sql_query("SELECT statement FROM pg_prepared_statements")
        .load::<Statement>(conn)
        .unwrap()
        .into_iter()
        .map(|s| s.statement)
        .collect()
}

#[test]
fn the_time_logging_statements_stay_prepared_on_postgresql() {
    let Some(db) = TestDb::postgres("prepared") else { return };
    let mut conn = DbConn::establish(&db.url).unwrap();
    conn.batch_execute(DDL_PG).unwrap();
    let line = Uid(uuid::Uuid::now_v7());
    for round in 0..2u32 {
        let (total, version) = add_to_total(&mut conn, "line_totals", "sale_line_id", "hours", line, 1.into()).unwrap();
        assert_eq!((total, version), (rust_decimal::Decimal::from(round + 1), i64::from(round) + 1));
        enqueue(&mut conn, message(round)).unwrap();
        enqueue_all(&mut conn, vec![message(10 + round), message(20 + round)]).unwrap();
        let marked: Vec<Uid> = cached(
            diesel::update(outbox::table.filter(outbox::aggregate.eq(format!("probe:{round}"))))
                .set(outbox::attempts.eq(1))
                .returning(outbox::id),
        )
        .load(&mut conn)
        .unwrap();
        assert_eq!(marked.len(), 1);
    }
    let kept = prepared(&mut conn);
    let count = |prefix: &str| kept.iter().filter(|s| s.starts_with(prefix)).count();
    assert_eq!(count("INSERT INTO line_totals"), 1, "the running total's upsert: {kept:#?}");
    assert_eq!(count("INSERT INTO \"outbox\""), 2, "one- and two-row outbox inserts, each once: {kept:#?}");
    assert_eq!(count("UPDATE \"outbox\""), 1, "an update with RETURNING: {kept:#?}");
}
