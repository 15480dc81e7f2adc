#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Projects' API over HTTP, on SQLite and on PostgreSQL: the ledger of time, its totals and
//! what it announces, bad input, idempotency and billing claims.

use diesel::prelude::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use shared::config::PeerUrls;
use shared::server::Running;
use shared::testing::{TestDb, spawn};

type R = Result<(), Box<dyn std::error::Error>>;

/// Peers that do not answer: sales and helpdesk are not needed to record time.
fn unreachable_peers() -> PeerUrls {
    let mut p = PeerUrls::local();
    for s in shared::config::Service::ALL {
        p.set(s, "http://127.0.0.1:9".into());
    }
    p
}

struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    fn new(r: &Running) -> Api {
        Api { http: reqwest::Client::new(), base: format!("{}/api/v1", r.url()) }
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<(StatusCode, Value), reqwest::Error> {
        let mut req = self.http.request(method, format!("{}{}", self.base, path));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await?;
        let status = res.status();
        let text = res.text().await?;
        Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
    }

    async fn post(&self, path: &str, body: Value) -> Result<(StatusCode, Value), reqwest::Error> {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }

    async fn get(&self, path: &str) -> Result<(StatusCode, Value), reqwest::Error> {
        self.send(reqwest::Method::GET, path, None).await
    }

    async fn patch(&self, path: &str, body: Value) -> Result<(StatusCode, Value), reqwest::Error> {
        self.send(reqwest::Method::PATCH, path, Some(body)).await
    }
}

/// Sends of the outbox to a target path, as (hours, version) of their bodies, oldest first.
fn sent_totals(r: &Running, path: &str) -> Vec<(String, i64)> {
    use shared::schema::outbox;
    let path = path.to_owned();
    let db = r.ctx.db.clone();
    let rows: Vec<String> = std::thread::spawn(move || {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(db.run(move |c| {
            outbox::table
                .filter(outbox::path.eq(path))
                .order(outbox::id.asc())
                .select(outbox::body)
                .load::<String>(c)
                .map_err(shared::db::StoreError::from)
        }))
        .unwrap()
    })
    .join()
    .unwrap();
    rows.iter()
        .map(|b| {
            let v: Value = serde_json::from_str(b).unwrap();
            (v["hours"].as_str().unwrap().to_owned(), v["version"].as_i64().unwrap())
        })
        .collect()
}

async fn setup(api: &Api, line: &str) -> Result<(String, String), Box<dyn std::error::Error>> {
    let (s, project) = api.post("/projects", json!({"name": "Support"})).await?;
    assert_eq!(s, StatusCode::CREATED);
    let (s, task) = api
        .post("/tasks", json!({"project_id": project["id"], "name": "S00001 - Support hours", "sale_line_id": line, "allocated_hours": "10"}))
        .await?;
    assert_eq!(s, StatusCode::CREATED, "{task}");
    Ok((project["id"].as_str().unwrap().to_owned(), task["id"].as_str().unwrap().to_owned()))
}

/// Projects already knows (as if sales and helpdesk had answered) that `line` and `ticket` are
/// `customer`'s, so that time on them needs no peer.
async fn known(r: &Running, line: &str, ticket: &str, customer: uuid::Uuid) -> R {
    let mut facts = projects::domain::customers::Customers::default();
    facts.lines.insert(line.parse()?, shared::ids::CustomerId(customer));
    facts.tickets.insert(ticket.parse()?, Some(shared::ids::CustomerId(customer)));
    r.ctx.db.write(move |c| projects::store::customers::remember(c, &facts)).await?;
    Ok(())
}

#[tokio::test]
async fn time_logged_counts_on_task_line_and_ticket_and_is_announced() -> R {
    for db in TestDb::both("projects_ledger") {
        let app = spawn(projects::app(), &db, unreachable_peers()).await?;
        let api = Api::new(&app);
        let line = uuid::Uuid::now_v7().to_string();
        let ticket = uuid::Uuid::now_v7().to_string();
        let (project, task) = setup(&api, &line).await?;
        known(&app, &line, &ticket, uuid::Uuid::now_v7()).await?;

        for hours in ["1.5", "1.50", "2.25"] {
            let (s, t) = api
                .post(
                    "/timesheets",
                    json!({"employee": "Marc Demo", "hours": hours, "task_id": task, "ticket_id": ticket}),
                )
                .await?;
            assert_eq!(s, StatusCode::CREATED, "{t}");
            assert_eq!(t["project_id"], json!(project), "takes the task's project");
            assert_eq!(t["sale_line_id"], json!(line), "takes the task's sale line");
        }
        let (_, t) = api.get(&format!("/tasks/{task}")).await?;
        assert_eq!(t["effective_hours"], "5.25");
        assert_eq!(t["remaining_hours"], "4.75");

        let totals = sent_totals(&app, &format!("/api/v1/order-lines/{line}/timesheet-total"));
        assert_eq!(totals, vec![("1.50".into(), 1), ("3.00".into(), 2), ("5.25".into(), 3)]);
        let ticket_totals = sent_totals(&app, &format!("/api/v1/tickets/{ticket}/timesheet-total"));
        assert_eq!(ticket_totals.last(), Some(&("5.25".to_owned(), 3)));

        let (_, list) = api.get(&format!("/timesheets?task_id={task}")).await?;
        assert_eq!(list["items"].as_array().map(Vec::len), Some(3));
        let (_, list) = api.get(&format!("/timesheets?ticket_id={ticket}&limit=2")).await?;
        assert_eq!(list["items"].as_array().map(Vec::len), Some(2));
        let cursor = list["next_cursor"].as_str().unwrap().to_owned();
        let (_, rest) = api.get(&format!("/timesheets?ticket_id={ticket}&limit=2&cursor={cursor}")).await?;
        assert_eq!(rest["items"].as_array().map(Vec::len), Some(1));
        assert_eq!(rest["next_cursor"], Value::Null);
        app.stop().await;
    }
    Ok(())
}

/// Whose a ticket or a line is must be learned from helpdesk or sales before time counts on it:
/// while they cannot answer, such time is a 503 and nothing is recorded; time on the task alone
/// needs neither.
#[tokio::test]
async fn time_on_a_ticket_or_line_not_known_yet_waits_for_its_owner() -> R {
    for db in TestDb::both("projects_owners_down") {
        let app = spawn(projects::app(), &db, unreachable_peers()).await?;
        let api = Api::new(&app);
        let line = uuid::Uuid::now_v7().to_string();
        let (_, task) = setup(&api, &line).await?;
        let (_, plain) = api.post("/timesheets", json!({"employee": "Ann", "hours": "1", "task_id": task})).await?;
        for extra in [json!({"ticket_id": uuid::Uuid::now_v7()}), json!({"sale_line_id": uuid::Uuid::now_v7()})] {
            let mut body = json!({"employee": "Ann", "hours": "2", "task_id": task});
            body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
            let (s, problem) = api.post("/timesheets", body.clone()).await?;
            assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{body}: {problem}");
            let id = plain["id"].as_str().unwrap();
            let (s, problem) = api.patch(&format!("/timesheets/{id}"), extra).await?;
            assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{problem}");
        }
        let (_, list) = api.get(&format!("/timesheets?task_id={task}")).await?;
        assert_eq!(list["items"].as_array().map(Vec::len), Some(1), "nothing more was recorded");
        assert_eq!(list["items"][0]["ticket_id"], Value::Null);
        assert_eq!(list["items"][0]["sale_line_id"], json!(line));
        let (_, t) = api.get(&format!("/tasks/{task}")).await?;
        assert_eq!(t["effective_hours"], "1.00");
        app.stop().await;
    }
    Ok(())
}

#[tokio::test]
async fn moving_and_deleting_time_moves_the_totals_of_both_lines() -> R {
    for db in TestDb::both("projects_move") {
        let app = spawn(projects::app(), &db, unreachable_peers()).await?;
        let api = Api::new(&app);
        let (line_a, line_b) = (uuid::Uuid::now_v7().to_string(), uuid::Uuid::now_v7().to_string());
        let (_, task_a) = setup(&api, &line_a).await?;
        let (_, task_b) = setup(&api, &line_b).await?;
        let (_, t) = api.post("/timesheets", json!({"employee": "Ann", "hours": 3, "task_id": task_a})).await?;
        let id = t["id"].as_str().unwrap().to_owned();

        let (s, moved) = api.patch(&format!("/timesheets/{id}"), json!({"task_id": task_b, "hours": "2.5"})).await?;
        assert_eq!(s, StatusCode::OK, "{moved}");
        assert_eq!(moved["sale_line_id"], json!(line_b));
        let a = sent_totals(&app, &format!("/api/v1/order-lines/{line_a}/timesheet-total"));
        let b = sent_totals(&app, &format!("/api/v1/order-lines/{line_b}/timesheet-total"));
        assert_eq!(a.last(), Some(&("0.00".to_owned(), 2)));
        assert_eq!(b.last(), Some(&("2.50".to_owned(), 1)));
        let (_, ta) = api.get(&format!("/tasks/{task_a}")).await?;
        assert_eq!(ta["effective_hours"], "0.00");

        let res = api.http.delete(format!("{}/timesheets/{id}", api.base)).send().await?;
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        let b = sent_totals(&app, &format!("/api/v1/order-lines/{line_b}/timesheet-total"));
        assert_eq!(b.last(), Some(&("0.00".to_owned(), 2)));
        let (s, _) = api.get(&format!("/timesheets/{id}")).await?;
        assert_eq!(s, StatusCode::NOT_FOUND);
        app.stop().await;
    }
    Ok(())
}

#[tokio::test]
async fn bad_time_is_rejected_naming_the_field_and_records_nothing() -> R {
    for db in TestDb::both("projects_bad") {
        let app = spawn(projects::app(), &db, unreachable_peers()).await?;
        let api = Api::new(&app);
        let line = uuid::Uuid::now_v7().to_string();
        let (_, task) = setup(&api, &line).await?;
        for (hours, status) in [
            (json!(0), StatusCode::UNPROCESSABLE_ENTITY),
            (json!("-1"), StatusCode::UNPROCESSABLE_ENTITY),
            (json!(25), StatusCode::UNPROCESSABLE_ENTITY),
            (json!("1.234"), StatusCode::UNPROCESSABLE_ENTITY),
            (json!(1.234), StatusCode::UNPROCESSABLE_ENTITY),
            (json!("abc"), StatusCode::UNPROCESSABLE_ENTITY),
            (json!(true), StatusCode::UNPROCESSABLE_ENTITY),
            (json!("1e1"), StatusCode::UNPROCESSABLE_ENTITY),
        ] {
            let res = api
                .http
                .post(format!("{}/timesheets", api.base))
                .json(&json!({"employee": "Ann", "hours": hours, "task_id": task}))
                .send()
                .await?;
            assert_eq!(res.status(), status, "hours {hours}");
            assert_eq!(res.headers()["content-type"], "application/problem+json");
            let body: Value = res.json().await?;
            assert_eq!(body["errors"][0]["field"], "hours", "hours {hours}: {body}");
        }
        let (s, body) = api.post("/timesheets", json!({"employee": " ", "hours": 1, "task_id": task})).await?;
        assert_eq!((s, body["errors"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("employee")));
        let (s, body) =
            api.post("/timesheets", json!({"employee": "Ann", "hours": 1, "task_id": uuid::Uuid::now_v7()})).await?;
        assert_eq!((s, body["errors"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("task_id")));
        let (s, body) =
            api.post("/timesheets", json!({"employee": "Ann", "hours": 1, "task_id": task, "colour": "red"})).await?;
        assert_eq!((s, body["errors"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("colour")));
        let (s, body) = api.post("/timesheets", json!({"hours": 1, "task_id": task})).await?;
        assert_eq!((s, body["errors"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("employee")));

        let res = api
            .http
            .post(format!("{}/timesheets", api.base))
            .header("content-type", "application/json")
            .body("{\"hours\":")
            .send()
            .await?;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        let res = api
            .http
            .post(format!("{}/timesheets", api.base))
            .header("content-type", "text/plain")
            .body("{}")
            .send()
            .await?;
        assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
        let big = format!("{{\"employee\":\"{}\"}}", "x".repeat(1_100_000));
        let res = api
            .http
            .post(format!("{}/timesheets", api.base))
            .header("content-type", "application/json")
            .body(big)
            .send()
            .await?;
        assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(res.headers()["content-type"], "application/problem+json");

        let (_, list) = api.get(&format!("/timesheets?task_id={task}")).await?;
        assert_eq!(list["items"], json!([]), "nothing was recorded");
        assert!(sent_totals(&app, &format!("/api/v1/order-lines/{line}/timesheet-total")).is_empty());
        app.stop().await;
    }
    Ok(())
}

#[tokio::test]
async fn framework_rejections_are_problems_too() -> R {
    let db = TestDb::sqlite("projects_framework")?;
    let app = spawn(projects::app(), &db, unreachable_peers()).await?;
    let api = Api::new(&app);
    for (method, path, status) in [
        (reqwest::Method::GET, "/nowhere", StatusCode::NOT_FOUND),
        (reqwest::Method::GET, "/tasks/not-a-uuid", StatusCode::UNPROCESSABLE_ENTITY),
        (reqwest::Method::GET, &format!("/tasks/{}", uuid::Uuid::now_v7()), StatusCode::NOT_FOUND),
        (reqwest::Method::PUT, "/timesheets", StatusCode::METHOD_NOT_ALLOWED),
        (reqwest::Method::GET, "/timesheets?limit=0", StatusCode::UNPROCESSABLE_ENTITY),
        (reqwest::Method::GET, "/timesheets?limit=abc", StatusCode::UNPROCESSABLE_ENTITY),
        (reqwest::Method::GET, "/timesheets?colour=red", StatusCode::UNPROCESSABLE_ENTITY),
    ] {
        let res = api.http.request(method.clone(), format!("{}{}", api.base, path)).send().await?;
        assert_eq!(res.status(), status, "{method} {path}");
        assert_eq!(res.headers()["content-type"], "application/problem+json", "{method} {path}");
        let body: Value = res.json().await?;
        assert_eq!(body["status"], status.as_u16(), "{method} {path}");
        assert!(body["type"].is_string() && body["title"].is_string() && body["detail"].is_string());
    }
    let health: Value = api.http.get(format!("{}/health", app.url())).send().await?.json().await?;
    assert_eq!(health, json!({"status": "ok", "service": "projects"}));
    let ready = api.http.get(format!("{}/ready", app.url())).send().await?;
    assert_eq!(ready.status(), StatusCode::OK);
    let res = api.http.get(format!("{}/openapi.json", api.base)).send().await?;
    assert_eq!(res.status(), StatusCode::OK);
    let doc: Value = res.json().await?;
    assert!(doc["paths"]["/api/v1/timesheets"]["post"].is_object());
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn an_idempotency_key_replays_the_first_answer() -> R {
    for db in TestDb::both("projects_idem") {
        let app = spawn(projects::app(), &db, unreachable_peers()).await?;
        let api = Api::new(&app);
        let line = uuid::Uuid::now_v7().to_string();
        let (_, task) = setup(&api, &line).await?;
        let body = json!({"employee": "Ann", "hours": "2", "task_id": task});
        let post = |b: &Value| {
            api.http.post(format!("{}/timesheets", api.base)).header("Idempotency-Key", "k-1").json(b).send()
        };
        let first = post(&body).await?;
        assert_eq!(first.status(), StatusCode::CREATED);
        let location = first.headers()["location"].clone();
        let first: Value = first.json().await?;
        let again = post(&body).await?;
        assert_eq!(again.status(), StatusCode::CREATED);
        assert_eq!(again.headers()["location"], location);
        assert_eq!(again.json::<Value>().await?, first);
        let other = post(&json!({"employee": "Ann", "hours": "3", "task_id": task})).await?;
        assert_eq!(other.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let (_, list) = api.get(&format!("/timesheets?task_id={task}")).await?;
        assert_eq!(list["items"].as_array().map(Vec::len), Some(1));
        let (_, t) = api.get(&format!("/tasks/{task}")).await?;
        assert_eq!(t["effective_hours"], "2.00");
        app.stop().await;
    }
    Ok(())
}

#[tokio::test]
async fn concurrent_writers_on_one_line_give_the_exact_total() -> R {
    for db in TestDb::both("projects_race") {
        let app = spawn(projects::app(), &db, unreachable_peers()).await?;
        let api = std::sync::Arc::new(Api::new(&app));
        let line = uuid::Uuid::now_v7().to_string();
        let (_, task) = setup(&api, &line).await?;
        let writers: Vec<_> = (0..40)
            .map(|i| {
                let (api, task) = (api.clone(), task.clone());
                tokio::spawn(async move {
                    let hours = if i % 2 == 0 { "0.25" } else { "1.10" };
                    api.post("/timesheets", json!({"employee": format!("agent {i}"), "hours": hours, "task_id": task}))
                        .await
                })
            })
            .collect();
        for w in writers {
            let (s, body) = w.await??;
            assert_eq!(s, StatusCode::CREATED, "{body}");
        }
        let totals = sent_totals(&app, &format!("/api/v1/order-lines/{line}/timesheet-total"));
        assert_eq!(totals.len(), 40);
        assert_eq!(totals.iter().map(|t| t.1).max(), Some(40), "one version per write");
        let last = totals.iter().max_by_key(|t| t.1).unwrap();
        assert_eq!(last.0, "27.00", "20 × 0.25 + 20 × 1.10");
        let (_, t) = api.get(&format!("/tasks/{task}")).await?;
        assert_eq!(t["effective_hours"], "27.00");
        app.stop().await;
    }
    Ok(())
}

#[tokio::test]
async fn billed_time_is_locked_until_released() -> R {
    for db in TestDb::both("projects_claims") {
        let app = spawn(projects::app(), &db, unreachable_peers()).await?;
        let api = Api::new(&app);
        let line = uuid::Uuid::now_v7().to_string();
        let (_, task) = setup(&api, &line).await?;
        let mut ids = vec![];
        for (date, hours) in [("2026-10-01", "2"), ("2026-10-20", "3"), ("2026-11-02", "4")] {
            let (_, t) = api
                .post("/timesheets", json!({"employee": "Ann", "hours": hours, "task_id": task, "date": date}))
                .await?;
            ids.push(t["id"].as_str().unwrap().to_owned());
        }
        let invoice = uuid::Uuid::now_v7().to_string();
        let claim =
            json!({"invoice_id": invoice, "sale_line_ids": [line], "date_from": "2026-10-01", "date_to": "2026-10-31"});
        let (s, c) = api.post("/timesheet-claims", claim.clone()).await?;
        assert_eq!(s, StatusCode::OK, "{c}");
        assert_eq!(c["lines"], json!([{"sale_line_id": line, "hours": "5.00", "timesheets": 2}]));
        let (_, again) = api.post("/timesheet-claims", claim).await?;
        assert_eq!(again["lines"], c["lines"], "a repeat claims nothing new");

        let (s, body) = api.patch(&format!("/timesheets/{}", ids[0]), json!({"hours": 1})).await?;
        assert_eq!(s, StatusCode::CONFLICT, "{body}");
        let res = api.http.delete(format!("{}/timesheets/{}", api.base, ids[1])).send().await?;
        assert_eq!(res.status(), StatusCode::CONFLICT);
        let (s, _) = api.patch(&format!("/timesheets/{}", ids[2]), json!({"hours": 1})).await?;
        assert_eq!(s, StatusCode::OK, "time outside the period is not billed");

        let other = uuid::Uuid::now_v7().to_string();
        let (_, c2) = api.post("/timesheet-claims", json!({"invoice_id": other, "sale_line_ids": [line]})).await?;
        assert_eq!(c2["lines"][0]["hours"], "1.00", "billed time is never billed twice");

        let (s, r) =
            api.post(&format!("/timesheet-claims/{invoice}/release"), json!({"sale_line_ids": [line]})).await?;
        assert_eq!((s, r["released"].as_i64()), (StatusCode::OK, Some(2)));
        let (s, _) = api.patch(&format!("/timesheets/{}", ids[0]), json!({"hours": 1})).await?;
        assert_eq!(s, StatusCode::OK, "released time is editable again");
        app.stop().await;
    }
    Ok(())
}

/// A task moved to another sale line while time is being logged on it: the time counts on the
/// line the task has when the timesheet is written, never on the one it left. On PostgreSQL the
/// entry reads the task, then waits on the move's row lock, and is refused (409 `task_moved`,
/// nothing recorded); on SQLite the move holds the one write lock, so the entry runs after it.
#[tokio::test]
async fn time_logged_while_its_task_moves_to_another_line_never_counts_on_the_old_one() -> R {
    use diesel::Connection;
    use projects::store::schema::{tasks, timesheets};
    use shared::contracts::line_timesheet_total_path;
    use shared::db::{DbConn, Uid};
    for db in TestDb::both("projects_task_moves") {
        let r = spawn(projects::app(), &db, unreachable_peers()).await?;
        let api = Api::new(&r);
        let (old_line, new_line) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
        let (_, task) = setup(&api, &old_line.to_string()).await?;
        let task_id = Uid(task.parse()?);

        // The move, held open in a transaction of its own.
        let (moved_tx, moved_rx) = std::sync::mpsc::channel::<()>();
        let (commit_tx, commit_rx) = std::sync::mpsc::channel::<()>();
        let url = db.url.clone();
        let mover = std::thread::spawn(move || {
            let mut c = DbConn::establish(&url).unwrap();
            shared::db::transaction(&mut c, |c| {
                diesel::update(tasks::table.find(task_id))
                    .set(tasks::sale_line_id.eq(Some(Uid(new_line))))
                    .execute(c)
                    .map_err(shared::db::StoreError::from)?;
                moved_tx.send(()).unwrap();
                commit_rx.recv().unwrap();
                Ok::<_, shared::db::StoreError>(())
            })
            .unwrap();
        });
        moved_rx.recv()?;
        let entry = {
            let api = Api::new(&r);
            let task = task.clone();
            tokio::spawn(async move {
                api.post("/timesheets", json!({"task_id": task, "employee": "Mitchell Admin", "hours": "1.50"})).await
            })
        };
        tokio::time::sleep(std::time::Duration::from_millis(400)).await;
        commit_tx.send(())?;
        mover.join().unwrap();
        let (s, body) = entry.await??;

        let mut c = DbConn::establish(&db.url)?;
        let sheets: Vec<Option<Uid>> = timesheets::table.select(timesheets::sale_line_id).load(&mut c)?;
        let sent = |line: uuid::Uuid| sent_totals(&r, &line_timesheet_total_path(line));
        assert_eq!(sent(old_line), vec![], "{:?}: time counted on the old line", db.backend);
        match s {
            StatusCode::CONFLICT => {
                assert_eq!(body["code"], json!("task_moved"), "{body}");
                assert!(sheets.is_empty(), "{:?}: a refused entry left a timesheet", db.backend);
            }
            StatusCode::CREATED => {
                assert_eq!(body["sale_line_id"], json!(new_line.to_string()), "{body}");
                assert_eq!(sheets, vec![Some(Uid(new_line))]);
                assert_eq!(sent(new_line), vec![("1.50".to_owned(), 1)]);
            }
            other => panic!("{:?}: {other} {body}", db.backend),
        }
        r.stop().await;
    }
    Ok(())
}
