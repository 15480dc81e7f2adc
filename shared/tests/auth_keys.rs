#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Tokens from an identity provider: RS256 and ES256, checked with its public key through the
//! same middleware every service runs. The keys under `tests/keys/` are throwaway test keys.

use actix_web::middleware::from_fn;
use actix_web::{App, HttpResponse, test as actix_test, web};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use shared::auth::{Caller, Role, Verifier, authenticate, claims};
use shared::config::auth_from_vars;

const RS_PRIVATE: &str = include_str!("keys/rs256-private.pem");
const RS_PUBLIC: &str = include_str!("keys/rs256-public.pem");
const ES_PRIVATE: &str = include_str!("keys/es256-private.pem");
const ES_PUBLIC: &str = include_str!("keys/es256-public.pem");

fn sign(alg: Algorithm, key: EncodingKey, role: Role, ttl: i64) -> String {
    jsonwebtoken::encode(&Header::new(alg), &claims("idp-user", role, None, ttl), &key).unwrap()
}

async fn whoami(caller: Caller) -> HttpResponse {
    HttpResponse::Ok().body(format!("{}:{}", caller.sub, caller.role.name()))
}

async fn status_for(public_pem: &str, token: &str) -> (u16, String) {
    let vars = |k: &str| match k {
        "AUTH_PUBLIC_KEY" => Some(public_pem.to_owned()),
        "AUTH_SERVICE_TOKEN" => Some("a-service-token".to_owned()),
        _ => None,
    };
    let config = auth_from_vars(&vars).unwrap().unwrap();
    let verifier = Verifier::new(&config).unwrap();
    let app = actix_test::init_service(
        App::new()
            .app_data(web::Data::new(verifier))
            .route("/api/v1/whoami", web::get().to(whoami))
            .wrap(from_fn(authenticate)),
    )
    .await;
    let req = actix_test::TestRequest::get()
        .uri("/api/v1/whoami")
        .insert_header(("Authorization", format!("Bearer {token}")));
    let res = actix_test::call_service(&app, req.to_request()).await;
    let status = res.status().as_u16();
    let body = String::from_utf8_lossy(&actix_test::read_body(res).await).into_owned();
    (status, body)
}

#[actix_web::test]
async fn rs256_tokens_of_an_identity_provider_are_accepted_and_forgeries_are_not() {
    let good = sign(Algorithm::RS256, EncodingKey::from_rsa_pem(RS_PRIVATE.as_bytes()).unwrap(), Role::Agent, 60);
    assert_eq!(status_for(RS_PUBLIC, &good).await, (200, "idp-user:agent".to_owned()));
    let expired = sign(Algorithm::RS256, EncodingKey::from_rsa_pem(RS_PRIVATE.as_bytes()).unwrap(), Role::Agent, -120);
    assert_eq!(status_for(RS_PUBLIC, &expired).await.0, 401);
    // Signed with a key other than the provider's (here the EC one): refused.
    let other = sign(Algorithm::ES256, EncodingKey::from_ec_pem(ES_PRIVATE.as_bytes()).unwrap(), Role::Admin, 60);
    assert_eq!(status_for(RS_PUBLIC, &other).await.0, 401);
    // HS256 signed with the public key as a "secret" (the classic confusion attack): refused.
    let confused = sign(Algorithm::HS256, EncodingKey::from_secret(RS_PUBLIC.as_bytes()).unwrap(), Role::Admin, 60);
    assert_eq!(status_for(RS_PUBLIC, &confused).await.0, 401);
}

#[actix_web::test]
async fn es256_tokens_of_an_identity_provider_are_accepted() {
    let good = sign(Algorithm::ES256, EncodingKey::from_ec_pem(ES_PRIVATE.as_bytes()).unwrap(), Role::Accounting, 60);
    assert_eq!(status_for(ES_PUBLIC, &good).await, (200, "idp-user:accounting".to_owned()));
    let rs = sign(Algorithm::RS256, EncodingKey::from_rsa_pem(RS_PRIVATE.as_bytes()).unwrap(), Role::Admin, 60);
    assert_eq!(status_for(ES_PUBLIC, &rs).await.0, 401);
}

#[test]
fn a_public_key_alone_needs_a_service_token_and_a_bad_key_is_refused() {
    let only_key = |k: &str| (k == "AUTH_PUBLIC_KEY").then(|| RS_PUBLIC.to_owned());
    assert!(auth_from_vars(&only_key).is_err(), "services could not call each other");
    let bad = |k: &str| match k {
        "AUTH_PUBLIC_KEY" => Some("not a key".to_owned()),
        "AUTH_SERVICE_TOKEN" => Some("t".to_owned()),
        _ => None,
    };
    assert!(auth_from_vars(&bad).is_err());
}
