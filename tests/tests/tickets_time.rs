#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Helpdesk and projects end to end, over HTTP only, on every backend: which prepaid line a
//! ticket takes, which lines it may be given, time that moves with a ticket or a timesheet,
//! and ticket time while projects is down.

use e2e::{R, System, eventually, id, on_both, same};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use shared::config::Service::{Helpdesk, Projects, Sales};
use shared::db::Backend;

struct World {
    customer: String,
    project: String,
    /// Prepaid hours, a task per line in `project`.
    hours: String,
    /// Prepaid hours, no task.
    plain: String,
    /// Reinvoicing team on `project`.
    team: String,
}

async fn world(sys: &System, customer: &str) -> R<World> {
    let c = id(&sys.post(Sales, "/customers", &json!({ "name": customer }), StatusCode::CREATED).await?);
    let p = id(&sys.post(Projects, "/projects", &json!({"name": "Helpdesk"}), StatusCode::CREATED).await?);
    let hours = id(&sys
        .post(
            Sales,
            "/products",
            &json!({"name": "Support hours", "type": "service", "uom": "hour", "list_price": "100",
                    "service_policy": "prepaid", "service_tracking": "task_in_project", "project_id": p}),
            StatusCode::CREATED,
        )
        .await?);
    let plain = id(&sys
        .post(
            Sales,
            "/products",
            &json!({"name": "Prepaid block", "type": "service", "uom": "hour", "list_price": "90", "service_policy": "prepaid"}),
            StatusCode::CREATED,
        )
        .await?);
    let team = id(&sys
        .post(
            Helpdesk,
            "/teams",
            &json!({"name": "Support", "use_timesheets": true, "use_time_reinvoicing": true, "project_id": p}),
            StatusCode::CREATED,
        )
        .await?);
    Ok(World { customer: c, project: p, hours, plain, team })
}

/// A confirmed order of one line; answers (order id, line).
async fn sold(sys: &System, customer: &str, product: &str, qty: &str) -> R<(String, Value)> {
    let o = sys
        .post(
            Sales,
            "/orders",
            &json!({"customer_id": customer, "lines": [{"product_id": product, "quantity": qty}]}),
            StatusCode::CREATED,
        )
        .await?;
    let oid = id(&o);
    let o = sys.confirm(&oid).await?;
    Ok((oid, o["lines"][0].clone()))
}

async fn draft(sys: &System, customer: &str, product: &str) -> R<(String, String)> {
    let o = sys
        .post(
            Sales,
            "/orders",
            &json!({"customer_id": customer, "lines": [{"product_id": product, "quantity": "3"}]}),
            StatusCode::CREATED,
        )
        .await?;
    Ok((id(&o), id(&o["lines"][0])))
}

async fn ticket(sys: &System, team: &str, customer: &str, extra: Value) -> R<Value> {
    let mut body = json!({"team_id": team, "customer_id": customer, "title": "Cannot print"});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    sys.post(Helpdesk, "/tickets", &body, StatusCode::CREATED).await
}

async fn ticket_time(sys: &System, ticket: &str, hours: &str) -> R<Value> {
    sys.post(
        Helpdesk,
        &format!("/tickets/{ticket}/timesheets"),
        &json!({"employee": "Joel Willis", "hours": hours}),
        StatusCode::CREATED,
    )
    .await
}

async fn line_shows(sys: &System, l: &str, want: &[(&str, &str)]) -> R<Value> {
    eventually(10, || async {
        let v = sys.get(Sales, &format!("/order-lines/{l}")).await?;
        for (field, value) in want {
            same(&format!("line {l} {field}"), &v[*field], value)?;
        }
        Ok(v)
    })
    .await
}

// ---------------------------------------------------------------------------------------------

async fn a_new_ticket_takes_the_oldest_prepaid_line_with_hours_left_and_keeps_it(backend: Backend) -> R {
    let mut sys = System::start(backend).await?;
    oldest_line(&mut sys).await.map_err(|e| format!("{backend:?}: {e}"))?;
    sys.stop().await;
    Ok(())
}
on_both!(
    a_new_ticket_takes_the_oldest_prepaid_line_with_hours_left_and_keeps_it,
    a_new_ticket_takes_the_oldest_prepaid_line_with_hours_left_and_keeps_it_sqlite,
    a_new_ticket_takes_the_oldest_prepaid_line_with_hours_left_and_keeps_it_postgres
);

async fn oldest_line(sys: &mut System) -> R {
    let w = world(sys, "Azure Interior").await?;
    // No confirmed prepaid line: none (a draft does not count).
    draft(sys, &w.customer, &w.plain).await?;
    let t0 = ticket(sys, &w.team, &w.customer, json!({})).await?;
    assert!(t0["sale_line_id"].is_null(), "{t0}");
    assert!(t0["remaining_hours"].is_null());

    let (_, first) = sold(sys, &w.customer, &w.plain, "2").await?;
    let (_, second) = sold(sys, &w.customer, &w.plain, "5").await?;
    let (l1, l2) = (id(&first), id(&second));
    let t1 = ticket(sys, &w.team, &w.customer, json!({})).await?;
    assert_eq!(t1["sale_line_id"], json!(l1), "first bought, first used");
    same("t1 remaining", &t1["remaining_hours"], "2")?;
    let t1 = id(&t1);
    let ts = ticket_time(sys, &t1, "2").await?;
    assert_eq!(ts["sale_line_id"], json!(l1));
    assert_eq!(ts["project_id"], json!(w.project));
    assert_eq!(ts["ticket_id"], json!(t1));
    line_shows(sys, &l1, &[("remaining_hours", "0")]).await?;

    // The first is used up: a new ticket takes the second; the first ticket keeps its line.
    let t2 = ticket(sys, &w.team, &w.customer, json!({})).await?;
    assert_eq!(t2["sale_line_id"], json!(l2));
    ticket_time(sys, &t1, "1.25").await?;
    line_shows(sys, &l1, &[("remaining_hours", "-1.25"), ("qty_delivered", "3.25")]).await?;
    line_shows(sys, &l2, &[("remaining_hours", "5")]).await?;
    let t = eventually(10, || async {
        let t = sys.get(Helpdesk, &format!("/tickets/{t1}")).await?;
        same("hours_spent", &t["hours_spent"], "3.25")?;
        Ok(t)
    })
    .await?;
    assert_eq!(t["sale_line_id"], json!(l1));
    same("ticket remaining agrees with its line", &t["remaining_hours"], "-1.25")?;

    // Both used up: none.
    ticket_time(sys, &id(&t2), "5").await?;
    line_shows(sys, &l2, &[("remaining_hours", "0")]).await?;
    let t3 = ticket(sys, &w.team, &w.customer, json!({})).await?;
    assert!(t3["sale_line_id"].is_null(), "{t3}");

    // A team without reinvoicing never takes a line.
    let (_, third) = sold(sys, &w.customer, &w.plain, "1").await?;
    let quiet = id(&sys
        .post(Helpdesk, "/teams", &json!({"name": "Internal", "use_timesheets": true}), StatusCode::CREATED)
        .await?);
    let t4 = ticket(sys, &quiet, &w.customer, json!({})).await?;
    assert!(t4["sale_line_id"].is_null());
    let t5 = ticket(sys, &w.team, &w.customer, json!({})).await?;
    assert_eq!(t5["sale_line_id"], third["id"]);
    // Another customer's hours are not this one's.
    let other = id(&sys.post(Sales, "/customers", &json!({"name": "Lonely"}), StatusCode::CREATED).await?);
    let t6 = ticket(sys, &w.team, &other, json!({})).await?;
    assert!(t6["sale_line_id"].is_null());
    Ok(())
}

// ---------------------------------------------------------------------------------------------

async fn a_ticket_takes_only_a_line_or_task_of_its_customer_on_a_confirmed_order(backend: Backend) -> R {
    let mut sys = System::start(backend).await?;
    line_rules(&mut sys).await.map_err(|e| format!("{backend:?}: {e}"))?;
    sys.stop().await;
    Ok(())
}
on_both!(
    a_ticket_takes_only_a_line_or_task_of_its_customer_on_a_confirmed_order,
    a_ticket_takes_only_a_line_or_task_of_its_customer_on_a_confirmed_order_sqlite,
    a_ticket_takes_only_a_line_or_task_of_its_customer_on_a_confirmed_order_postgres
);

async fn line_rules(sys: &mut System) -> R {
    let w = world(sys, "Deco Addict").await?;
    let (_, good) = sold(sys, &w.customer, &w.hours, "10").await?;
    let good_line = id(&good);
    let (_, draft_line) = draft(sys, &w.customer, &w.plain).await?;
    let (cancelled_order, cancelled) = sold(sys, &w.customer, &w.hours, "4").await?;
    sys.post(Sales, &format!("/orders/{cancelled_order}/cancel"), &json!({}), StatusCode::OK).await?;
    let other = id(&sys.post(Sales, "/customers", &json!({"name": "Gemini"}), StatusCode::CREATED).await?);
    let (_, foreign) = sold(sys, &other, &w.hours, "3").await?;
    let quiet = id(&sys
        .post(Helpdesk, "/teams", &json!({"name": "No billing", "use_timesheets": true}), StatusCode::CREATED)
        .await?);

    let base = |team: &str| json!({"team_id": team, "customer_id": w.customer, "title": "Broken"});
    let with = |team: &str, k: &str, v: &Value| {
        let mut b = base(team);
        b[k] = v.clone();
        b
    };
    // Creating.
    sys.invalid(Helpdesk, Method::POST, "/tickets", &with(&quiet, "sale_line_id", &good["id"]), "sale_line_id").await?;
    sys.invalid(Helpdesk, Method::POST, "/tickets", &with(&w.team, "sale_line_id", &json!(draft_line)), "sale_line_id")
        .await?;
    sys.invalid(Helpdesk, Method::POST, "/tickets", &with(&w.team, "sale_line_id", &cancelled["id"]), "sale_line_id")
        .await?;
    sys.invalid(Helpdesk, Method::POST, "/tickets", &with(&w.team, "sale_line_id", &foreign["id"]), "sale_line_id")
        .await?;
    sys.invalid(
        Helpdesk,
        Method::POST,
        "/tickets",
        &with(&w.team, "sale_line_id", &json!(uuid::Uuid::now_v7())),
        "sale_line_id",
    )
    .await?;
    sys.invalid(Helpdesk, Method::POST, "/tickets", &with(&w.team, "task_id", &foreign["task_id"]), "task_id").await?;
    sys.invalid(Helpdesk, Method::POST, "/tickets", &with(&w.team, "task_id", &cancelled["task_id"]), "task_id")
        .await?;
    sys.invalid(Helpdesk, Method::POST, "/tickets", &with(&w.team, "task_id", &json!(uuid::Uuid::now_v7())), "task_id")
        .await?;
    assert_eq!(sys.all(Helpdesk, "/tickets").await?.len(), 0, "nothing was created");

    // A line set directly on a reinvoicing team, and a task that brings its line.
    let t = ticket(sys, &w.team, &w.customer, json!({"sale_line_id": good_line})).await?;
    assert_eq!(t["sale_line_id"], json!(good_line));
    same("remaining", &t["remaining_hours"], "10")?;
    let by_task = ticket(sys, &quiet, &w.customer, json!({"task_id": good["task_id"]})).await?;
    assert_eq!(by_task["sale_line_id"], json!(good_line), "linking a task sets its line, on any team");

    // Updating.
    let tpath = format!("/tickets/{}", id(&t));
    sys.invalid(Helpdesk, Method::PATCH, &tpath, &json!({"sale_line_id": draft_line}), "sale_line_id").await?;
    sys.invalid(Helpdesk, Method::PATCH, &tpath, &json!({"sale_line_id": cancelled["id"]}), "sale_line_id").await?;
    sys.invalid(Helpdesk, Method::PATCH, &tpath, &json!({"sale_line_id": foreign["id"]}), "sale_line_id").await?;
    sys.invalid(Helpdesk, Method::PATCH, &tpath, &json!({"task_id": foreign["task_id"]}), "task_id").await?;
    sys.invalid(Helpdesk, Method::PATCH, &tpath, &json!({"task_id": cancelled["task_id"]}), "task_id").await?;
    let (_, other_line) = sold(sys, &w.customer, &w.plain, "2").await?;
    let q = ticket(sys, &quiet, &w.customer, json!({})).await?;
    sys.invalid(
        Helpdesk,
        Method::PATCH,
        &format!("/tickets/{}", id(&q)),
        &json!({"sale_line_id": other_line["id"]}),
        "sale_line_id",
    )
    .await?;
    assert_eq!(sys.get(Helpdesk, &tpath).await?["sale_line_id"], json!(good_line), "unchanged");

    // Bad time is refused, naming the field, and records nothing.
    for hours in [json!("0"), json!("-1"), json!("25"), json!("1.234"), json!(0), json!(-1)] {
        sys.invalid(
            Helpdesk,
            Method::POST,
            &format!("{tpath}/timesheets"),
            &json!({"employee": "Ann", "hours": hours}),
            "hours",
        )
        .await?;
    }
    let (s, body) = sys
        .status(
            Helpdesk,
            Method::POST,
            &format!("{tpath}/timesheets"),
            Some(&json!({"employee": "Ann", "hours": "abc"})),
        )
        .await?;
    assert!(s == StatusCode::BAD_REQUEST || s == StatusCode::UNPROCESSABLE_ENTITY, "{s}: {body}");
    assert!(body.to_string().contains("hours"), "the problem names hours: {body}");
    sys.invalid(
        Helpdesk,
        Method::POST,
        &format!("{tpath}/timesheets"),
        &json!({"employee": " ", "hours": "1"}),
        "employee",
    )
    .await?;
    assert_eq!(sys.all(Projects, "/timesheets").await?.len(), 0, "nothing was recorded");

    // A team without timesheets refuses ticket time.
    let off = id(&sys.post(Helpdesk, "/teams", &json!({"name": "Sales desk"}), StatusCode::CREATED).await?);
    let t_off = ticket(sys, &off, &w.customer, json!({})).await?;
    let (s, _) = sys
        .status(
            Helpdesk,
            Method::POST,
            &format!("/tickets/{}/timesheets", id(&t_off)),
            Some(&json!({"employee": "Ann", "hours": "1"})),
        )
        .await?;
    assert_eq!(s, StatusCode::CONFLICT);
    sys.invalid(
        Helpdesk,
        Method::POST,
        "/teams",
        &json!({"name": "x", "use_time_reinvoicing": true}),
        "use_time_reinvoicing",
    )
    .await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------

async fn changing_a_tickets_line_or_task_moves_its_unbilled_time(backend: Backend) -> R {
    let mut sys = System::start(backend).await?;
    ticket_moves(&mut sys).await.map_err(|e| format!("{backend:?}: {e}"))?;
    sys.stop().await;
    Ok(())
}
on_both!(
    changing_a_tickets_line_or_task_moves_its_unbilled_time,
    changing_a_tickets_line_or_task_moves_its_unbilled_time_sqlite,
    changing_a_tickets_line_or_task_moves_its_unbilled_time_postgres
);

async fn ticket_moves(sys: &mut System) -> R {
    let w = world(sys, "Ready Mat").await?;
    let (_, a) = sold(sys, &w.customer, &w.plain, "10").await?;
    let (_, b) = sold(sys, &w.customer, &w.plain, "8").await?;
    let (_, c) = sold(sys, &w.customer, &w.hours, "6").await?;
    let (la, lb, lc) = (id(&a), id(&b), id(&c));
    let t = ticket(sys, &w.team, &w.customer, json!({"sale_line_id": la})).await?;
    let tid = id(&t);
    ticket_time(sys, &tid, "3").await?;
    ticket_time(sys, &tid, "2").await?;
    line_shows(sys, &la, &[("qty_delivered", "5"), ("remaining_hours", "5")]).await?;
    let shown = eventually(10, || async {
        let t = sys.get(Helpdesk, &format!("/tickets/{tid}")).await?;
        same("hours_spent", &t["hours_spent"], "5")?;
        Ok(t)
    })
    .await?;
    same("ticket remaining", &shown["remaining_hours"], "5")?;

    // A new line takes the time along.
    let moved = sys.patch(Helpdesk, &format!("/tickets/{tid}"), &json!({"sale_line_id": lb})).await?;
    assert_eq!(moved["sale_line_id"], json!(lb));
    line_shows(sys, &la, &[("qty_delivered", "0"), ("remaining_hours", "10")]).await?;
    line_shows(sys, &lb, &[("qty_delivered", "5"), ("remaining_hours", "3")]).await?;
    let sheets = sys.all(Projects, &format!("/timesheets?ticket_id={tid}")).await?;
    assert!(sheets.iter().all(|s| s["sale_line_id"] == json!(lb)), "{sheets:?}");
    same("ticket remaining follows", &sys.get(Helpdesk, &format!("/tickets/{tid}")).await?["remaining_hours"], "3")?;

    // A task brings its line and takes the time to the task too.
    let task = c["task_id"].as_str().unwrap().to_owned();
    let moved = sys.patch(Helpdesk, &format!("/tickets/{tid}"), &json!({"task_id": task})).await?;
    assert_eq!(moved["sale_line_id"], json!(lc));
    line_shows(sys, &lb, &[("qty_delivered", "0")]).await?;
    line_shows(sys, &lc, &[("qty_delivered", "5"), ("remaining_hours", "1")]).await?;
    let sheets = sys.all(Projects, &format!("/timesheets?ticket_id={tid}")).await?;
    assert_eq!(sheets.len(), 2);
    assert!(sheets.iter().all(|s| s["sale_line_id"] == json!(lc) && s["task_id"] == json!(task)), "{sheets:?}");
    same("task effective", &sys.get(Projects, &format!("/tasks/{task}")).await?["effective_hours"], "5")?;
    let t = sys.get(Helpdesk, &format!("/tickets/{tid}")).await?;
    same("ticket remaining agrees with the task's line", &t["remaining_hours"], "1")?;
    same("hours_spent unchanged", &t["hours_spent"], "5")?;
    // New time goes to the task and its line.
    let ts = ticket_time(sys, &tid, "1.5").await?;
    assert_eq!(ts["task_id"], json!(task));
    line_shows(sys, &lc, &[("qty_delivered", "6.5"), ("remaining_hours", "-0.5")]).await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------

async fn billed_ticket_time_stays_on_its_line_when_the_ticket_moves(backend: Backend) -> R {
    let mut sys = System::start(backend).await?;
    billed_stays(&mut sys).await.map_err(|e| format!("{backend:?}: {e}"))?;
    sys.stop().await;
    Ok(())
}
on_both!(
    billed_ticket_time_stays_on_its_line_when_the_ticket_moves,
    billed_ticket_time_stays_on_its_line_when_the_ticket_moves_sqlite,
    billed_ticket_time_stays_on_its_line_when_the_ticket_moves_postgres
);

async fn billed_stays(sys: &mut System) -> R {
    let w = world(sys, "Lumber Inc").await?;
    let tm = id(&sys
        .post(
            Sales,
            "/products",
            &json!({"name": "Time and material", "type": "service", "uom": "hour", "list_price": "80", "service_policy": "timesheet"}),
            StatusCode::CREATED,
        )
        .await?);
    let (o1, a) = sold(sys, &w.customer, &tm, "1").await?;
    let (_, b) = sold(sys, &w.customer, &tm, "1").await?;
    let (la, lb) = (id(&a), id(&b));
    let t = id(&ticket(sys, &w.team, &w.customer, json!({"sale_line_id": la})).await?);
    let billed = id(&ticket_time(sys, &t, "2").await?);
    line_shows(sys, &la, &[("qty_delivered", "2")]).await?;
    sys.post(Sales, &format!("/orders/{o1}/invoices"), &json!({}), StatusCode::CREATED).await?;
    let unbilled = id(&ticket_time(sys, &t, "1").await?);
    line_shows(sys, &la, &[("qty_delivered", "3"), ("qty_invoiced", "2"), ("qty_to_invoice", "1")]).await?;
    sys.patch(Helpdesk, &format!("/tickets/{t}"), &json!({"sale_line_id": lb})).await?;
    line_shows(sys, &la, &[("qty_delivered", "2"), ("qty_invoiced", "2"), ("qty_to_invoice", "0")]).await?;
    line_shows(sys, &lb, &[("qty_delivered", "1")]).await?;
    assert_eq!(sys.get(Projects, &format!("/timesheets/{billed}")).await?["sale_line_id"], json!(la));
    assert_eq!(sys.get(Projects, &format!("/timesheets/{unbilled}")).await?["sale_line_id"], json!(lb));
    let (s, _) = sys.status(Projects, Method::DELETE, &format!("/timesheets/{billed}"), None).await?;
    assert_eq!(s, StatusCode::CONFLICT, "billed time is locked");

    // Cancelling the order cancels its draft invoice, which releases the billed time.
    sys.post(Sales, &format!("/orders/{o1}/cancel"), &json!({}), StatusCode::OK).await?;
    line_shows(sys, &la, &[("qty_invoiced", "0"), ("qty_delivered", "2")]).await?;
    eventually(10, || async {
        let s = sys.get(Projects, &format!("/timesheets/{billed}")).await?;
        if s["invoice_id"].is_null() { Ok(()) } else { Err(format!("still billed: {s}").into()) }
    })
    .await?;
    let (s, _) = sys.status(Projects, Method::DELETE, &format!("/timesheets/{billed}"), None).await?;
    assert_eq!(s, StatusCode::NO_CONTENT);
    line_shows(sys, &la, &[("qty_delivered", "0")]).await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------

async fn ticket_time_while_projects_is_down_is_a_503_and_records_nothing(backend: Backend) -> R {
    let mut sys = System::start(backend).await?;
    projects_down(&mut sys).await.map_err(|e| format!("{backend:?}: {e}"))?;
    sys.stop().await;
    Ok(())
}
on_both!(
    ticket_time_while_projects_is_down_is_a_503_and_records_nothing,
    ticket_time_while_projects_is_down_is_a_503_and_records_nothing_sqlite,
    ticket_time_while_projects_is_down_is_a_503_and_records_nothing_postgres
);

async fn projects_down(sys: &mut System) -> R {
    let w = world(sys, "Wood Corner").await?;
    let (_, a) = sold(sys, &w.customer, &w.plain, "10").await?;
    let la = id(&a);
    let t = id(&ticket(sys, &w.team, &w.customer, json!({})).await?);
    ticket_time(sys, &t, "1").await?;
    line_shows(sys, &la, &[("qty_delivered", "1")]).await?;

    let port = sys.stop_service(Projects).await?;
    let (s, body) = sys
        .status(
            Helpdesk,
            Method::POST,
            &format!("/tickets/{t}/timesheets"),
            Some(&json!({"employee": "Ann", "hours": "2"})),
        )
        .await?;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["status"], 503);
    sys.restart_service(Projects, port).await?;

    let sheets = eventually(10, || async { sys.get(Helpdesk, &format!("/tickets/{t}/timesheets")).await }).await?;
    assert_eq!(sheets["items"].as_array().map(Vec::len), Some(1), "nothing recorded: {sheets}");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    line_shows(sys, &la, &[("qty_delivered", "1")]).await?;
    same("hours_spent", &sys.get(Helpdesk, &format!("/tickets/{t}")).await?["hours_spent"], "1")?;
    ticket_time(sys, &t, "2").await?;
    line_shows(sys, &la, &[("qty_delivered", "3")]).await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------

async fn a_timesheet_moved_or_deleted_in_projects_moves_the_delivered_hours_in_sales(backend: Backend) -> R {
    let mut sys = System::start(backend).await?;
    timesheet_moves(&mut sys).await.map_err(|e| format!("{backend:?}: {e}"))?;
    sys.stop().await;
    Ok(())
}
on_both!(
    a_timesheet_moved_or_deleted_in_projects_moves_the_delivered_hours_in_sales,
    a_timesheet_moved_or_deleted_in_projects_moves_the_delivered_hours_in_sales_sqlite,
    a_timesheet_moved_or_deleted_in_projects_moves_the_delivered_hours_in_sales_postgres
);

async fn timesheet_moves(sys: &mut System) -> R {
    let w = world(sys, "Gemini Furniture").await?;
    let (_, a) = sold(sys, &w.customer, &w.hours, "10").await?;
    let (_, b) = sold(sys, &w.customer, &w.hours, "5").await?;
    let (_, c) = sold(sys, &w.customer, &w.plain, "3").await?;
    let (la, lb, lc) = (id(&a), id(&b), id(&c));
    let (ta, tb) = (a["task_id"].as_str().unwrap().to_owned(), b["task_id"].as_str().unwrap().to_owned());
    let ts = sys
        .post(Projects, "/timesheets", &json!({"employee": "Ann", "hours": "4", "task_id": ta}), StatusCode::CREATED)
        .await?;
    assert_eq!(ts["sale_line_id"], json!(la));
    assert_eq!(ts["project_id"], json!(w.project));
    let ts = id(&ts);
    sys.post(Projects, "/timesheets", &json!({"employee": "Bob", "hours": "1", "task_id": ta}), StatusCode::CREATED)
        .await?;
    line_shows(sys, &la, &[("qty_delivered", "5")]).await?;

    // To another line's task: both lines follow, and both tasks.
    let moved = sys.patch(Projects, &format!("/timesheets/{ts}"), &json!({"task_id": tb})).await?;
    assert_eq!(moved["sale_line_id"], json!(lb));
    line_shows(sys, &la, &[("qty_delivered", "1"), ("remaining_hours", "9")]).await?;
    line_shows(sys, &lb, &[("qty_delivered", "4"), ("remaining_hours", "1")]).await?;
    same("task a", &sys.get(Projects, &format!("/tasks/{ta}")).await?["effective_hours"], "1")?;
    same("task b", &sys.get(Projects, &format!("/tasks/{tb}")).await?["effective_hours"], "4")?;

    // To a line named directly, with new hours in the same edit.
    let moved = sys.patch(Projects, &format!("/timesheets/{ts}"), &json!({"sale_line_id": lc, "hours": "2.5"})).await?;
    assert_eq!(moved["sale_line_id"], json!(lc));
    line_shows(sys, &lb, &[("qty_delivered", "0")]).await?;
    line_shows(sys, &lc, &[("qty_delivered", "2.5"), ("remaining_hours", "0.5")]).await?;

    // Filters.
    let by_line = sys.all(Projects, &format!("/timesheets?sale_line_id={la}")).await?;
    assert_eq!(by_line.len(), 1);
    let by_emp = sys.all(Projects, "/timesheets?employee=Ann").await?;
    assert_eq!(by_emp.len(), 1);

    // Deleting: down.
    let (s, _) = sys.status(Projects, Method::DELETE, &format!("/timesheets/{ts}"), None).await?;
    assert_eq!(s, StatusCode::NO_CONTENT);
    line_shows(sys, &lc, &[("qty_delivered", "0"), ("remaining_hours", "3")]).await?;
    line_shows(sys, &la, &[("qty_delivered", "1")]).await?;
    Ok(())
}
