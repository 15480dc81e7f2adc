#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Sales and invoicing end to end, over HTTP only, on every backend: the three service
//! policies, what confirming creates in projects, the invoice lifecycle as sales sees it, and
//! upselling.

use e2e::{R, System, eventually, id, items, on_both, same};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use shared::config::Service::{Invoicing, Projects, Sales};
use shared::db::Backend;

async fn customer(sys: &System, name: &str) -> R<String> {
    Ok(id(&sys.post(Sales, "/customers", &json!({ "name": name }), StatusCode::CREATED).await?))
}

async fn project(sys: &System, name: &str) -> R<String> {
    Ok(id(&sys.post(Projects, "/projects", &json!({ "name": name }), StatusCode::CREATED).await?))
}

async fn product(sys: &System, body: Value) -> R<String> {
    Ok(id(&sys.post(Sales, "/products", &body, StatusCode::CREATED).await?))
}

async fn order(sys: &System, customer: &str, lines: Value) -> R<Value> {
    sys.post(Sales, "/orders", &json!({ "customer_id": customer, "lines": lines }), StatusCode::CREATED).await
}

async fn line(sys: &System, line: &str) -> R<Value> {
    sys.get(Sales, &format!("/order-lines/{line}")).await
}

/// Waits until the line shows these figures (field, decimal value).
async fn line_shows(sys: &System, l: &str, want: &[(&str, &str)]) -> R<Value> {
    eventually(10, || async {
        let v = line(sys, l).await?;
        for (field, value) in want {
            same(&format!("line {field}"), &v[*field], value)?;
        }
        Ok(v)
    })
    .await
}

async fn log(sys: &System, task: &str, hours: &str, date: &str) -> R<String> {
    let t = sys
        .post(
            Projects,
            "/timesheets",
            &json!({"employee": "Mitchell Admin", "hours": hours, "date": date, "task_id": task}),
            StatusCode::CREATED,
        )
        .await?;
    Ok(id(&t))
}

async fn invoice(sys: &System, order: &str, body: Value) -> R<Value> {
    sys.post(Sales, &format!("/orders/{order}/invoices"), &body, StatusCode::CREATED).await
}

async fn post_invoice(sys: &System, inv: &str) -> R<Value> {
    sys.post(Invoicing, &format!("/invoices/{inv}/post"), &json!({}), StatusCode::OK).await
}

fn year() -> i32 {
    use chrono::Datelike;
    chrono::Utc::now().year()
}

/// The timesheets of a sale line: (id, hours, invoice_id or "").
async fn sheets_of(sys: &System, line: &str) -> R<Vec<(String, String, String)>> {
    let all = sys.all(Projects, &format!("/timesheets?sale_line_id={line}")).await?;
    Ok(all
        .iter()
        .map(|t| {
            (id(t), t["hours"].as_str().unwrap_or("").to_owned(), t["invoice_id"].as_str().unwrap_or("").to_owned())
        })
        .collect())
}

fn invoice_of(sheets: &[(String, String, String)], sheet: &str) -> String {
    sheets.iter().find(|(i, _, _)| i == sheet).map(|(_, _, inv)| inv.clone()).unwrap_or_else(|| "missing".into())
}

// ---------------------------------------------------------------------------------------------

async fn a_timesheet_line_bills_its_logged_time_by_period_exactly_once(backend: Backend) -> R {
    let sys = System::start(backend).await?;
    timesheet_policy(&sys).await.map_err(|e| format!("{backend:?}: {e}"))?;
    sys.stop().await;
    Ok(())
}
on_both!(
    a_timesheet_line_bills_its_logged_time_by_period_exactly_once,
    a_timesheet_line_bills_its_logged_time_by_period_exactly_once_sqlite,
    a_timesheet_line_bills_its_logged_time_by_period_exactly_once_postgres
);

async fn timesheet_policy(sys: &System) -> R {
    let p = project(sys, "Implementation").await?;
    let c = customer(sys, "Gemini Furniture").await?;
    let prod = product(
        sys,
        json!({"name": "Consulting (time and material)", "type": "service", "uom": "hour", "list_price": "50",
               "service_policy": "timesheet", "service_tracking": "task_in_project", "project_id": p}),
    )
    .await?;
    let o = order(sys, &c, json!([{ "product_id": prod, "quantity": "10" }])).await?;
    let oid = id(&o);
    let o = sys.confirm(&oid).await?;
    let l = id(&o["lines"][0]);
    let task = o["lines"][0]["task_id"].as_str().unwrap().to_owned();
    assert_eq!(o["lines"][0]["qty_delivered_method"], "timesheet");

    let jan5 = log(sys, &task, "2", "2026-01-05").await?;
    let jan10 = log(sys, &task, "3", "2026-01-10").await?;
    let feb3 = log(sys, &task, "1.5", "2026-02-03").await?;
    let v = line_shows(sys, &l, &[("qty_delivered", "6.5"), ("qty_to_invoice", "6.5"), ("qty_invoiced", "0")]).await?;
    assert_eq!(v["invoice_status"], "to_invoice");
    assert_eq!(sys.get(Sales, &format!("/orders/{oid}")).await?["invoice_status"], "to_invoice");

    // January only: exactly the two January timesheets are billed and stamped.
    let inv1 = invoice(sys, &oid, json!({"timesheets_from": "2026-01-01", "timesheets_to": "2026-01-31"})).await?;
    let inv1_id = id(&inv1);
    assert_eq!(inv1["state"], "draft");
    assert_eq!(inv1["lines"].as_array().map(Vec::len), Some(1));
    same("invoice 1 quantity", &inv1["lines"][0]["quantity"], "5")?;
    same("invoice 1 amount", &inv1["amount_untaxed"], "250")?;
    let sheets = sheets_of(sys, &l).await?;
    assert_eq!(invoice_of(&sheets, &jan5), inv1_id);
    assert_eq!(invoice_of(&sheets, &jan10), inv1_id);
    assert_eq!(invoice_of(&sheets, &feb3), "");
    line_shows(sys, &l, &[("qty_invoiced", "5"), ("qty_to_invoice", "1.5")]).await?;

    // Billed time is locked, for edit and delete alike; unbilled time is not.
    let (s, _) =
        sys.status(Projects, Method::PATCH, &format!("/timesheets/{jan5}"), Some(&json!({"hours": "7"}))).await?;
    assert_eq!(s, StatusCode::CONFLICT);
    let (s, _) = sys
        .status(Projects, Method::PATCH, &format!("/timesheets/{jan5}"), Some(&json!({"date": "2026-03-01"})))
        .await?;
    assert_eq!(s, StatusCode::CONFLICT);
    let (s, _) = sys.status(Projects, Method::DELETE, &format!("/timesheets/{jan10}"), None).await?;
    assert_eq!(s, StatusCode::CONFLICT);
    sys.patch(Projects, &format!("/timesheets/{feb3}"), &json!({"hours": "2"})).await?;
    line_shows(sys, &l, &[("qty_delivered", "7"), ("qty_invoiced", "5"), ("qty_to_invoice", "2")]).await?;

    // The rest: February only, never January again.
    let inv2 = invoice(sys, &oid, json!({})).await?;
    let inv2_id = id(&inv2);
    assert_ne!(inv2_id, inv1_id);
    same("invoice 2 quantity", &inv2["lines"][0]["quantity"], "2")?;
    let sheets = sheets_of(sys, &l).await?;
    assert_eq!(invoice_of(&sheets, &jan5), inv1_id);
    assert_eq!(invoice_of(&sheets, &feb3), inv2_id);
    let v = line_shows(sys, &l, &[("qty_invoiced", "7"), ("qty_to_invoice", "0")]).await?;
    assert_ne!(v["invoice_status"], "to_invoice");
    let (s, body) = sys.status(Sales, Method::POST, &format!("/orders/{oid}/invoices"), Some(&json!({}))).await?;
    assert_eq!(s, StatusCode::CONFLICT, "nothing left to invoice: {body}");

    // Cancelling invoice 1 releases January: editable again, billed again next time.
    let cancelled = sys.post(Invoicing, &format!("/invoices/{inv1_id}/cancel"), &json!({}), StatusCode::OK).await?;
    assert_eq!(cancelled["state"], "cancelled");
    line_shows(sys, &l, &[("qty_invoiced", "2"), ("qty_to_invoice", "5")]).await?;
    eventually(10, || async {
        let sheets = sheets_of(sys, &l).await?;
        if invoice_of(&sheets, &jan5).is_empty() && invoice_of(&sheets, &jan10).is_empty() {
            Ok(())
        } else {
            Err(format!("January still stamped: {sheets:?}").into())
        }
    })
    .await?;
    sys.patch(Projects, &format!("/timesheets/{jan10}"), &json!({"hours": "4"})).await?;
    line_shows(sys, &l, &[("qty_delivered", "8"), ("qty_to_invoice", "6")]).await?;
    let inv3 = invoice(sys, &oid, json!({})).await?;
    let inv3_id = id(&inv3);
    same("invoice 3 quantity", &inv3["lines"][0]["quantity"], "6")?;
    let sheets = sheets_of(sys, &l).await?;
    assert_eq!(invoice_of(&sheets, &jan5), inv3_id);
    assert_eq!(invoice_of(&sheets, &jan10), inv3_id);
    assert_eq!(invoice_of(&sheets, &feb3), inv2_id, "February stays on invoice 2");
    line_shows(sys, &l, &[("qty_invoiced", "8"), ("qty_to_invoice", "0")]).await?;

    // A credit note for invoice 2 (timesheet lines: whole or nothing) releases February once
    // posted, and the next invoice bills it again.
    post_invoice(sys, &inv2_id).await?;
    let (s, body) = sys
        .status(
            Invoicing,
            Method::POST,
            &format!("/invoices/{inv2_id}/credit-notes"),
            Some(&json!({"lines": [{"sale_line_id": l, "quantity": "1"}]})),
        )
        .await?;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "half a timesheet line: {body}");
    let note =
        sys.post(Invoicing, &format!("/invoices/{inv2_id}/credit-notes"), &json!({}), StatusCode::CREATED).await?;
    assert_eq!(note["kind"], "credit_note");
    line_shows(sys, &l, &[("qty_invoiced", "6"), ("qty_to_invoice", "2")]).await?;
    let (s, _) =
        sys.status(Projects, Method::PATCH, &format!("/timesheets/{feb3}"), Some(&json!({"hours": "2.5"}))).await?;
    assert_eq!(s, StatusCode::CONFLICT, "still billed while the credit note is a draft");
    let posted = post_invoice(sys, &id(&note)).await?;
    assert_eq!(posted["number"], json!(format!("RINV/{}/00001", year())));
    eventually(10, || async {
        let sheets = sheets_of(sys, &l).await?;
        if invoice_of(&sheets, &feb3).is_empty() {
            Ok(())
        } else {
            Err(format!("February still stamped: {sheets:?}").into())
        }
    })
    .await?;
    sys.patch(Projects, &format!("/timesheets/{feb3}"), &json!({"hours": "2.5"})).await?;
    line_shows(sys, &l, &[("qty_delivered", "8.5"), ("qty_to_invoice", "2.5")]).await?;
    let inv4 = invoice(sys, &oid, json!({})).await?;
    same("invoice 4 quantity", &inv4["lines"][0]["quantity"], "2.5")?;
    let sheets = sheets_of(sys, &l).await?;
    assert_eq!(invoice_of(&sheets, &feb3), id(&inv4));
    line_shows(sys, &l, &[("qty_invoiced", "8.5"), ("qty_to_invoice", "0")]).await?;

    // Every hour logged is on exactly one live invoice: the stamped hours per invoice are its
    // quantity.
    let sheets = sheets_of(sys, &l).await?;
    for inv in [&inv3_id, &id(&inv4)] {
        let stamped: rust_decimal::Decimal = sheets
            .iter()
            .filter(|(_, _, i)| i == inv)
            .map(|(_, h, _)| h.parse::<rust_decimal::Decimal>().unwrap())
            .sum();
        let body = sys.get(Invoicing, &format!("/invoices/{inv}")).await?;
        same(&format!("invoice {inv} quantity"), &body["lines"][0]["quantity"], &stamped.to_string())?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------

async fn a_manual_line_is_invoiced_on_the_quantity_delivered_by_hand(backend: Backend) -> R {
    let sys = System::start(backend).await?;
    manual_policy(&sys).await.map_err(|e| format!("{backend:?}: {e}"))?;
    sys.stop().await;
    Ok(())
}
on_both!(
    a_manual_line_is_invoiced_on_the_quantity_delivered_by_hand,
    a_manual_line_is_invoiced_on_the_quantity_delivered_by_hand_sqlite,
    a_manual_line_is_invoiced_on_the_quantity_delivered_by_hand_postgres
);

async fn manual_policy(sys: &System) -> R {
    let c = customer(sys, "Ready Mat").await?;
    let manual = product(
        sys,
        json!({"name": "Onsite training", "type": "service", "uom": "unit", "list_price": "200", "service_policy": "manual"}),
    )
    .await?;
    let prepaid = product(
        sys,
        json!({"name": "Support block", "type": "service", "uom": "hour", "list_price": "90", "service_policy": "prepaid"}),
    )
    .await?;
    let o = order(sys, &c, json!([{"product_id": manual, "quantity": "5"}, {"product_id": prepaid, "quantity": "1"}]))
        .await?;
    let oid = id(&o);
    let l = id(&o["lines"][0]);
    let pl = id(&o["lines"][1]);
    // Set by hand only on confirmed orders.
    let (s, _) =
        sys.status(Sales, Method::PATCH, &format!("/order-lines/{l}"), Some(&json!({"qty_delivered": "1"}))).await?;
    assert_eq!(s, StatusCode::CONFLICT);
    sys.confirm(&oid).await?;
    let v = line(sys, &l).await?;
    assert_eq!(v["qty_delivered_method"], "manual");
    same("qty_to_invoice", &v["qty_to_invoice"], "0")?;

    let v = sys.patch(Sales, &format!("/order-lines/{l}"), &json!({"qty_delivered": "3"})).await?;
    same("qty_delivered", &v["qty_delivered"], "3")?;
    same("qty_to_invoice", &v["qty_to_invoice"], "3")?;
    assert_eq!(v["invoice_status"], "to_invoice");
    // Only manual lines are set by hand; bad values are refused.
    let (s, _) =
        sys.status(Sales, Method::PATCH, &format!("/order-lines/{pl}"), Some(&json!({"qty_delivered": "1"}))).await?;
    assert_eq!(s, StatusCode::CONFLICT);
    sys.invalid(Sales, Method::PATCH, &format!("/order-lines/{l}"), &json!({"qty_delivered": "-1"}), "qty_delivered")
        .await?;
    sys.invalid(
        Sales,
        Method::PATCH,
        &format!("/order-lines/{l}"),
        &json!({"qty_delivered": "1.234"}),
        "qty_delivered",
    )
    .await?;
    same("unchanged", &line(sys, &l).await?["qty_delivered"], "3")?;

    let inv = invoice(sys, &oid, json!({})).await?;
    let by_line = |sl: &str| inv["lines"].as_array().unwrap().iter().find(|x| x["sale_line_id"] == sl).cloned();
    same("manual quantity invoiced", &by_line(&l).ok_or("manual line not invoiced")?["quantity"], "3")?;
    same("prepaid quantity invoiced", &by_line(&pl).ok_or("prepaid line not invoiced")?["quantity"], "1")?;
    same("invoice total", &inv["amount_total"], "690")?;
    let v = line_shows(sys, &l, &[("qty_invoiced", "3"), ("qty_to_invoice", "0")]).await?;
    assert_eq!(v["invoice_status"], "no", "3 of 5 delivered and invoiced");
    sys.patch(Sales, &format!("/order-lines/{l}"), &json!({"qty_delivered": "5"})).await?;
    let inv2 = invoice(sys, &oid, json!({})).await?;
    assert_eq!(inv2["lines"].as_array().map(Vec::len), Some(1), "only the manual line has something left");
    same("second quantity", &inv2["lines"][0]["quantity"], "2")?;
    let v = line_shows(sys, &l, &[("qty_invoiced", "5"), ("qty_to_invoice", "0")]).await?;
    assert_eq!(v["invoice_status"], "invoiced");
    assert_eq!(sys.get(Sales, &format!("/orders/{oid}")).await?["invoice_status"], "invoiced");
    Ok(())
}

// ---------------------------------------------------------------------------------------------

async fn a_prepaid_day_line_converts_the_summed_hours_once(backend: Backend) -> R {
    let sys = System::start(backend).await?;
    day_line(&sys).await.map_err(|e| format!("{backend:?}: {e}"))?;
    sys.stop().await;
    Ok(())
}
on_both!(
    a_prepaid_day_line_converts_the_summed_hours_once,
    a_prepaid_day_line_converts_the_summed_hours_once_sqlite,
    a_prepaid_day_line_converts_the_summed_hours_once_postgres
);

async fn day_line(sys: &System) -> R {
    let p = project(sys, "Support").await?;
    let c = customer(sys, "Lumber Inc").await?;
    let prod = product(
        sys,
        json!({"name": "Support days", "type": "service", "uom": "day", "list_price": "640",
               "service_policy": "prepaid", "service_tracking": "task_in_project", "project_id": p}),
    )
    .await?;
    let o = order(sys, &c, json!([{"product_id": prod, "quantity": "2"}])).await?;
    let oid = id(&o);
    let o = sys.confirm(&oid).await?;
    let l = id(&o["lines"][0]);
    let task = o["lines"][0]["task_id"].as_str().unwrap().to_owned();
    same("allocated hours (2 days)", &sys.get(Projects, &format!("/tasks/{task}")).await?["allocated_hours"], "16")?;
    same("remaining before", &line(sys, &l).await?["remaining_hours"], "16")?;
    // 4.5 h alone is 0.5625 d → 0.56; 13 h is 1.625 d → 1.63 (half up, once, on the sum).
    log(sys, &task, "4.5", "2026-03-02").await?;
    line_shows(sys, &l, &[("qty_delivered", "0.56"), ("remaining_hours", "11.5")]).await?;
    log(sys, &task, "4.5", "2026-03-03").await?;
    log(sys, &task, "4", "2026-03-04").await?;
    let v = line_shows(sys, &l, &[("qty_delivered", "1.63"), ("remaining_hours", "3")]).await?;
    assert_eq!(v["upsell_warning"], false);
    same("prepaid line to invoice", &v["qty_to_invoice"], "2")?;
    let t = sys.get(Projects, &format!("/tasks/{task}")).await?;
    same("task effective", &t["effective_hours"], "13")?;
    same("task remaining", &t["remaining_hours"], "3")?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------

async fn confirming_creates_each_task_and_project_once(backend: Backend) -> R {
    let sys = System::start(backend).await?;
    confirm_trackings(&sys).await.map_err(|e| format!("{backend:?}: {e}"))?;
    sys.stop().await;
    Ok(())
}
on_both!(
    confirming_creates_each_task_and_project_once,
    confirming_creates_each_task_and_project_once_sqlite,
    confirming_creates_each_task_and_project_once_postgres
);

async fn tasks_of_line(sys: &System, l: &str) -> R<Vec<Value>> {
    sys.all(Projects, &format!("/tasks?sale_line_id={l}")).await
}

async fn confirm_trackings(sys: &System) -> R {
    let global = project(sys, "Global support").await?;
    let c = customer(sys, "Wood Corner").await?;
    let in_project = product(
        sys,
        json!({"name": "Audit days", "type": "service", "uom": "day", "list_price": "800",
               "service_policy": "prepaid", "service_tracking": "task_in_project", "project_id": global}),
    )
    .await?;
    let in_new = product(
        sys,
        json!({"name": "Migration", "type": "service", "uom": "hour", "list_price": "100",
               "service_policy": "timesheet", "service_tracking": "task_in_new_project"}),
    )
    .await?;
    let only_project = product(
        sys,
        json!({"name": "Project management", "type": "service", "uom": "hour", "list_price": "120",
               "service_policy": "prepaid", "service_tracking": "project_only"}),
    )
    .await?;
    // Validation: task_in_project needs an existing project; the others take none.
    let bad = json!({"name": "x", "type": "service", "uom": "hour", "list_price": "1", "service_policy": "prepaid",
                     "service_tracking": "task_in_project", "project_id": uuid::Uuid::now_v7()});
    sys.invalid(Sales, Method::POST, "/products", &bad, "project_id").await?;
    let bad = json!({"name": "x", "type": "service", "uom": "hour", "list_price": "1", "service_policy": "prepaid",
                     "service_tracking": "project_only", "project_id": global});
    sys.invalid(Sales, Method::POST, "/products", &bad, "project_id").await?;
    let bad = json!({"name": "x", "type": "service", "uom": "unit", "list_price": "1", "service_policy": "timesheet"});
    sys.invalid(Sales, Method::POST, "/products", &bad, "uom").await?;

    let o = order(
        sys,
        &c,
        json!([
            {"product_id": only_project, "quantity": "2"},
            {"product_id": in_project, "quantity": "3"},
            {"product_id": in_new, "quantity": "5"},
        ]),
    )
    .await?;
    let oid = id(&o);
    let name = o["name"].as_str().unwrap().to_owned();
    // Two confirms at once: one wins, the other is a 409, and nothing is made twice.
    let path = format!("/orders/{oid}/confirm");
    let empty = json!({});
    let (a, b) = tokio::join!(
        sys.status(Sales, Method::POST, &path, Some(&empty)),
        sys.status(Sales, Method::POST, &path, Some(&empty))
    );
    let mut codes = vec![a?.0, b?.0];
    codes.sort();
    assert_eq!(codes, vec![StatusCode::OK, StatusCode::CONFLICT]);
    let o = sys.wait_for_tasks(&oid).await?;
    let lines = o["lines"].as_array().unwrap().clone();
    let (po, tp, tn) = (&lines[0], &lines[1], &lines[2]);

    // task_in_project: a task in the product's project, days × 8 hours.
    let task = sys.get(Projects, &format!("/tasks/{}", tp["task_id"].as_str().unwrap())).await?;
    assert_eq!(task["project_id"], json!(global));
    assert_eq!(tp["project_id"], json!(global));
    assert_eq!(task["sale_line_id"], tp["id"]);
    assert_eq!(task["sale_order_id"], json!(oid));
    assert_eq!(task["customer_id"], json!(c));
    same("allocated hours", &task["allocated_hours"], "24")?;
    assert!(task["name"].as_str().unwrap().contains(&name));

    // One new project shared by the project_only and task_in_new_project lines; its sale line
    // is the first line that made it; a task only for the task_in_new_project line.
    let new_project = po["project_id"].as_str().ok_or("project_only line has no project")?.to_owned();
    assert_eq!(tn["project_id"], json!(new_project));
    assert_ne!(new_project, global);
    assert!(po["task_id"].is_null());
    let np = sys.get(Projects, &format!("/projects/{new_project}")).await?;
    assert_eq!(np["sale_line_id"], po["id"]);
    assert_eq!(np["customer_id"], json!(c));
    let tn_task = sys.get(Projects, &format!("/tasks/{}", tn["task_id"].as_str().unwrap())).await?;
    assert_eq!(tn_task["project_id"], json!(new_project));
    same("new project task hours", &tn_task["allocated_hours"], "5")?;
    assert_eq!(sys.all(Projects, &format!("/tasks?project_id={new_project}")).await?.len(), 1);
    assert_eq!(tasks_of_line(sys, &id(po)).await?.len(), 0);
    assert_eq!(tasks_of_line(sys, &id(tp)).await?.len(), 1);
    assert_eq!(tasks_of_line(sys, &id(tn)).await?.len(), 1);

    // Confirming again changes nothing.
    let (s, _) = sys.status(Sales, Method::POST, &path, Some(&json!({}))).await?;
    assert_eq!(s, StatusCode::CONFLICT);

    // A line added to the confirmed order gets its task at once, in the shared project.
    let added = sys
        .post(
            Sales,
            &format!("/orders/{oid}/lines"),
            &json!({"product_id": in_new, "quantity": "1.5"}),
            StatusCode::CREATED,
        )
        .await?;
    let added_task = added["task_id"].as_str().ok_or(format!("the added line has no task in its answer: {added}"))?;
    assert_eq!(added["project_id"], json!(new_project));
    let t = sys.get(Projects, &format!("/tasks/{added_task}")).await?;
    assert_eq!(t["sale_line_id"], added["id"]);
    same("added task hours", &t["allocated_hours"], "1.5")?;
    let added2 = sys
        .post(
            Sales,
            &format!("/orders/{oid}/lines"),
            &json!({"product_id": in_project, "quantity": "1"}),
            StatusCode::CREATED,
        )
        .await?;
    assert!(added2["task_id"].is_string(), "the added task_in_project line has its task: {added2}");
    assert_eq!(added2["project_id"], json!(global));
    assert_eq!(sys.all(Projects, &format!("/tasks?project_id={new_project}")).await?.len(), 2);
    assert_eq!(sys.all(Projects, &format!("/tasks?sale_line_id={}", id(&added2))).await?.len(), 1);
    // Still one project for the order, and one task per line.
    let projects = sys.all(Projects, "/projects").await?;
    assert_eq!(projects.len(), 2, "the global project and the order's: {projects:?}");
    for l in [&id(tp), &id(tn), &id(&added)] {
        assert_eq!(tasks_of_line(sys, l).await?.len(), 1, "line {l}");
    }
    // Cancelling keeps the tasks linked.
    sys.post(Sales, &format!("/orders/{oid}/cancel"), &json!({}), StatusCode::OK).await?;
    let after = line(sys, &id(tp)).await?;
    assert_eq!(after["task_id"], tp["task_id"]);
    let task = sys.get(Projects, &format!("/tasks/{}", tp["task_id"].as_str().unwrap())).await?;
    assert_eq!(task["sale_line_id"], tp["id"]);
    Ok(())
}

// ---------------------------------------------------------------------------------------------

async fn invoices_post_pay_credit_and_cancel_as_sales_sees_them(backend: Backend) -> R {
    let sys = System::start(backend).await?;
    invoice_lifecycle(&sys).await.map_err(|e| format!("{backend:?}: {e}"))?;
    sys.stop().await;
    Ok(())
}
on_both!(
    invoices_post_pay_credit_and_cancel_as_sales_sees_them,
    invoices_post_pay_credit_and_cancel_as_sales_sees_them_sqlite,
    invoices_post_pay_credit_and_cancel_as_sales_sees_them_postgres
);

async fn invoice_lifecycle(sys: &System) -> R {
    let c = customer(sys, "Deco Addict").await?;
    let prod = product(
        sys,
        json!({"name": "Support hours", "type": "service", "uom": "hour", "list_price": "100", "tax_rate": "10",
               "service_policy": "prepaid"}),
    )
    .await?;
    let mut orders = vec![];
    for _ in 0..4 {
        let o = order(sys, &c, json!([{"product_id": prod, "quantity": "10"}])).await?;
        let oid = id(&o);
        sys.confirm(&oid).await?;
        orders.push((oid, id(&o["lines"][0])));
    }
    let (o1, l1) = orders[0].clone();
    let (o2, l2) = orders[1].clone();
    let (o3, l3) = orders[2].clone();
    let (o4, _l4) = orders[3].clone();
    assert_eq!(line(sys, &l1).await?["invoice_status"], "to_invoice");

    // A draft counts at once.
    let inv1 = invoice(sys, &o1, json!({})).await?;
    same("amount_total", &inv1["amount_total"], "1100")?;
    assert!(inv1["number"].is_null());
    let v = line(sys, &l1).await?;
    same("qty_invoiced of a draft", &v["qty_invoiced"], "10")?;
    assert_eq!(v["invoice_status"], "invoiced");
    assert_eq!(sys.get(Sales, &format!("/orders/{o1}")).await?["invoice_status"], "invoiced");
    let (s, _) = sys.status(Sales, Method::POST, &format!("/orders/{o1}/invoices"), Some(&json!({}))).await?;
    assert_eq!(s, StatusCode::CONFLICT, "nothing left to invoice");

    let inv2 = invoice(sys, &o2, json!({})).await?;
    let inv1_id = id(&inv1);
    let inv2_id = id(&inv2);
    assert_eq!(post_invoice(sys, &inv1_id).await?["number"], json!(format!("INV/{}/00001", year())));
    assert_eq!(post_invoice(sys, &inv2_id).await?["number"], json!(format!("INV/{}/00002", year())));
    let (s, _) = sys.status(Invoicing, Method::POST, &format!("/invoices/{inv1_id}/post"), Some(&json!({}))).await?;
    assert_eq!(s, StatusCode::CONFLICT);

    // Payments: partial, never more than the residual, then paid.
    let pay = format!("/invoices/{inv1_id}/payments");
    sys.post(Invoicing, &pay, &json!({"amount": "500"}), StatusCode::CREATED).await?;
    let i = sys.get(Invoicing, &format!("/invoices/{inv1_id}")).await?;
    assert_eq!(i["payment_state"], "partial");
    same("residual", &i["amount_residual"], "600")?;
    sys.invalid(Invoicing, Method::POST, &pay, &json!({"amount": "600.01"}), "amount").await?;
    same("residual unchanged", &sys.get(Invoicing, &format!("/invoices/{inv1_id}")).await?["amount_residual"], "600")?;
    sys.post(Invoicing, &pay, &json!({"amount": "600"}), StatusCode::CREATED).await?;
    let i = sys.get(Invoicing, &format!("/invoices/{inv1_id}")).await?;
    assert_eq!(i["payment_state"], "paid");
    same("residual", &i["amount_residual"], "0")?;
    let (s, _) = sys.status(Invoicing, Method::POST, &format!("/invoices/{inv1_id}/cancel"), Some(&json!({}))).await?;
    assert_eq!(s, StatusCode::CONFLICT, "a paid invoice is not cancelled");

    // A whole credit note: the prepaid line is to invoice again, at once (a draft counts).
    let (s, _) = sys.status(Sales, Method::POST, &format!("/orders/{o1}/cancel"), Some(&json!({}))).await?;
    assert_eq!(s, StatusCode::CONFLICT, "a posted invoice that nothing reverses");
    let note =
        sys.post(Invoicing, &format!("/invoices/{inv1_id}/credit-notes"), &json!({}), StatusCode::CREATED).await?;
    assert_eq!(note["reversed_invoice_id"], json!(inv1_id));
    same("note total", &note["amount_total"], "1100")?;
    let v = line(sys, &l1).await?;
    same("qty_invoiced after credit", &v["qty_invoiced"], "0")?;
    same("qty_to_invoice after credit", &v["qty_to_invoice"], "10")?;
    assert_eq!(v["invoice_status"], "to_invoice");
    assert_eq!(post_invoice(sys, &id(&note)).await?["number"], json!(format!("RINV/{}/00001", year())));
    let (s, _) =
        sys.status(Invoicing, Method::POST, &format!("/invoices/{inv1_id}/credit-notes"), Some(&json!({}))).await?;
    assert_eq!(s, StatusCode::CONFLICT, "nothing left to credit");
    // Now credited, the order can be cancelled; the line figures go to no.
    let cancelled = sys.post(Sales, &format!("/orders/{o1}/cancel"), &json!({}), StatusCode::OK).await?;
    assert_eq!(cancelled["state"], "cancel");
    assert_eq!(cancelled["invoice_status"], "no");

    // A partial credit note by quantity.
    let credit = format!("/invoices/{inv2_id}/credit-notes");
    sys.invalid(
        Invoicing,
        Method::POST,
        &credit,
        &json!({"lines": [{"sale_line_id": l2, "quantity": "11"}]}),
        "lines[0].quantity",
    )
    .await?;
    sys.invalid(
        Invoicing,
        Method::POST,
        &credit,
        &json!({"lines": [{"sale_line_id": l1, "quantity": "1"}]}),
        "lines[0].sale_line_id",
    )
    .await?;
    let part = sys
        .post(Invoicing, &credit, &json!({"lines": [{"sale_line_id": l2, "quantity": "4"}]}), StatusCode::CREATED)
        .await?;
    same("partial note", &part["amount_total"], "440")?;
    let v = line_shows(sys, &l2, &[("qty_invoiced", "6"), ("qty_to_invoice", "4")]).await?;
    assert_eq!(v["invoice_status"], "to_invoice");
    sys.invalid(
        Invoicing,
        Method::POST,
        &credit,
        &json!({"lines": [{"sale_line_id": l2, "quantity": "6.01"}]}),
        "lines[0].quantity",
    )
    .await?;
    post_invoice(sys, &id(&part)).await?;
    // Re-invoicing the credited part bills 4.
    let again = invoice(sys, &o2, json!({})).await?;
    same("re-invoiced", &again["lines"][0]["quantity"], "4")?;
    line_shows(sys, &l2, &[("qty_invoiced", "10"), ("qty_to_invoice", "0")]).await?;

    // Cancelling an order cancels its draft invoices.
    let draft = invoice(sys, &o3, json!({})).await?;
    line_shows(sys, &l3, &[("qty_invoiced", "10")]).await?;
    let c3 = sys.post(Sales, &format!("/orders/{o3}/cancel"), &json!({}), StatusCode::OK).await?;
    assert_eq!(c3["state"], "cancel");
    assert_eq!(sys.get(Invoicing, &format!("/invoices/{}", id(&draft))).await?["state"], "cancelled");
    line_shows(sys, &l3, &[("qty_invoiced", "0"), ("qty_to_invoice", "0")]).await?;
    let (s, _) = sys.status(Sales, Method::POST, &format!("/orders/{o3}/invoices"), Some(&json!({}))).await?;
    assert_eq!(s, StatusCode::CONFLICT, "a cancelled order is not invoiced");

    // A posted invoice blocks cancelling; cancelling that invoice (unpaid) unblocks it.
    let inv4 = invoice(sys, &o4, json!({})).await?;
    post_invoice(sys, &id(&inv4)).await?;
    let (s, body) = sys.status(Sales, Method::POST, &format!("/orders/{o4}/cancel"), Some(&json!({}))).await?;
    assert_eq!(s, StatusCode::CONFLICT, "{body}");
    assert_eq!(sys.get(Sales, &format!("/orders/{o4}")).await?["state"], "sale");
    sys.post(Invoicing, &format!("/invoices/{}/cancel", id(&inv4)), &json!({}), StatusCode::OK).await?;
    sys.post(Sales, &format!("/orders/{o4}/cancel"), &json!({}), StatusCode::OK).await?;

    // Invoices list by order.
    let of_o2 = sys.all(Invoicing, &format!("/invoices?sale_order_id={o2}")).await?;
    assert_eq!(of_o2.len(), 3, "invoice, credit note, re-invoice");
    let notes = sys.all(Invoicing, &format!("/invoices?sale_order_id={o2}&kind=credit_note")).await?;
    assert_eq!(notes.len(), 1);
    Ok(())
}

// ---------------------------------------------------------------------------------------------

async fn a_prepaid_line_used_beyond_its_hours_is_upselling(backend: Backend) -> R {
    let sys = System::start(backend).await?;
    upselling(&sys).await.map_err(|e| format!("{backend:?}: {e}"))?;
    sys.stop().await;
    Ok(())
}
on_both!(
    a_prepaid_line_used_beyond_its_hours_is_upselling,
    a_prepaid_line_used_beyond_its_hours_is_upselling_sqlite,
    a_prepaid_line_used_beyond_its_hours_is_upselling_postgres
);

async fn upselling(sys: &System) -> R {
    let p = project(sys, "Support").await?;
    let c = customer(sys, "Azure Interior").await?;
    let prod = product(
        sys,
        json!({"name": "Support hours", "type": "service", "uom": "hour", "list_price": "100", "service_policy": "prepaid",
               "service_tracking": "task_in_project", "project_id": p, "upsell_threshold": "80"}),
    )
    .await?;
    let o = order(sys, &c, json!([{"product_id": prod, "quantity": "10"}])).await?;
    let oid = id(&o);
    let o = sys.confirm(&oid).await?;
    let l = id(&o["lines"][0]);
    let task = o["lines"][0]["task_id"].as_str().unwrap().to_owned();
    let o2 = order(sys, &c, json!([{"product_id": prod, "quantity": "5"}])).await?;
    let o2 = sys.confirm(&id(&o2)).await?;
    let l2 = id(&o2["lines"][0]);
    let task2 = o2["lines"][0]["task_id"].as_str().unwrap().to_owned();
    invoice(sys, &oid, json!({})).await?;

    log(sys, &task, "8", "2026-04-01").await?;
    let v = line_shows(sys, &l, &[("qty_delivered", "8")]).await?;
    assert_eq!(v["upsell_warning"], false, "8 is not strictly above 80% of 10");
    assert_eq!(v["invoice_status"], "invoiced");
    log(sys, &task, "0.5", "2026-04-02").await?;
    let v = line_shows(sys, &l, &[("qty_delivered", "8.5")]).await?;
    assert_eq!(v["upsell_warning"], true);
    assert_eq!(v["invoice_status"], "invoiced");
    log(sys, &task, "2", "2026-04-03").await?;
    let v =
        line_shows(sys, &l, &[("qty_delivered", "10.5"), ("remaining_hours", "-0.5"), ("qty_to_invoice", "0")]).await?;
    assert_eq!(v["invoice_status"], "upselling");
    assert_eq!(sys.get(Sales, &format!("/orders/{oid}")).await?["invoice_status"], "upselling");
    let upselling = sys.all(Sales, "/orders?invoice_status=upselling").await?;
    assert_eq!(upselling.iter().map(id).collect::<Vec<_>>(), vec![oid.clone()]);

    log(sys, &task2, "1", "2026-04-04").await?;
    line_shows(sys, &l2, &[("qty_delivered", "1")]).await?;
    let ph = sys.get(Sales, &format!("/customers/{c}/prepaid-hours")).await?;
    same("total remaining (−0.5 + 4)", &ph["remaining_hours"], "3.5")?;
    let lines = ph["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 2);
    let first = lines.iter().find(|x| x["sale_line_id"] == json!(l)).ok_or("line 1 missing")?;
    same("ordered", &first["ordered_hours"], "10")?;
    same("delivered", &first["delivered_hours"], "10.5")?;
    same("remaining", &first["remaining_hours"], "-0.5")?;
    assert_eq!(first["order_name"], o["name"]);
    assert_eq!(first["product_name"], "Support hours");
    // Draft and cancelled orders do not count.
    let draft = order(sys, &c, json!([{"product_id": prod, "quantity": "7"}])).await?;
    let ph = sys.get(Sales, &format!("/customers/{c}/prepaid-hours")).await?;
    same("draft not counted", &ph["remaining_hours"], "3.5")?;
    sys.post(Sales, &format!("/orders/{}/cancel", id(&draft)), &json!({}), StatusCode::OK).await?;
    assert_eq!(items(&json!({"items": ph["lines"].clone()})).len(), 2);
    Ok(())
}
