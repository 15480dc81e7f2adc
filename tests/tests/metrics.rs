#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `GET /metrics` over HTTP: Prometheus text, request counts and latency by route pattern and
//! status, each service showing its own series only (the four share one recorder in `stack`),
//! and the outbox gauges and failure counter. Also CORS: off by default, and a preflight from a
//! configured origin is allowed.

use e2e::{R, System, eventually};
use reqwest::StatusCode;
use serde_json::json;
use shared::config::{CorsOrigins, Service};
use shared::db::Backend;
use shared::testing::TestDb;

async fn scrape(sys: &System, s: Service) -> R<String> {
    let res = reqwest::get(format!("{}/metrics", sys.url(s))).await?;
    if res.status() != StatusCode::OK {
        return Err(format!("GET {s} /metrics: {}", res.status()).into());
    }
    let ct = res.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    if !ct.starts_with("text/plain") {
        return Err(format!("GET {s} /metrics: content-type {ct}").into());
    }
    Ok(res.text().await?)
}

/// The value of the sample `name{...}` whose labels include every one of `labels`.
fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    text.lines().filter(|l| !l.starts_with('#')).find_map(|l| {
        let (series, value) = l.rsplit_once(' ')?;
        let (n, rest) = series.split_once('{')?;
        let ok = n == name && labels.iter().all(|(k, v)| rest.contains(&format!("{k}=\"{v}\"")));
        if ok { value.parse().ok() } else { None }
    })
}

#[tokio::test]
async fn request_counters_move_by_route_pattern_and_status() -> R {
    let sys = System::start(Backend::Sqlite).await?;
    let customers = [("service", "sales"), ("method", "GET"), ("route", "/api/v1/customers"), ("status", "200")];
    let before = sample(&scrape(&sys, Service::Sales).await?, "http_server_requests_total", &customers).unwrap_or(0.0);
    for _ in 0..3 {
        sys.get(Service::Sales, "/customers").await?;
    }
    let unknown = uuid::Uuid::now_v7();
    let (status, _) = sys.call(Service::Sales, reqwest::Method::GET, &format!("/customers/{unknown}"), None).await?;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let raw = reqwest::get(format!("{}/no/such/path/{unknown}", sys.url(Service::Sales))).await?;
    assert_eq!(raw.status(), StatusCode::NOT_FOUND);

    let text = scrape(&sys, Service::Sales).await?;
    let after = sample(&text, "http_server_requests_total", &customers).unwrap_or(0.0);
    assert!(after - before >= 3.0, "the counter moved from {before} to {after}:\n{text}");
    let by_id = [("service", "sales"), ("route", "/api/v1/customers/{id}"), ("status", "404")];
    assert!(sample(&text, "http_server_requests_total", &by_id).is_some_and(|v| v >= 1.0), "{text}");
    let unmatched = [("service", "sales"), ("route", "unmatched"), ("status", "404")];
    assert!(sample(&text, "http_server_requests_total", &unmatched).is_some_and(|v| v >= 1.0), "{text}");
    assert!(!text.contains(&unknown.to_string()), "a raw path leaked into a label:\n{text}");
    // Latency is a histogram with buckets, not a summary.
    let buckets = [("service", "sales"), ("route", "/api/v1/customers"), ("le", "+Inf")];
    assert!(sample(&text, "http_server_request_duration_seconds_bucket", &buckets).is_some_and(|v| v >= 3.0));
    assert!(text.contains("# TYPE http_server_request_duration_seconds histogram"), "{text}");
    assert!(!text.contains("quantile="), "{text}");
    // Each service shows its own series only, though the four share one recorder here.
    assert!(!text.contains("service=\"helpdesk\""), "sales shows helpdesk's series:\n{text}");
    let helpdesk = scrape(&sys, Service::Helpdesk).await?;
    assert!(!helpdesk.contains("service=\"sales\""), "helpdesk shows sales' series:\n{helpdesk}");
    sys.stop().await;
    Ok(())
}

#[tokio::test]
async fn outbox_gauges_and_delivery_failures_are_exported() -> R {
    let mut sys = System::start(Backend::Sqlite).await?;
    for s in Service::ALL {
        let text = scrape(&sys, s).await?;
        let svc = [("service", s.name())];
        assert!(sample(&text, "outbox_pending_messages", &svc).is_some(), "{s}: no backlog gauge:\n{text}");
        assert!(sample(&text, "outbox_oldest_pending_age_seconds", &svc).is_some(), "{s}: no age gauge:\n{text}");
    }

    // With projects down, confirming an order leaves its task message pending and failing.
    let customer =
        sys.post(Service::Sales, "/customers", &json!({"name": "Azure Interior"}), StatusCode::CREATED).await?;
    let project = sys.post(Service::Projects, "/projects", &json!({"name": "Support"}), StatusCode::CREATED).await?;
    let product = sys
        .post(
            Service::Sales,
            "/products",
            &json!({"name": "Support hours", "type": "service", "uom": "hour", "list_price": "100",
                    "service_policy": "prepaid", "service_tracking": "task_in_project", "project_id": project["id"]}),
            StatusCode::CREATED,
        )
        .await?;
    let order = sys
        .post(
            Service::Sales,
            "/orders",
            &json!({"customer_id": customer["id"], "lines": [{"product_id": product["id"], "quantity": "10"}]}),
            StatusCode::CREATED,
        )
        .await?;
    let failures = [("service", "sales"), ("target", "projects")];
    let before =
        sample(&scrape(&sys, Service::Sales).await?, "outbox_delivery_failures_total", &failures).unwrap_or(0.0);
    sys.stop_service(Service::Projects).await?;
    let id = order["id"].as_str().unwrap();
    sys.post(Service::Sales, &format!("/orders/{id}/confirm"), &json!({}), StatusCode::OK).await?;
    eventually(10, || async {
        let text = scrape(&sys, Service::Sales).await?;
        let pending = sample(&text, "outbox_pending_messages", &[("service", "sales")]).unwrap_or(0.0);
        let failed = sample(&text, "outbox_delivery_failures_total", &failures).unwrap_or(0.0);
        let age = sample(&text, "outbox_oldest_pending_age_seconds", &[("service", "sales")]).unwrap_or(-1.0);
        if pending >= 1.0 && failed > before && age >= 0.0 {
            Ok(())
        } else {
            Err(format!("pending {pending}, failures {failed} (before {before}), age {age}").into())
        }
    })
    .await?;
    sys.stop().await;
    Ok(())
}

/// Starts the four on SQLite with `cors`.
async fn stack_with_cors(cors: CorsOrigins) -> R<(stack::Stack, Vec<TestDb>)> {
    let dbs: Vec<TestDb> = Service::ALL.iter().map(|s| TestDb::sqlite(s.name())).collect::<Result<_, _>>()?;
    let urls: Vec<String> = dbs.iter().map(|d| d.url.clone()).collect();
    let plan = stack::plan(
        |_| "127.0.0.1:0".into(),
        |s| Service::ALL.iter().position(|x| *x == s).map(|i| urls[i].clone()).unwrap_or_default(),
    )?;
    let stack = stack::start_all(stack::Plan { cors, ..plan }).await?;
    Ok((stack, dbs))
}

async fn preflight(url: &str, origin: &str) -> R<reqwest::Response> {
    Ok(reqwest::Client::new()
        .request(reqwest::Method::OPTIONS, format!("{url}/api/v1/orders"))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type,idempotency-key")
        .send()
        .await?)
}

#[tokio::test]
async fn cors_preflight_is_allowed_for_a_configured_origin() -> R {
    let origin = "http://localhost:3000";
    let (stack, _dbs) = stack_with_cors(CorsOrigins::List(vec![origin.into()])).await?;
    for s in Service::ALL {
        let res = preflight(stack.url(s), origin).await?;
        assert!(res.status().is_success(), "{s}: preflight answered {}", res.status());
        let allow = res.headers().get("access-control-allow-origin").and_then(|v| v.to_str().ok());
        assert_eq!(allow, Some(origin), "{s}");
        let methods = res.headers().get("access-control-allow-methods").and_then(|v| v.to_str().ok()).unwrap_or("");
        assert!(methods.contains("POST"), "{s}: {methods}");
    }
    // A real request from that origin can be read by the page, Location and X-Request-Id included.
    let res = reqwest::Client::new()
        .post(format!("{}/api/v1/customers", stack.url(Service::Sales)))
        .header("origin", origin)
        .json(&json!({"name": "Browser customer"}))
        .send()
        .await?;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(res.headers().get("access-control-allow-origin").and_then(|v| v.to_str().ok()), Some(origin));
    let exposed = res.headers().get("access-control-expose-headers").and_then(|v| v.to_str().ok()).unwrap_or("");
    assert!(exposed.contains("location") && exposed.contains("x-request-id") && exposed.contains("etag"), "{exposed}");
    // Another origin gets no CORS headers.
    let other = preflight(stack.url(Service::Sales), "https://evil.example").await?;
    assert!(other.headers().get("access-control-allow-origin").is_none());
    stack.stop().await;
    Ok(())
}

/// `stack` without a CORS setting allows its four services' own origins (for its docs page) and
/// nothing else.
#[tokio::test]
async fn no_cors_headers_for_an_origin_not_allowed() -> R {
    let (stack, _dbs) = stack_with_cors(CorsOrigins::Off).await?;
    let res = preflight(stack.url(Service::Sales), "http://localhost:3000").await?;
    assert!(res.headers().keys().all(|k| !k.as_str().starts_with("access-control-")), "{:?}", res.headers());
    let res = reqwest::Client::new()
        .get(format!("{}/api/v1/customers", stack.url(Service::Sales)))
        .header("origin", "http://localhost:3000")
        .send()
        .await?;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers().get("access-control-allow-origin").is_none(), "{:?}", res.headers());
    stack.stop().await;
    Ok(())
}

/// `stack` serves one docs page per service with the four documents (its own first); another
/// service's document is readable from that page, and trying its operations there is allowed.
/// A service started alone shows its own document only.
#[tokio::test]
async fn the_stack_docs_page_shows_the_four_documents() -> R {
    let (stack, _dbs) = stack_with_cors(CorsOrigins::Off).await?;
    let http = reqwest::Client::new();
    for s in Service::ALL {
        let page = http.get(format!("{}/docs/swagger-initializer.js", stack.url(s))).send().await?.text().await?;
        for other in Service::ALL.into_iter().filter(|o| *o != s) {
            let url = format!("{}/api/v1/openapi.json", stack.url(other));
            assert!(page.contains(&url), "{s}'s docs page does not offer {other}'s document: {page}");
        }
        assert!(page.contains(&format!("\"{}\"", s.name())), "{s}: its own document first: {page}");
        assert!(page.contains("persistAuthorization"), "{s}: {page}");
    }
    let (sales, invoicing) = (stack.url(Service::Sales), stack.url(Service::Invoicing));
    // The document is public: any page may read it.
    let doc = http
        .get(format!("{invoicing}/api/v1/openapi.json"))
        .header("origin", "https://elsewhere.example")
        .send()
        .await?;
    assert_eq!(doc.headers().get("access-control-allow-origin").and_then(|v| v.to_str().ok()), Some("*"));
    let tried = preflight(invoicing, sales).await?;
    assert!(tried.status().is_success(), "{}", tried.status());
    assert_eq!(tried.headers().get("access-control-allow-origin").and_then(|v| v.to_str().ok()), Some(sales));
    stack.stop().await;

    let db = TestDb::sqlite("lone")?;
    let peers = shared::config::PeerUrls::local();
    let lone = shared::testing::spawn(stack::app(Service::Sales), &db, peers.clone()).await?;
    let page =
        http.get(format!("http://127.0.0.1:{}/docs/swagger-initializer.js", lone.port)).send().await?.text().await?;
    assert!(page.contains("/api/v1/openapi.json"), "{page}");
    for other in [Service::Invoicing, Service::Projects, Service::Helpdesk] {
        assert!(!page.contains(peers.get(other)), "a lone service shows only its own document: {page}");
    }
    lone.stop().await;
    Ok(())
}
