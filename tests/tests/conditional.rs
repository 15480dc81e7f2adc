#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Conditional changes (SQLite and PostgreSQL, each its own test): every record answer carries
//! an `ETag` of its representation; a `PATCH` or `DELETE` with `If-Match` naming another
//! version is a 412 problem and changes nothing; two clients editing the same version at once
//! never both win; without `If-Match` a change proceeds as it always did.

use e2e::{Answer, Api, R, System, id, on_both};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use shared::config::Service::{self, Helpdesk, Projects, Sales};
use shared::db::Backend;

fn etag(a: &Answer) -> R<String> {
    Ok(a.headers.get("etag").ok_or_else(|| format!("no ETag on {} {}", a.status, a.text))?.to_str()?.to_owned())
}

async fn get(api: &Api, s: Service, path: &str) -> R<Answer> {
    let a = api.send(api.request(s, Method::GET, path)).await?;
    assert_eq!(a.status, StatusCode::OK, "GET {path}: {}", a.text);
    Ok(a)
}

fn is_precondition_failed(a: &Answer, what: &str) {
    assert_eq!(a.status, StatusCode::PRECONDITION_FAILED, "{what}: {}", a.text);
    assert_eq!(a.body["code"], "precondition_failed", "{what}: {}", a.text);
    let ct = a.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default();
    assert!(ct.starts_with("application/problem+json"), "{what}: {ct}");
}

/// Every record that can be edited: the stale version is refused and changes nothing, the
/// current one wins, and the answer's tag is the one a GET gives next.
async fn stale_edits_are_refused(backend: Backend) -> R {
    let sys = System::start(backend).await?;
    let shop = sys.shop("prepaid").await?;
    let (_, lines) = sys.sold(&shop, 1, "10").await?;
    let (line, task) = lines[0].clone();
    let (team, ticket) = sys.desk(&shop, &task, true).await?;
    let sheet = sys.log_on_ticket(&ticket, "1").await?;
    let manual = sys.shop("manual").await?;
    let (_, manual_lines) = sys.sold(&manual, 1, "5").await?;
    let (manual_line, _) = manual_lines[0].clone();

    let cases: Vec<(Service, String, Value, Value)> = vec![
        (Sales, format!("/customers/{}", shop.customer), json!({"name": "One"}), json!({"name": "Two"})),
        (Sales, format!("/products/{}", shop.product), json!({"name": "One"}), json!({"name": "Two"})),
        (Sales, format!("/order-lines/{manual_line}"), json!({"qty_delivered": "1"}), json!({"qty_delivered": "2"})),
        (Projects, format!("/projects/{}", shop.project), json!({"name": "One"}), json!({"name": "Two"})),
        (Projects, format!("/tasks/{task}"), json!({"name": "One"}), json!({"name": "Two"})),
        (Projects, format!("/timesheets/{}", id(&sheet)), json!({"description": "One"}), json!({"description": "Two"})),
        (Helpdesk, format!("/teams/{team}"), json!({"name": "One"}), json!({"name": "Two"})),
        (Helpdesk, format!("/tickets/{ticket}"), json!({"title": "One"}), json!({"title": "Two"})),
    ];
    for (s, path, first, second) in cases {
        let read = get(&sys, s, &path).await?;
        let held = etag(&read)?;
        assert!(held.starts_with('"') && held.ends_with('"') && held.len() > 2, "{path}: a strong tag: {held}");
        let won = sys.conditional(s, Method::PATCH, &path, Some(&first), Some(&held)).await?;
        assert_eq!(won.status, StatusCode::OK, "{path} with the current tag: {}", won.text);
        let now = etag(&won)?;
        assert_ne!(now, held, "{path}: a changed record has a new tag");
        let stale = sys.conditional(s, Method::PATCH, &path, Some(&second), Some(&held)).await?;
        is_precondition_failed(&stale, &path);
        let after = get(&sys, s, &path).await?;
        assert_eq!(after.body, won.body, "{path}: the refused change changed nothing");
        assert_eq!(etag(&after)?, now, "{path}: the tag of the answer is the tag of the record");
        let weak = sys.conditional(s, Method::PATCH, &path, Some(&second), Some(&format!("W/{now}"))).await?;
        is_precondition_failed(&weak, &format!("{path} (a weak tag never matches)"));
        let any = sys.conditional(s, Method::PATCH, &path, Some(&second), Some("*")).await?;
        assert_eq!(any.status, StatusCode::OK, "{path} with *: {}", any.text);
        let bad = sys.conditional(s, Method::PATCH, &path, Some(&first), Some("not-a-tag")).await?;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{path} with a malformed If-Match: {}", bad.text);
        let plain = sys.conditional(s, Method::PATCH, &path, Some(&first), None).await?;
        assert_eq!(plain.status, StatusCode::OK, "{path} without If-Match proceeds: {}", plain.text);
    }

    // A stale DELETE keeps the timesheet (and its hour on the line); the current one removes it.
    let path = format!("/timesheets/{}", id(&sheet));
    let held = etag(&get(&sys, Projects, &path).await?)?;
    let edited = sys.conditional(Projects, Method::PATCH, &path, Some(&json!({"hours": "2"})), None).await?;
    assert_eq!(edited.status, StatusCode::OK, "{}", edited.text);
    let stale = sys.conditional(Projects, Method::DELETE, &path, None, Some(&held)).await?;
    is_precondition_failed(&stale, "DELETE with a stale tag");
    get(&sys, Projects, &path).await?;
    let gone = sys.conditional(Projects, Method::DELETE, &path, None, Some(&etag(&edited)?)).await?;
    assert_eq!(gone.status, StatusCode::NO_CONTENT, "{}", gone.text);
    assert_eq!(sys.logged_hours(&line).await?, rust_decimal::Decimal::ZERO);

    // Creates and lists are tagged too.
    let created = sys.post_keyed(Sales, "/customers", &json!({"name": "Tagged"}), "tag-1").await?;
    assert_eq!(created.status, StatusCode::CREATED);
    assert_eq!(etag(&created)?, etag(&get(&sys, Sales, &format!("/customers/{}", id(&created.body))).await?)?);
    etag(&get(&sys, Sales, "/customers").await?)?;
    sys.stop().await;
    Ok(())
}
on_both!(stale_edits_are_refused, stale_edits_are_refused_sqlite, stale_edits_are_refused_postgres);

/// Two clients holding the same version edit at once: one wins, the other is told (412), in
/// every round; the record ends as the winner left it.
async fn racing_edits_never_both_win(backend: Backend) -> R {
    let sys = System::start(backend).await?;
    let shop = sys.shop("prepaid").await?;
    let path = format!("/customers/{}", shop.customer);
    for round in 0..12 {
        let held = etag(&get(&sys, Sales, &path).await?)?;
        let (a, b) = (json!({"name": format!("A{round}")}), json!({"name": format!("B{round}")}));
        let (ra, rb) = tokio::join!(
            sys.conditional(Sales, Method::PATCH, &path, Some(&a), Some(&held)),
            sys.conditional(Sales, Method::PATCH, &path, Some(&b), Some(&held)),
        );
        let (ra, rb) = (ra?, rb?);
        let mut statuses = [ra.status.as_u16(), rb.status.as_u16()];
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 412], "round {round}: {} / {}", ra.text, rb.text);
        let winner = if ra.status == StatusCode::OK { &ra } else { &rb };
        assert_eq!(get(&sys, Sales, &path).await?.body["name"], winner.body["name"], "round {round}");
    }
    sys.stop().await;
    Ok(())
}
on_both!(racing_edits_never_both_win, racing_edits_never_both_win_sqlite, racing_edits_never_both_win_postgres);
