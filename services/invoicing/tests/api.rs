#![allow(clippy::unwrap_used, clippy::expect_used)]
//! API tests: the real invoicing app on port 0, on SQLite and on PostgreSQL, spoken to over
//! HTTP. Its peers point to a closed port, so what it sends them stays in its outbox, where
//! the tests read it.

use std::collections::BTreeSet;
use std::error::Error;

use chrono::Datelike;
use diesel::prelude::*;
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use shared::config::PeerUrls;
use shared::db::StoreError;
use shared::schema::outbox;
use shared::server::Running;
use shared::testing::{TestDb, spawn};
use uuid::Uuid;

type TestResult = Result<(), Box<dyn Error>>;

struct App {
    running: Running,
    client: Client,
    backend: String,
}

/// A base URL where nothing listens.
fn closed_port() -> Result<String, Box<dyn Error>> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    drop(listener);
    Ok(format!("http://127.0.0.1:{port}"))
}

async fn start(db: &TestDb) -> Result<App, Box<dyn Error>> {
    let nowhere = closed_port()?;
    let peers =
        PeerUrls { sales: nowhere.clone(), invoicing: nowhere.clone(), projects: nowhere.clone(), helpdesk: nowhere };
    let running = spawn(invoicing::app(), db, peers).await?;
    Ok(App { running, client: Client::new(), backend: format!("{:?}", db.backend) })
}

impl App {
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<(StatusCode, Value), Box<dyn Error>> {
        let url = format!("{}/api/v1{path}", self.running.url());
        let mut req = self.client.request(method, url);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await?;
        let status = res.status();
        let text = res.text().await?;
        let value = if text.is_empty() { Value::Null } else { serde_json::from_str(&text)? };
        Ok((status, value))
    }

    async fn post(&self, path: &str, body: Value) -> Result<(StatusCode, Value), Box<dyn Error>> {
        self.call(Method::POST, path, Some(body)).await
    }

    async fn action(&self, path: &str) -> Result<(StatusCode, Value), Box<dyn Error>> {
        self.call(Method::POST, path, None).await
    }

    async fn get(&self, path: &str) -> Result<(StatusCode, Value), Box<dyn Error>> {
        self.call(Method::GET, path, None).await
    }

    /// Creates an invoice and checks it was created.
    async fn invoice(&self, body: Value) -> Result<Value, Box<dyn Error>> {
        let (status, inv) = self.post("/invoices", body).await?;
        assert_eq!(status, StatusCode::CREATED, "{}: {inv}", self.backend);
        Ok(inv)
    }

    /// Creates and posts an invoice.
    async fn posted(&self, body: Value) -> Result<Value, Box<dyn Error>> {
        let inv = self.invoice(body).await?;
        let (status, inv) = self.action(&format!("/invoices/{}/post", inv["id"].as_str().unwrap())).await?;
        assert_eq!(status, StatusCode::OK, "{}: {inv}", self.backend);
        Ok(inv)
    }

    /// Messages waiting in the outbox for this path, oldest first, with their bodies.
    async fn outbox(&self, path: String) -> Result<Vec<(String, Value)>, Box<dyn Error>> {
        let rows = self
            .running
            .ctx
            .db
            .run(move |c| {
                outbox::table
                    .filter(outbox::path.eq(path))
                    .order(outbox::id.asc())
                    .select((outbox::method, outbox::body))
                    .load::<(String, String)>(c)
                    .map_err(StoreError::from)
            })
            .await?;
        rows.into_iter().map(|(m, b)| Ok((m, serde_json::from_str(&b)?))).collect()
    }

    /// The invoiced totals enqueued for a sale line: (quantity, version), oldest first.
    async fn totals(&self, line: &str) -> Result<Vec<(String, i64)>, Box<dyn Error>> {
        let sent = self.outbox(format!("/api/v1/order-lines/{line}/invoiced-total")).await?;
        Ok(sent
            .into_iter()
            .map(|(method, b)| {
                assert_eq!(method, "PUT");
                (b["quantity"].as_str().unwrap().to_owned(), b["version"].as_i64().unwrap())
            })
            .collect())
    }

    async fn stop(self) {
        self.running.stop().await;
    }
}

fn id(v: &Value) -> &str {
    v["id"].as_str().unwrap_or_default()
}

fn line(sale_line: &str, quantity: &str, price: &str) -> Value {
    json!({"sale_line_id": sale_line, "description": "Support hours", "quantity": quantity, "uom": "hour",
           "unit_price": price, "discount": "0", "tax_rate": "21"})
}

fn new_id() -> String {
    Uuid::now_v7().to_string()
}

fn field_errors(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|e| e.iter().map(|f| f["field"].as_str().unwrap_or("").to_owned()).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn create_computes_amounts_half_up_and_is_idempotent_by_id() -> TestResult {
    for db in TestDb::both("invoicing") {
        let app = start(&db).await?;
        let (customer, order, chosen) = (new_id(), new_id(), new_id());
        let body = json!({
            "id": chosen, "customer_id": customer, "sale_order_id": order,
            "lines": [
                {"sale_line_id": new_id(), "description": "Support hours", "quantity": "3", "uom": "hour",
                 "unit_price": "10.25", "discount": "5", "tax_rate": "21"},
                {"description": "Travel", "quantity": 0.5, "unit_price": "0.25", "tax_rate": "50"}
            ]
        });
        let url = format!("{}/api/v1/invoices", app.running.url());
        let res = app.client.post(&url).json(&body).send().await?;
        assert_eq!(res.status(), StatusCode::CREATED);
        assert_eq!(res.headers()["location"].to_str()?, format!("/api/v1/invoices/{chosen}"));
        let inv: Value = res.json().await?;
        assert_eq!(inv["id"], chosen);
        assert_eq!(inv["number"], Value::Null);
        assert_eq!(inv["kind"], "invoice");
        assert_eq!(inv["state"], "draft");
        assert_eq!(inv["currency"], "EUR");
        assert_eq!(inv["invoice_date"], chrono::Utc::now().date_naive().to_string());
        assert_eq!(inv["payment_state"], "not_paid");
        assert_eq!(inv["reversed_invoice_id"], Value::Null);
        // 3 × 10.25 × 0.95 = 29.2125 → 29.21, tax 21% = 6.1341 → 6.13
        let l0 = &inv["lines"][0];
        assert!(l0["id"].is_string());
        assert_eq!(
            (&l0["price_subtotal"], &l0["price_tax"], &l0["price_total"]),
            (&json!("29.21"), &json!("6.13"), &json!("35.34"))
        );
        assert_eq!((&l0["quantity"], &l0["discount"], &l0["uom"]), (&json!("3.00"), &json!("5.00"), &json!("hour")));
        // 0.5 × 0.25 = 0.125 → 0.13 (half up), tax 50% = 0.065 → 0.07
        let l1 = &inv["lines"][1];
        assert_eq!(
            (&l1["price_subtotal"], &l1["price_tax"], &l1["price_total"]),
            (&json!("0.13"), &json!("0.07"), &json!("0.20"))
        );
        assert_eq!(
            (&l1["uom"], &l1["sale_line_id"], &l1["bills_timesheets"]),
            (&json!("unit"), &Value::Null, &json!(false))
        );
        assert_eq!(
            (&inv["amount_untaxed"], &inv["amount_tax"], &inv["amount_total"]),
            (&json!("29.34"), &json!("6.20"), &json!("35.54"))
        );
        assert_eq!(inv["amount_residual"], "35.54");

        // The same id again answers the same invoice and creates nothing.
        let (status, again) = app.post("/invoices", body.clone()).await?;
        assert_eq!(status, StatusCode::CREATED);
        assert_eq!(again["id"], chosen);
        assert_eq!(again["lines"][0]["id"], inv["lines"][0]["id"]);
        let (_, list) = app.get(&format!("/invoices?customer_id={customer}")).await?;
        assert_eq!(list["items"].as_array().map(Vec::len), Some(1));
        let (status, got) = app.get(&format!("/invoices/{chosen}")).await?;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(got, inv);

        // Filters and paging, newest first.
        let other = app
            .invoice(json!({"customer_id": customer, "invoice_date": "2026-02-03", "currency": "USD",
                                       "lines": [line(&new_id(), "1", "5")]}))
            .await?;
        assert_eq!((&other["invoice_date"], &other["currency"]), (&json!("2026-02-03"), &json!("USD")));
        let (_, page) = app.get(&format!("/invoices?customer_id={customer}&limit=1")).await?;
        assert_eq!(page["items"][0]["id"], other["id"]);
        let cursor = page["next_cursor"].as_str().unwrap().to_owned();
        let (_, page2) = app.get(&format!("/invoices?customer_id={customer}&limit=1&cursor={cursor}")).await?;
        assert_eq!(page2["items"][0]["id"], chosen);
        assert_eq!(page2["next_cursor"], Value::Null);
        let (_, by_order) = app.get(&format!("/invoices?sale_order_id={order}&state=draft&kind=invoice")).await?;
        assert_eq!(by_order["items"].as_array().map(Vec::len), Some(1));
        let (_, posted) = app.get(&format!("/invoices?customer_id={customer}&state=posted")).await?;
        assert_eq!(posted["items"].as_array().map(Vec::len), Some(0));
        app.stop().await;
    }
    Ok(())
}

#[tokio::test]
async fn bad_input_is_a_problem_naming_the_field_and_changes_nothing() -> TestResult {
    for db in TestDb::both("invoicing") {
        let app = start(&db).await?;
        let customer = new_id();
        let sale_line = new_id();
        let cases = [
            (json!({"customer_id": customer, "lines": [line(&sale_line, "0", "10")]}), "lines[0].quantity"),
            (
                json!({"customer_id": customer, "lines": [line(&sale_line, "1", "10"), line(&sale_line, "1.234", "10")]}),
                "lines[1].quantity",
            ),
            (json!({"customer_id": customer, "lines": [line(&sale_line, "-2", "10")]}), "lines[0].quantity"),
            (json!({"customer_id": customer, "lines": [line(&sale_line, "1", "-10")]}), "lines[0].unit_price"),
            (
                json!({"customer_id": customer, "lines": [{"description": "x", "quantity": "1", "unit_price": "1", "discount": "100.01"}]}),
                "lines[0].discount",
            ),
            (
                json!({"customer_id": customer, "lines": [{"description": "x", "quantity": "1", "unit_price": "1", "tax_rate": "-1"}]}),
                "lines[0].tax_rate",
            ),
            (
                json!({"customer_id": customer, "lines": [{"description": " ", "quantity": "1", "unit_price": "1"}]}),
                "lines[0].description",
            ),
            (
                json!({"customer_id": customer, "lines": [{"description": "x", "quantity": "1", "unit_price": "1", "bills_timesheets": true}]}),
                "lines[0].sale_line_id",
            ),
            (json!({"customer_id": customer, "lines": []}), "lines"),
            (json!({"customer_id": customer, "currency": "euro", "lines": [line(&sale_line, "1", "1")]}), "currency"),
            (json!({"lines": [line(&sale_line, "1", "1")]}), "customer_id"),
            (json!({"customer_id": customer, "lines": [line(&sale_line, "1", "1")], "colour": "red"}), "colour"),
            (
                json!({"customer_id": customer, "lines": [line(&sale_line, "999999999", "999999999")]}),
                "lines[0].quantity",
            ),
        ];
        for (body, field) in cases {
            let url = format!("{}/api/v1/invoices", app.running.url());
            let res = app.client.post(&url).json(&body).send().await?;
            assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{field}");
            assert_eq!(res.headers()["content-type"].to_str()?, "application/problem+json");
            let problem: Value = res.json().await?;
            assert_eq!(problem["status"], 422);
            assert!(field_errors(&problem).contains(&field.to_owned()), "{field}: {problem}");
        }
        let (_, list) = app.get("/invoices").await?;
        assert_eq!(list["items"].as_array().map(Vec::len), Some(0), "nothing was created");
        assert!(app.totals(&sale_line).await?.is_empty(), "nothing was announced");

        let (status, _) = app.get(&format!("/invoices/{}", new_id())).await?;
        assert_eq!(status, StatusCode::NOT_FOUND);
        for verb in ["post", "cancel", "credit-notes"] {
            let (status, problem) = app.action(&format!("/invoices/{}/{verb}", new_id())).await?;
            assert_eq!(status, StatusCode::NOT_FOUND, "{verb}: {problem}");
        }
        let (status, problem) = app.get("/invoices?state=lost").await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(field_errors(&problem), ["state"], "{problem}");
        app.stop().await;
    }
    Ok(())
}

#[tokio::test]
async fn posting_numbers_per_kind_and_year_without_gaps() -> TestResult {
    for db in TestDb::both("invoicing") {
        let app = start(&db).await?;
        let customer = new_id();
        let body =
            |date: &str| json!({"customer_id": customer, "invoice_date": date, "lines": [line(&new_id(), "1", "100")]});
        let first = app.posted(body("2026-03-01")).await?;
        assert_eq!((&first["number"], &first["state"]), (&json!("INV/2026/00001"), &json!("posted")));
        let second = app.posted(body("2026-12-31")).await?;
        assert_eq!(second["number"], "INV/2026/00002");
        let other_year = app.posted(body("2025-06-30")).await?;
        assert_eq!(other_year["number"], "INV/2025/00001");

        // Posting twice is a 409 and takes no number.
        let (status, problem) = app.action(&format!("/invoices/{}/post", id(&first))).await?;
        assert_eq!(status, StatusCode::CONFLICT, "{problem}");
        // A cancelled draft cannot be posted.
        let dropped = app.invoice(body("2026-05-05")).await?;
        app.action(&format!("/invoices/{}/cancel", id(&dropped))).await?;
        let (status, _) = app.action(&format!("/invoices/{}/post", id(&dropped))).await?;
        assert_eq!(status, StatusCode::CONFLICT);
        let third = app.posted(body("2026-07-07")).await?;
        assert_eq!(third["number"], "INV/2026/00003");

        // Credit notes count apart.
        let (status, note) = app.action(&format!("/invoices/{}/credit-notes", id(&first))).await?;
        assert_eq!(status, StatusCode::CREATED);
        let (_, note) = app.action(&format!("/invoices/{}/post", id(&note))).await?;
        let year = chrono::Utc::now().year();
        assert_eq!(note["number"], format!("RINV/{year}/00001"));

        // Twenty posts at once take 1 to 20, each once.
        let mut drafts = Vec::new();
        for _ in 0..20 {
            drafts.push(id(&app.invoice(body("2027-01-15")).await?).to_owned());
        }
        let mut tasks = tokio::task::JoinSet::new();
        for draft in drafts {
            let (client, url) = (app.client.clone(), format!("{}/api/v1/invoices/{draft}/post", app.running.url()));
            tasks.spawn(async move {
                let res = client.post(url).send().await?;
                let status = res.status();
                let v: Value = res.json().await?;
                Ok::<_, reqwest::Error>((status, v))
            });
        }
        let mut numbers = BTreeSet::new();
        while let Some(done) = tasks.join_next().await {
            let (status, v) = done??;
            assert_eq!(status, StatusCode::OK, "{}: {v}", app.backend);
            numbers.insert(v["number"].as_str().unwrap().to_owned());
        }
        let expected: BTreeSet<String> = (1..=20).map(|n| format!("INV/2027/{n:05}")).collect();
        assert_eq!(numbers, expected);
        app.stop().await;
    }
    Ok(())
}

#[tokio::test]
async fn cancel_rules() -> TestResult {
    for db in TestDb::both("invoicing") {
        let app = start(&db).await?;
        let body = || json!({"customer_id": new_id(), "lines": [line(&new_id(), "2", "50")]});

        let draft = app.invoice(body()).await?;
        let (status, cancelled) = app.action(&format!("/invoices/{}/cancel", id(&draft))).await?;
        assert_eq!((status, &cancelled["state"]), (StatusCode::OK, &json!("cancelled")));
        let (status, problem) = app.action(&format!("/invoices/{}/cancel", id(&draft))).await?;
        assert_eq!(status, StatusCode::CONFLICT, "{problem}");
        assert_eq!(problem["status"], 409);

        let unpaid = app.posted(body()).await?;
        let (status, cancelled) = app.action(&format!("/invoices/{}/cancel", id(&unpaid))).await?;
        assert_eq!((status, &cancelled["state"]), (StatusCode::OK, &json!("cancelled")));
        assert_eq!(cancelled["number"], unpaid["number"], "a cancelled invoice keeps its number");

        let paid = app.posted(body()).await?;
        let (status, _) = app.post(&format!("/invoices/{}/payments", id(&paid)), json!({"amount": "10"})).await?;
        assert_eq!(status, StatusCode::CREATED);
        let (status, problem) = app.action(&format!("/invoices/{}/cancel", id(&paid))).await?;
        assert_eq!(status, StatusCode::CONFLICT, "{problem}");
        let (_, still) = app.get(&format!("/invoices/{}", id(&paid))).await?;
        assert_eq!(still["state"], "posted");

        let credited = app.posted(body()).await?;
        let (_, note) = app.action(&format!("/invoices/{}/credit-notes", id(&credited))).await?;
        let (status, problem) = app.action(&format!("/invoices/{}/cancel", id(&credited))).await?;
        assert_eq!(status, StatusCode::CONFLICT, "{problem}");
        // Once the credit note is cancelled, the invoice can be.
        let (status, _) = app.action(&format!("/invoices/{}/cancel", id(&note))).await?;
        assert_eq!(status, StatusCode::OK);
        let (status, _) = app.action(&format!("/invoices/{}/cancel", id(&credited))).await?;
        assert_eq!(status, StatusCode::OK);
        app.stop().await;
    }
    Ok(())
}

#[tokio::test]
async fn payments_partial_then_paid_and_never_more_than_due() -> TestResult {
    for db in TestDb::both("invoicing") {
        let app = start(&db).await?;
        // 1 × 100 + 21% = 121.00
        let draft = app.invoice(json!({"customer_id": new_id(), "lines": [line(&new_id(), "1", "100")]})).await?;
        let pay = format!("/invoices/{}/payments", id(&draft));
        let (status, _) = app.post(&pay, json!({"amount": "10"})).await?;
        assert_eq!(status, StatusCode::CONFLICT, "a draft cannot be paid");
        app.action(&format!("/invoices/{}/post", id(&draft))).await?;

        let url = format!("{}/api/v1{pay}", app.running.url());
        let res = app.client.post(&url).json(&json!({"amount": "21", "date": "2026-11-30"})).send().await?;
        assert_eq!(res.status(), StatusCode::CREATED);
        let location = res.headers()["location"].to_str()?.to_owned();
        let first: Value = res.json().await?;
        assert_eq!(
            (&first["amount"], &first["date"], &first["invoice_id"]),
            (&json!("21.00"), &json!("2026-11-30"), &draft["id"])
        );
        assert_eq!(
            (&first["invoice_amount_residual"], &first["invoice_payment_state"]),
            (&json!("100.00"), &json!("partial"))
        );
        let (status, got) = app.call(Method::GET, location.trim_start_matches("/api/v1"), None).await?;
        assert_eq!((status, &got["id"]), (StatusCode::OK, &first["id"]));
        let (_, inv) = app.get(&format!("/invoices/{}", id(&draft))).await?;
        assert_eq!((&inv["amount_residual"], &inv["payment_state"]), (&json!("100.00"), &json!("partial")));

        for (amount, why) in [
            (json!("100.01"), "above the residual"),
            (json!("0"), "zero"),
            (json!("-5"), "negative"),
            (json!("1.001"), "3 decimals"),
        ] {
            let (status, problem) = app.post(&pay, json!({"amount": amount})).await?;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{why}: {problem}");
            assert_eq!(field_errors(&problem), vec!["amount".to_owned()], "{why}");
        }
        let (status, second) = app.post(&pay, json!({"amount": 100})).await?;
        assert_eq!(status, StatusCode::CREATED);
        assert_eq!(
            (&second["invoice_amount_residual"], &second["invoice_payment_state"]),
            (&json!("0.00"), &json!("paid"))
        );
        let (status, _) = app.post(&pay, json!({"amount": "0.01"})).await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "nothing is due any more");

        let (_, inv) = app.get(&format!("/invoices/{}", id(&draft))).await?;
        assert_eq!((&inv["amount_residual"], &inv["payment_state"]), (&json!("0.00"), &json!("paid")));
        let (status, list) = app.get(&pay).await?;
        assert_eq!(status, StatusCode::OK);
        let amounts: Vec<&Value> = list["items"].as_array().unwrap().iter().map(|p| &p["amount"]).collect();
        assert_eq!(amounts, vec![&json!("100.00"), &json!("21.00")], "newest first");
        let (status, _) = app.get(&format!("/invoices/{}/payments", new_id())).await?;
        assert_eq!(status, StatusCode::NOT_FOUND);
        app.stop().await;
    }
    Ok(())
}

#[tokio::test]
async fn credit_notes_whole_and_partial() -> TestResult {
    for db in TestDb::both("invoicing") {
        let app = start(&db).await?;
        let (a, b) = (new_id(), new_id());
        let draft =
            app.invoice(json!({"customer_id": new_id(), "lines": [line(&a, "10", "10"), line(&b, "4", "25")]})).await?;
        let credit = format!("/invoices/{}/credit-notes", id(&draft));
        let (status, _) = app.action(&credit).await?;
        assert_eq!(status, StatusCode::CONFLICT, "a draft cannot be credited");
        app.action(&format!("/invoices/{}/post", id(&draft))).await?;

        // Part of line a.
        let (status, part) = app.post(&credit, json!({"lines": [{"sale_line_id": a, "quantity": "3"}]})).await?;
        assert_eq!(status, StatusCode::CREATED, "{part}");
        assert_eq!(
            (&part["kind"], &part["state"], &part["number"]),
            (&json!("credit_note"), &json!("draft"), &Value::Null)
        );
        assert_eq!(part["reversed_invoice_id"], draft["id"]);
        assert_eq!(part["customer_id"], draft["customer_id"]);
        assert_eq!(part["lines"].as_array().map(Vec::len), Some(1));
        assert_eq!((&part["lines"][0]["sale_line_id"], &part["lines"][0]["quantity"]), (&json!(a), &json!("3.00")));
        assert_eq!(
            (&part["amount_untaxed"], &part["amount_tax"], &part["amount_total"]),
            (&json!("30.00"), &json!("6.30"), &json!("36.30"))
        );

        // More than remains, a line not on the invoice, nothing at all: 422, nothing made.
        let cases = [
            (json!({"lines": [{"sale_line_id": a, "quantity": "7.01"}]}), "lines[0].quantity"),
            (
                json!({"lines": [{"sale_line_id": b, "quantity": "1"}, {"sale_line_id": a, "quantity": "8"}]}),
                "lines[1].quantity",
            ),
            (json!({"lines": [{"sale_line_id": new_id(), "quantity": "1"}]}), "lines[0].sale_line_id"),
            (json!({"lines": [{"sale_line_id": a, "quantity": "0"}]}), "lines[0].quantity"),
            (json!({"lines": []}), "lines"),
        ];
        for (body, field) in cases {
            let (status, problem) = app.post(&credit, body).await?;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{field}: {problem}");
            assert!(field_errors(&problem).contains(&field.to_owned()), "{field}: {problem}");
        }

        // The rest: 7 of a and all of b.
        let (status, rest) = app.action(&credit).await?;
        assert_eq!(status, StatusCode::CREATED, "{rest}");
        let lines: Vec<(&Value, &Value)> =
            rest["lines"].as_array().unwrap().iter().map(|l| (&l["sale_line_id"], &l["quantity"])).collect();
        assert_eq!(lines, vec![(&json!(a), &json!("7.00")), (&json!(b), &json!("4.00"))]);
        let (status, _) = app.action(&credit).await?;
        assert_eq!(status, StatusCode::CONFLICT, "nothing is left to credit");

        // Cancelling a credit note gives its quantity back to credit.
        app.action(&format!("/invoices/{}/cancel", id(&part))).await?;
        let (status, again) = app.post(&credit, json!({"lines": [{"sale_line_id": a, "quantity": "3"}]})).await?;
        assert_eq!(status, StatusCode::CREATED, "{again}");

        // A credit note is posted with its own numbers and cannot be credited itself.
        let (_, posted) = app.action(&format!("/invoices/{}/post", id(&rest))).await?;
        assert!(posted["number"].as_str().unwrap().starts_with("RINV/"));
        let (status, _) = app.action(&format!("/invoices/{}/credit-notes", id(&rest))).await?;
        assert_eq!(status, StatusCode::CONFLICT);
        let (_, notes) = app.get("/invoices?kind=credit_note").await?;
        assert_eq!(notes["items"].as_array().map(Vec::len), Some(3));
        app.stop().await;
    }
    Ok(())
}

#[tokio::test]
async fn timesheet_lines_are_credited_whole_and_released() -> TestResult {
    for db in TestDb::both("invoicing") {
        let app = start(&db).await?;
        let (billed, prepaid) = (new_id(), new_id());
        let mut timesheet_line = line(&billed, "5", "80");
        timesheet_line["bills_timesheets"] = json!(true);
        let inv = app.posted(json!({"id": new_id(), "customer_id": new_id(), "lines": [timesheet_line.clone(), line(&prepaid, "10", "80")]})).await?;
        assert_eq!(inv["lines"][0]["bills_timesheets"], true);
        let credit = format!("/invoices/{}/credit-notes", id(&inv));

        let (status, problem) =
            app.post(&credit, json!({"lines": [{"sale_line_id": billed, "quantity": "2"}]})).await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(field_errors(&problem), vec!["lines[0].quantity".to_owned()]);

        let release = format!("/api/v1/timesheet-claims/{}/release", id(&inv));
        let (status, note) = app.post(&credit, json!({"lines": [{"sale_line_id": billed, "quantity": "5"}, {"sale_line_id": prepaid, "quantity": "1"}]})).await?;
        assert_eq!(status, StatusCode::CREATED, "{note}");
        assert!(app.outbox(release.clone()).await?.is_empty(), "a draft credit note releases nothing");
        app.action(&format!("/invoices/{}/post", id(&note))).await?;
        let sent = app.outbox(release.clone()).await?;
        assert_eq!(sent, vec![("POST".to_owned(), json!({"sale_line_ids": [billed]}))]);
        let (status, problem) = app.action(&format!("/invoices/{}/cancel", id(&note))).await?;
        assert_eq!(status, StatusCode::CONFLICT, "its timesheets are released: {problem}");

        // Cancelling an invoice releases the timesheets it billed; a draft too.
        let draft =
            app.invoice(json!({"customer_id": new_id(), "lines": [timesheet_line, line(&prepaid, "1", "1")]})).await?;
        let release = format!("/api/v1/timesheet-claims/{}/release", id(&draft));
        app.action(&format!("/invoices/{}/cancel", id(&draft))).await?;
        assert_eq!(app.outbox(release).await?, vec![("POST".to_owned(), json!({"sale_line_ids": [billed]}))]);

        // An invoice without timesheet lines releases nothing.
        let plain = app.invoice(json!({"customer_id": new_id(), "lines": [line(&prepaid, "1", "1")]})).await?;
        app.action(&format!("/invoices/{}/cancel", id(&plain))).await?;
        assert!(app.outbox(format!("/api/v1/timesheet-claims/{}/release", id(&plain))).await?.is_empty());
        app.stop().await;
    }
    Ok(())
}

#[tokio::test]
async fn invoiced_quantities_are_sent_to_sales_absolute_and_versioned() -> TestResult {
    for db in TestDb::both("invoicing") {
        let app = start(&db).await?;
        let (a, b) = (new_id(), new_id());
        let customer = new_id();
        // Two lines of one sale line count together.
        let first = app.invoice(json!({"customer_id": customer, "lines": [line(&a, "6", "10"), line(&a, "4", "10"), line(&b, "1", "1")]})).await?;
        assert_eq!(app.totals(&a).await?, vec![("10.00".to_owned(), 1)]);
        assert_eq!(app.totals(&b).await?, vec![("1.00".to_owned(), 1)]);

        let second = app.invoice(json!({"customer_id": customer, "lines": [line(&a, "2.5", "10")]})).await?;
        app.action(&format!("/invoices/{}/cancel", id(&second))).await?;
        // Posting changes no quantity.
        app.action(&format!("/invoices/{}/post", id(&first))).await?;
        let (_, note) = app
            .post(
                &format!("/invoices/{}/credit-notes", id(&first)),
                json!({"lines": [{"sale_line_id": a, "quantity": "4"}]}),
            )
            .await?;
        app.action(&format!("/invoices/{}/post", id(&note))).await?;
        let (_, note2) = app
            .post(
                &format!("/invoices/{}/credit-notes", id(&first)),
                json!({"lines": [{"sale_line_id": a, "quantity": "6"}]}),
            )
            .await?;
        app.action(&format!("/invoices/{}/cancel", id(&note2))).await?;

        let expected: Vec<(String, i64)> =
            [("10.00", 1), ("12.50", 2), ("10.00", 3), ("6.00", 4), ("0.00", 5), ("6.00", 6)]
                .iter()
                .map(|(q, v)| ((*q).to_owned(), *v))
                .collect();
        assert_eq!(app.totals(&a).await?, expected);
        assert_eq!(app.totals(&b).await?, vec![("1.00".to_owned(), 1)], "untouched lines send nothing");

        // Sales is down, so the messages wait; /ready shows the backlog.
        let res = app.client.get(format!("{}/ready", app.running.url())).send().await?;
        assert_eq!(res.status(), StatusCode::OK);
        let ready: Value = res.json().await?;
        assert!(ready["outbox"]["pending"].as_i64().unwrap_or(0) >= 7, "{ready}");
        app.stop().await;
    }
    Ok(())
}

#[tokio::test]
async fn openapi_lists_the_invoicing_routes() -> TestResult {
    let db = TestDb::sqlite("invoicing")?;
    let app = start(&db).await?;
    let res = app.client.get(format!("{}/api/v1/openapi.json", app.running.url())).send().await?;
    assert_eq!(res.status(), StatusCode::OK);
    let doc: Value = res.json().await?;
    for path in [
        "/api/v1/invoices",
        "/api/v1/invoices/{id}",
        "/api/v1/invoices/{id}/post",
        "/api/v1/invoices/{id}/cancel",
        "/api/v1/invoices/{id}/credit-notes",
        "/api/v1/invoices/{id}/payments",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} missing");
    }
    let (status, health) = app.call(Method::GET, "/invoices?limit=0", None).await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{health}");
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn concurrent_creates_with_one_id_make_one_invoice() -> TestResult {
    for db in TestDb::both("invoicing") {
        let app = start(&db).await?;
        let (chosen, sale_line) = (new_id(), new_id());
        let body = json!({"id": chosen, "customer_id": new_id(), "lines": [line(&sale_line, "2", "10")]});
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..8 {
            let (client, url, body) =
                (app.client.clone(), format!("{}/api/v1/invoices", app.running.url()), body.clone());
            tasks.spawn(async move { client.post(url).json(&body).send().await.map(|r| r.status()) });
        }
        while let Some(done) = tasks.join_next().await {
            assert_eq!(done??, StatusCode::CREATED, "{}", app.backend);
        }
        let (_, list) = app.get("/invoices").await?;
        assert_eq!(list["items"].as_array().map(Vec::len), Some(1));
        assert_eq!(app.totals(&sale_line).await?, vec![("2.00".to_owned(), 1)], "counted once");
        app.stop().await;
    }
    Ok(())
}

#[tokio::test]
async fn concurrent_credits_and_payments_never_exceed_the_invoice() -> TestResult {
    for db in TestDb::both("invoicing") {
        let app = start(&db).await?;
        let sale_line = new_id();
        // 5 × 20 + 21% = 121.00
        let inv = app.posted(json!({"customer_id": new_id(), "lines": [line(&sale_line, "5", "20")]})).await?;
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..20 {
            let client = app.client.clone();
            let (url, body) = if i % 2 == 0 {
                (
                    format!("{}/api/v1/invoices/{}/credit-notes", app.running.url(), id(&inv)),
                    json!({"lines": [{"sale_line_id": sale_line, "quantity": "1"}]}),
                )
            } else {
                (format!("{}/api/v1/invoices/{}/payments", app.running.url(), id(&inv)), json!({"amount": "20"}))
            };
            tasks.spawn(async move { client.post(url).json(&body).send().await.map(|r| (i % 2 == 0, r.status())) });
        }
        let (mut credits, mut payments) = (0, 0);
        while let Some(done) = tasks.join_next().await {
            let (credit, status) = done??;
            match status {
                StatusCode::CREATED if credit => credits += 1,
                StatusCode::CREATED => payments += 1,
                StatusCode::UNPROCESSABLE_ENTITY => {}
                other => panic!("{}: unexpected {other}", app.backend),
            }
        }
        assert_eq!((credits, payments), (5, 6), "{}", app.backend);
        let (_, after) = app.get(&format!("/invoices/{}", id(&inv))).await?;
        assert_eq!((&after["amount_residual"], &after["payment_state"]), (&json!("1.00"), &json!("partial")));
        assert_eq!(app.totals(&sale_line).await?.last(), Some(&("0.00".to_owned(), 6)));
        app.stop().await;
    }
    Ok(())
}
