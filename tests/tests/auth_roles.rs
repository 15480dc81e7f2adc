//! Every operation of the four OpenAPI documents × every role, with tokens checked: the roles
//! the table below allows get past authorization, every other role gets 403, no token gets
//! 401, and neither of those changes anything. The table must name exactly the documented
//! operations and agree with each operation's "Roles:" description.

use std::collections::{BTreeMap, BTreeSet};

use e2e::auth::{Operation, World, operations, secured, snapshot};
use e2e::{Api, R};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use shared::auth::Role;
use shared::db::Backend;

use Role::{Accounting, Admin, Agent, Customer, Sales, Service};

/// Who may call each operation: the matrix of the README (section Authentication).
const MATRIX: &[(&str, &[Role])] = &[
    // sales
    ("list_customers", &[Admin, Sales, Accounting, Agent, Customer, Service]),
    ("create_customer", &[Admin, Sales]),
    ("get_customer", &[Admin, Sales, Accounting, Agent, Customer, Service]),
    ("update_customer", &[Admin, Sales]),
    ("get_customer_prepaid_hours", &[Admin, Sales, Accounting, Agent, Customer, Service]),
    ("list_order_lines", &[Admin, Sales, Accounting, Agent, Customer, Service]),
    ("get_order_line", &[Admin, Sales, Accounting, Agent, Customer, Service]),
    ("update_order_line", &[Admin, Sales]),
    ("put_order_line_invoiced_total", &[Admin, Service]),
    ("put_order_line_timesheet_total", &[Admin, Service]),
    ("list_orders", &[Admin, Sales, Accounting, Agent, Customer, Service]),
    ("create_order", &[Admin, Sales]),
    ("get_order", &[Admin, Sales, Accounting, Agent, Customer, Service]),
    ("cancel_order", &[Admin, Sales]),
    ("confirm_order", &[Admin, Sales]),
    ("create_order_invoice", &[Admin, Sales, Accounting]),
    ("add_order_line", &[Admin, Sales]),
    ("list_products", &[Admin, Sales, Accounting, Agent, Service]),
    ("create_product", &[Admin, Sales]),
    ("get_product", &[Admin, Sales, Accounting, Agent, Service]),
    ("update_product", &[Admin, Sales]),
    ("list_uoms", &[Admin, Sales, Accounting, Agent, Customer, Service]),
    // invoicing
    ("list_invoices", &[Admin, Accounting, Sales, Customer, Service]),
    ("create_invoice", &[Admin, Accounting, Service]),
    ("get_invoice", &[Admin, Accounting, Sales, Customer, Service]),
    ("cancel_invoice", &[Admin, Accounting, Service]),
    ("create_credit_note", &[Admin, Accounting]),
    ("list_payments", &[Admin, Accounting, Sales, Customer, Service]),
    ("create_payment", &[Admin, Accounting]),
    ("get_payment", &[Admin, Accounting, Sales, Customer, Service]),
    ("post_invoice", &[Admin, Accounting]),
    // projects
    ("list_projects", &[Admin, Sales, Accounting, Agent, Service]),
    ("create_project", &[Admin, Sales, Service]),
    ("get_project", &[Admin, Sales, Accounting, Agent, Service]),
    ("update_project", &[Admin, Sales, Service]),
    ("list_tasks", &[Admin, Sales, Accounting, Agent, Service]),
    ("create_task", &[Admin, Sales, Service]),
    ("get_task", &[Admin, Sales, Accounting, Agent, Service]),
    ("update_task", &[Admin, Sales, Service]),
    ("claim_timesheets", &[Admin, Service]),
    ("release_timesheets", &[Admin, Service]),
    ("list_timesheets", &[Admin, Sales, Accounting, Agent, Service]),
    ("create_timesheet", &[Admin, Agent, Service]),
    ("get_timesheet", &[Admin, Sales, Accounting, Agent, Service]),
    ("delete_timesheet", &[Admin, Agent, Service]),
    ("update_timesheet", &[Admin, Agent, Service]),
    // helpdesk
    ("list_teams", &[Admin, Sales, Accounting, Agent, Customer, Service]),
    ("create_team", &[Admin]),
    ("get_team", &[Admin, Sales, Accounting, Agent, Customer, Service]),
    ("update_team", &[Admin]),
    ("list_tickets", &[Admin, Sales, Accounting, Agent, Customer, Service]),
    ("create_ticket", &[Admin, Agent, Customer]),
    ("get_ticket", &[Admin, Sales, Accounting, Agent, Customer, Service]),
    ("update_ticket", &[Admin, Agent]),
    ("put_ticket_timesheet_total", &[Admin, Service]),
    ("list_ticket_timesheets", &[Admin, Sales, Accounting, Agent, Service]),
    ("create_ticket_timesheet", &[Admin, Agent]),
    ("get_ticket_timesheet", &[Admin, Sales, Accounting, Agent, Service]),
    ("update_ticket_timesheet", &[Admin, Agent]),
    ("delete_ticket_timesheet", &[Admin, Agent]),
];

/// The path of `op` with its parameters filled from the world (the customer's own records).
fn path_of(op: &Operation, w: &World) -> R<String> {
    let p = op.path.strip_prefix("/api/v1").ok_or("not under /api/v1")?;
    let id = match p.split('/').nth(1) {
        Some("customers") => &w.mine.customer,
        Some("order-lines") => &w.mine.line,
        Some("orders") => &w.mine.order,
        Some("products") => &w.product,
        Some("invoices") => &w.mine.invoice,
        Some("projects") => &w.project,
        Some("tasks") => &w.task,
        Some("timesheets") => &w.mine.timesheet,
        Some("timesheet-claims") => &w.mine.invoice,
        Some("teams") => &w.team,
        Some("tickets") => &w.mine.ticket,
        _ => "",
    };
    Ok(p.replace("{id}", id)
        .replace("{invoice_id}", id)
        .replace("{payment_id}", &w.mine.payment)
        .replace("{timesheet_id}", &w.mine.timesheet))
}

/// A well-formed body for `op`, so that what answers is authorization, not the body's parser.
fn body_of(op: &str, w: &World) -> Option<Value> {
    let c = &w.mine.customer;
    Some(match op {
        "create_customer" => json!({"name": "New customer"}),
        "update_customer" => json!({"name": "Mine, renamed"}),
        "create_product" => json!({"name": "Goods", "type": "goods", "uom": "unit", "list_price": "5"}),
        "update_product" => json!({"name": "Support hours, renamed"}),
        "create_order" => json!({"customer_id": c}),
        "add_order_line" => json!({"product_id": w.product, "quantity": "1"}),
        "update_order_line" => json!({"qty_delivered": "1"}),
        "put_order_line_timesheet_total" | "put_ticket_timesheet_total" => json!({"hours": "0", "version": 0}),
        "put_order_line_invoiced_total" => json!({"quantity": "0", "version": 0}),
        "create_order_invoice" | "create_credit_note" | "release_timesheets" => json!({}),
        "create_invoice" => {
            json!({"customer_id": c, "lines": [{"description": "Extra", "quantity": "1", "unit_price": "1"}]})
        }
        "create_payment" => json!({"amount": "1"}),
        "create_project" => json!({"name": "Another project"}),
        "update_project" => json!({"name": "Support, renamed"}),
        "create_task" => json!({"project_id": w.project, "name": "Another task"}),
        "update_task" => json!({"name": "Task, renamed"}),
        "claim_timesheets" => json!({"invoice_id": uuid::Uuid::now_v7(), "sale_line_ids": [uuid::Uuid::now_v7()]}),
        "create_timesheet" => json!({"employee": "Marc Demo", "hours": "1", "project_id": w.project}),
        "update_timesheet" => json!({"description": "edited"}),
        "create_team" => json!({"name": "Another team"}),
        "update_team" => json!({"name": "Support, renamed"}),
        "create_ticket" => json!({"team_id": w.team, "customer_id": c, "title": "Help again"}),
        "update_ticket" => json!({"title": "Help, renamed"}),
        "create_ticket_timesheet" => json!({"employee": "Marc Demo", "hours": "0.5"}),
        "update_ticket_timesheet" => json!({"description": "edited on the ticket"}),
        _ => return None,
    })
}

async fn send(api: &Api, op: &Operation, w: &World) -> R<(StatusCode, Value, reqwest::header::HeaderMap)> {
    let mut req = api.request(op.service, op.method.clone(), &path_of(op, w)?);
    if let Some(b) = body_of(&op.operation_id, w) {
        req = req.json(&b);
    }
    let a = api.send(req).await?;
    Ok((a.status, a.body, a.headers))
}

fn allowed(op: &str) -> R<&'static [Role]> {
    MATRIX.iter().find(|(o, _)| *o == op).map(|(_, r)| *r).ok_or_else(|| format!("{op} is not in MATRIX").into())
}

#[test]
fn the_matrix_names_every_documented_operation_and_agrees_with_its_description() -> R {
    let ops = operations()?;
    let documented: BTreeSet<&str> = ops.iter().map(|o| o.operation_id.as_str()).collect();
    let tabled: BTreeSet<&str> = MATRIX.iter().map(|(o, _)| *o).collect();
    assert_eq!(documented, tabled, "MATRIX and the OpenAPI documents name different operations");
    assert_eq!(MATRIX.len(), tabled.len(), "an operation is in MATRIX twice");
    for op in &ops {
        let want: BTreeSet<&str> = allowed(&op.operation_id)?.iter().map(|r| r.name()).collect();
        let doc: BTreeSet<&str> = op.documented_roles.iter().map(|r| r.name()).collect();
        assert_eq!(doc, want, "{}: the description's Roles disagree with MATRIX", op.operation_id);
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn every_operation_answers_every_role_as_the_matrix_says() -> R {
    let sys = secured(Backend::Sqlite).await?;
    let world = World::build(&sys.api).await?;
    let ops = operations()?;
    let as_role: BTreeMap<&str, Api> = Role::ALL
        .iter()
        .map(|r| {
            let customer = (*r == Customer).then_some(world.mine.customer.as_str());
            sys.api.as_role(*r, customer).map(|a| (r.name(), a))
        })
        .collect::<R<_>>()?;

    // Anonymous and forbidden callers first: each answers 401 or 403 as problem+json, and all
    // of them together change nothing.
    let before = snapshot(&sys.api, &world).await?;
    let mut refused = 0;
    for op in &ops {
        let (status, body, headers) = send(&sys.api.anonymous(), op, &world).await?;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{} without a token: {body}", op.operation_id);
        assert_eq!(headers.get("www-authenticate").and_then(|v| v.to_str().ok()), Some("Bearer"));
        assert_eq!(body["status"], 401, "{}: {body}", op.operation_id);
        for role in Role::ALL.iter().filter(|r| !allowed(&op.operation_id).is_ok_and(|a| a.contains(r))) {
            let (status, body, headers) = send(&as_role[role.name()], op, &world).await?;
            assert_eq!(status, StatusCode::FORBIDDEN, "{} as {}: {body}", op.operation_id, role.name());
            assert!(
                headers.get("content-type").and_then(|v| v.to_str().ok()) == Some("application/problem+json"),
                "{} as {}: {headers:?}",
                op.operation_id,
                role.name()
            );
            refused += 1;
        }
    }
    let after = snapshot(&sys.api, &world).await?;
    assert!(before == after, "a refused request changed something");
    assert!(refused > 100, "only {refused} refusals were tried");

    // Allowed callers: reads answer 200 (a customer reads its own records), changes get past
    // authorization (their own answer may be a 409 or 422 for the state the world is in).
    let (reads, writes): (Vec<&Operation>, Vec<&Operation>) = ops.iter().partition(|o| o.method == Method::GET);
    for op in reads.into_iter().chain(writes) {
        for role in allowed(&op.operation_id)? {
            let (status, body, _) = send(&as_role[role.name()], op, &world).await?;
            let label = format!("{} {} as {}: {status} {body}", op.method, op.path, role.name());
            if op.method == Method::GET {
                assert_eq!(status, StatusCode::OK, "{label}");
            } else {
                assert!(status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN, "{label}");
                assert!(!status.is_server_error(), "{label}");
            }
        }
    }
    sys.stop().await;
    Ok(())
}
