#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Every record of projects and helpdesk answers when it was created and when it last changed
//! (SQLite and PostgreSQL, each its own test): both the same on create; a change moves
//! `updated_at` forward and keeps `created_at`; a refused change (422, 412) moves nothing; and
//! what changes a record behind the scenes moves it too: time logged on a ticket (its task's
//! effective hours, at once; the ticket's hours spent, when projects' total arrives), a task
//! moved to another line (its timesheets), an invoice that bills time and its cancellation.

use chrono::{DateTime, Utc};
use e2e::{Api, R, System, dec, eventually, id, on_both};
use reqwest::{Method, StatusCode};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use shared::config::Service::{self, Helpdesk, Invoicing, Projects, Sales};
use shared::db::Backend;

/// A record's `created_at` and `updated_at`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Stamps {
    created: DateTime<Utc>,
    updated: DateTime<Utc>,
}

fn stamps(what: &str, v: &Value) -> R<Stamps> {
    let at = |field: &str| -> R<DateTime<Utc>> {
        let s = v[field].as_str().ok_or_else(|| format!("{what}: no {field} in {v}"))?;
        Ok(DateTime::parse_from_rfc3339(s).map_err(|e| format!("{what}: {field} {s:?}: {e}"))?.with_timezone(&Utc))
    };
    Ok(Stamps { created: at("created_at")?, updated: at("updated_at")? })
}

/// Both stamps of a record never changed since it was made: the same instant.
fn fresh(what: &str, v: &Value) -> R<Stamps> {
    let s = stamps(what, v)?;
    assert_eq!(s.created, s.updated, "{what}: a new record was last changed when it was made: {v}");
    Ok(s)
}

/// The record was changed after `before`, and still was created when it was.
fn moved(what: &str, before: Stamps, now: Stamps) {
    assert_eq!(now.created, before.created, "{what}: created_at never changes");
    assert!(now.updated > before.updated, "{what}: updated_at did not move forward: {before:?} then {now:?}");
}

async fn read(api: &Api, s: Service, path: &str) -> R<(Stamps, Value)> {
    let v = api.get(s, path).await?;
    Ok((stamps(path, &v)?, v))
}

/// Waits until `path`'s `field` is `want` (by value); answers the record then.
async fn until(api: &Api, s: Service, path: &str, field: &str, want: &str) -> R<(Stamps, Value)> {
    let want: Decimal = want.parse()?;
    eventually(10, || async {
        let (st, v) = read(api, s, path).await?;
        if dec(&v[field])? == want {
            Ok((st, v))
        } else {
            Err(format!("{path}: {field} {}, want {want}", v[field]).into())
        }
    })
    .await
}

async fn records_answer_when_they_changed(backend: Backend) -> R {
    let sys = System::start(backend).await?;
    let shop = sys.shop("prepaid").await?;
    let (_, lines) = sys.sold(&shop, 2, "10").await?;
    let ((line, task), (other_line, _)) = (lines[0].clone(), lines[1].clone());

    // On create: one instant, and a read gives exactly what the create answered.
    let project = sys.post(Projects, "/projects", &json!({"name": "Timestamps"}), StatusCode::CREATED).await?;
    let project_id = id(&project);
    let made = fresh("project", &project)?;
    assert_eq!(read(&sys, Projects, &format!("/projects/{project_id}")).await?.0, made);
    let new_task =
        sys.post(Projects, "/tasks", &json!({"project_id": project_id, "name": "Plan"}), StatusCode::CREATED).await?;
    let new_task_id = id(&new_task);
    let made = fresh("task", &new_task)?;
    assert_eq!(read(&sys, Projects, &format!("/tasks/{new_task_id}")).await?.0, made);
    let (team, ticket) = sys.desk(&shop, &task, true).await?;
    fresh("team", &sys.get(Helpdesk, &format!("/teams/{team}")).await?)?;
    let ticket_path = format!("/tickets/{ticket}");
    let ticket_made = fresh("ticket", &sys.get(Helpdesk, &ticket_path).await?)?;
    let (task_before, _) = read(&sys, Projects, &format!("/tasks/{task}")).await?;
    assert!(task_before.updated >= task_before.created, "task: {task_before:?}");

    // Time logged on the ticket: a new timesheet (as helpdesk passes it on, as projects keeps
    // it); its task changed at once (its effective hours), its ticket when the total arrives.
    let sheet = sys.log_on_ticket(&ticket, "1").await?;
    let sheet_id = id(&sheet);
    let sheet_path = format!("/timesheets/{sheet_id}");
    let sheet_made = fresh("timesheet", &sheet)?;
    assert_eq!(read(&sys, Projects, &sheet_path).await?.0, sheet_made);
    assert_eq!(read(&sys, Helpdesk, &format!("/tickets/{ticket}/timesheets/{sheet_id}")).await?.0, sheet_made);
    let (task_after, v) = read(&sys, Projects, &format!("/tasks/{task}")).await?;
    assert_eq!(dec(&v["effective_hours"])?, Decimal::ONE);
    moved("task, time logged on it", task_before, task_after);
    let (ticket_after, _) = until(&sys, Helpdesk, &ticket_path, "hours_spent", "1").await?;
    moved("ticket, time logged on it", ticket_made, ticket_after);

    // A change moves updated_at forward (the answer is what a read gives next); a refused one
    // (422, or 412 for a stale If-Match) moves nothing.
    let cases = [
        (Projects, format!("/projects/{project_id}"), json!({"name": "Renamed"}), json!({"name": " "}), "name"),
        (Projects, format!("/tasks/{new_task_id}"), json!({"allocated_hours": "3"}), json!({"name": ""}), "name"),
        (Projects, sheet_path.clone(), json!({"description": "Fixed"}), json!({"hours": "0"}), "hours"),
        (Helpdesk, format!("/teams/{team}"), json!({"name": "Renamed"}), json!({"name": ""}), "name"),
        (Helpdesk, ticket_path.clone(), json!({"stage": "in_progress"}), json!({"title": ""}), "title"),
    ];
    for (s, path, good, bad, field) in cases {
        let (before, _) = read(&sys, s, &path).await?;
        let changed = sys.patch(s, &path, &good).await?;
        let after = stamps(&path, &changed)?;
        moved(&path, before, after);
        assert_eq!(read(&sys, s, &path).await?.0, after, "{path}: a read gives what the change answered");
        sys.invalid(s, Method::PATCH, &path, &bad, field).await?;
        let stale = sys.send(sys.request(s, Method::PATCH, &path).header("If-Match", "\"stale\"").json(&good)).await?;
        assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED, "{path}: {}", stale.text);
        assert_eq!(read(&sys, s, &path).await?.0, after, "{path}: a refused change moved updated_at");
    }
    // The project whose task took time did not change.
    let p = fresh("the shop's project", &sys.get(Projects, &format!("/projects/{}", shop.project)).await?)?;

    // Time edited on the ticket: the timesheet, its task and (eventually) its ticket move.
    let (sheet_before, _) = read(&sys, Projects, &sheet_path).await?;
    let (task_before, _) = read(&sys, Projects, &format!("/tasks/{task}")).await?;
    let (ticket_before, _) = read(&sys, Helpdesk, &ticket_path).await?;
    let edited =
        sys.patch(Helpdesk, &format!("/tickets/{ticket}/timesheets/{sheet_id}"), &json!({"hours": "2.5"})).await?;
    moved("timesheet, edited on its ticket", sheet_before, stamps("timesheet", &edited)?);
    let (task_after, v) = read(&sys, Projects, &format!("/tasks/{task}")).await?;
    assert_eq!(dec(&v["effective_hours"])?, "2.5".parse::<Decimal>()?);
    moved("task, its time edited", task_before, task_after);
    let (ticket_after, _) = until(&sys, Helpdesk, &ticket_path, "hours_spent", "2.5").await?;
    moved("ticket, its time edited", ticket_before, ticket_after);

    // A task moved to another line takes its unbilled time along: the task and the timesheet
    // both changed; the ticket did not (its hours stay).
    let (sheet_before, v) = read(&sys, Projects, &sheet_path).await?;
    assert_eq!(v["sale_line_id"], json!(line));
    let (task_before, _) = read(&sys, Projects, &format!("/tasks/{task}")).await?;
    let (ticket_before, _) = read(&sys, Helpdesk, &ticket_path).await?;
    let t = sys.patch(Projects, &format!("/tasks/{task}"), &json!({"sale_line_id": other_line})).await?;
    moved("task, moved to another line", task_before, stamps("task", &t)?);
    let (sheet_after, v) = read(&sys, Projects, &sheet_path).await?;
    assert_eq!(v["sale_line_id"], json!(other_line));
    moved("timesheet, moved along with its task", sheet_before, sheet_after);
    assert_eq!(read(&sys, Helpdesk, &ticket_path).await?.0, ticket_before, "the ticket's hours did not change");
    assert_eq!(read(&sys, Projects, &format!("/projects/{}", shop.project)).await?.0, p);

    sys.stop().await;
    Ok(())
}
on_both!(
    records_answer_when_they_changed,
    records_answer_when_they_changed_sqlite,
    records_answer_when_they_changed_postgres
);

/// Billing stamps time with its invoice and cancelling the invoice releases it: each changes
/// the timesheet.
async fn billing_changes_the_timesheet(backend: Backend) -> R {
    let sys = System::start(backend).await?;
    let shop = sys.shop("timesheet").await?;
    let (order, lines) = sys.sold(&shop, 1, "10").await?;
    let (line, task) = lines[0].clone();
    let (_, ticket) = sys.desk(&shop, &task, true).await?;
    let sheet = sys.log_on_ticket(&ticket, "2").await?;
    let path = format!("/timesheets/{}", id(&sheet));
    let made = fresh("timesheet", &sheet)?;
    eventually(10, || async {
        let l = sys.get(Sales, &format!("/order-lines/{line}")).await?;
        if dec(&l["qty_delivered"])? == Decimal::TWO { Ok(()) } else { Err(format!("not delivered yet: {l}").into()) }
    })
    .await?;

    let invoice = sys.post(Sales, &format!("/orders/{order}/invoices"), &json!({}), StatusCode::CREATED).await?;
    let (billed, v) = read(&sys, Projects, &path).await?;
    assert_eq!(v["invoice_id"], json!(id(&invoice)), "{v}");
    moved("timesheet, billed", made, billed);

    sys.post(Invoicing, &format!("/invoices/{}/cancel", id(&invoice)), &json!({}), StatusCode::OK).await?;
    let (released, _) = eventually(10, || async {
        let (st, v) = read(&sys, Projects, &path).await?;
        if v["invoice_id"].is_null() { Ok((st, v)) } else { Err(format!("still billed: {v}").into()) }
    })
    .await?;
    moved("timesheet, released", billed, released);
    sys.stop().await;
    Ok(())
}
on_both!(billing_changes_the_timesheet, billing_changes_the_timesheet_sqlite, billing_changes_the_timesheet_postgres);
