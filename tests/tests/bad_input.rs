#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Bad input for every operation of every service, enumerated from the committed OpenAPI
//! documents, on every backend: malformed JSON, wrong types, unknown and missing fields,
//! negative, zero, too precise and huge decimals, malformed and unknown ids in paths and bodies,
//! a wrong content type, bodies over 1 MiB, actions in the wrong state. Each answers its status
//! with a problem+json (naming the field where there is one), and no database changes.

use e2e::{Answer, R, System, id, on_both_with};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use shared::config::Service::{self, Helpdesk, Invoicing, Projects, Sales};
use shared::db::Backend;

/// Every operation (method, path template under `/api/v1`, has a JSON body) of a document.
fn operations(s: Service) -> Vec<(Method, String, bool)> {
    let doc = e2e::document(s);
    let mut out = vec![];
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (m, op) in ops.as_object().unwrap() {
            let Ok(method) = Method::from_bytes(m.to_uppercase().as_bytes()) else { continue };
            let body = op.get("requestBody").is_some();
            out.push((method, path.trim_start_matches("/api/v1").to_owned(), body));
        }
    }
    out
}

/// A body sent raw: what it is, its content type, its bytes, the answer wanted, the field named.
type BodyCase<'a> = (&'a str, &'a str, Vec<u8>, StatusCode, Option<&'a str>);

/// Fills every `{param}` of a template with `with`.
fn fill(template: &str, with: &str) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        let j = rest[i..].find('}').map_or(rest.len(), |j| i + j + 1);
        out.push_str(with);
        rest = &rest[j..];
    }
    out.push_str(rest);
    out
}

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

/// The answer must be `want` with a problem+json body (naming `field` when given).
fn problem(what: &str, a: &Answer, want: StatusCode, field: Option<&str>) -> R {
    if a.status != want {
        return Err(format!("{what}: {} {}, want {want}", a.status, a.text).into());
    }
    let ct = a.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
    if ct != "application/problem+json" || a.body["status"] != want.as_u16() {
        return Err(format!("{what}: not a problem+json ({ct}): {}", a.text).into());
    }
    if let Some(f) = field
        && !a.body["errors"].as_array().is_some_and(|es| es.iter().any(|e| e["field"] == f))
    {
        return Err(format!("{what}: the problem does not name {f}: {}", a.text).into());
    }
    Ok(())
}

async fn bad_input_on_every_operation_is_refused_with_a_problem_and_changes_nothing(backend: Backend) -> R {
    let sys = System::start(backend).await?;
    bad_input(&sys).await.map_err(|e| format!("{backend:?}: {e}"))?;
    sys.stop().await;
    Ok(())
}
on_both_with!(
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)],
    bad_input_on_every_operation_is_refused_with_a_problem_and_changes_nothing,
    bad_input_on_every_operation_is_refused_with_a_problem_and_changes_nothing_sqlite,
    bad_input_on_every_operation_is_refused_with_a_problem_and_changes_nothing_postgres
);

async fn bad_input(sys: &System) -> R {
    // Something of everything, so that refusals have real rows around them to leave alone.
    let shop = sys.shop("prepaid").await?;
    let (order, lines) = sys.sold(&shop, 1, "10").await?;
    let (line, task) = lines[0].clone();
    let invoice = id(&sys.post(Sales, &format!("/orders/{order}/invoices"), &json!({}), StatusCode::CREATED).await?);
    sys.post(Invoicing, &format!("/invoices/{invoice}/post"), &json!({}), StatusCode::OK).await?;
    let draft = sys.draft_order(&shop.customer, &shop.product, 1, "2").await?;
    let (team, ticket) = sys.desk(&shop, &task, false).await?;
    let sheet = id(&sys
        .post(
            Helpdesk,
            &format!("/tickets/{ticket}/timesheets"),
            &json!({"employee": "Ann", "hours": "1"}),
            StatusCode::CREATED,
        )
        .await?);
    sys.converged(std::slice::from_ref(&line), 10).await?;
    let before = world(sys).await?;
    let mut refused = 0;

    // Every operation: malformed and unknown ids in the path; for a body, malformed JSON, a
    // wrong type, an unknown field, a wrong content type and a body over 1 MiB.
    let unknown = uuid::Uuid::now_v7().to_string();
    let huge = format!("{{\"name\":\"{}\"}}", "x".repeat(1024 * 1024 + 10)).into_bytes();
    for s in Service::ALL {
        for (method, template, has_body) in operations(s) {
            let what = |case: &str| format!("{method} {s} {template} ({case})");
            let body = has_body.then(|| json!({}));
            if template.contains('{') {
                for (case, with) in [("malformed id", "not-a-uuid"), ("unknown id", unknown.as_str())] {
                    let path = fill(&template, with);
                    let a = sys.send(match &body {
                        Some(b) => sys.request(s, method.clone(), &path).json(b),
                        None => sys.request(s, method.clone(), &path),
                    });
                    let a = a.await?;
                    // A malformed id is a 422 naming the path parameter; a well-formed one that
                    // names nothing is a 404, unless the body's checks come first (422).
                    let param = template.rsplit('{').next().and_then(|p| p.split('}').next()).unwrap_or("id");
                    let ok = if with == unknown {
                        a.status == StatusCode::NOT_FOUND
                            || (has_body && a.status == StatusCode::UNPROCESSABLE_ENTITY)
                            // Releasing the claims of an invoice that has none releases nothing.
                            || (template.ends_with("/release") && a.status == StatusCode::OK)
                    } else {
                        a.status == StatusCode::UNPROCESSABLE_ENTITY
                    };
                    if !ok {
                        return Err(format!("{}: {} {}", what(case), a.status, a.text).into());
                    }
                    if with != unknown {
                        problem(&what(case), &a, a.status, Some(param))?;
                    } else if a.status != StatusCode::OK {
                        problem(&what(case), &a, a.status, None)?;
                    }
                    refused += 1;
                }
            }
            if !has_body {
                continue;
            }
            let path = fill(&template, &unknown);
            let cases: [BodyCase; 5] = [
                ("malformed JSON", "application/json", b"{,".to_vec(), StatusCode::BAD_REQUEST, Some("body")),
                (
                    "wrong type",
                    "application/json",
                    b"\"text\"".to_vec(),
                    StatusCode::UNPROCESSABLE_ENTITY,
                    Some("body"),
                ),
                // The receivers of other services' totals (PUT) tolerate fields they do not know
                // (a newer sender), and then name the one missing.
                (
                    "unknown field",
                    "application/json",
                    b"{\"no_such_field\": 1}".to_vec(),
                    StatusCode::UNPROCESSABLE_ENTITY,
                    (method != Method::PUT).then_some("no_such_field"),
                ),
                ("wrong content type", "text/plain", b"{}".to_vec(), StatusCode::UNSUPPORTED_MEDIA_TYPE, None),
                ("over 1 MiB", "application/json", huge.clone(), StatusCode::PAYLOAD_TOO_LARGE, None),
            ];
            for (case, ct, bytes, want, field) in cases {
                let a = sys.raw(s, method.clone(), &path, ct, bytes).await?;
                problem(&what(case), &a, want, field)?;
                refused += 1;
            }
        }
    }

    // Fields: missing, wrong types, bad decimals, malformed and unknown ids in bodies.
    let no = uuid::Uuid::now_v7();
    let field_cases: Vec<(Service, Method, String, Value, &str, StatusCode)> = vec![
        (Sales, Method::POST, "/customers".into(), json!({}), "name", StatusCode::UNPROCESSABLE_ENTITY),
        (Sales, Method::POST, "/customers".into(), json!({"name": 5}), "name", StatusCode::UNPROCESSABLE_ENTITY),
        (Sales, Method::POST, "/customers".into(), json!({"name": "  "}), "name", StatusCode::UNPROCESSABLE_ENTITY),
        (
            Sales,
            Method::POST,
            "/orders".into(),
            json!({"customer_id": "nope", "lines": []}),
            "customer_id",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            Sales,
            Method::POST,
            "/orders".into(),
            json!({"customer_id": no, "lines": []}),
            "customer_id",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            Sales,
            Method::POST,
            "/orders".into(),
            json!({"customer_id": shop.customer, "lines": [{"product_id": no, "quantity": "1"}]}),
            "lines[0].product_id",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            Projects,
            Method::POST,
            "/timesheets".into(),
            json!({"employee": "Ann", "hours": "1", "task_id": no}),
            "task_id",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        // Each figure fits, their product would not: refused, not a 500.
        (
            Sales,
            Method::POST,
            "/orders".into(),
            json!({"customer_id": shop.customer, "lines": [{"product_id": shop.product, "quantity": "100000000000"}]}),
            "lines[0].quantity",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            Helpdesk,
            Method::POST,
            "/tickets".into(),
            json!({"team_id": team, "customer_id": shop.customer}),
            "title",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            Helpdesk,
            Method::PATCH,
            format!("/tickets/{ticket}"),
            json!({"task_id": no}),
            "task_id",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            Invoicing,
            Method::POST,
            format!("/invoices/{invoice}/payments"),
            json!({}),
            "amount",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ];
    let decimals: Vec<(Service, Method, String, Value, &str, &str)> = vec![
        (
            Sales,
            Method::POST,
            "/products".into(),
            json!({"name": "p", "type": "service", "uom": "hour"}),
            "list_price",
            "list_price",
        ),
        (
            Sales,
            Method::POST,
            "/orders".into(),
            json!({"customer_id": shop.customer, "lines": [{"product_id": shop.product, "quantity": "1"}]}),
            "/lines/0/quantity",
            "lines[0].quantity",
        ),
        (
            Sales,
            Method::POST,
            format!("/orders/{draft}/lines"),
            json!({"product_id": shop.product}),
            "quantity",
            "quantity",
        ),
        (Projects, Method::POST, "/timesheets".into(), json!({"employee": "Ann", "task_id": task}), "hours", "hours"),
        (Projects, Method::PATCH, format!("/timesheets/{sheet}"), json!({}), "hours", "hours"),
        (Helpdesk, Method::POST, format!("/tickets/{ticket}/timesheets"), json!({"employee": "Ann"}), "hours", "hours"),
        (Invoicing, Method::POST, format!("/invoices/{invoice}/payments"), json!({}), "amount", "amount"),
    ];
    for (s, method, path, body, field, want) in field_cases {
        let a = sys.send(sys.request(s, method.clone(), &path).json(&body)).await?;
        problem(&format!("{method} {s} {path} {body}"), &a, want, Some(field))?;
        refused += 1;
    }
    for (s, method, path, base, pointer, field) in decimals {
        for bad in [
            json!("-1"),
            json!("0"),
            json!("1.234"),
            json!("1000000000000"),
            json!("1e400"),
            json!(1e300),
            json!("ten"),
        ] {
            let mut body = base.clone();
            if let Some(slot) = body.pointer_mut(pointer) {
                *slot = bad.clone();
            } else {
                body.as_object_mut().unwrap().insert(pointer.to_owned(), bad.clone());
            }
            let a = sys.send(sys.request(s, method.clone(), &path).json(&body)).await?;
            // Zero is a fine price; everything else here is refused, naming the field.
            if field == "list_price" && bad == json!("0") {
                continue;
            }
            problem(&format!("{method} {s} {path} {field}={bad}"), &a, StatusCode::UNPROCESSABLE_ENTITY, Some(field))?;
            refused += 1;
        }
    }
    // The price of a product made by the zero case above: the only write of this test.
    let made: Vec<Value> = sys.all(Sales, "/products").await?.into_iter().filter(|p| p["name"] == "p").collect();
    assert!(made.len() <= 1);

    // Actions in the wrong state: 409.
    for (s, path, body) in [
        (Sales, format!("/orders/{order}/confirm"), json!({})),
        (Sales, format!("/orders/{order}/cancel"), json!({})),
        (Sales, format!("/orders/{draft}/invoices"), json!({})),
        (Sales, format!("/order-lines/{line}"), json!({"qty_delivered": "1"})),
        (Invoicing, format!("/invoices/{invoice}/post"), json!({})),
    ] {
        let method = if path.starts_with("/order-lines") { Method::PATCH } else { Method::POST };
        let a = sys.send(sys.request(s, method.clone(), &path).json(&body)).await?;
        problem(&format!("{method} {s} {path}"), &a, StatusCode::CONFLICT, None)?;
        refused += 1;
    }

    let mut after = world(sys).await?;
    // Drop the one product the zero-price case made, then nothing may differ.
    if let Some(Value::Array(products)) = after.get_mut(1) {
        products.retain(|p| p["name"] != "p");
    }
    assert!(after == before, "a refused request changed something");
    println!(
        "bad input: {refused} malformed or invalid requests on every operation of the 4 services: all refused, databases unchanged"
    );
    Ok(())
}
