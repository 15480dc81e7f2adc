#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Time counts on a customer's sale line only for that customer's work, whoever sends it: an
//! agent's timesheet in projects whose sale line, ticket and task are not one customer's is a
//! 422 naming the field, and changes nothing anywhere. Projects learns whose a line or a ticket
//! is from sales and helpdesk; while the one it must ask is down, such time is a 503.

use e2e::auth::secured;
use e2e::{Api, R, System, id, on_both};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use shared::auth::Role;
use shared::config::Service::{Helpdesk, Projects, Sales};
use shared::db::Backend;

/// One customer's prepaid line, the task it made, and a ticket on that task.
struct Account {
    customer: String,
    line: String,
    task: String,
    ticket: String,
}

/// Two customers buying the same hours product, in one project, served by one team.
struct World {
    a: Account,
    b: Account,
    product: String,
    team: String,
}

async fn account(sys: &System, name: &str, product: &str, team: &str) -> R<Account> {
    let customer = id(&sys.post(Sales, "/customers", &json!({ "name": name }), StatusCode::CREATED).await?);
    let (line, task) = sold(sys, &customer, product).await?;
    let ticket = id(&sys
        .post(
            Helpdesk,
            "/tickets",
            &json!({"team_id": team, "customer_id": customer, "title": format!("{name} cannot print"), "task_id": task}),
            StatusCode::CREATED,
        )
        .await?);
    Ok(Account { customer, line, task, ticket })
}

/// A confirmed order of one line of 10 hours; answers the line and its task.
async fn sold(sys: &System, customer: &str, product: &str) -> R<(String, String)> {
    let order = sys.draft_order(customer, product, 1, "10").await?;
    let o = sys.confirm(&order).await?;
    Ok((id(&o["lines"][0]), o["lines"][0]["task_id"].as_str().ok_or("no task")?.to_owned()))
}

async fn world(sys: &System) -> R<World> {
    let project = id(&sys.post(Projects, "/projects", &json!({"name": "Support"}), StatusCode::CREATED).await?);
    let product = id(&sys
        .post(
            Sales,
            "/products",
            &json!({"name": "Support hours", "type": "service", "uom": "hour", "list_price": "100",
                    "service_policy": "prepaid", "service_tracking": "task_in_project", "project_id": project}),
            StatusCode::CREATED,
        )
        .await?);
    let team = id(&sys
        .post(
            Helpdesk,
            "/teams",
            &json!({"name": "Support", "use_timesheets": true, "use_time_reinvoicing": true, "project_id": project}),
            StatusCode::CREATED,
        )
        .await?);
    let a = account(sys, "Azure Interior", &product, &team).await?;
    let b = account(sys, "Deco Addict", &product, &team).await?;
    Ok(World { a, b, product, team })
}

fn agent(sys: &System) -> R<Api> {
    sys.api.as_role(Role::Agent, None)
}

/// What a refused request must leave as it was: every timesheet, both tasks' hours and, once
/// sales has all that projects sent, both lines' delivered quantities.
async fn state(sys: &System, w: &World) -> R<Value> {
    let lines = [w.a.line.clone(), w.b.line.clone()];
    sys.converged(&lines, 10).await?;
    let mut out = serde_json::Map::new();
    out.insert("timesheets".into(), Value::Array(sys.all(Projects, "/timesheets").await?));
    for (name, acc) in [("a", &w.a), ("b", &w.b)] {
        let line = sys.get(Sales, &format!("/order-lines/{}", acc.line)).await?;
        out.insert(format!("{name} qty_delivered"), line["qty_delivered"].clone());
        let task = sys.get(Projects, &format!("/tasks/{}", acc.task)).await?;
        out.insert(format!("{name} effective_hours"), task["effective_hours"].clone());
    }
    Ok(Value::Object(out))
}

async fn unchanged(sys: &System, w: &World, before: &Value, what: &str) -> R {
    // Anything wrongly recorded would have been sent to sales by now, or shows in projects.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let after = state(sys, w).await?;
    if &after != before {
        return Err(format!("{what} changed something:\nbefore {before}\nafter  {after}").into());
    }
    Ok(())
}

fn entry(extra: Value) -> Value {
    let mut body = json!({"employee": "Marc Demo", "hours": "1.5"});
    body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    body
}

// ---------------------------------------------------------------------------------------------

async fn time_linking_two_customers_is_refused_naming_the_field_and_changes_nothing(backend: Backend) -> R {
    let mut sys = secured(backend).await?;
    cross_customer_time(&mut sys).await.map_err(|e| format!("{backend:?}: {e}"))?;
    sys.stop().await;
    Ok(())
}
on_both!(
    time_linking_two_customers_is_refused_naming_the_field_and_changes_nothing,
    time_linking_two_customers_is_refused_naming_the_field_and_changes_nothing_sqlite,
    time_linking_two_customers_is_refused_naming_the_field_and_changes_nothing_postgres
);

async fn cross_customer_time(sys: &mut System) -> R {
    let w = world(sys).await?;
    let agent = agent(sys)?;
    let (a, b) = (&w.a, &w.b);

    // One customer's line, ticket and task: recorded, directly and through helpdesk.
    let own = agent
        .post(
            Projects,
            "/timesheets",
            &entry(json!({"task_id": a.task, "sale_line_id": a.line, "ticket_id": a.ticket})),
            StatusCode::CREATED,
        )
        .await?;
    assert_eq!(own["sale_line_id"], json!(a.line), "{own}");
    let via_helpdesk = agent
        .post(
            Helpdesk,
            &format!("/tickets/{}/timesheets", a.ticket),
            &json!({"employee": "Joel Willis", "hours": "0.5"}),
            StatusCode::CREATED,
        )
        .await?;
    assert_eq!(via_helpdesk["sale_line_id"], json!(a.line), "{via_helpdesk}");
    agent.post(Projects, "/timesheets", &entry(json!({"task_id": b.task})), StatusCode::CREATED).await?;
    let before = state(sys, &w).await?;
    assert_eq!(before["timesheets"].as_array().map(Vec::len), Some(3), "{before}");

    let refused = [
        ("A's task, B's line", json!({"task_id": a.task, "sale_line_id": b.line}), "sale_line_id"),
        (
            "A's task and ticket, B's line",
            json!({"task_id": a.task, "ticket_id": a.ticket, "sale_line_id": b.line}),
            "sale_line_id",
        ),
        ("B's task, A's ticket", json!({"task_id": b.task, "ticket_id": a.ticket}), "ticket_id"),
        ("A's task, B's ticket", json!({"task_id": a.task, "ticket_id": b.ticket}), "ticket_id"),
        (
            "A's ticket, B's line, no task",
            json!({"project_id": before["timesheets"][0]["project_id"], "ticket_id": a.ticket, "sale_line_id": b.line}),
            "sale_line_id",
        ),
        (
            "a line sales does not know",
            json!({"task_id": a.task, "sale_line_id": uuid::Uuid::now_v7()}),
            "sale_line_id",
        ),
        ("a ticket helpdesk does not know", json!({"task_id": a.task, "ticket_id": uuid::Uuid::now_v7()}), "ticket_id"),
    ];
    for (what, links, field) in refused {
        agent
            .invalid(Projects, Method::POST, "/timesheets", &entry(links), field)
            .await
            .map_err(|e| format!("{what}: {e}"))?;
        unchanged(sys, &w, &before, what).await?;
    }

    // A's entry, edited or moved towards B.
    let path = format!("/timesheets/{}", id(&own));
    let edits = [
        ("to B's line", json!({"sale_line_id": b.line}), "sale_line_id"),
        ("to B's task", json!({"task_id": b.task}), "task_id"),
        ("to B's ticket", json!({"ticket_id": b.ticket}), "ticket_id"),
        ("to B's task and line", json!({"task_id": b.task, "sale_line_id": b.line}), "sale_line_id"),
        ("to a line sales does not know", json!({"sale_line_id": uuid::Uuid::now_v7()}), "sale_line_id"),
    ];
    for (what, changes, field) in edits {
        agent.invalid(Projects, Method::PATCH, &path, &changes, field).await.map_err(|e| format!("{what}: {e}"))?;
        unchanged(sys, &w, &before, what).await?;
    }

    // What stays within one customer still works.
    let (second_line, second_task) = sold(sys, &a.customer, &w.product).await?;
    let moved = agent.patch(Projects, &path, &json!({"task_id": second_task, "hours": "2"})).await?;
    assert_eq!(moved["sale_line_id"], json!(second_line), "{moved}");
    assert_eq!(moved["ticket_id"], json!(a.ticket), "{moved}");
    let back = agent.patch(Projects, &path, &json!({"task_id": a.task, "sale_line_id": a.line})).await?;
    assert_eq!(back["sale_line_id"], json!(a.line), "{back}");
    sys.converged(&[a.line.clone(), b.line.clone(), second_line], 10).await?;
    Ok(())
}

async fn a_task_does_not_take_its_tickets_time_to_another_customers_line(backend: Backend) -> R {
    let mut sys = secured(backend).await?;
    task_moves(&mut sys).await.map_err(|e| format!("{backend:?}: {e}"))?;
    sys.stop().await;
    Ok(())
}
on_both!(
    a_task_does_not_take_its_tickets_time_to_another_customers_line,
    a_task_does_not_take_its_tickets_time_to_another_customers_line_sqlite,
    a_task_does_not_take_its_tickets_time_to_another_customers_line_postgres
);

async fn task_moves(sys: &mut System) -> R {
    let w = world(sys).await?;
    let agent = agent(sys)?;
    let (a, b) = (&w.a, &w.b);
    agent
        .post(
            Helpdesk,
            &format!("/tickets/{}/timesheets", a.ticket),
            &json!({"employee": "Joel Willis", "hours": "2"}),
            StatusCode::CREATED,
        )
        .await?;
    let before = state(sys, &w).await?;

    let path = format!("/tasks/{}", a.task);
    sys.invalid(Projects, Method::PATCH, &path, &json!({"sale_line_id": b.line}), "sale_line_id").await?;
    unchanged(sys, &w, &before, "moving A's task to B's line").await?;
    let task = sys.get(Projects, &path).await?;
    assert_eq!(task["sale_line_id"], json!(a.line), "{task}");

    // To another line of the same customer: its time goes along.
    let (second_line, _) = sold(sys, &a.customer, &w.product).await?;
    let moved = sys.patch(Projects, &path, &json!({"sale_line_id": second_line})).await?;
    assert_eq!(moved["sale_line_id"], json!(second_line), "{moved}");
    let sheets = sys.all(Projects, &format!("/timesheets?task_id={}", a.task)).await?;
    assert!(sheets.iter().all(|s| s["sale_line_id"] == json!(second_line)), "{sheets:?}");
    sys.converged(&[a.line.clone(), second_line], 10).await?;
    Ok(())
}

async fn time_on_a_ticket_projects_cannot_ask_helpdesk_about_is_a_503_that_records_nothing(backend: Backend) -> R {
    // Without tokens: a service the harness restarts neither checks them nor sends its own.
    let mut sys = System::start(backend).await?;
    helpdesk_down(&mut sys).await.map_err(|e| format!("{backend:?}: {e}"))?;
    sys.stop().await;
    Ok(())
}
on_both!(
    time_on_a_ticket_projects_cannot_ask_helpdesk_about_is_a_503_that_records_nothing,
    time_on_a_ticket_projects_cannot_ask_helpdesk_about_is_a_503_that_records_nothing_sqlite,
    time_on_a_ticket_projects_cannot_ask_helpdesk_about_is_a_503_that_records_nothing_postgres
);

async fn helpdesk_down(sys: &mut System) -> R {
    let w = world(sys).await?;
    let a = &w.a;
    // A second ticket of A's, which projects has never heard of.
    let fresh = id(&sys
        .post(
            Helpdesk,
            "/tickets",
            &json!({"team_id": w.team, "customer_id": a.customer, "title": "Scanner jammed", "task_id": a.task}),
            StatusCode::CREATED,
        )
        .await?);
    let before = state(sys, &w).await?;
    let body = entry(json!({"task_id": a.task, "ticket_id": fresh}));

    let port = sys.stop_service(Helpdesk).await?;
    let problem =
        sys.expect(Projects, Method::POST, "/timesheets", Some(&body), StatusCode::SERVICE_UNAVAILABLE).await?;
    assert_eq!(problem["status"], 503, "{problem}");
    unchanged(sys, &w, &before, "time while helpdesk is down").await?;
    sys.restart_service(Helpdesk, port).await?;

    let t = sys.post(Projects, "/timesheets", &body, StatusCode::CREATED).await?;
    assert_eq!(t["ticket_id"], json!(fresh), "{t}");
    // Known from now on: the same time again needs no helpdesk.
    let port = sys.stop_service(Helpdesk).await?;
    sys.post(Projects, "/timesheets", &body, StatusCode::CREATED).await?;
    sys.restart_service(Helpdesk, port).await?;
    Ok(())
}

async fn the_owners_say_whose_a_line_and_a_ticket_are_and_nobody_else_can(backend: Backend) -> R {
    let mut sys = secured(backend).await?;
    owners_tell(&mut sys).await.map_err(|e| format!("{backend:?}: {e}"))?;
    sys.stop().await;
    Ok(())
}
on_both!(
    the_owners_say_whose_a_line_and_a_ticket_are_and_nobody_else_can,
    the_owners_say_whose_a_line_and_a_ticket_are_and_nobody_else_can_sqlite,
    the_owners_say_whose_a_line_and_a_ticket_are_and_nobody_else_can_postgres
);

/// Sales says whose a line is with the task it makes for it, and helpdesk whose a ticket is with
/// the ticket's time, each with its own token: projects then checks ticket time without asking
/// either (here with sales down). The same claim from anyone else is ignored.
async fn owners_tell(sys: &mut System) -> R {
    let w = world(sys).await?;
    let (a, b) = (&w.a, &w.b);
    // An agent naming B's ticket on A's task, claiming the ticket is A's: the claim is not
    // taken, projects asks helpdesk, and the entry is refused on the ticket.
    let lie = entry(json!({"task_id": a.task, "ticket_id": b.ticket, "ticket_customer_id": a.customer}));
    let problem =
        agent(sys)?.expect(Projects, Method::POST, "/timesheets", Some(&lie), StatusCode::UNPROCESSABLE_ENTITY).await?;
    assert_eq!(problem["errors"][0]["field"], "ticket_id", "{problem}");

    sys.stop_service(Sales).await?;
    let time = agent(sys)?
        .post(Helpdesk, &format!("/tickets/{}/timesheets", a.ticket), &entry(json!({})), StatusCode::CREATED)
        .await?;
    assert_eq!(time["sale_line_id"], json!(a.line), "{time}");
    let on_a = sys.all(Projects, &format!("/timesheets?task_id={}", a.task)).await?;
    assert_eq!(on_a.len(), 1, "{on_a:?}");
    Ok(())
}
