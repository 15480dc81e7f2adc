#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Copies of a service that start together on one fresh PostgreSQL database all come up: they
//! take turns at the migrations (the first makes the schema, the others find nothing pending)
//! instead of creating the same tables at once and failing on duplicate types.

use shared::db::Db;
use shared::testing::{SOME_MIGRATIONS as MIGRATIONS, TestDb};

#[test]
fn copies_starting_together_on_one_new_postgresql_database_all_start() {
    for round in 0..5 {
        let Some(test) = TestDb::postgres(&format!("twins{round}")) else { return };
        let starts: Vec<_> = (0..3)
            .map(|_| {
                let url = test.url.clone();
                std::thread::spawn(move || Db::open(&url, MIGRATIONS).map(|_| ()))
            })
            .collect();
        for (i, s) in starts.into_iter().enumerate() {
            let started = s.join().expect("a start panicked");
            assert!(started.is_ok(), "round {round}, copy {i}: {:?}", started.err());
        }
    }
}
