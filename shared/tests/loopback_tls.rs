#![allow(clippy::unwrap_used, clippy::expect_used)]
//! A PostgreSQL on this machine is reached without TLS unless the URL asks for it: libpq's
//! default would negotiate TLS over loopback, which protects nothing and costs every statement.

use diesel::prelude::*;
use shared::db::{Db, StoreError};
use shared::testing::{SOME_MIGRATIONS as MIGRATIONS, TestDb};

#[derive(QueryableByName)]
struct Session {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    ssl: bool,
}

#[derive(QueryableByName)]
struct Setting {
    #[diesel(sql_type = diesel::sql_types::Text)]
    ssl: String,
}

async fn uses_tls(url: &str) -> bool {
    let db = Db::open(url, MIGRATIONS).unwrap();
    db.run(|c| {
        diesel::sql_query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
            .get_result::<Session>(c)
            .map(|s| s.ssl)
            .map_err(StoreError::from)
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn a_local_postgresql_is_reached_without_tls_unless_the_url_asks() {
    let Some(test) = TestDb::postgres("tls") else { return };
    if test.url.contains("sslmode") || !(test.url.contains("127.0.0.1") || test.url.contains("localhost")) {
        eprintln!("\n*** SKIPPED: TEST_DATABASE_URL is not a loopback URL without sslmode ***\n");
        return;
    }
    assert!(!uses_tls(&test.url).await, "a loopback URL without sslmode used TLS");

    let db = Db::open(&test.url, MIGRATIONS).unwrap();
    let server =
        db.run(|c| diesel::sql_query("SHOW ssl").get_result::<Setting>(c).map_err(StoreError::from)).await.unwrap();
    if server.ssl != "on" {
        eprintln!("\n*** SKIPPED: the sslmode=require half: this PostgreSQL has ssl off ***\n");
        return;
    }
    assert!(uses_tls(&format!("{}?sslmode=require", test.url)).await, "an explicit sslmode was not kept");
}
