#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `Idempotency-Key` on every POST of every service, enumerated from the committed OpenAPI
//! documents so that none is forgotten, on every backend: a replay answers the first answer
//! (status, body, `Location`) and changes nothing anywhere; the same key with another body is
//! a 422; keys are scoped per endpoint (one key is used on every endpoint here, each time
//! afresh); keys are kept 24 hours at least (`purge` refuses younger ones); and the services'
//! own calls to each other carry keys.

use std::collections::BTreeSet;

use diesel::prelude::*;
use e2e::{R, System, connect, id, on_both_with};
use reqwest::StatusCode;
use serde_json::{Value, json};
use shared::config::Service::{self, Helpdesk, Invoicing, Projects, Sales};
use shared::db::Backend;
use shared::schema::idempotency_keys as keys;

const KEY: &str = "one-key-for-every-endpoint";

/// Every POST operation of a service's committed OpenAPI document, as a path template under
/// `/api/v1` (e.g. `/orders/{id}/confirm`).
fn posts(s: Service) -> Vec<String> {
    let doc = e2e::document(s);
    doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, ops)| ops.get("post").is_some())
        .map(|(p, _)| p.trim_start_matches("/api/v1").to_owned())
        .collect()
}

/// Every collection of every service, all pages: what "changes nothing" is checked against.
async fn world(sys: &System) -> R<Vec<Value>> {
    let mut out = vec![];
    for (s, path) in [
        (Sales, "/customers"),
        (Sales, "/products"),
        (Sales, "/orders"),
        (Sales, "/order-lines"),
        (Invoicing, "/invoices"),
        (Projects, "/projects"),
        (Projects, "/tasks"),
        (Projects, "/timesheets"),
        (Helpdesk, "/teams"),
        (Helpdesk, "/tickets"),
    ] {
        out.push(Value::Array(sys.all(s, path).await?));
    }
    Ok(out)
}

/// The world once the messages the last request started have all arrived.
async fn settled(sys: &System) -> R<Vec<Value>> {
    let mut prev = world(sys).await?;
    for _ in 0..60 {
        tokio::time::sleep(std::time::Duration::from_millis(150)).await;
        let now = world(sys).await?;
        if now == prev {
            return Ok(now);
        }
        prev = now;
    }
    Err("the world did not settle".into())
}

struct Checked {
    template: String,
}

/// Sends `body` twice with [`KEY`] and once with another body; answers the first answer.
async fn check(sys: &System, s: Service, template: &str, path: &str, body: Value) -> R<(Value, Checked)> {
    let first = sys.post_keyed(s, path, &body, KEY).await?;
    if !first.status.is_success() {
        return Err(format!("POST {s} {path}: {} {}", first.status, first.text).into());
    }
    let what = format!("POST {s} {path}");
    if first.status == StatusCode::CREATED {
        // A path on the same origin, never a service's internal address.
        let location = first.headers.get("location").map(|v| v.to_str().unwrap()).unwrap_or("");
        assert!(location.starts_with("/api/v1/"), "{what}: Location {location:?} is not a relative path");
    }
    let before = settled(sys).await?;
    let replay = sys.post_keyed(s, path, &body, KEY).await?;
    assert_eq!(replay.status, first.status, "{what}: replayed status");
    assert_eq!(replay.text, first.text, "{what}: replayed body");
    assert_eq!(replay.headers.get("location"), first.headers.get("location"), "{what}: replayed Location");
    assert_eq!(replay.headers.get("idempotent-replayed").map(|v| v.to_str().unwrap()), Some("true"), "{what}");
    let mut other = body.clone();
    other.as_object_mut().unwrap().insert("__another_body".into(), json!(1));
    let mismatch = sys.post_keyed(s, path, &other, KEY).await?;
    assert_eq!(mismatch.status, StatusCode::UNPROCESSABLE_ENTITY, "{what}: same key, other body: {}", mismatch.text);
    assert_eq!(mismatch.body["status"], 422, "{what}: {}", mismatch.text);
    let after = settled(sys).await?;
    assert!(after == before, "{what}: the replay or the mismatch changed something");
    Ok((first.body, Checked { template: template.to_owned() }))
}

async fn every_post_of_every_service_replays_its_first_answer_for_a_repeated_key(backend: Backend) -> R {
    let sys = System::start(backend).await?;
    every_post(&sys).await.map_err(|e| format!("{backend:?}: {e}"))?;
    sys.stop().await;
    Ok(())
}
on_both_with!(
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)],
    every_post_of_every_service_replays_its_first_answer_for_a_repeated_key,
    every_post_of_every_service_replays_its_first_answer_for_a_repeated_key_sqlite,
    every_post_of_every_service_replays_its_first_answer_for_a_repeated_key_postgres
);

async fn every_post(sys: &System) -> R {
    let mut done: Vec<(Service, Checked)> = vec![];
    macro_rules! post {
        ($s:expr, $template:expr, $path:expr, $body:expr) => {{
            let path: String = $path;
            let (v, c) = check(sys, $s, $template, &path, $body).await?;
            done.push(($s, c));
            v
        }};
    }
    // Projects.
    let project = post!(Projects, "/projects", "/projects".to_owned(), json!({"name": "Idempotent"}));
    let project = id(&project);
    let task = post!(Projects, "/tasks", "/tasks".to_owned(), json!({"name": "Spare task", "project_id": project}));
    post!(
        Projects,
        "/timesheets",
        "/timesheets".to_owned(),
        json!({"employee": "Ann", "hours": "1", "task_id": id(&task)})
    );
    let claim = uuid::Uuid::now_v7();
    post!(
        Projects,
        "/timesheet-claims",
        "/timesheet-claims".to_owned(),
        json!({"invoice_id": claim, "sale_line_ids": [uuid::Uuid::now_v7()]})
    );
    post!(
        Projects,
        "/timesheet-claims/{invoice_id}/release",
        format!("/timesheet-claims/{claim}/release"),
        json!({"sale_line_ids": null})
    );

    // Sales.
    let customer = id(&post!(Sales, "/customers", "/customers".to_owned(), json!({"name": "Azure Interior"})));
    let product = id(&post!(
        Sales,
        "/products",
        "/products".to_owned(),
        json!({"name": "Support hours", "type": "service", "uom": "hour", "list_price": "100",
               "service_policy": "prepaid", "service_tracking": "task_in_project", "project_id": project})
    ));
    let lines = json!([{"product_id": product, "quantity": "10"}]);
    let order = id(&post!(Sales, "/orders", "/orders".to_owned(), json!({"customer_id": customer, "lines": lines})));
    post!(
        Sales,
        "/orders/{id}/lines",
        format!("/orders/{order}/lines"),
        json!({"product_id": product, "quantity": "2"})
    );
    post!(Sales, "/orders/{id}/confirm", format!("/orders/{order}/confirm"), json!({}));
    let invoice = id(&post!(Sales, "/orders/{id}/invoices", format!("/orders/{order}/invoices"), json!({})));
    let spare =
        sys.post(Sales, "/orders", &json!({"customer_id": customer, "lines": lines}), StatusCode::CREATED).await?;
    post!(Sales, "/orders/{id}/cancel", format!("/orders/{}/cancel", id(&spare)), json!({}));

    // Invoicing.
    let loose = id(&post!(
        Invoicing,
        "/invoices",
        "/invoices".to_owned(),
        json!({"customer_id": customer, "lines": [{"description": "Setup", "quantity": "1", "unit_price": "50"}]})
    ));
    post!(Invoicing, "/invoices/{id}/cancel", format!("/invoices/{loose}/cancel"), json!({}));
    post!(Invoicing, "/invoices/{id}/post", format!("/invoices/{invoice}/post"), json!({}));
    post!(Invoicing, "/invoices/{id}/payments", format!("/invoices/{invoice}/payments"), json!({"amount": "100"}));
    post!(Invoicing, "/invoices/{id}/credit-notes", format!("/invoices/{invoice}/credit-notes"), json!({}));

    // Helpdesk.
    let team = id(&post!(
        Helpdesk,
        "/teams",
        "/teams".to_owned(),
        json!({"name": "Support", "use_timesheets": true, "use_time_reinvoicing": true, "project_id": project})
    ));
    let ticket = id(&post!(
        Helpdesk,
        "/tickets",
        "/tickets".to_owned(),
        json!({"team_id": team, "customer_id": customer, "title": "Jammed"})
    ));
    post!(
        Helpdesk,
        "/tickets/{id}/timesheets",
        format!("/tickets/{ticket}/timesheets"),
        json!({"employee": "Joel Willis", "hours": "0.5"})
    );

    // None forgotten: every POST of every document was checked.
    let mut total = 0;
    for s in Service::ALL {
        let documented: BTreeSet<String> = posts(s).into_iter().collect();
        let checked: BTreeSet<String> = done.iter().filter(|(x, _)| *x == s).map(|(_, c)| c.template.clone()).collect();
        assert_eq!(checked, documented, "{s}: the POST operations checked and documented differ");
        total += documented.len();
    }

    // The services' own calls carry keys: sales' outbox to projects (the task), helpdesk to
    // projects (ticket time), sales to invoicing (the invoice).
    let db = |s: Service| sys.dbs.iter().find(|(x, _)| *x == s).map(|(_, d)| d.url.clone()).unwrap();
    let mut conn = connect(&db(Projects))?;
    let projects_keys: Vec<(String, String)> =
        keys::table.filter(keys::key.ne(KEY)).select((keys::path, keys::key)).load(&mut conn)?;
    for path in ["/api/v1/tasks", "/api/v1/timesheets"] {
        assert!(
            projects_keys.iter().any(|(p, _)| p == path),
            "no keyed call from a peer to projects {path}: {projects_keys:?}"
        );
    }
    let mut conn = connect(&db(Invoicing))?;
    let n: i64 = keys::table.filter(keys::key.like("sales-invoice-%")).count().get_result(&mut conn)?;
    assert!(n >= 1, "sales' call to invoicing carried no key");

    // Kept 24 hours at least: purge refuses younger keys, whatever it is asked.
    let mut conn = connect(&db(Sales))?;
    let count = |c: &mut shared::db::DbConn| -> R<i64> { Ok(keys::table.count().get_result(c)?) };
    let kept = count(&mut conn)?;
    assert!(kept >= 7, "sales kept {kept} keys");
    assert_eq!(shared::idempotency::purge(&mut conn, 0)?, 0);
    assert_eq!(shared::idempotency::purge(&mut conn, -5)?, 0);
    let aged = |c: &mut shared::db::DbConn, hours: i64| -> R {
        let at = chrono::Utc::now().naive_utc() - chrono::Duration::hours(hours);
        diesel::update(keys::table).set(keys::created_at.eq(at)).execute(c)?;
        Ok(())
    };
    aged(&mut conn, 23)?;
    assert_eq!(shared::idempotency::purge(&mut conn, 1)?, 0, "a key of 23 hours was dropped");
    assert_eq!(count(&mut conn)?, kept);
    // A replay still answers after 23 hours.
    let again = sys.post_keyed(Sales, "/customers", &json!({"name": "Azure Interior"}), KEY).await?;
    assert_eq!(again.headers.get("idempotent-replayed").map(|v| v.to_str().unwrap()), Some("true"));
    aged(&mut conn, 25)?;
    assert_eq!(shared::idempotency::purge(&mut conn, 24)? as i64, kept, "keys of 25 hours are forgotten");
    println!(
        "retries: {total} POST operations (all of the 4 OpenAPI documents) replayed with one key: first answer back, nothing changed, other body 422"
    );
    Ok(())
}
