#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Exactly once, whatever fails, for the right caller (SQLite and PostgreSQL, each its own
//! test): a peer slower than its caller's timeout (a row or the database held by another
//! transaction), a service killed between its commit and its answer (a fault point of test
//! builds), a create whose outcome nobody asks about again (claims released by the system), and
//! keys of callers that share a subject or a key. Each test prints what it did.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use e2e::auth::{secured, token};
use e2e::{Api, Cluster, R, connect, dec, eventually, id, items, on_both};
use reqwest::{Method, StatusCode};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use shared::auth::Role;
use shared::config::Service::{Helpdesk, Invoicing, Projects, Sales};
use shared::db::Backend;

/// Holds, on another connection, what a timesheet of `task` must write (the task's row on
/// PostgreSQL, the write lock on SQLite) for `hold`; returns once it is held.
fn hold_task(url: &str, task: &str, hold: Duration) -> R<std::thread::JoinHandle<()>> {
    let mut conn = connect(url)?;
    let begin = if url.starts_with("postgres") {
        format!("BEGIN; SELECT id FROM tasks WHERE id = '{task}' FOR UPDATE;")
    } else {
        "BEGIN IMMEDIATE;".to_owned()
    };
    let (tx, rx) = mpsc::channel();
    let handle = std::thread::spawn(move || {
        let held = conn.batch_execute(&begin);
        let _ = tx.send(held.is_ok());
        std::thread::sleep(hold);
        let _ = conn.batch_execute("COMMIT;");
    });
    if !rx.recv_timeout(Duration::from_secs(10))? {
        return Err("could not take the lock".into());
    }
    Ok(handle)
}

/// A ticket of a confirmed prepaid line's task; answers (line, task, ticket).
async fn ticket_on_a_line(api: &Api) -> R<(String, String, String)> {
    let shop = api.shop("prepaid").await?;
    let (_, sold) = api.sold(&shop, 1, "20").await?;
    let (line, task) = sold[0].clone();
    let (_, ticket) = api.desk(&shop, &task, true).await?;
    Ok((line, task, ticket))
}

async fn ticket_sheets(api: &Api, ticket: &str) -> R<Vec<Value>> {
    api.all(Projects, &format!("/timesheets?ticket_id={ticket}")).await
}

// ---------------------------------------------------------------------------------------------

on_both!(slow_projects, slow_projects_sqlite, slow_projects_postgres);

/// Projects answers later than helpdesk waits for one attempt: helpdesk asks again with the
/// same key and answers what became of the entry (once recorded); past helpdesk's whole
/// deadline it answers 503 `outcome_unknown`, never "nothing was changed", and the client's
/// retry with its key gets the one entry that was recorded.
async fn slow_projects(backend: Backend) -> R {
    let mut c = Cluster::start(backend).await?;
    c.set_env(Helpdesk, "PEER_TIMINGS_MS", Some("1500,6000"));
    c.restart(Helpdesk).await?;
    let (line, task, ticket) = ticket_on_a_line(&c).await?;
    let time = format!("/tickets/{ticket}/timesheets");
    let db = c.database_url(Projects);

    // Held longer than one attempt, shorter than the deadline: one entry, answered.
    let held = hold_task(&db, &task, Duration::from_millis(3500))?;
    let started = Instant::now();
    let (s, first) = c.call(Helpdesk, Method::POST, &time, Some(&json!({"employee": "Ann", "hours": "1"}))).await?;
    held.join().map_err(|_| "holder panicked")?;
    assert_eq!(s, StatusCode::CREATED, "{first}");
    assert!(started.elapsed() >= Duration::from_millis(3000), "answered before the lock was released");
    let sheets = ticket_sheets(&c, &ticket).await?;
    assert_eq!(sheets.len(), 1, "one entry, however many attempts: {sheets:?}");
    assert_eq!(id(&sheets[0]), id(&first));

    // Held past the deadline: 503 outcome_unknown naming the key; the entry is made once, and
    // the client's retry with the same key answers it.
    let held = hold_task(&db, &task, Duration::from_secs(9))?;
    let body = json!({"employee": "Ann", "hours": "2"});
    let unknown = c.post_keyed(Helpdesk, &time, &body, "client-key-1").await?;
    assert_eq!(unknown.status, StatusCode::SERVICE_UNAVAILABLE, "{}", unknown.text);
    assert_eq!(unknown.body["code"], "outcome_unknown", "{}", unknown.text);
    let detail = unknown.body["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("may have been made") && !detail.contains("nothing was changed"), "{detail}");
    held.join().map_err(|_| "holder panicked")?;
    let sheets = eventually(10, || async {
        let sheets = ticket_sheets(&c, &ticket).await?;
        if sheets.len() == 2 { Ok(sheets) } else { Err(format!("{} entries", sheets.len()).into()) }
    })
    .await?;
    let retried = c.post_keyed(Helpdesk, &time, &body, "client-key-1").await?;
    assert_eq!(retried.status, StatusCode::CREATED, "{}", retried.text);
    assert!(sheets.iter().any(|s| id(s) == id(&retried.body)), "the retry answers the entry that was made");
    let again = c.post_keyed(Helpdesk, &time, &body, "client-key-1").await?;
    assert_eq!(again.text, retried.text);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(ticket_sheets(&c, &ticket).await?.len(), 2, "no retry recorded the time twice");
    let total = c.converged(std::slice::from_ref(&line), 10).await?;
    assert_eq!(total, Decimal::from(3));
    println!(
        "exactly_once[{backend:?}]: task held 3.5 s and 9 s against helpdesk's 1.5 s attempts and 6 s deadline: \
         201 once, then 503 outcome_unknown; 2 entries, 3 hours, 0 doubled"
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------

on_both!(killed_after_commit, killed_after_commit_sqlite, killed_after_commit_postgres);

/// Projects dies (`abort`, as `kill -9`) right after committing a timesheet and before
/// answering: the retry with the same key answers that timesheet, straight to projects and
/// through helpdesk alike; nothing is recorded twice.
async fn killed_after_commit(backend: Backend) -> R {
    let mut c = Cluster::start(backend).await?;
    c.set_env(Helpdesk, "PEER_TIMINGS_MS", Some("1000,3000"));
    c.restart(Helpdesk).await?;
    let (line, task, ticket) = ticket_on_a_line(&c).await?;
    c.set_env(Projects, shared::fault::FAULT_POINTS_VAR, Some("idempotency.after_commit@/api/v1/timesheets"));
    c.restart(Projects).await?;

    // Straight to projects.
    let body = json!({"employee": "Bob", "hours": "1.25", "task_id": task});
    let lost = c.post_keyed(Projects, "/timesheets", &body, "direct-1").await;
    assert!(lost.is_err(), "projects answered although it died: {:?}", lost.map(|a| a.text));
    // `abort` may take a moment (a core dump), and the answer is lost before it is done.
    let end = Instant::now() + Duration::from_secs(10);
    while c.is_running(Projects)? && Instant::now() < end {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(!c.is_running(Projects)?, "the fault point did not fire");
    c.set_env(Projects, shared::fault::FAULT_POINTS_VAR, None);
    c.restart(Projects).await?;
    let retried = c.post_keyed(Projects, "/timesheets", &body, "direct-1").await?;
    assert_eq!(retried.status, StatusCode::CREATED, "{}", retried.text);
    assert_eq!(retried.headers.get("idempotent-replayed").map(|v| v.to_str().unwrap()), Some("true"));
    let on_task = c.all(Projects, &format!("/timesheets?task_id={task}")).await?;
    assert_eq!(on_task.len(), 1, "{on_task:?}");

    // Through helpdesk: it cannot learn the outcome while projects is dead (503
    // outcome_unknown); the client's retry with its key, once projects is back, answers it.
    c.set_env(Projects, shared::fault::FAULT_POINTS_VAR, Some("idempotency.after_commit@/api/v1/timesheets"));
    c.restart(Projects).await?;
    let time = format!("/tickets/{ticket}/timesheets");
    let body = json!({"employee": "Bob", "hours": "2.5"});
    let unknown = c.post_keyed(Helpdesk, &time, &body, "via-helpdesk-1").await?;
    assert_eq!(unknown.status, StatusCode::SERVICE_UNAVAILABLE, "{}", unknown.text);
    assert_eq!(unknown.body["code"], "outcome_unknown", "{}", unknown.text);
    c.set_env(Projects, shared::fault::FAULT_POINTS_VAR, None);
    c.restart(Projects).await?;
    let retried = c.post_keyed(Helpdesk, &time, &body, "via-helpdesk-1").await?;
    assert_eq!(retried.status, StatusCode::CREATED, "{}", retried.text);
    let sheets = ticket_sheets(&c, &ticket).await?;
    assert_eq!(sheets.len(), 1, "{sheets:?}");
    assert_eq!(id(&sheets[0]), id(&retried.body));
    let total = c.converged(std::slice::from_ref(&line), 10).await?;
    assert_eq!(total, Decimal::new(375, 2));
    println!(
        "exactly_once[{backend:?}]: projects abort x2 between commit and answer (direct, through helpdesk): \
         retries with the key answered the committed entries; 2 entries, 3.75 hours, 0 doubled"
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------

on_both!(abandoned_claim, abandoned_claim_sqlite, abandoned_claim_postgres);

/// Invoicing dies inside the transaction that would make the invoice, and nobody retries:
/// sales answers 503 `outcome_unknown`, and the timesheets it claimed for that invoice are
/// released by projects itself once invoicing says the invoice does not exist.
async fn abandoned_claim(backend: Backend) -> R {
    let mut c = Cluster::start(backend).await?;
    c.set_env(Sales, "PEER_TIMINGS_MS", Some("1000,2500"));
    c.restart(Sales).await?;
    c.set_env(Projects, "RECONCILE_MS", Some("300,3000"));
    c.restart(Projects).await?;
    let shop = c.shop("timesheet").await?;
    let (order, sold) = c.sold(&shop, 1, "10").await?;
    let (line, task) = sold[0].clone();
    for h in ["1", "2.5"] {
        c.post(Projects, "/timesheets", &json!({"employee": "Cy", "hours": h, "task_id": task}), StatusCode::CREATED)
            .await?;
    }
    c.converged(std::slice::from_ref(&line), 10).await?;
    c.set_env(Invoicing, shared::fault::FAULT_POINTS_VAR, Some("idempotency.before_key@/api/v1/invoices"));
    c.restart(Invoicing).await?;

    let (s, v) = c.call(Sales, Method::POST, &format!("/orders/{order}/invoices"), None).await?;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{v}");
    assert_eq!(v["code"], "outcome_unknown", "{v}");
    let claimed = c.all(Projects, &format!("/timesheets?sale_line_id={line}")).await?;
    assert!(claimed.iter().all(|t| !t["invoice_id"].is_null()), "the timesheets were claimed: {claimed:?}");
    c.set_env(Invoicing, shared::fault::FAULT_POINTS_VAR, None);
    c.restart(Invoicing).await?;

    // No client retry: the system releases them itself.
    let started = Instant::now();
    eventually(30, || async {
        let sheets = c.all(Projects, &format!("/timesheets?sale_line_id={line}")).await?;
        if sheets.iter().all(|t| t["invoice_id"].is_null()) { Ok(()) } else { Err("still claimed".into()) }
    })
    .await?;
    let released_after = started.elapsed();
    assert!(items(&c.get(Invoicing, &format!("/invoices?sale_order_id={order}")).await?).is_empty());
    same_qty(&c, &line, "0.00").await?;

    // And the next request bills them, once.
    let inv = c.post(Sales, &format!("/orders/{order}/invoices"), &json!({}), StatusCode::CREATED).await?;
    assert_eq!(dec(&inv["lines"][0]["quantity"])?, Decimal::new(35, 1));
    let sheets = c.all(Projects, &format!("/timesheets?sale_line_id={line}")).await?;
    assert!(sheets.iter().all(|t| t["invoice_id"] == inv["id"]), "{sheets:?}");
    eventually(10, || same_qty(&c, &line, "3.50")).await?;
    println!(
        "exactly_once[{backend:?}]: invoicing abort inside the invoice's transaction, no retry: 503 outcome_unknown, \
         2 claimed timesheets released by projects after {:.1} s, then invoiced once (3.50 hours)",
        released_after.as_secs_f64()
    );
    Ok(())
}

async fn same_qty(api: &Api, line: &str, want: &str) -> R {
    let got = api.get(Sales, &format!("/order-lines/{line}")).await?["qty_invoiced"].clone();
    if got == json!(want) { Ok(()) } else { Err(format!("qty_invoiced {got}, want {want}").into()) }
}

// ---------------------------------------------------------------------------------------------

on_both!(scoped_keys, scoped_keys_sqlite, scoped_keys_postgres);

/// A key is the caller's, whole: two customers whose tokens share a subject, and two agents,
/// each using one key, each get their own record.
async fn scoped_keys(backend: Backend) -> R {
    let sys = secured(backend).await?;
    let (line, task, ticket) = ticket_on_a_line(&sys).await?;
    let team = sys.get(Helpdesk, &format!("/tickets/{ticket}")).await?["team_id"].as_str().unwrap().to_owned();

    // Two customers, one portal subject, one key.
    let a = id(&sys.post(Sales, "/customers", &json!({"name": "A"}), StatusCode::CREATED).await?);
    let b = id(&sys.post(Sales, "/customers", &json!({"name": "B"}), StatusCode::CREATED).await?);
    let as_customer = |c: &str| -> R<Api> {
        Ok(sys.api.clone().with_token(token(Role::Customer, "portal", Some(uuid::Uuid::parse_str(c)?))?))
    };
    let mut opened = vec![];
    for c in [&a, &b] {
        let api = as_customer(c)?;
        let body = json!({"team_id": team, "customer_id": c, "title": "Help"});
        let t = api.post_keyed(Helpdesk, "/tickets", &body, "portal-key").await?;
        assert_eq!(t.status, StatusCode::CREATED, "{}", t.text);
        assert_eq!(t.body["customer_id"], json!(c), "{}", t.text);
        assert!(t.headers.get("idempotent-replayed").is_none(), "customer {c} got another's answer: {}", t.text);
        opened.push(id(&t.body));
    }
    assert_ne!(opened[0], opened[1]);
    let replay = as_customer(&a)?
        .post_keyed(Helpdesk, "/tickets", &json!({"team_id": team, "customer_id": a, "title": "Help"}), "portal-key")
        .await?;
    assert_eq!(id(&replay.body), opened[0], "a repeat is still the caller's own");

    // Two agents, one ticket, one key: two entries.
    let time = format!("/tickets/{ticket}/timesheets");
    let mut logged = vec![];
    for agent in ["agent-x", "agent-y"] {
        let api = sys.api.clone().with_token(token(Role::Agent, agent, None)?);
        let t = api.post_keyed(Helpdesk, &time, &json!({"employee": agent, "hours": "1"}), "shift-key").await?;
        assert_eq!(t.status, StatusCode::CREATED, "{agent}: {}", t.text);
        assert_eq!(t.body["created_by"], agent);
        logged.push(id(&t.body));
    }
    assert_ne!(logged[0], logged[1]);
    assert_eq!(ticket_sheets(&sys, &ticket).await?.len(), 2);
    sys.converged(std::slice::from_ref(&line), 10).await?;
    let _ = task;
    sys.stop().await;
    println!(
        "exactly_once[{backend:?}]: 2 customers with one subject and one key: 2 tickets, each its own; \
         2 agents with one key on one ticket: 2 entries"
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------

/// PostgreSQL drops projects' connection as it commits a timesheet (a fault point of test
/// builds terminates the session from inside the transaction), so the commit gets no answer:
/// projects answers 503 `outcome_unknown`, never "nothing was changed", and the retry with the
/// key records the entry once. Through helpdesk the same fault is invisible: helpdesk asks again
/// with its key and answers 201. (SQLite has no connection to lose: its commit answers or the
/// process is gone, which `killed_after_commit` covers.)
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_commit_without_an_answer_is_an_unknown_outcome_postgres() -> R {
    if !e2e::backends().contains(&Backend::Postgres) {
        return Ok(());
    }
    let mut c = Cluster::start(Backend::Postgres).await?;
    let (line, task, ticket) = ticket_on_a_line(&c).await?;
    c.set_env(Projects, shared::fault::FAULT_POINTS_VAR, Some("db.commit_lost@/api/v1/timesheets"));
    c.restart(Projects).await?;

    let body = json!({"employee": "Bob", "hours": "1.25", "task_id": task});
    let lost = c.post_keyed(Projects, "/timesheets", &body, "commit-lost-1").await?;
    assert_eq!(lost.status, StatusCode::SERVICE_UNAVAILABLE, "{}", lost.text);
    assert_eq!(lost.body["code"], "outcome_unknown", "{}", lost.text);
    assert!(!lost.text.contains("nothing was changed"), "{}", lost.text);
    let retried = c.post_keyed(Projects, "/timesheets", &body, "commit-lost-1").await?;
    assert_eq!(retried.status, StatusCode::CREATED, "{}", retried.text);
    assert_eq!(c.all(Projects, &format!("/timesheets?task_id={task}")).await?.len(), 1);

    // The point fires once per process: a new one for the hop from helpdesk.
    c.restart(Projects).await?;
    let time = format!("/tickets/{ticket}/timesheets");
    let logged = c.post_keyed(Helpdesk, &time, &json!({"employee": "Bob", "hours": "2.5"}), "commit-lost-2").await?;
    assert_eq!(logged.status, StatusCode::CREATED, "{}", logged.text);
    let sheets = ticket_sheets(&c, &ticket).await?;
    assert_eq!(sheets.len(), 1, "{sheets:?}");
    assert_eq!(id(&sheets[0]), id(&logged.body));
    let total = c.converged(std::slice::from_ref(&line), 10).await?;
    assert_eq!(total, Decimal::new(375, 2));
    println!(
        "exactly_once[Postgres]: 2 commits without an answer (direct: 503 outcome_unknown, then the keyed \
         retry; through helpdesk: its keyed retry, 201): 2 entries, 3.75 hours, 0 doubled"
    );
    Ok(())
}
