//! A customer token sees its own records only: another customer's customer, order, line,
//! invoice, payments, prepaid hours and tickets answer 404 (as if they did not exist), lists
//! hold its own records only, and it cannot open a ticket for anyone else. Time records who
//! logged it. Nothing a refused request asks for changes anything.

use e2e::R;
use e2e::auth::{World, secured, snapshot};
use reqwest::{Method, StatusCode};
use serde_json::json;
use shared::auth::Role;
use shared::config::Service;
use shared::db::Backend;

#[tokio::test(flavor = "multi_thread")]
async fn a_customer_sees_nothing_of_another_customer() -> R {
    let sys = secured(Backend::Sqlite).await?;
    let w = World::build(&sys.api).await?;
    let me = sys.api.as_role(Role::Customer, Some(&w.mine.customer))?;
    let (mine, other) = (&w.mine, &w.other);
    let before = snapshot(&sys.api, &w).await?;

    let pairs = [
        (Service::Sales, format!("/customers/{}", mine.customer), format!("/customers/{}", other.customer)),
        (
            Service::Sales,
            format!("/customers/{}/prepaid-hours", mine.customer),
            format!("/customers/{}/prepaid-hours", other.customer),
        ),
        (Service::Sales, format!("/orders/{}", mine.order), format!("/orders/{}", other.order)),
        (Service::Sales, format!("/order-lines/{}", mine.line), format!("/order-lines/{}", other.line)),
        (Service::Invoicing, format!("/invoices/{}", mine.invoice), format!("/invoices/{}", other.invoice)),
        (
            Service::Invoicing,
            format!("/invoices/{}/payments", mine.invoice),
            format!("/invoices/{}/payments", other.invoice),
        ),
        (
            Service::Invoicing,
            format!("/invoices/{}/payments/{}", mine.invoice, mine.payment),
            format!("/invoices/{}/payments/{}", other.invoice, other.payment),
        ),
        (Service::Helpdesk, format!("/tickets/{}", mine.ticket), format!("/tickets/{}", other.ticket)),
    ];
    for (s, own, theirs) in &pairs {
        let (status, body) = me.call(*s, Method::GET, own, None).await?;
        assert_eq!(status, StatusCode::OK, "{own}: {body}");
        let (status, body) = me.call(*s, Method::GET, theirs, None).await?;
        assert_eq!(status, StatusCode::NOT_FOUND, "{theirs} must look like it does not exist: {body}");
        assert_eq!(body["code"], "not_found", "{theirs}: {body}");
        // Staff see both.
        assert_eq!(sys.api.call(*s, Method::GET, theirs, None).await?.0, StatusCode::OK, "{theirs} as admin");
    }

    // Lists hold only its own records, whatever filter it asks for.
    let lists = [
        (Service::Sales, "/customers", "id"),
        (Service::Sales, "/orders", "customer_id"),
        (Service::Sales, "/order-lines", "customer_id"),
        (Service::Invoicing, "/invoices", "customer_id"),
        (Service::Helpdesk, "/tickets", "customer_id"),
    ];
    for (s, path, field) in lists {
        let items = me.all(s, path).await?;
        assert!(!items.is_empty(), "{path}: its own records are listed");
        assert!(items.iter().all(|i| i[field] == mine.customer.as_str()), "{path}: {items:?}");
        if field == "customer_id" {
            let theirs = me.all(s, &format!("{path}?customer_id={}", other.customer)).await?;
            assert!(theirs.is_empty(), "{path}?customer_id=<other>: {theirs:?}");
            assert!(!sys.api.all(s, &format!("{path}?customer_id={}", other.customer)).await?.is_empty());
        }
    }

    // Writes: a ticket for another customer is refused as if that customer did not exist; one
    // naming a task or line (the support team's to set) is forbidden; changing others' records
    // is forbidden whatever the id.
    me.invalid(
        Service::Helpdesk,
        Method::POST,
        "/tickets",
        &json!({"team_id": w.team, "customer_id": other.customer, "title": "Not mine"}),
        "customer_id",
    )
    .await?;
    let (status, body) = me
        .call(
            Service::Helpdesk,
            Method::POST,
            "/tickets",
            Some(&json!({"team_id": w.team, "customer_id": mine.customer, "title": "Bill this", "task_id": w.task})),
        )
        .await?;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let refused = [
        (Service::Helpdesk, Method::PATCH, format!("/tickets/{}", other.ticket), json!({"title": "mine now"})),
        (Service::Sales, Method::PATCH, format!("/customers/{}", other.customer), json!({"name": "x"})),
        (Service::Sales, Method::POST, format!("/orders/{}/cancel", other.order), json!({})),
        (Service::Invoicing, Method::POST, format!("/invoices/{}/cancel", other.invoice), json!({})),
        (
            Service::Helpdesk,
            Method::POST,
            format!("/tickets/{}/timesheets", other.ticket),
            json!({"employee": "x", "hours": "1"}),
        ),
    ];
    for (s, m, path, body) in &refused {
        let (status, answer) = me.call(*s, m.clone(), path, Some(body)).await?;
        assert_eq!(status, StatusCode::FORBIDDEN, "{m} {path}: {answer}");
    }
    assert!(snapshot(&sys.api, &w).await? == before, "a refused request changed something");

    // What it may do, it does for itself only.
    let t = me
        .post(
            Service::Helpdesk,
            "/tickets",
            &json!({"team_id": w.team, "customer_id": mine.customer, "title": "My own"}),
            StatusCode::CREATED,
        )
        .await?;
    assert_eq!(t["customer_id"], mine.customer.as_str());
    // Without repeating its own customer_id: the token says whose it is.
    let t = me
        .post(Service::Helpdesk, "/tickets", &json!({"team_id": w.team, "title": "Mine too"}), StatusCode::CREATED)
        .await?;
    assert_eq!(t["customer_id"], mine.customer.as_str());
    // Anyone else must say whose the ticket is.
    sys.api
        .invalid(
            Service::Helpdesk,
            Method::POST,
            "/tickets",
            &json!({"team_id": w.team, "title": "Whose?"}),
            "customer_id",
        )
        .await?;
    sys.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn time_records_who_logged_it() -> R {
    let sys = secured(Backend::Sqlite).await?;
    let w = World::build(&sys.api).await?;
    // Ticket time: helpdesk records it in projects with its service token, for the caller.
    let logged = sys.api.get(Service::Projects, &format!("/timesheets/{}", w.mine.timesheet)).await?;
    assert_eq!(logged["created_by"], "admin", "{logged}");
    let agent = sys.api.as_role(Role::Agent, None)?;
    let sheet = agent
        .post(
            Service::Helpdesk,
            &format!("/tickets/{}/timesheets", w.mine.ticket),
            &json!({"employee": "Marc Demo", "hours": "0.25"}),
            StatusCode::CREATED,
        )
        .await?;
    assert_eq!(sheet["created_by"], "agent-user", "{sheet}");

    // Directly in projects: the caller, and only a service may name someone else.
    let body = json!({"employee": "Marc Demo", "hours": "1", "project_id": w.project});
    let own = agent.post(Service::Projects, "/timesheets", &body, StatusCode::CREATED).await?;
    assert_eq!(own["created_by"], "agent-user");
    let mut for_bob = body.clone();
    for_bob["created_by"] = json!("bob");
    let (status, answer) = agent.call(Service::Projects, Method::POST, "/timesheets", Some(&for_bob)).await?;
    assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
    let service = sys.api.as_role(Role::Service, None)?;
    let bobs = service.post(Service::Projects, "/timesheets", &for_bob, StatusCode::CREATED).await?;
    assert_eq!(bobs["created_by"], "bob");
    sys.stop().await;
    Ok(())
}
