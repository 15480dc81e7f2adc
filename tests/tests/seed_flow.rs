#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The seed flow of the spine, end to end over HTTP, on SQLite and on PostgreSQL: a prepaid
//! block of hours is sold, confirmed into a task, invoiced and posted; a ticket linked to the
//! task gets time, and every figure that shows those hours agrees.

use e2e::{R, System, eventually, on_both, same};
use reqwest::StatusCode;
use serde_json::{Value, json};
use shared::config::Service::{Helpdesk, Invoicing, Projects, Sales};
use shared::db::Backend;

async fn prepaid_hours_flow_from_order_to_ticket_time(backend: Backend) -> R {
    let sys = System::start(backend).await?;
    seed_flow(&sys).await.map_err(|e| format!("{backend:?}: {e}"))?;
    sys.stop().await;
    Ok(())
}
on_both!(
    prepaid_hours_flow_from_order_to_ticket_time,
    prepaid_hours_flow_from_order_to_ticket_time_sqlite,
    prepaid_hours_flow_from_order_to_ticket_time_postgres
);

async fn seed_flow(sys: &System) -> R {
    let customer = sys
        .post(
            Sales,
            "/customers",
            &json!({"name": "Azure Interior", "email": "azure@example.com"}),
            StatusCode::CREATED,
        )
        .await?;
    let project = sys.post(Projects, "/projects", &json!({"name": "Helpdesk Services"}), StatusCode::CREATED).await?;
    let team = sys
        .post(Helpdesk, "/teams", &json!({"name": "Support", "use_timesheets": true, "use_time_reinvoicing": true, "project_id": project["id"]}), StatusCode::CREATED)
        .await?;
    let product = sys
        .post(
            Sales,
            "/products",
            &json!({"name": "Support hours", "type": "service", "uom": "hour", "list_price": "100", "service_policy": "prepaid",
                    "service_tracking": "task_in_project", "project_id": project["id"]}),
            StatusCode::CREATED,
        )
        .await?;
    let order = sys
        .post(
            Sales,
            "/orders",
            &json!({"customer_id": customer["id"], "lines": [{"product_id": product["id"], "quantity": "10"}]}),
            StatusCode::CREATED,
        )
        .await?;
    assert_eq!(order["state"], "draft");
    let order_id = order["id"].as_str().unwrap().to_owned();
    let name = order["name"].as_str().unwrap().to_owned();
    assert!(name.starts_with('S') && name.len() == 6, "order name {name}");

    // Confirm: the task is created in projects, linked both ways.
    let confirmed = sys.post(Sales, &format!("/orders/{order_id}/confirm"), &json!({}), StatusCode::OK).await?;
    assert_eq!(confirmed["state"], "sale");
    let line = eventually(10, || async {
        let o = sys.get(Sales, &format!("/orders/{order_id}")).await?;
        let l = o["lines"][0].clone();
        if l["task_id"].is_null() {
            return Err("no task yet".into());
        }
        Ok(l)
    })
    .await?;
    let line_id = line["id"].as_str().unwrap().to_owned();
    let task_id = line["task_id"].as_str().unwrap().to_owned();
    let task = sys.get(Projects, &format!("/tasks/{task_id}")).await?;
    assert_eq!(task["sale_line_id"], json!(line_id));
    assert_eq!(task["project_id"], project["id"]);
    same("allocated_hours", &task["allocated_hours"], "10")?;
    assert!(task["name"].as_str().unwrap().contains(&name), "task name {} has the order name", task["name"]);

    // Invoice the ordered quantity, post it.
    let invoice = sys.post(Sales, &format!("/orders/{order_id}/invoices"), &json!({}), StatusCode::CREATED).await?;
    assert_eq!(invoice["state"], "draft");
    same("amount_total", &invoice["amount_total"], "1000")?;
    let posted = sys
        .post(Invoicing, &format!("/invoices/{}/post", invoice["id"].as_str().unwrap()), &json!({}), StatusCode::OK)
        .await?;
    let year = chrono_year();
    assert_eq!(posted["number"], json!(format!("INV/{year}/00001")));
    eventually(10, || async {
        let l = sys.get(Sales, &format!("/order-lines/{line_id}")).await?;
        same("qty_invoiced", &l["qty_invoiced"], "10")
    })
    .await?;

    // A ticket linked to the task takes the task's sale line.
    let ticket = sys
        .post(
            Helpdesk,
            "/tickets",
            &json!({"team_id": team["id"], "customer_id": customer["id"], "title": "Printer on fire"}),
            StatusCode::CREATED,
        )
        .await?;
    let ticket_id = ticket["id"].as_str().unwrap().to_owned();
    let ticket = sys.patch(Helpdesk, &format!("/tickets/{ticket_id}"), &json!({"task_id": task_id})).await?;
    assert_eq!(ticket["sale_line_id"], json!(line_id));

    // Time on the ticket becomes timesheets in projects, and the line shows it delivered.
    for _ in 0..3 {
        let ts = sys
            .post(
                Helpdesk,
                &format!("/tickets/{ticket_id}/timesheets"),
                &json!({"employee": "Marc Demo", "hours": "1.5"}),
                StatusCode::CREATED,
            )
            .await?;
        assert_eq!(ts["ticket_id"], json!(ticket_id));
        assert_eq!(ts["task_id"], json!(task_id));
        assert_eq!(ts["project_id"], project["id"]);
        assert_eq!(ts["sale_line_id"], json!(line_id));
    }
    let line = eventually(10, || async {
        let l = sys.get(Sales, &format!("/order-lines/{line_id}")).await?;
        same("qty_delivered", &l["qty_delivered"], "4.5")?;
        Ok(l)
    })
    .await?;
    same("qty_invoiced", &line["qty_invoiced"], "10")?;
    assert_eq!(line["invoice_status"], "invoiced");
    same("line remaining_hours", &line["remaining_hours"], "5.5")?;
    let task = sys.get(Projects, &format!("/tasks/{task_id}")).await?;
    same("task effective_hours", &task["effective_hours"], "4.5")?;
    same("task remaining_hours", &task["remaining_hours"], "5.5")?;
    let ticket = eventually(10, || async {
        let t = sys.get(Helpdesk, &format!("/tickets/{ticket_id}")).await?;
        same("ticket hours_spent", &t["hours_spent"], "4.5")?;
        Ok(t)
    })
    .await?;
    same("ticket remaining_hours", &ticket["remaining_hours"], "5.5")?;
    let by_task = sys.get(Projects, &format!("/timesheets?task_id={task_id}")).await?;
    assert_eq!(by_task["items"].as_array().map(Vec::len), Some(3));
    let by_ticket = sys.get(Projects, &format!("/timesheets?ticket_id={ticket_id}")).await?;
    assert_eq!(by_ticket["items"].as_array().map(Vec::len), Some(3));
    let via_helpdesk = sys.get(Helpdesk, &format!("/tickets/{ticket_id}/timesheets")).await?;
    assert_eq!(via_helpdesk["items"].as_array().map(Vec::len), Some(3));

    // The request id a client sends travels on: helpdesk → projects (synchronously) → the
    // outbox message projects wrote for sales in that same request.
    let trace = format!("e2e-{}", uuid::Uuid::now_v7());
    let res = sys
        .request(Helpdesk, reqwest::Method::POST, &format!("/tickets/{ticket_id}/timesheets"))
        .header("x-request-id", &trace)
        .json(&json!({"employee": "Marc Demo", "hours": "0.5"}))
        .send()
        .await?;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(res.headers()["x-request-id"], trace.as_str());
    let projects = sys.stack.services.iter().find(|r| r.service == Projects).ok_or("projects")?;
    let traced = {
        use diesel::prelude::*;
        use shared::schema::outbox;
        let t = trace.clone();
        projects
            .ctx
            .db
            .run(move |c| {
                outbox::table
                    .filter(outbox::request_id.eq(t))
                    .select(outbox::path)
                    .load::<String>(c)
                    .map_err(shared::db::StoreError::from)
            })
            .await?
    };
    assert!(
        traced.iter().any(|p| p.contains(&format!("/order-lines/{line_id}/"))),
        "the sale line's total carries the client's request id: {traced:?}"
    );
    sys.call(
        Projects,
        reqwest::Method::DELETE,
        &format!("/timesheets/{}", res.json::<Value>().await?["id"].as_str().unwrap()),
        None,
    )
    .await?;

    // Bad input changes nothing.
    let (s, body) = sys
        .call(
            Helpdesk,
            reqwest::Method::POST,
            &format!("/tickets/{ticket_id}/timesheets"),
            Some(&json!({"employee": "x", "hours": "-1"})),
        )
        .await?;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (s, _) = sys.call(Sales, reqwest::Method::POST, &format!("/orders/{order_id}/confirm"), None).await?;
    assert_eq!(s, StatusCode::CONFLICT);
    let after = sys.get(Projects, &format!("/timesheets?ticket_id={ticket_id}")).await?;
    assert_eq!(after["items"].as_array().map(Vec::len), Some(3));
    Ok(())
}

fn chrono_year() -> i32 {
    use chrono::Datelike;
    chrono::Utc::now().year()
}

async fn hours_logged_while_sales_is_down_arrive_exactly_once_it_is_back(backend: Backend) -> R {
    let mut sys = System::start(backend).await?;
    let project = sys.post(Projects, "/projects", &json!({"name": "Support"}), StatusCode::CREATED).await?;
    let customer = sys.post(Sales, "/customers", &json!({"name": "Deco Addict"}), StatusCode::CREATED).await?;
    let product = sys
        .post(
            Sales,
            "/products",
            &json!({"name": "Support days", "type": "service", "uom": "day", "list_price": "800",
            "service_policy": "prepaid", "service_tracking": "task_in_project", "project_id": project["id"]}),
            StatusCode::CREATED,
        )
        .await?;
    let order = sys
        .post(
            Sales,
            "/orders",
            &json!({"customer_id": customer["id"], "lines": [{"product_id": product["id"], "quantity": "2"}]}),
            StatusCode::CREATED,
        )
        .await?;
    let order_id = order["id"].as_str().unwrap().to_owned();
    sys.post(Sales, &format!("/orders/{order_id}/confirm"), &json!({}), StatusCode::OK).await?;
    let line: Value = eventually(10, || async {
        let o = sys.get(Sales, &format!("/orders/{order_id}")).await?;
        if o["lines"][0]["task_id"].is_null() {
            return Err("no task yet".into());
        }
        Ok(o["lines"][0].clone())
    })
    .await?;
    let task_id = line["task_id"].as_str().unwrap().to_owned();
    let line_id = line["id"].as_str().unwrap().to_owned();

    let port = sys.stop_service(Sales).await?;
    let mut ids = vec![];
    for h in ["1", "2", "3.5", "0.25", "4.25"] {
        let t = sys
            .post(
                Projects,
                "/timesheets",
                &json!({"employee": "Ann", "hours": h, "task_id": task_id}),
                StatusCode::CREATED,
            )
            .await?;
        ids.push(t["id"].as_str().unwrap().to_owned());
    }
    sys.patch(Projects, &format!("/timesheets/{}", ids[0]), &json!({"hours": "1.75"})).await?;
    let (s, _) = sys.call(Projects, reqwest::Method::DELETE, &format!("/timesheets/{}", ids[3]), None).await?;
    assert_eq!(s, StatusCode::NO_CONTENT);
    sys.restart_service(Sales, port).await?;

    // 1.75 + 2 + 3.5 + 4.25 = 11.5 hours = 1.4375 days, shown 1.44; 16 − 11.5 = 4.5 h left.
    eventually(30, || async {
        let l = sys.get(Sales, &format!("/order-lines/{line_id}")).await?;
        same("qty_delivered", &l["qty_delivered"], "1.44")?;
        same("remaining_hours", &l["remaining_hours"], "4.5")
    })
    .await
    .map_err(|e| format!("{backend:?}: {e}"))?;
    sys.stop().await;
    Ok(())
}
on_both!(
    hours_logged_while_sales_is_down_arrive_exactly_once_it_is_back,
    hours_logged_while_sales_is_down_arrive_exactly_once_it_is_back_sqlite,
    hours_logged_while_sales_is_down_arrive_exactly_once_it_is_back_postgres
);
