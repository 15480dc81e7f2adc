#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Faults, with the real binaries as separate processes (SQLite and PostgreSQL): `kill -9` of
//! sales while time is logged and edited, projects down while an order is confirmed or ticket
//! time is recorded, invoicing down while an order is invoiced, a dispatcher killed between
//! sending and recording, resends forced by hand, and two copies of projects on one PostgreSQL
//! database. Whatever fails, every hour reaches its sale line exactly once. Each test prints a
//! one-line summary of what it injected.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use diesel::prelude::*;
use e2e::{Api, Cluster, R, backends, connect, dec, eventually, id, on_both, on_both_with, same};
use reqwest::{Method, StatusCode};
use rust_decimal::Decimal;
use serde_json::json;
use shared::config::Service::{Helpdesk, Invoicing, Projects, Sales};
use shared::db::Backend;
use shared::schema::outbox;

/// Logs, edits, moves and deletes timesheets on `tasks` until `stop`; answers how many writes
/// it made. Every write goes to projects, which stays up: each must succeed.
async fn churn(api: Api, tasks: Vec<String>, seed: usize, stop: Arc<AtomicBool>, writes: Arc<AtomicUsize>) -> R {
    let mut mine: Vec<String> = vec![];
    let mut i = seed;
    while !stop.load(Ordering::Relaxed) {
        i += 1;
        let task = &tasks[i % tasks.len()];
        let hours = Decimal::new(25 * ((i % 8) as i64 + 1), 2).to_string();
        let (method, path, body) = match (i % 6, mine.len()) {
            (3, n) if n > 0 => (Method::PATCH, format!("/timesheets/{}", mine[i % n]), Some(json!({"hours": hours}))),
            (4, n) if n > 0 => {
                (Method::PATCH, format!("/timesheets/{}", mine[i % n]), Some(json!({"task_id": task, "hours": hours})))
            }
            (5, n) if n > 0 => (Method::DELETE, format!("/timesheets/{}", mine.remove(i % n)), None),
            _ => (
                Method::POST,
                "/timesheets".to_owned(),
                Some(json!({"employee": format!("Agent {seed}"), "hours": hours, "task_id": task})),
            ),
        };
        let (s, v) = api.call(Projects, method.clone(), &path, body.as_ref()).await?;
        if !s.is_success() {
            return Err(format!("{method} {path}: {s}: {v}").into());
        }
        if method == Method::POST {
            mine.push(id(&v));
        }
        writes.fetch_add(1, Ordering::Relaxed);
    }
    Ok(())
}

fn lines_of(lines: &[(String, String)]) -> Vec<String> {
    lines.iter().map(|(l, _)| l.clone()).collect()
}

// ---------------------------------------------------------------------------------------------

/// An outbox row as the test reads it: aggregate, path, attempts, lease, last error.
type OutboxState = (String, String, i32, Option<chrono::NaiveDateTime>, Option<String>);

async fn sales_killed_while_time_is_logged_and_edited_converges_to_the_exact_sums(backend: Backend) -> R {
    let mut c = Cluster::start(backend).await?;
    killed_sales(&mut c).await.map_err(|e| format!("{backend:?}: {e}\n{}", c.logs()))?;
    Ok(())
}
on_both!(
    sales_killed_while_time_is_logged_and_edited_converges_to_the_exact_sums,
    sales_killed_while_time_is_logged_and_edited_converges_to_the_exact_sums_sqlite,
    sales_killed_while_time_is_logged_and_edited_converges_to_the_exact_sums_postgres
);

async fn killed_sales(c: &mut Cluster) -> R {
    let shop = c.shop("prepaid").await?;
    let (_, lines) = c.sold(&shop, 3, "40").await?;
    let tasks: Vec<String> = lines.iter().map(|(_, t)| t.clone()).collect();
    let stop = Arc::new(AtomicBool::new(false));
    let writes = Arc::new(AtomicUsize::new(0));
    let writers: Vec<_> = (0..4)
        .map(|n| tokio::spawn(churn(c.api.clone(), tasks.clone(), n * 1000, stop.clone(), writes.clone())))
        .collect();
    let kills = 3;
    for _ in 0..kills {
        tokio::time::sleep(Duration::from_millis(400)).await;
        c.kill(Sales)?;
        tokio::time::sleep(Duration::from_millis(400)).await;
        c.restart(Sales).await?;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.await??;
    }
    let total = c.converged(&lines_of(&lines), 60).await?;
    let writes = writes.load(Ordering::Relaxed);
    assert!(writes > 40, "the writers made only {writes} writes");
    println!(
        "faults[{:?}]: sales kill -9 x{kills} during {writes} timesheet writes on {} lines: {total} hours, 0 lost or doubled",
        c.backend,
        lines.len()
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------

async fn projects_down_confirm_succeeds_and_ticket_time_is_a_503_that_records_nothing(backend: Backend) -> R {
    let mut c = Cluster::start(backend).await?;
    projects_down(&mut c).await.map_err(|e| format!("{backend:?}: {e}\n{}", c.logs()))?;
    Ok(())
}
on_both_with!(
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)],
    projects_down_confirm_succeeds_and_ticket_time_is_a_503_that_records_nothing,
    projects_down_confirm_succeeds_and_ticket_time_is_a_503_that_records_nothing_sqlite,
    projects_down_confirm_succeeds_and_ticket_time_is_a_503_that_records_nothing_postgres
);

async fn projects_down(c: &mut Cluster) -> R {
    let shop = c.shop("prepaid").await?;
    let (_, sold) = c.sold(&shop, 1, "10").await?;
    let (line, task) = sold[0].clone();
    let (_, ticket) = c.desk(&shop, &task, true).await?;
    let time = format!("/tickets/{ticket}/timesheets");
    c.post(Helpdesk, &time, &json!({"employee": "Joel Willis", "hours": "1.5"}), StatusCode::CREATED).await?;
    c.converged(std::slice::from_ref(&line), 10).await?;
    let draft = c.draft_order(&shop.customer, &shop.product, 2, "3").await?;

    c.kill(Projects)?;
    // Confirming needs no answer from projects: 200, the tasks come later.
    let (s, o) = c.call(Sales, Method::POST, &format!("/orders/{draft}/confirm"), Some(&json!({}))).await?;
    assert_eq!(s, StatusCode::OK, "{o}");
    assert_eq!(o["state"], "sale");
    assert!(o["lines"][0]["task_id"].is_null(), "no task while projects is down: {o}");
    // Ticket time does: 503, and nothing recorded anywhere.
    for _ in 0..3 {
        let (s, v) = c.call(Helpdesk, Method::POST, &time, Some(&json!({"employee": "Ann", "hours": "2"}))).await?;
        assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{v}");
        assert_eq!(v["status"], 503, "{v}");
    }
    c.restart(Projects).await?;

    let o = c.wait_for_tasks(&draft).await?;
    for l in o["lines"].as_array().unwrap() {
        let tasks = c.all(Projects, &format!("/tasks?sale_line_id={}", id(l))).await?;
        assert_eq!(tasks.len(), 1, "line {}: {tasks:?}", id(l));
        assert_eq!(json!(id(&tasks[0])), l["task_id"]);
    }
    let sheets = c.all(Helpdesk, &time).await?;
    assert_eq!(sheets.len(), 1, "the refused ticket time was not recorded: {sheets:?}");
    same("hours_spent", &c.get(Helpdesk, &format!("/tickets/{ticket}")).await?["hours_spent"], "1.5")?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let total = c.converged(std::slice::from_ref(&line), 10).await?;
    assert_eq!(total, Decimal::new(15, 1));
    println!(
        "faults[{:?}]: projects kill -9 x1: confirm 200 then 1 task per line ({} lines); 3 ticket-time requests 503, 0 recorded",
        c.backend,
        o["lines"].as_array().map_or(0, Vec::len)
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------

async fn invoicing_down_while_invoicing_an_order_is_a_503_that_changes_nothing_and_a_retry_makes_one_invoice(
    backend: Backend,
) -> R {
    let mut c = Cluster::start(backend).await?;
    invoicing_down(&mut c).await.map_err(|e| format!("{backend:?}: {e}\n{}", c.logs()))?;
    Ok(())
}
on_both_with!(
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)],
    invoicing_down_while_invoicing_an_order_is_a_503_that_changes_nothing_and_a_retry_makes_one_invoice,
    invoicing_down_while_invoicing_an_order_is_a_503_that_changes_nothing_and_a_retry_makes_one_invoice_sqlite,
    invoicing_down_while_invoicing_an_order_is_a_503_that_changes_nothing_and_a_retry_makes_one_invoice_postgres
);

async fn invoicing_down(c: &mut Cluster) -> R {
    let shop = c.shop("timesheet").await?;
    let prepaid = c.shop("prepaid").await?;
    let o = c
        .post(
            Sales,
            "/orders",
            &json!({"customer_id": shop.customer, "lines": [
                {"product_id": shop.product, "quantity": "10"}, {"product_id": prepaid.product, "quantity": "5"}]}),
            StatusCode::CREATED,
        )
        .await?;
    let order = id(&o);
    let o = c.confirm(&order).await?;
    let (tl, task) = (id(&o["lines"][0]), o["lines"][0]["task_id"].as_str().unwrap().to_owned());
    for h in ["2", "1.25"] {
        c.post(Projects, "/timesheets", &json!({"employee": "Ann", "hours": h, "task_id": task}), StatusCode::CREATED)
            .await?;
    }
    c.converged(std::slice::from_ref(&tl), 10).await?;
    let before = c.get(Sales, &format!("/orders/{order}")).await?;

    c.kill(Invoicing)?;
    let path = format!("/orders/{order}/invoices");
    let (s, v) = c.call(Sales, Method::POST, &path, Some(&json!({}))).await?;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{v}");
    assert_eq!(v["status"], 503, "{v}");
    // Nothing changed: the order as it was, no timesheet stamped with an invoice.
    assert_eq!(c.get(Sales, &format!("/orders/{order}")).await?, before);
    for t in c.all(Projects, &format!("/timesheets?sale_line_id={tl}")).await? {
        assert!(t["invoice_id"].is_null(), "a timesheet stayed claimed: {t}");
    }
    c.restart(Invoicing).await?;

    let inv = c.post(Sales, &path, &json!({}), StatusCode::CREATED).await?;
    let (s, again) = c.call(Sales, Method::POST, &path, Some(&json!({}))).await?;
    assert!(s == StatusCode::CONFLICT || (s == StatusCode::CREATED && id(&again) == id(&inv)), "{s}: {again}");
    let invoices = c.all(Invoicing, &format!("/invoices?sale_order_id={order}")).await?;
    assert_eq!(invoices.len(), 1, "{invoices:?}");
    same("invoice total", &inv["amount_untaxed"], "825")?;
    for t in c.all(Projects, &format!("/timesheets?sale_line_id={tl}")).await? {
        assert_eq!(t["invoice_id"], json!(id(&inv)), "{t}");
    }
    eventually(10, || async {
        let o = c.get(Sales, &format!("/orders/{order}")).await?;
        same("qty_invoiced", &o["lines"][0]["qty_invoiced"], "3.25")?;
        same("qty_invoiced", &o["lines"][1]["qty_invoiced"], "5")
    })
    .await?;
    println!(
        "faults[{:?}]: invoicing kill -9 x1: invoice request 503, nothing changed; retry made 1 invoice",
        c.backend
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------

#[derive(QueryableByName)]
struct Version {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    v: i64,
}

fn versions(url: &str) -> R<Vec<i64>> {
    let mut conn = connect(url)?;
    let rows: Vec<Version> =
        diesel::sql_query("SELECT delivered_version AS v FROM order_lines ORDER BY id").load(&mut conn)?;
    Ok(rows.into_iter().map(|r| r.v).collect())
}

/// How many messages wait in a database's outbox (and, in an error, which).
fn undelivered(url: &str) -> R<i64> {
    let mut conn = connect(url)?;
    let rows: Vec<OutboxState> = outbox::table
        .filter(outbox::delivered_at.is_null())
        .select((outbox::aggregate, outbox::path, outbox::attempts, outbox::locked_until, outbox::last_error))
        .load(&mut conn)?;
    if !rows.is_empty() && std::env::var("FAULTS_DEBUG").is_ok() {
        eprintln!("undelivered: {rows:?}");
    }
    Ok(rows.len() as i64)
}

async fn a_dispatcher_killed_mid_send_or_made_to_resend_everything_leaves_the_totals_exact(backend: Backend) -> R {
    let mut c = Cluster::start(backend).await?;
    resend(&mut c).await.map_err(|e| format!("{backend:?}: {e}\n{}", c.logs()))?;
    Ok(())
}
on_both_with!(
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)],
    a_dispatcher_killed_mid_send_or_made_to_resend_everything_leaves_the_totals_exact,
    a_dispatcher_killed_mid_send_or_made_to_resend_everything_leaves_the_totals_exact_sqlite,
    a_dispatcher_killed_mid_send_or_made_to_resend_everything_leaves_the_totals_exact_postgres
);

async fn resend(c: &mut Cluster) -> R {
    let shop = c.shop("prepaid").await?;
    let (_, lines) = c.sold(&shop, 2, "40").await?;
    let ls = lines_of(&lines);
    // Many writes, then kill -9 of projects while its dispatcher is sending them.
    let mut writes = 0;
    for round in 0..3 {
        let posts = (0..20).map(|i| {
            let task = lines[i % 2].1.clone();
            let api = c.api.clone();
            async move {
                api.post(
                    Projects,
                    "/timesheets",
                    &json!({"employee": "Ann", "hours": "0.75", "task_id": task}),
                    StatusCode::CREATED,
                )
                .await
            }
        });
        for r in futures_all(posts.collect()).await {
            r?;
            writes += 1;
        }
        tokio::time::sleep(Duration::from_millis(5 * round)).await;
        c.kill(Projects)?;
        c.restart(Projects).await?;
    }
    // A message the killed process had claimed waits for its lease (30 s) to run out.
    let t0 = std::time::Instant::now();
    let total = c.converged(&ls, 50).await?;
    let waited = t0.elapsed().as_secs();
    let sales_db = c.database_url(Sales);
    let projects_db = c.database_url(Projects);
    // Messages the killed processes held may still wait for their lease: the reset below
    // frees them too, and they go out with the rest.
    let before = versions(&sales_db)?;

    // Every message sent again, as if no delivery had ever been recorded.
    c.kill(Projects)?;
    let reset = {
        let mut conn = connect(&projects_db)?;
        diesel::update(outbox::table.filter(outbox::target.eq("sales")))
            .set((
                outbox::delivered_at.eq(None::<chrono::NaiveDateTime>),
                outbox::locked_until.eq(None::<chrono::NaiveDateTime>),
                outbox::next_attempt_at.eq(outbox::created_at),
                outbox::attempts.eq(0),
            ))
            .execute(&mut conn)?
    };
    assert!(reset >= 60, "only {reset} messages to resend");
    c.restart(Projects).await?;
    eventually(30, || async {
        match undelivered(&projects_db)? {
            0 => Ok(()),
            n => Err(format!("{n} messages not resent yet").into()),
        }
    })
    .await?;
    let after = versions(&sales_db)?;
    assert_eq!(after, before, "sales' versions moved on a resend of old totals");
    assert_eq!(c.converged(&ls, 5).await?, total);
    for (l, _) in &lines {
        let v = c.get(Sales, &format!("/order-lines/{l}")).await?;
        assert_eq!(dec(&v["qty_delivered"])?, c.logged_hours(l).await?);
    }
    println!(
        "faults[{:?}]: projects kill -9 x3 mid-dispatch after {writes} writes, then {reset} messages resent: {total} hours (converged in {waited} s), versions unchanged, 0 lost or doubled",
        c.backend
    );
    Ok(())
}

/// Runs futures concurrently (on this task), answering their outputs in order.
async fn futures_all<F: std::future::Future>(fs: Vec<F>) -> Vec<F::Output> {
    let mut pinned: Vec<_> = fs.into_iter().map(Box::pin).collect();
    let mut out: Vec<Option<F::Output>> = pinned.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, f) in pinned.iter_mut().enumerate() {
            if out[i].is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => out[i] = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending { std::task::Poll::Pending } else { std::task::Poll::Ready(()) }
    })
    .await;
    out.into_iter().map(|o| o.unwrap()).collect()
}

// ---------------------------------------------------------------------------------------------

/// The value of the samples `name{...}` whose labels include every one of `labels`, summed.
fn sample(text: &str, name: &str, labels: &[&str]) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (series, value) = l.rsplit_once(' ')?;
            let (n, rest) = series.split_once('{')?;
            (n == name && labels.iter().all(|x| rest.contains(x))).then(|| value.parse::<f64>().ok()).flatten()
        })
        .sum()
}

async fn metrics(api: &Api, base: &str) -> R<String> {
    Ok(api.http.get(format!("{base}/metrics")).send().await?.text().await?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_copies_of_projects_on_one_postgresql_database_deliver_each_message_once() -> R {
    if !backends().contains(&Backend::Postgres) {
        return Ok(());
    }
    let mut c = Cluster::start(Backend::Postgres).await?;
    two_copies(&mut c).await.map_err(|e| format!("{e}\n{}", c.logs()))?;
    Ok(())
}

async fn two_copies(c: &mut Cluster) -> R {
    let shop = c.shop("prepaid").await?;
    let n = 24;
    let (_, lines) = c.sold(&shop, n, "10").await?;
    let a = c.api.url(Projects);
    let b = c.add_copy(Projects).await?;
    // One timesheet per line, so that each line gets exactly one message: no newer message of a
    // line can stand in for an older one, and every message must be sent, once.
    let posts = lines.iter().enumerate().map(|(i, (_, task))| {
        let mut api = c.api.clone();
        api.urls.set(Projects, if i % 2 == 0 { a.clone() } else { b.clone() });
        let task = task.clone();
        async move {
            api.post(
                Projects,
                "/timesheets",
                &json!({"employee": "Ann", "hours": "1.25", "task_id": task}),
                StatusCode::CREATED,
            )
            .await
        }
    });
    for r in futures_all(posts.collect()).await {
        r?;
    }
    let total = c.converged(&lines_of(&lines), 30).await?;
    assert_eq!(total, Decimal::new(125, 2) * Decimal::from(n as i64));
    let projects_db = c.database_url(Projects);
    let messages: i64 = {
        let mut conn = connect(&projects_db)?;
        outbox::table.filter(outbox::target.eq("sales")).count().get_result(&mut conn)?
    };
    assert_eq!(messages, n as i64);
    eventually(10, || async {
        match undelivered(&projects_db)? {
            0 => Ok(()),
            n => Err(format!("{n} messages undelivered").into()),
        }
    })
    .await?;
    let by_a = sample(&metrics(c, &a).await?, "outbox_deliveries_total", &["target=\"sales\""]);
    let by_b = sample(&metrics(c, &b).await?, "outbox_deliveries_total", &["target=\"sales\""]);
    let received =
        sample(&metrics(c, &c.api.url(Sales)).await?, "http_server_requests_total", &["timesheet-total", "PUT"]);
    assert_eq!(by_a + by_b, n as f64, "sent {by_a} + {by_b} for {n} messages");
    assert_eq!(received, n as f64, "sales received {received} deliveries for {n} messages");
    let versions = versions(&c.database_url(Sales))?;
    assert!(versions.iter().all(|v| *v > 0), "each line applied its version: {versions:?}");
    println!(
        "faults[Postgres]: 2 projects processes on 1 database: {n} messages, sent {by_a} + {by_b}, received {received}: each once"
    );
    Ok(())
}
