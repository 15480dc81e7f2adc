#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The outbox on both backends: messages survive a receiver outage and arrive once it is
//! back; absolute messages supersede older ones of their aggregate; two dispatchers on one
//! database deliver each message once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use diesel::connection::SimpleConnection;
use shared::config::{PeerUrls, Service};
use shared::db::{Backend, Db, StoreError, transaction};
use shared::outbox::{Message, Outbox, enqueue};
use shared::peer::PeerClient;
use shared::testing::TestDb;

type Seen = Arc<Mutex<Vec<(String, String, serde_json::Value)>>>;

const DDL_PG: &str = include_str!("../../migrations/projects/postgres/2026-11-29-000001_init/up.sql");
const DDL_SQLITE: &str = include_str!("../../migrations/projects/sqlite/2026-11-29-000001_init/up.sql");

fn migrations() -> shared::db::Migrations {
    // The outbox table is the same in every service; borrow the projects schema by running its
    // DDL directly instead of through a migration harness.
    fn none() -> diesel_migrations::EmbeddedMigrations {
        diesel_migrations::EmbeddedMigrations::new(&[])
    }
    shared::db::Migrations { postgres: none, sqlite: none }
}

async fn open(db: &TestDb) -> Db {
    let d = Db::open(&db.url, migrations()).unwrap();
    let ddl = match db.backend {
        Backend::Postgres => DDL_PG,
        Backend::Sqlite => DDL_SQLITE,
    };
    d.run(move |c| c.batch_execute(ddl).map_err(StoreError::from)).await.unwrap();
    d
}

/// A receiver that records each request (idempotency key, path, body) and fails while `down`.
async fn receiver(seen: Seen, down: Arc<Mutex<bool>>) -> (String, actix_web::dev::ServerHandle) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = HttpServer::new(move || {
        let (seen, down) = (seen.clone(), down.clone());
        App::new().default_service(web::to(move |req: HttpRequest, body: web::Bytes| {
            let (seen, down) = (seen.clone(), down.clone());
            async move {
                if *down.lock().unwrap() {
                    return HttpResponse::ServiceUnavailable().finish();
                }
                let key =
                    req.headers().get("idempotency-key").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
                let body: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
                seen.lock().unwrap().push((key, req.path().to_owned(), body));
                HttpResponse::Ok().json(serde_json::json!({"applied": true}))
            }
        }))
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    let handle = server.handle();
    tokio::spawn(server);
    (format!("http://127.0.0.1:{port}"), handle)
}

fn peers(url: &str) -> PeerClient {
    let mut p = PeerUrls::local();
    p.set(Service::Sales, url.to_owned());
    PeerClient::new(p, shared::peer::Timings::DEFAULT).unwrap()
}

fn message(aggregate: &str, n: i64, absolute: bool) -> Message {
    Message {
        aggregate: aggregate.to_owned(),
        target: Service::Sales,
        method: "PUT",
        path: format!("/{aggregate}"),
        body: serde_json::json!({"version": n}),
        absolute,
    }
}

async fn put(db: &Db, msgs: Vec<Message>) {
    db.run(move |c| {
        transaction(c, |c| {
            for m in msgs {
                enqueue(c, m)?;
            }
            Ok::<_, StoreError>(())
        })
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn messages_wait_out_an_outage_and_absolute_ones_supersede_older() {
    for tdb in TestDb::both("outbox_outage") {
        let db = open(&tdb).await;
        let seen: Seen = Arc::default();
        let down = Arc::new(Mutex::new(true));
        let (url, handle) = receiver(seen.clone(), down.clone()).await;
        let outbox = Outbox::new(db.clone(), peers(&url), Arc::new(|_, _, _| Ok(())));
        put(&db, (1..=3).map(|n| message("line-a", n, true)).collect()).await;
        put(&db, vec![message("task-b", 1, false), message("task-b", 2, false)]).await;

        outbox.pass().await.unwrap();
        assert!(seen.lock().unwrap().is_empty());
        assert_eq!(outbox.backlog().await.unwrap().pending, 5, "nothing is lost while the receiver is down");

        *down.lock().unwrap() = false;
        let stop = tokio_util::sync::CancellationToken::new();
        let task = tokio::spawn(outbox.clone().run(stop.clone()));
        for _ in 0..200 {
            if outbox.backlog().await.unwrap().pending == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        stop.cancel();
        task.await.unwrap();
        let seen = seen.lock().unwrap().clone();
        let a: Vec<_> = seen.iter().filter(|s| s.1 == "/line-a").map(|s| s.2["version"].as_i64().unwrap()).collect();
        let b: Vec<_> = seen.iter().filter(|s| s.1 == "/task-b").map(|s| s.2["version"].as_i64().unwrap()).collect();
        assert_eq!(a, vec![3], "the newest absolute total stands for the older ones");
        assert_eq!(b, vec![1, 2], "other messages go one by one, in order");
        handle.stop(false).await;
    }
}

#[tokio::test]
async fn two_dispatchers_on_one_database_deliver_each_message_once() {
    for tdb in TestDb::both("outbox_two") {
        let db_a = open(&tdb).await;
        let db_b = Db::open(&tdb.url, migrations()).unwrap();
        let seen: Seen = Arc::default();
        let (url, handle) = receiver(seen.clone(), Arc::new(Mutex::new(false))).await;
        let a = Outbox::new(db_a.clone(), peers(&url), Arc::new(|_, _, _| Ok(())));
        let b = Outbox::new(db_b, peers(&url), Arc::new(|_, _, _| Ok(())));
        put(&db_a, (0..300).map(|n| message(&format!("agg-{n}"), n, false)).collect()).await;
        let stop = tokio_util::sync::CancellationToken::new();
        let ta = tokio::spawn(a.clone().run(stop.clone()));
        let tb = tokio::spawn(b.run(stop.clone()));
        for _ in 0..400 {
            if a.backlog().await.unwrap().pending == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        stop.cancel();
        ta.await.unwrap();
        tb.await.unwrap();
        let seen = seen.lock().unwrap().clone();
        let mut per_key: HashMap<String, usize> = HashMap::new();
        for (key, _, _) in &seen {
            *per_key.entry(key.clone()).or_default() += 1;
        }
        assert_eq!(per_key.len(), 300, "every message arrived");
        assert!(per_key.values().all(|n| *n == 1), "none arrived twice");
        handle.stop(false).await;
    }
}

/// A line that writers keep busy: one pass sends its newest total and settles the whole backlog,
/// however far beyond one batch (200) it reaches, instead of walking it 200 messages at a time.
#[tokio::test]
async fn one_pass_sends_only_the_newest_of_a_long_run_of_absolute_values() {
    for tdb in TestDb::both("outbox_long_run") {
        let db = open(&tdb).await;
        let seen: Seen = Arc::default();
        let (url, handle) = receiver(seen.clone(), Arc::new(Mutex::new(false))).await;
        let outbox = Outbox::new(db.clone(), peers(&url), Arc::new(|_, _, _| Ok(())));
        put(&db, (1..=500).map(|n| message("line-busy", n, true)).collect()).await;
        put(&db, vec![message("task-next", 1, false)]).await;
        assert_eq!(outbox.pass().await.unwrap(), 2, "{:?}", tdb.backend);
        let seen = seen.lock().unwrap().clone();
        let versions: Vec<_> = seen.iter().filter(|s| s.1 == "/line-busy").map(|s| s.2["version"].as_i64()).collect();
        assert_eq!(versions, vec![Some(500)], "{:?}: only the newest value is sent", tdb.backend);
        assert_eq!(outbox.backlog().await.unwrap().pending, 0, "{:?}: the older ones are settled", tdb.backend);
        handle.stop(false).await;
    }
}

#[tokio::test]
async fn a_message_whose_answer_cannot_be_read_stays_pending_and_counts_as_failing() {
    for tdb in TestDb::both("outbox_unreadable") {
        let db = open(&tdb).await;
        let seen: Seen = Arc::default();
        let (url, handle) = receiver(seen.clone(), Arc::new(Mutex::new(false))).await;
        // The service cannot read what the receiver answers (`{"applied": true}`) as what it
        // expects; later messages of the aggregate wait for it.
        let hook: shared::outbox::OnDelivered = Arc::new(|_, row, answer| {
            if row.path == "/task-c" && answer.get("id").is_none() {
                return Err(shared::outbox::AnswerError::Unreadable("no id".into()));
            }
            Ok(())
        });
        let outbox = Outbox::new(db.clone(), peers(&url), hook);
        put(&db, vec![message("task-c", 1, false), message("task-c", 2, false)]).await;
        outbox.pass().await.unwrap();
        assert!(!seen.lock().unwrap().is_empty(), "it was sent");
        let backlog = outbox.backlog().await.unwrap();
        assert_eq!(backlog.pending, 2, "neither is taken as delivered: {backlog:?}");
        assert_eq!(backlog.failing, 1, "the unreadable one counts as failing: {backlog:?}");
        handle.stop(false).await;
    }
}
