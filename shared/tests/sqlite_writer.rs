#![allow(clippy::unwrap_used, clippy::expect_used)]
//! SQLite's one writer commits the writes waiting together, and each write still stands alone:
//! one that fails or panics rolls back to its own savepoint, every other is committed and
//! answered with its own result, and none is answered before its batch is committed.

use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use shared::db::{Db, DbConn, StoreError};
use shared::testing::{SOME_MIGRATIONS as MIGRATIONS, TestDb};

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

fn count(conn: &mut SqliteConnection) -> i64 {
    diesel::sql_query("SELECT count(*) AS n FROM probe").get_result::<Count>(conn).unwrap().n
}

/// What write `n` does: most insert their row; some insert and then fail, panic, or collide.
fn write(n: i64, url: String) -> impl FnOnce(&mut DbConn) -> Result<(i64, i64), StoreError> + Send + 'static {
    move |conn| {
        // What another connection sees: only what is committed.
        let outside = count(&mut SqliteConnection::establish(&url).unwrap());
        diesel::sql_query(format!("INSERT INTO probe (n) VALUES ({n})")).execute(conn)?;
        match n % 10 {
            3 => Err(StoreError::Conflict(format!("write {n} refused"))),
            7 => panic!("write {n} panics"),
            9 => diesel::sql_query("INSERT INTO probe (n) VALUES (0)")
                .execute(conn)
                .map(|_| (n, outside))
                .map_err(StoreError::from),
            _ => Ok((n, outside)),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn writes_waiting_together_commit_together_and_fail_alone() {
    let test = TestDb::sqlite("writer").unwrap();
    let db = Db::open(&test.url, MIGRATIONS).unwrap();
    db.write(|c| c.batch_execute("CREATE TABLE probe (n INTEGER PRIMARY KEY)").map_err(StoreError::from))
        .await
        .unwrap();

    // The first write holds the writer while 30 more arrive: they wait, and go together.
    let first = {
        let db = db.clone();
        tokio::spawn(async move {
            db.write(|c| {
                std::thread::sleep(Duration::from_millis(400));
                diesel::sql_query("INSERT INTO probe (n) VALUES (0)").execute(c).map_err(StoreError::from)
            })
            .await
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    let rest: Vec<_> = (1..=30)
        .map(|n| {
            let (db, url) = (db.clone(), test.url.clone());
            tokio::spawn(async move { (n, db.write(write(n, url)).await) })
        })
        .collect();
    first.await.unwrap().unwrap();
    let mut committed = vec![0];
    for task in rest {
        let (n, answer) = task.await.unwrap();
        match (n % 10, answer) {
            (3 | 7 | 9, Err(_)) => {}
            (_, Ok((got, outside))) => {
                assert_eq!(got, n, "write {n} got another's answer");
                // Its batch was not committed while it ran: only the first write was.
                assert_eq!(outside, 1, "write {n} saw {outside} rows committed: not one batch");
                committed.push(n);
            }
            (_, other) => panic!("write {n}: {:?}", other.map(|_| ())),
        }
    }
    assert_eq!(committed.len(), 22);
    let rows: Vec<i64> = db
        .run(|c| {
            #[derive(QueryableByName)]
            struct Row {
                #[diesel(sql_type = diesel::sql_types::BigInt)]
                n: i64,
            }
            diesel::sql_query("SELECT n FROM probe ORDER BY n").load::<Row>(c).map_err(StoreError::from)
        })
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.n)
        .collect();
    committed.sort();
    assert_eq!(rows, committed, "a failed write left a row, or a good one lost its own");

    // The writer goes on after a panic.
    db.write(|c| diesel::sql_query("INSERT INTO probe (n) VALUES (100)").execute(c).map_err(StoreError::from))
        .await
        .unwrap();
}
