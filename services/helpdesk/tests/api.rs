#![allow(clippy::unwrap_used, clippy::expect_used)]
//! API tests: the real helpdesk, projects and sales services, on port 0, on SQLite and on
//! PostgreSQL; for the tests of "sales unreachable", sales is a closed port or is stopped.

use std::collections::BTreeSet;
use std::net::TcpListener;
use std::time::{Duration, Instant};

use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use shared::config::{Config, PeerUrls, Service};
use shared::server::Running;
use shared::testing::{TestDb, spawn, spawn_on};
use uuid::Uuid;

type R<T = ()> = Result<T, Box<dyn std::error::Error>>;

/// A port nothing listens on.
fn closed_url() -> R<String> {
    let l = TcpListener::bind("127.0.0.1:0")?;
    let port = l.local_addr()?.port();
    drop(l);
    Ok(format!("http://127.0.0.1:{port}"))
}

struct Stack {
    sales: Option<Running>,
    _sales_db: TestDb,
    projects: Option<Running>,
    helpdesk: Running,
    projects_db: TestDb,
    helpdesk_url: String,
    http: Client,
    _helpdesk_db: TestDb,
}

impl Stack {
    /// Projects first (told where helpdesk will listen, for its outbox), then helpdesk.
    async fn start(projects_db: TestDb, helpdesk_db: TestDb, sales_db: TestDb, with_sales: bool) -> R<Stack> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let helpdesk_url = format!("http://127.0.0.1:{}", listener.local_addr()?.port());
        let closed = closed_url()?;
        // Sales' port is taken first: projects asks sales whose a line is.
        let sales_listener = TcpListener::bind("127.0.0.1:0")?;
        let sales_url = if with_sales {
            format!("http://127.0.0.1:{}", sales_listener.local_addr()?.port())
        } else {
            closed.clone()
        };
        let projects =
            spawn(projects::app(), &projects_db, Stack::peers_of_projects(&helpdesk_url, &sales_url)?).await?;
        let sales = if with_sales {
            let peers = PeerUrls {
                sales: closed.clone(),
                invoicing: closed.clone(),
                projects: projects.url(),
                helpdesk: helpdesk_url.clone(),
            };
            Some(spawn_on(sales::app(), &sales_db, peers, sales_listener).await?)
        } else {
            None
        };
        let peers =
            PeerUrls { sales: sales_url, invoicing: closed, projects: projects.url(), helpdesk: helpdesk_url.clone() };
        let config = Config {
            service: Service::Helpdesk,
            bind: "127.0.0.1:0".into(),
            database_url: helpdesk_db.url.clone(),
            peers,
            cors: Default::default(),
            auth: None,
            docs_portal: false,
        };
        let helpdesk = shared::server::start(helpdesk::app(), config, Some(listener)).await?;
        Ok(Stack {
            sales,
            _sales_db: sales_db,
            projects: Some(projects),
            helpdesk,
            projects_db,
            helpdesk_url,
            http: Client::new(),
            _helpdesk_db: helpdesk_db,
        })
    }

    fn peers_of_projects(helpdesk_url: &str, sales_url: &str) -> R<PeerUrls> {
        let closed = closed_url()?;
        Ok(PeerUrls {
            sales: sales_url.to_owned(),
            invoicing: closed.clone(),
            projects: closed,
            helpdesk: helpdesk_url.to_owned(),
        })
    }

    /// Every backend, each with its own pair of fresh databases, and the sales stub.
    async fn each(name: &str) -> R<Vec<Stack>> {
        Stack::each_with(name, true).await
    }

    /// Every backend, with sales unreachable.
    async fn each_without_sales(name: &str) -> R<Vec<Stack>> {
        Stack::each_with(name, false).await
    }

    async fn each_with(name: &str, with_sales: bool) -> R<Vec<Stack>> {
        let mut stacks = Vec::new();
        let dbs = TestDb::both(&format!("{name}_p"))
            .into_iter()
            .zip(TestDb::both(&format!("{name}_h")))
            .zip(TestDb::both(&format!("{name}_s")));
        for ((p, h), s) in dbs {
            stacks.push(Stack::start(p, h, s, with_sales).await?);
        }
        Ok(stacks)
    }

    /// A new customer in sales with a confirmed order of 10 prepaid hours: (customer, line).
    async fn confirmed_line(&self) -> R<(Uuid, Uuid)> {
        let sales = self.sales.as_ref().map(Running::url).ok_or("sales is not running")?;
        let call = |path: &str, body: Value| self.send(Method::POST, format!("{sales}/api/v1{path}"), Some(body));
        let (_, customer) = call("/customers", json!({"name": "Azure Interior"})).await?;
        let product = json!({"name": "Support hours", "type": "service", "uom": "hour", "list_price": "100",
                             "service_policy": "prepaid", "service_tracking": "none"});
        let (s, product) = call("/products", product).await?;
        assert_eq!(s, StatusCode::CREATED, "{product}");
        let order = json!({"customer_id": customer["id"], "lines": [{"product_id": product["id"], "quantity": "10"}]});
        let (s, order) = call("/orders", order).await?;
        assert_eq!(s, StatusCode::CREATED, "{order}");
        let (s, order) =
            call(&format!("/orders/{}/confirm", order["id"].as_str().unwrap_or_default()), json!({})).await?;
        assert_eq!(s, StatusCode::OK, "{order}");
        let id = |v: &Value| Uuid::parse_str(v.as_str().unwrap_or_default());
        Ok((id(&customer["id"])?, id(&order["lines"][0]["id"])?))
    }

    /// Sales stops (its database stays).
    async fn sales_goes_down(&mut self) {
        if let Some(s) = self.sales.take() {
            s.stop().await;
        }
    }

    fn projects_url(&self) -> String {
        self.projects.as_ref().map(|p| p.url()).expect("projects is running")
    }

    async fn send(&self, method: Method, url: String, body: Option<Value>) -> R<(StatusCode, Value)> {
        let mut req = self.http.request(method, url);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await?;
        let status = res.status();
        let text = res.text().await?;
        let value = if text.is_empty() { Value::Null } else { serde_json::from_str(&text)? };
        Ok((status, value))
    }

    async fn hd(&self, method: Method, path: &str, body: Option<Value>) -> R<(StatusCode, Value)> {
        self.send(method, format!("{}/api/v1{path}", self.helpdesk_url), body).await
    }

    async fn pj(&self, method: Method, path: &str, body: Option<Value>) -> R<(StatusCode, Value)> {
        self.send(method, format!("{}/api/v1{path}", self.projects_url()), body).await
    }

    async fn team(&self, body: Value) -> R<Value> {
        let (s, t) = self.hd(Method::POST, "/teams", Some(body)).await?;
        assert_eq!(s, StatusCode::CREATED, "{t}");
        Ok(t)
    }

    async fn ticket(&self, body: Value) -> R<Value> {
        let (s, t) = self.hd(Method::POST, "/tickets", Some(body)).await?;
        assert_eq!(s, StatusCode::CREATED, "{t}");
        Ok(t)
    }

    /// A project and a task in projects, for `customer`, counting on `line`.
    async fn task(&self, customer: Uuid, line: Option<Uuid>) -> R<Value> {
        let (s, p) =
            self.pj(Method::POST, "/projects", Some(json!({"name": "Support", "customer_id": customer}))).await?;
        assert_eq!(s, StatusCode::CREATED, "{p}");
        let body =
            json!({"project_id": p["id"], "name": "S00001 - Support", "customer_id": customer, "sale_line_id": line});
        let (s, t) = self.pj(Method::POST, "/tasks", Some(body)).await?;
        assert_eq!(s, StatusCode::CREATED, "{t}");
        Ok(t)
    }

    async fn ticket_timesheets_in_projects(&self, ticket: &Value) -> R<Vec<Value>> {
        let id = ticket["id"].as_str().unwrap_or_default();
        let (s, page) = self.pj(Method::GET, &format!("/timesheets?ticket_id={id}"), None).await?;
        assert_eq!(s, StatusCode::OK, "{page}");
        Ok(page["items"].as_array().cloned().unwrap_or_default())
    }

    async fn stop(mut self) {
        if let Some(p) = self.projects.take() {
            p.stop().await;
        }
        self.sales_goes_down().await;
        self.helpdesk.stop().await;
    }
}

fn fields(problem: &Value) -> Vec<String> {
    problem["errors"].as_array().into_iter().flatten().filter_map(|e| e["field"].as_str().map(str::to_owned)).collect()
}

fn assert_invalid(status: StatusCode, problem: &Value, field: &str) {
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert!(fields(problem).iter().any(|f| f == field), "expected an error on {field}: {problem}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn teams_are_validated_and_get_a_project_for_their_time() -> R {
    for st in Stack::each("teams").await? {
        let (s, p) = st.hd(Method::POST, "/teams", Some(json!({"name": "  "}))).await?;
        assert_invalid(s, &p, "name");
        let (s, p) = st.hd(Method::POST, "/teams", Some(json!({"name": "Care", "use_time_reinvoicing": true}))).await?;
        assert_invalid(s, &p, "use_time_reinvoicing");
        let (s, p) = st.hd(Method::POST, "/teams", Some(json!({"name": "Care", "colour": "red"}))).await?;
        assert_invalid(s, &p, "colour");
        let (s, p) = st.hd(Method::POST, "/teams", Some(json!({"name": "Care", "project_id": Uuid::now_v7()}))).await?;
        assert_invalid(s, &p, "project_id");

        let care = st.team(json!({"name": "Care", "use_timesheets": true, "use_time_reinvoicing": true})).await?;
        assert_eq!(care["use_time_reinvoicing"], json!(true));
        let project = care["project_id"].as_str().expect("a project was created");
        let (s, p) = st.pj(Method::GET, &format!("/projects/{project}"), None).await?;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(p["name"], json!("Care"));

        let quiet = st.team(json!({"name": "Quiet"})).await?;
        assert_eq!(quiet["use_timesheets"], json!(false));
        assert_eq!(quiet["project_id"], Value::Null);
        let id = quiet["id"].as_str().unwrap_or_default();
        let (s, p) = st.hd(Method::PATCH, &format!("/teams/{id}"), Some(json!({"use_time_reinvoicing": true}))).await?;
        assert_invalid(s, &p, "use_time_reinvoicing");
        let (s, t) = st.hd(Method::PATCH, &format!("/teams/{id}"), Some(json!({"use_timesheets": true}))).await?;
        assert_eq!(s, StatusCode::OK, "{t}");
        let project = t["project_id"].as_str().expect("a project was created on turning timesheets on");
        let (s, p) = st.pj(Method::GET, &format!("/projects/{project}"), None).await?;
        assert_eq!((s, &p["name"]), (StatusCode::OK, &json!("Quiet")));

        let given = st.team(json!({"name": "Given", "use_timesheets": true, "project_id": project})).await?;
        assert_eq!(given["project_id"], json!(project));
        let (s, fetched) =
            st.hd(Method::GET, &format!("/teams/{}", given["id"].as_str().unwrap_or_default()), None).await?;
        assert_eq!((s, &fetched["name"]), (StatusCode::OK, &json!("Given")));

        let (s, list) = st.hd(Method::GET, "/teams", None).await?;
        assert_eq!(s, StatusCode::OK);
        let names: Vec<&str> =
            list["items"].as_array().into_iter().flatten().filter_map(|t| t["name"].as_str()).collect();
        assert_eq!(names, ["Given", "Quiet", "Care"], "newest first, and no rejected team was written");
        let (s, _) = st.hd(Method::GET, &format!("/teams/{}", Uuid::now_v7()), None).await?;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (s, doc) = st.hd(Method::GET, "/openapi.json", None).await?;
        assert_eq!(s, StatusCode::OK);
        for path in [
            "/api/v1/teams/{id}",
            "/api/v1/tickets",
            "/api/v1/tickets/{id}/timesheets",
            "/api/v1/tickets/{id}/timesheet-total",
        ] {
            assert!(doc["paths"].get(path).is_some(), "{path} missing from the OpenAPI document");
        }
        st.stop().await;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tickets_are_numbered_without_gaps_even_concurrently() -> R {
    for st in Stack::each("numbers").await? {
        let team = st.team(json!({"name": "Care"})).await?;
        let customer = Uuid::now_v7();
        let mut numbers = Vec::new();
        for i in 0..3 {
            let t = st
                .ticket(json!({"team_id": team["id"], "customer_id": customer, "title": format!("Issue {i}")}))
                .await?;
            assert_eq!(t["stage"], json!("new"));
            assert_eq!(t["hours_spent"], json!("0.00"));
            assert_eq!(t["remaining_hours"], Value::Null);
            numbers.push(t["number"].as_i64().unwrap_or_default());
        }
        assert_eq!(numbers, [1, 2, 3]);

        // Rejected tickets take no number.
        let (s, p) = st
            .hd(Method::POST, "/tickets", Some(json!({"team_id": team["id"], "customer_id": customer, "title": ""})))
            .await?;
        assert_invalid(s, &p, "title");
        let (s, p) = st
            .hd(
                Method::POST,
                "/tickets",
                Some(json!({"team_id": Uuid::now_v7(), "customer_id": customer, "title": "x"})),
            )
            .await?;
        assert_invalid(s, &p, "team_id");
        let (s, p) = st.hd(Method::POST, "/tickets", Some(json!({"team_id": team["id"], "title": "x"}))).await?;
        assert_invalid(s, &p, "customer_id");
        let (s, p) = st
            .hd(
                Method::POST,
                "/tickets",
                Some(json!({"team_id": team["id"], "customer_id": customer, "title": "x", "stage": "open"})),
            )
            .await?;
        assert_invalid(s, &p, "stage");

        let creates = (0..20).map(|i| {
            let body = json!({"team_id": team["id"], "customer_id": customer, "title": format!("Rush {i}")});
            st.hd(Method::POST, "/tickets", Some(body))
        });
        let mut concurrent = BTreeSet::new();
        for answer in futures_util::future::join_all(creates).await {
            let (s, t) = answer?;
            assert_eq!(s, StatusCode::CREATED, "{t}");
            assert!(concurrent.insert(t["number"].as_i64().unwrap_or_default()), "duplicate number {t}");
        }
        assert_eq!(concurrent, (4..=23).collect::<BTreeSet<i64>>());

        let id = st.ticket(json!({"team_id": team["id"], "customer_id": Uuid::now_v7(), "title": "Other"})).await?;
        assert_eq!(id["number"], json!(24));
        let (s, t) = st
            .hd(
                Method::PATCH,
                &format!("/tickets/{}", id["id"].as_str().unwrap_or_default()),
                Some(json!({"stage": "solved"})),
            )
            .await?;
        assert_eq!((s, &t["stage"]), (StatusCode::OK, &json!("solved")));
        let (s, page) = st.hd(Method::GET, &format!("/tickets?customer_id={customer}&limit=200"), None).await?;
        assert_eq!(s, StatusCode::OK, "{page}");
        assert_eq!(page["items"].as_array().map(Vec::len), Some(23));
        let (s, page) = st.hd(Method::GET, "/tickets?stage=solved", None).await?;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(page["items"][0]["number"], json!(24));
        assert_eq!(page["items"].as_array().map(Vec::len), Some(1));
        let (s, p) = st.hd(Method::GET, "/tickets?stage=open", None).await?;
        assert_invalid(s, &p, "stage");
        st.stop().await;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn linking_a_task_sets_the_sale_line_and_checks_the_customer() -> R {
    for mut st in Stack::each("links").await? {
        let team = st.team(json!({"name": "Care", "use_timesheets": true})).await?;
        let (customer, line) = st.confirmed_line().await?;
        let (stranger, stranger_line) = st.confirmed_line().await?;
        let task = st.task(customer, Some(line)).await?;
        let foreign = st.task(stranger, Some(stranger_line)).await?;

        let t = st
            .ticket(json!({"team_id": team["id"], "customer_id": customer, "title": "Linked", "task_id": task["id"]}))
            .await?;
        assert_eq!(t["task_id"], task["id"]);
        assert_eq!(t["sale_line_id"], json!(line));

        let (s, p) = st
            .hd(
                Method::POST,
                "/tickets",
                Some(json!({"team_id": team["id"], "customer_id": customer, "title": "x", "task_id": foreign["id"]})),
            )
            .await?;
        assert_invalid(s, &p, "task_id");
        let (s, p) = st
            .hd(
                Method::POST,
                "/tickets",
                Some(json!({"team_id": team["id"], "customer_id": customer, "title": "x", "task_id": Uuid::now_v7()})),
            )
            .await?;
        assert_invalid(s, &p, "task_id");
        // A line set directly needs a team that reinvoices time.
        let (s, p) = st
            .hd(
                Method::POST,
                "/tickets",
                Some(json!({"team_id": team["id"], "customer_id": customer, "title": "x", "sale_line_id": line})),
            )
            .await?;
        assert_invalid(s, &p, "sale_line_id");

        let plain = st.ticket(json!({"team_id": team["id"], "customer_id": customer, "title": "Plain"})).await?;
        assert_eq!(plain["sale_line_id"], Value::Null);
        let path = format!("/tickets/{}", plain["id"].as_str().unwrap_or_default());
        let (s, p) = st.hd(Method::PATCH, &path, Some(json!({"task_id": foreign["id"]}))).await?;
        assert_invalid(s, &p, "task_id");
        let (s, p) = st.hd(Method::PATCH, &path, Some(json!({"task_id": Uuid::now_v7()}))).await?;
        assert_invalid(s, &p, "task_id");

        // Time logged before the link moves to the task and its line with the ticket.
        let (s, sheet) =
            st.hd(Method::POST, &format!("{path}/timesheets"), Some(json!({"employee": "Marc", "hours": "2"}))).await?;
        assert_eq!(s, StatusCode::CREATED, "{sheet}");
        assert_eq!(sheet["sale_line_id"], Value::Null);
        let (s, linked) = st.hd(Method::PATCH, &path, Some(json!({"task_id": task["id"]}))).await?;
        assert_eq!(s, StatusCode::OK, "{linked}");
        assert_eq!(linked["sale_line_id"], json!(line));
        let sheets = st.ticket_timesheets_in_projects(&plain).await?;
        assert_eq!(sheets.len(), 1);
        assert_eq!((&sheets[0]["task_id"], &sheets[0]["sale_line_id"]), (&task["id"], &json!(line)));
        assert_eq!(sheets[0]["project_id"], task["project_id"]);

        // The ticket's remaining hours come from sales: when it is down, a single ticket
        // cannot be answered truthfully.
        let (s, p) = st.hd(Method::GET, &path, None).await?;
        assert_eq!(s, StatusCode::OK, "{p}");
        st.sales_goes_down().await;
        let (s, p) = st.hd(Method::GET, &path, None).await?;
        assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{p}");
        st.stop().await;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ticket_time_becomes_a_timesheet_in_projects_and_hours_spent_follows() -> R {
    for st in Stack::each("time").await? {
        let team = st.team(json!({"name": "Care", "use_timesheets": true})).await?;
        let (customer, line) = st.confirmed_line().await?;
        let task = st.task(customer, Some(line)).await?;

        let on_task = st
            .ticket(json!({"team_id": team["id"], "customer_id": customer, "title": "On task", "task_id": task["id"]}))
            .await?;
        let path = format!("/tickets/{}/timesheets", on_task["id"].as_str().unwrap_or_default());
        let res = st
            .http
            .post(format!("{}/api/v1{path}", st.helpdesk_url))
            .json(&json!({"employee": "Marc", "hours": "1.50", "date": "2026-11-29", "description": "Call"}))
            .send()
            .await?;
        assert_eq!(res.status(), StatusCode::CREATED);
        let location = res.headers().get("location").and_then(|l| l.to_str().ok()).unwrap_or_default().to_owned();
        let sheet: Value = res.json().await?;
        assert_eq!(sheet["ticket_id"], on_task["id"]);
        assert_eq!(sheet["task_id"], task["id"]);
        assert_eq!(sheet["project_id"], task["project_id"]);
        assert_eq!(sheet["sale_line_id"], json!(line));
        assert_eq!(sheet["hours"], json!("1.50"));
        assert_eq!(location, format!("/api/v1{path}/{}", sheet["id"].as_str().unwrap_or_default()));
        let (s, again) = st.send(Method::GET, format!("{}{location}", st.helpdesk_url), None).await?;
        assert_eq!((s, &again["id"]), (StatusCode::OK, &sheet["id"]));

        // Without a task, time goes to the team's project.
        let plain = st.ticket(json!({"team_id": team["id"], "customer_id": customer, "title": "Plain"})).await?;
        let id = plain["id"].as_str().unwrap_or_default().to_owned();
        let (s, sheet) = st
            .hd(Method::POST, &format!("/tickets/{id}/timesheets"), Some(json!({"employee": "Ann", "hours": 2})))
            .await?;
        assert_eq!(s, StatusCode::CREATED, "{sheet}");
        assert_eq!(
            (&sheet["project_id"], &sheet["task_id"], &sheet["sale_line_id"]),
            (&team["project_id"], &Value::Null, &Value::Null)
        );

        // A retry with the same Idempotency-Key records nothing more.
        for _ in 0..2 {
            let res = st
                .http
                .post(format!("{}/api/v1/tickets/{id}/timesheets", st.helpdesk_url))
                .header("Idempotency-Key", "entry-7")
                .json(&json!({"employee": "Ann", "hours": "0.25"}))
                .send()
                .await?;
            assert_eq!(res.status(), StatusCode::CREATED);
        }
        let (s, listed) = st.hd(Method::GET, &format!("/tickets/{id}/timesheets"), None).await?;
        assert_eq!(s, StatusCode::OK, "{listed}");
        assert_eq!(listed["items"].as_array().map(Vec::len), Some(2));
        assert_eq!(st.ticket_timesheets_in_projects(&plain).await?.len(), 2);

        // hours_spent arrives through projects' outbox.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let (s, t) = st.hd(Method::GET, &format!("/tickets/{id}"), None).await?;
            assert_eq!(s, StatusCode::OK, "{t}");
            if t["hours_spent"] == json!("2.25") {
                break;
            }
            assert!(Instant::now() < deadline, "hours_spent never reached 2.25: {t}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        st.stop().await;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_ticket_time_is_rejected_and_nothing_is_recorded() -> R {
    for st in Stack::each("badtime").await? {
        let team = st.team(json!({"name": "Care", "use_timesheets": true})).await?;
        let ticket = st.ticket(json!({"team_id": team["id"], "customer_id": Uuid::now_v7(), "title": "T"})).await?;
        let path = format!("/tickets/{}/timesheets", ticket["id"].as_str().unwrap_or_default());
        for hours in [json!(0), json!(-1), json!("25"), json!("1.234"), json!(24.001)] {
            let (s, p) = st.hd(Method::POST, &path, Some(json!({"employee": "Marc", "hours": hours}))).await?;
            assert_invalid(s, &p, "hours");
        }
        let (s, p) = st.hd(Method::POST, &path, Some(json!({"employee": "Marc", "hours": "abc"}))).await?;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "a wrong type is a 422: {p}");
        assert_eq!(fields(&p), ["hours"]);
        let (s, p) = st.hd(Method::POST, &path, Some(json!({"employee": " ", "hours": 1}))).await?;
        assert_invalid(s, &p, "employee");
        let (s, p) = st.hd(Method::POST, &path, Some(json!({"hours": 1}))).await?;
        assert_invalid(s, &p, "employee");
        let (s, p) =
            st.hd(Method::POST, &path, Some(json!({"employee": "Marc", "hours": 1, "billable": true}))).await?;
        assert_invalid(s, &p, "billable");
        let (s, _) = st
            .hd(
                Method::POST,
                &format!("/tickets/{}/timesheets", Uuid::now_v7()),
                Some(json!({"employee": "Marc", "hours": 1})),
            )
            .await?;
        assert_eq!(s, StatusCode::NOT_FOUND);
        assert!(st.ticket_timesheets_in_projects(&ticket).await?.is_empty());
        let (s, t) =
            st.hd(Method::GET, &format!("/tickets/{}", ticket["id"].as_str().unwrap_or_default()), None).await?;
        assert_eq!((s, &t["hours_spent"]), (StatusCode::OK, &json!("0.00")));
        st.stop().await;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_team_without_timesheets_refuses_ticket_time() -> R {
    for st in Stack::each("notime").await? {
        let team = st.team(json!({"name": "Quiet"})).await?;
        let ticket = st.ticket(json!({"team_id": team["id"], "customer_id": Uuid::now_v7(), "title": "T"})).await?;
        let path = format!("/tickets/{}/timesheets", ticket["id"].as_str().unwrap_or_default());
        let (s, p) = st.hd(Method::POST, &path, Some(json!({"employee": "Marc", "hours": 1}))).await?;
        assert_eq!(s, StatusCode::CONFLICT, "{p}");
        assert_eq!(p["code"], json!("timesheets_disabled"));
        assert!(st.ticket_timesheets_in_projects(&ticket).await?.is_empty());
        st.stop().await;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_projects_is_down_nothing_is_recorded() -> R {
    for mut st in Stack::each("down").await? {
        let team = st.team(json!({"name": "Care", "use_timesheets": true})).await?;
        let ticket = st.ticket(json!({"team_id": team["id"], "customer_id": Uuid::now_v7(), "title": "T"})).await?;
        let id = ticket["id"].as_str().unwrap_or_default().to_owned();
        if let Some(p) = st.projects.take() {
            p.stop().await;
        }

        let (s, p) = st
            .hd(Method::POST, &format!("/tickets/{id}/timesheets"), Some(json!({"employee": "Marc", "hours": 1})))
            .await?;
        assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{p}");
        assert_eq!(p["status"], json!(503));
        let (s, _) = st.hd(Method::GET, &format!("/tickets/{id}/timesheets"), None).await?;
        assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);
        let (s, _) = st.hd(Method::POST, "/teams", Some(json!({"name": "New", "use_timesheets": true}))).await?;
        assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);
        let (s, _) = st
            .hd(Method::PATCH, &format!("/tickets/{id}"), Some(json!({"task_id": Uuid::now_v7(), "title": "Changed"})))
            .await?;
        assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);

        let (s, list) = st.hd(Method::GET, "/teams", None).await?;
        assert_eq!((s, list["items"].as_array().map(Vec::len)), (StatusCode::OK, Some(1)));
        let (s, t) = st.hd(Method::GET, &format!("/tickets/{id}"), None).await?;
        assert_eq!((s, &t["title"], &t["task_id"]), (StatusCode::OK, &json!("T"), &Value::Null));

        // Projects back (on the same database): it holds no time for the ticket.
        let sales_url = st.sales.as_ref().map(Running::url).unwrap_or(closed_url()?);
        let back =
            spawn(projects::app(), &st.projects_db, Stack::peers_of_projects(&st.helpdesk_url, &sales_url)?).await?;
        st.projects = Some(back);
        assert!(st.ticket_timesheets_in_projects(&ticket).await?.is_empty());
        st.stop().await;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_sales_is_down_a_reinvoicing_ticket_is_not_opened() -> R {
    for st in Stack::each_without_sales("nosales").await? {
        let team = st.team(json!({"name": "Billing", "use_timesheets": true, "use_time_reinvoicing": true})).await?;
        let customer = Uuid::now_v7();
        for extra in [json!({}), json!({"sale_line_id": Uuid::now_v7()})] {
            let mut body = json!({"team_id": team["id"], "customer_id": customer, "title": "T"});
            body.as_object_mut().unwrap().extend(extra.as_object().cloned().unwrap_or_default());
            let (s, p) = st.hd(Method::POST, "/tickets", Some(body)).await?;
            assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{p}");
        }
        let (s, list) = st.hd(Method::GET, "/tickets", None).await?;
        assert_eq!((s, list["items"].as_array().map(Vec::len)), (StatusCode::OK, Some(0)));
        // The number was not used up either.
        let quiet = st.team(json!({"name": "Quiet"})).await?;
        let t = st.ticket(json!({"team_id": quiet["id"], "customer_id": customer, "title": "T"})).await?;
        assert_eq!(t["number"], json!(1));
        st.stop().await;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timesheet_totals_apply_only_when_newer() -> R {
    for st in Stack::each("totals").await? {
        let team = st.team(json!({"name": "Care"})).await?;
        let ticket = st.ticket(json!({"team_id": team["id"], "customer_id": Uuid::now_v7(), "title": "T"})).await?;
        let id = ticket["id"].as_str().unwrap_or_default();
        let path = format!("/tickets/{id}/timesheet-total");
        let (s, a) = st.hd(Method::PUT, &path, Some(json!({"hours": "3.00", "version": 2}))).await?;
        assert_eq!((s, a), (StatusCode::OK, json!({"applied": true, "version": 2})));
        let (s, a) = st.hd(Method::PUT, &path, Some(json!({"hours": "1.00", "version": 1}))).await?;
        assert_eq!((s, a), (StatusCode::OK, json!({"applied": false, "version": 2})));
        let (s, a) = st.hd(Method::PUT, &path, Some(json!({"hours": "3.00", "version": 2}))).await?;
        assert_eq!((s, a), (StatusCode::OK, json!({"applied": false, "version": 2})));
        let (_, t) = st.hd(Method::GET, &format!("/tickets/{id}"), None).await?;
        assert_eq!(t["hours_spent"], json!("3.00"));
        let (s, _) = st
            .hd(
                Method::PUT,
                &format!("/tickets/{}/timesheet-total", Uuid::now_v7()),
                Some(json!({"hours": "1", "version": 1})),
            )
            .await?;
        assert_eq!(s, StatusCode::NOT_FOUND);
        st.stop().await;
    }
    Ok(())
}
