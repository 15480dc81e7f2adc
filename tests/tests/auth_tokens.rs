//! Tokens that must not get in: tampered, expired, signed with another secret, of an unknown
//! role, `alg: none`, a customer token without its customer, and things that are not bearer
//! tokens at all. Each answers 401 problem+json with `WWW-Authenticate: Bearer`, and none
//! changes anything. The OpenAPI document, health and docs stay open.

use e2e::auth::{SECRET, World, secured, snapshot, token};
use e2e::{Api, R};
use reqwest::{Method, StatusCode};
use serde_json::json;
use shared::auth::Role;
use shared::config::Service;
use shared::db::Backend;

/// base64url without padding, as JWTs spell their parts.
fn b64(v: &serde_json::Value) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let bytes = v.to_string().into_bytes();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(char::from(ABC[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

fn hs256(secret: &[u8], claims: &serde_json::Value) -> R<String> {
    let key = jsonwebtoken::EncodingKey::from_secret(secret)?;
    Ok(jsonwebtoken::encode(&jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256), claims, &key)?)
}

/// Every kind of bad token, named.
pub fn bad_tokens() -> R<Vec<(&'static str, String)>> {
    let now = chrono::Utc::now().timestamp();
    let admin = token(Role::Admin, "mallory", None)?;
    let mut parts: Vec<String> = admin.split('.').map(str::to_owned).collect();
    // The same signature over a payload that claims more.
    parts[1] = b64(&json!({"sub": "mallory", "role": "admin", "exp": now + 7200, "iat": now}));
    let tampered = parts.join(".");
    let claims = |role: &str| json!({"sub": "mallory", "role": role, "exp": now + 600, "iat": now});
    let none = format!("{}.{}.", b64(&json!({"alg": "none", "typ": "JWT"})), b64(&claims("admin")));
    Ok(vec![
        ("tampered", tampered),
        ("expired", shared::auth::mint(SECRET.as_bytes(), &shared::auth::claims("mallory", Role::Admin, None, -3600))?),
        ("wrongly signed", hs256(b"another-secret-that-is-long-enough-0123", &claims("admin"))?),
        ("unknown role", hs256(SECRET.as_bytes(), &claims("root"))?),
        ("alg none", none),
        ("customer without customer_id", hs256(SECRET.as_bytes(), &claims("customer"))?),
        ("no sub", hs256(SECRET.as_bytes(), &json!({"role": "admin", "exp": now + 600, "iat": now}))?),
        ("no exp", hs256(SECRET.as_bytes(), &json!({"sub": "mallory", "role": "admin", "iat": now}))?),
        ("garbage", "not-a-token".into()),
        ("empty", String::new()),
    ])
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_tokens_get_401_and_change_nothing() -> R {
    let sys = secured(Backend::Sqlite).await?;
    let w = World::build(&sys.api).await?;
    let before = snapshot(&sys.api, &w).await?;
    let writes = [
        (Service::Sales, Method::POST, "/customers".to_owned(), json!({"name": "Mallory"})),
        (Service::Sales, Method::POST, format!("/orders/{}/cancel", w.mine.order), json!({})),
        (Service::Invoicing, Method::POST, format!("/invoices/{}/cancel", w.mine.invoice), json!({})),
        (Service::Projects, Method::DELETE, format!("/timesheets/{}", w.mine.timesheet), json!({})),
        (Service::Helpdesk, Method::PATCH, format!("/tickets/{}", w.mine.ticket), json!({"title": "pwned"})),
    ];
    let anonymous = sys.api.anonymous();
    let mut headers: Vec<(String, String)> =
        bad_tokens()?.into_iter().map(|(name, t)| (name.to_owned(), format!("Bearer {t}"))).collect();
    let good = token(Role::Admin, "admin", None)?;
    headers.push(("basic scheme".into(), "Basic YWRtaW46YWRtaW4=".into()));
    headers.push(("token without scheme".into(), good.clone()));
    for (name, header) in &headers {
        for (s, m, path, body) in &writes {
            let req = anonymous.request(*s, m.clone(), path).header("Authorization", header).json(body);
            let a = anonymous.send(req).await?;
            assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{name}: {m} {path}: {}", a.text);
            assert_eq!(a.headers.get("www-authenticate").and_then(|v| v.to_str().ok()), Some("Bearer"), "{name}");
            assert_eq!(
                a.headers.get("content-type").and_then(|v| v.to_str().ok()),
                Some("application/problem+json"),
                "{name}"
            );
            assert_eq!(a.body["status"], 401, "{name}: {}", a.text);
        }
    }
    assert!(snapshot(&sys.api, &w).await? == before, "a request with a bad token changed something");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_document_health_and_docs_need_no_token() -> R {
    let sys = secured(Backend::Sqlite).await?;
    let anonymous: Api = sys.api.anonymous();
    for s in Service::ALL {
        let base = anonymous.url(s);
        for path in ["/health", "/api/v1/openapi.json", "/docs/"] {
            let res = anonymous.http.get(format!("{base}{path}")).send().await?;
            assert_eq!(res.status(), StatusCode::OK, "{s} {path}");
        }
        let doc: serde_json::Value =
            anonymous.http.get(format!("{base}/api/v1/openapi.json")).send().await?.json().await?;
        assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer", "{s}");
        assert_eq!(doc["security"][0]["bearer"], json!([]), "{s}");
    }
    sys.stop().await;
    Ok(())
}
