#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Time on a ticket is edited and deleted on helpdesk under projects' rules (SQLite and
//! PostgreSQL, each its own test): the line's delivered hours follow, a stale `If-Match` is a
//! 412, an invoiced entry a 409, another ticket's entry a 404, bad input a 422, and none of the
//! refusals changes anything.

use e2e::{Answer, Api, R, System, dec, eventually, id, on_both};
use reqwest::{Method, StatusCode};
use rust_decimal::Decimal;
use serde_json::json;
use shared::config::Service::{Helpdesk, Projects, Sales};
use shared::db::Backend;

fn etag(a: &Answer) -> String {
    a.headers.get("etag").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
}

async fn delivered(api: &Api, line: &str, want: &str) -> R {
    let want: Decimal = want.parse()?;
    eventually(10, || async {
        let l = api.get(Sales, &format!("/order-lines/{line}")).await?;
        let got = dec(&l["qty_delivered"])?;
        if got == want { Ok(()) } else { Err(format!("qty_delivered {got}, want {want}").into()) }
    })
    .await
}

async fn edited_and_deleted_on_the_ticket(backend: Backend) -> R {
    let sys = System::start(backend).await?;
    let shop = sys.shop("prepaid").await?;
    let (_, lines) = sys.sold(&shop, 1, "10").await?;
    let (line, task) = lines[0].clone();
    let (team, ticket) = sys.desk(&shop, &task, true).await?;
    let log = |hours: &str| json!({"employee": "Ann", "hours": hours});
    let sheet =
        id(&sys.post(Helpdesk, &format!("/tickets/{ticket}/timesheets"), &log("2"), StatusCode::CREATED).await?);
    let path = format!("/tickets/{ticket}/timesheets/{sheet}");
    delivered(&sys, &line, "2").await?;

    // The entry as helpdesk answers it is projects' entry, tag and all.
    let read = sys.conditional(Helpdesk, Method::GET, &path, None, None).await?;
    let direct = sys.conditional(Projects, Method::GET, &format!("/timesheets/{sheet}"), None, None).await?;
    assert_eq!((read.body.clone(), etag(&read)), (direct.body.clone(), etag(&direct)));

    let edited = sys
        .conditional(
            Helpdesk,
            Method::PATCH,
            &path,
            Some(&json!({"hours": "3", "description": "Fixed"})),
            Some(&etag(&read)),
        )
        .await?;
    assert_eq!(edited.status, StatusCode::OK, "{}", edited.text);
    assert_eq!((edited.body["hours"].as_str(), edited.body["description"].as_str()), (Some("3.00"), Some("Fixed")));
    delivered(&sys, &line, "3").await?;
    eventually(10, || async {
        let t = sys.get(Helpdesk, &format!("/tickets/{ticket}")).await?;
        if t["hours_spent"] == "3.00" { Ok(()) } else { Err(format!("ticket: {t}").into()) }
    })
    .await?;

    // Refusals change nothing.
    let stale =
        sys.conditional(Helpdesk, Method::PATCH, &path, Some(&json!({"hours": "5"})), Some(&etag(&read))).await?;
    assert_eq!(
        (stale.status, stale.body["code"].as_str()),
        (StatusCode::PRECONDITION_FAILED, Some("precondition_failed")),
        "{}",
        stale.text
    );
    let bad = sys.conditional(Helpdesk, Method::PATCH, &path, Some(&json!({"hours": "1.234"})), None).await?;
    assert_eq!(
        (bad.status, bad.body["errors"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("hours")),
        "{}",
        bad.text
    );
    let elsewhere = sys.conditional(Helpdesk, Method::PATCH, &path, Some(&json!({"task_id": task})), None).await?;
    assert_eq!(elsewhere.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", elsewhere.text);
    let other = sys
        .post(
            Helpdesk,
            "/tickets",
            &json!({"team_id": team, "customer_id": shop.customer, "title": "Other"}),
            StatusCode::CREATED,
        )
        .await?;
    let foreign = format!("/tickets/{}/timesheets/{sheet}", id(&other));
    for method in [Method::PATCH, Method::DELETE] {
        let a = sys.conditional(Helpdesk, method.clone(), &foreign, Some(&json!({"hours": "1"})), None).await?;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{method} through another ticket: {}", a.text);
    }
    let stale_delete = sys.conditional(Helpdesk, Method::DELETE, &path, None, Some(&etag(&read))).await?;
    assert_eq!(stale_delete.status, StatusCode::PRECONDITION_FAILED, "{}", stale_delete.text);
    let now = sys.conditional(Helpdesk, Method::GET, &path, None, None).await?;
    assert_eq!(now.body, edited.body, "the refusals changed the entry");
    delivered(&sys, &line, "3").await?;

    let gone = sys.conditional(Helpdesk, Method::DELETE, &path, None, Some(&etag(&now))).await?;
    assert_eq!(gone.status, StatusCode::NO_CONTENT, "{}", gone.text);
    assert_eq!(sys.conditional(Helpdesk, Method::GET, &path, None, None).await?.status, StatusCode::NOT_FOUND);
    delivered(&sys, &line, "0").await?;
    assert_eq!(sys.logged_hours(&line).await?, Decimal::ZERO);
    sys.stop().await;
    Ok(())
}
on_both!(
    edited_and_deleted_on_the_ticket,
    edited_and_deleted_on_the_ticket_sqlite,
    edited_and_deleted_on_the_ticket_postgres
);

/// Time billed on an invoice is refused on helpdesk as on projects: 409 `timesheet_invoiced`.
async fn invoiced_ticket_time_stays(backend: Backend) -> R {
    let sys = System::start(backend).await?;
    let shop = sys.shop("timesheet").await?;
    let (order, lines) = sys.sold(&shop, 1, "10").await?;
    let (line, task) = lines[0].clone();
    let (_, ticket) = sys.desk(&shop, &task, true).await?;
    let sheet = id(&sys.log_on_ticket(&ticket, "2").await?);
    delivered(&sys, &line, "2").await?;
    sys.post(Sales, &format!("/orders/{order}/invoices"), &json!({}), StatusCode::CREATED).await?;
    let path = format!("/tickets/{ticket}/timesheets/{sheet}");
    for (method, body) in [(Method::PATCH, Some(json!({"hours": "1"}))), (Method::DELETE, None)] {
        let a = sys.conditional(Helpdesk, method.clone(), &path, body.as_ref(), None).await?;
        assert_eq!(
            (a.status, a.body["code"].as_str()),
            (StatusCode::CONFLICT, Some("timesheet_invoiced")),
            "{method}: {}",
            a.text
        );
    }
    assert_eq!(sys.get(Helpdesk, &path).await?["hours"], "2.00");
    sys.stop().await;
    Ok(())
}
on_both!(invoiced_ticket_time_stays, invoiced_ticket_time_stays_sqlite, invoiced_ticket_time_stays_postgres);
