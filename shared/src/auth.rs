//! Who is calling: bearer JWTs verified locally by every service, HS256 with the shared
//! `AUTH_SECRET`, or RS256/ES256 with a configured public key so an existing identity provider
//! can issue them. Roles decide what a caller may do, in the domain layer; a `customer` sees
//! only its own records. Services call each other with a service token of their own, never the
//! caller's. Tokens and the secret never reach a response body or a log line.

use std::sync::{Arc, Mutex};

use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::Error;
use crate::ids::CustomerId;
use crate::problem::ApiError;

/// What a caller is allowed to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything.
    Admin,
    /// Customers, products, orders, and invoicing orders.
    Sales,
    /// Invoices, credit notes and payments.
    Accounting,
    /// Tickets and time; reads what it needs of tasks, projects and sale lines.
    Agent,
    /// Its own customer record, orders, invoices, prepaid hours and tickets.
    Customer,
    /// Calls between services.
    Service,
}

impl Role {
    pub const ALL: [Role; 6] = [Role::Admin, Role::Sales, Role::Accounting, Role::Agent, Role::Customer, Role::Service];

    pub fn name(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Sales => "sales",
            Role::Accounting => "accounting",
            Role::Agent => "agent",
            Role::Customer => "customer",
            Role::Service => "service",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.name() == s)
    }
}

/// The claims of a token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// Who: a user name, or a service's name.
    pub sub: String,
    pub role: Role,
    /// With the `customer` role only: whose records the caller may see.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<Uuid>,
    pub exp: i64,
    pub iat: i64,
}

/// The authenticated caller of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub sub: String,
    pub role: Role,
    pub customer_id: Option<CustomerId>,
}

impl Caller {
    /// The caller of a service run without authentication (in-process tests only: the
    /// binaries refuse to start without it).
    pub fn unauthenticated() -> Caller {
        Caller { sub: "unauthenticated".into(), role: Role::Admin, customer_id: None }
    }

    /// True when the caller has one of `roles`; an admin has every role.
    pub fn is(&self, roles: &[Role]) -> bool {
        self.role == Role::Admin || roles.contains(&self.role)
    }

    /// True when the caller is the service `service` itself, by its own token (an admin is not).
    pub fn is_service(&self, service: crate::config::Service) -> bool {
        self.role == Role::Service && self.sub == service_subject(service.name())
    }

    /// A 403 unless the caller has one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), Error> {
        if self.is(roles) {
            Ok(())
        } else {
            Err(Error::Forbidden(format!("the {} role may not do this", self.role.name())))
        }
    }

    /// For a `customer` caller, the one customer it may see; `None` for every other role.
    pub fn own_customer(&self) -> Option<CustomerId> {
        if self.role == Role::Customer { self.customer_id } else { None }
    }

    /// Whether the caller may see a record of `customer`: anyone but a customer may, a
    /// customer only its own. Callers answer 404 otherwise, so nothing leaks.
    pub fn sees(&self, customer: Option<CustomerId>) -> bool {
        self.role != Role::Customer || (customer.is_some() && customer == self.customer_id)
    }

    /// A 404 for `what` `id` unless the caller may see a record of `customer` (see [`Caller::sees`]).
    pub fn must_see(&self, customer: CustomerId, what: &'static str, id: impl std::fmt::Display) -> Result<(), Error> {
        if self.sees(Some(customer)) { Ok(()) } else { Err(Error::not_found(what, id)) }
    }

    /// The customer filter of a list for this caller: a customer lists only its own records
    /// (`None` when it asked for another customer's: the list is empty); every other caller
    /// keeps the filter it asked for.
    pub fn list_scope(&self, asked: Option<CustomerId>) -> Option<Option<CustomerId>> {
        match (self.own_customer(), asked) {
            (None, asked) if self.role != Role::Customer => Some(asked),
            (Some(own), None) => Some(Some(own)),
            (Some(own), Some(a)) if a == own => Some(Some(own)),
            _ => None,
        }
    }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Caller, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let caller = req.extensions().get::<Caller>().cloned();
        std::future::ready(caller.ok_or_else(|| ApiError::Unauthorized("a bearer token is required".into())))
    }
}

/// How tokens are checked and how this service makes its own.
#[derive(Clone)]
pub struct AuthConfig {
    /// The HS256 secret shared by the services (`AUTH_SECRET`).
    pub secret: Option<Vec<u8>>,
    /// A PEM public key (RS256 or ES256) of an identity provider (`AUTH_PUBLIC_KEY`).
    pub public_key_pem: Option<String>,
    /// A token for calls to other services, when there is no secret to mint one
    /// (`AUTH_SERVICE_TOKEN`).
    pub service_token: Option<String>,
}

impl std::fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the secret or a token.
        f.debug_struct("AuthConfig")
            .field("secret", &self.secret.as_ref().map(|_| "***"))
            .field("public_key_pem", &self.public_key_pem.as_ref().map(|_| "PEM"))
            .field("service_token", &self.service_token.as_ref().map(|_| "***"))
            .finish()
    }
}

/// How far, in seconds, the clocks of a token's issuer and of the services may disagree: a token
/// counts as expired only this long after `exp`, and is refused when its `nbf` or `iat` is more
/// than this ahead of now.
pub const LEEWAY_SECS: i64 = 60;

/// Smallest secret accepted, in bytes.
pub const MIN_SECRET_LEN: usize = 32;

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("the token is malformed")]
    Malformed,
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid yet (nbf is in the future)")]
    NotYetValid,
    #[error("the token was issued in the future (iat)")]
    IssuedInFuture,
    #[error("the token's signature is not valid")]
    BadSignature,
    #[error("the token's algorithm is not accepted")]
    Algorithm,
    #[error("the token's claims are not valid: {0}")]
    Claims(String),
}

/// Checks tokens against the configured keys.
#[derive(Clone)]
pub struct Verifier {
    keys: Arc<Vec<(Algorithm, DecodingKey)>>,
}

impl Verifier {
    pub fn new(config: &AuthConfig) -> Result<Verifier, String> {
        let mut keys = vec![];
        if let Some(secret) = &config.secret {
            if secret.len() < MIN_SECRET_LEN {
                return Err(format!("AUTH_SECRET must be at least {MIN_SECRET_LEN} bytes"));
            }
            let key = DecodingKey::from_secret(secret).map_err(|e| format!("AUTH_SECRET: {e}"))?;
            keys.push((Algorithm::HS256, key));
        }
        if let Some(pem) = &config.public_key_pem {
            let pem = pem.as_bytes();
            match (DecodingKey::from_rsa_pem(pem), DecodingKey::from_ec_pem(pem)) {
                (Ok(k), _) => keys.push((Algorithm::RS256, k)),
                (_, Ok(k)) => keys.push((Algorithm::ES256, k)),
                _ => return Err("AUTH_PUBLIC_KEY is neither an RSA nor an EC public key in PEM".into()),
            }
        }
        if keys.is_empty() {
            return Err("set AUTH_SECRET (HS256, at least 32 bytes) or AUTH_PUBLIC_KEY (RS256/ES256 PEM)".into());
        }
        Ok(Verifier { keys: Arc::new(keys) })
    }

    /// The claims of a valid token.
    pub fn verify(&self, token: &str) -> Result<Claims, AuthError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| AuthError::Malformed)?;
        let (alg, key) = self.keys.iter().find(|(a, _)| *a == header.alg).ok_or(AuthError::Algorithm)?;
        let mut validation = Validation::new(*alg);
        validation.leeway = LEEWAY_SECS as u64;
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp", "sub"]);
        let data = jsonwebtoken::decode::<Claims>(token, key, &validation).map_err(|e| {
            use jsonwebtoken::errors::ErrorKind as K;
            match e.kind() {
                K::ExpiredSignature => AuthError::Expired,
                K::ImmatureSignature => AuthError::NotYetValid,
                K::InvalidSignature => AuthError::BadSignature,
                K::InvalidAlgorithm | K::InvalidAlgorithmName => AuthError::Algorithm,
                K::Json(_) | K::MissingRequiredClaim(_) => AuthError::Claims(e.to_string()),
                _ => AuthError::Malformed,
            }
        })?;
        let claims = data.claims;
        if claims.iat > chrono::Utc::now().timestamp() + LEEWAY_SECS {
            return Err(AuthError::IssuedInFuture);
        }
        match (claims.role, claims.customer_id) {
            (Role::Customer, None) => Err(AuthError::Claims("a customer token needs a customer_id".into())),
            (r, Some(_)) if r != Role::Customer => {
                Err(AuthError::Claims("only a customer token has a customer_id".into()))
            }
            _ if claims.sub.trim().is_empty() => Err(AuthError::Claims("sub is empty".into())),
            _ => Ok(claims),
        }
    }
}

/// Signs `claims` with the HS256 secret.
pub fn mint(secret: &[u8], claims: &Claims) -> Result<String, String> {
    let key = EncodingKey::from_secret(secret).map_err(|e| e.to_string())?;
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &key).map_err(|e| e.to_string())
}

/// Claims for `sub` in `role`, valid for `ttl_secs` from now.
pub fn claims(sub: &str, role: Role, customer_id: Option<Uuid>, ttl_secs: i64) -> Claims {
    let now = chrono::Utc::now().timestamp();
    Claims { sub: sub.to_owned(), role, customer_id, iat: now, exp: now + ttl_secs }
}

/// The token a service sends to its peers: minted from the secret and renewed before it
/// expires, or the configured static one.
#[derive(Clone)]
pub struct ServiceToken {
    inner: Arc<ServiceTokenInner>,
}

struct ServiceTokenInner {
    name: String,
    secret: Option<Vec<u8>>,
    fixed: Option<String>,
    cached: Mutex<Option<(String, i64)>>,
}

const SERVICE_TOKEN_TTL: i64 = 600;

impl ServiceToken {
    pub fn new(service: &str, config: Option<&AuthConfig>) -> ServiceToken {
        ServiceToken {
            inner: Arc::new(ServiceTokenInner {
                name: service.to_owned(),
                secret: config.and_then(|c| c.secret.clone()),
                fixed: config.and_then(|c| c.service_token.clone()),
                cached: Mutex::new(None),
            }),
        }
    }

    /// The bearer token to send now, if the system uses tokens.
    pub fn get(&self) -> Option<String> {
        let i = &self.inner;
        if let Some(fixed) = &i.fixed {
            return Some(fixed.clone());
        }
        let secret = i.secret.as_ref()?;
        let now = chrono::Utc::now().timestamp();
        let mut cached = i.cached.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((token, exp)) = cached.as_ref().filter(|(_, exp)| *exp - now > SERVICE_TOKEN_TTL / 2) {
            let _ = exp;
            return Some(token.clone());
        }
        let c = claims(&service_subject(&i.name), Role::Service, None, SERVICE_TOKEN_TTL);
        let token = mint(secret, &c).ok()?;
        *cached = Some((token.clone(), c.exp));
        Some(token)
    }
}

/// The subject of a service's own tokens.
fn service_subject(name: &str) -> String {
    format!("service:{name}")
}

/// Paths that need no token: the document of the API.
fn is_open(path: &str) -> bool {
    !path.starts_with("/api/v1/") || path == "/api/v1/openapi.json"
}

/// Middleware body: verifies the bearer token of every `/api/v1` request (the OpenAPI document
/// aside) and puts the [`Caller`] in the request. Without a [`Verifier`] in the app data (an
/// in-process test) every request is taken as [`Caller::unauthenticated`].
pub async fn authenticate<B: actix_web::body::MessageBody + 'static>(
    req: ServiceRequest,
    next: actix_web::middleware::Next<B>,
) -> Result<ServiceResponse<actix_web::body::EitherBody<B>>, actix_web::Error> {
    if is_open(req.path()) || req.method() == actix_web::http::Method::OPTIONS {
        return next.call(req).await.map(ServiceResponse::map_into_left_body);
    }
    let Some(verifier) = req.app_data::<web::Data<Verifier>>().cloned() else {
        req.extensions_mut().insert(Caller::unauthenticated());
        return next.call(req).await.map(ServiceResponse::map_into_left_body);
    };
    let token = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim);
    let result = match token {
        None => Err("a bearer token is required (Authorization: Bearer <token>)".to_owned()),
        Some(t) => verifier.verify(t).map_err(|e| e.to_string()),
    };
    match result {
        Ok(claims) => {
            let caller = Caller { sub: claims.sub, role: claims.role, customer_id: claims.customer_id.map(CustomerId) };
            tracing::Span::current().record("caller", caller.sub.as_str());
            req.extensions_mut().insert(caller);
            next.call(req).await.map(ServiceResponse::map_into_left_body)
        }
        Err(why) => {
            let mut res = actix_web::ResponseError::error_response(&ApiError::Unauthorized(why));
            res.headers_mut().insert(
                actix_web::http::header::WWW_AUTHENTICATE,
                actix_web::http::header::HeaderValue::from_static("Bearer"),
            );
            Ok(req.into_response(res).map_into_right_body())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> AuthConfig {
        AuthConfig { secret: Some(vec![7u8; 32]), public_key_pem: None, service_token: None }
    }

    #[test]
    fn a_minted_token_verifies_and_a_tampered_one_does_not() -> Result<(), String> {
        let v = Verifier::new(&config())?;
        let token = mint(&[7u8; 32], &claims("alice", Role::Agent, None, 60))?;
        let c = v.verify(&token).map_err(|e| e.to_string())?;
        assert_eq!((c.sub.as_str(), c.role), ("alice", Role::Agent));
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        parts[1] = parts[1].chars().rev().collect();
        assert!(v.verify(&parts.join(".")).is_err());
        let other = mint(&[8u8; 32], &claims("alice", Role::Admin, None, 60))?;
        assert!(matches!(v.verify(&other), Err(AuthError::BadSignature)));
        let expired = mint(&[7u8; 32], &claims("alice", Role::Admin, None, -120))?;
        assert!(matches!(v.verify(&expired), Err(AuthError::Expired)));
        Ok(())
    }

    #[test]
    fn tokens_not_valid_yet_or_issued_in_the_future_are_refused() -> Result<(), String> {
        let v = Verifier::new(&config())?;
        let key = EncodingKey::from_secret(&[7u8; 32]).map_err(|e| e.to_string())?;
        let now = chrono::Utc::now().timestamp();
        let sign = |claims: serde_json::Value| {
            jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &key).map_err(|e| e.to_string())
        };
        let base = serde_json::json!({"sub": "x", "role": "admin", "exp": now + 600, "iat": now});
        let with = |k: &str, v: i64| {
            let mut c = base.clone();
            c[k] = serde_json::json!(v);
            sign(c)
        };
        assert!(v.verify(&sign(base.clone())?).is_ok());
        assert!(v.verify(&with("nbf", now + 30)?).is_ok(), "within the leeway");
        assert!(matches!(v.verify(&with("nbf", now + 3600)?), Err(AuthError::NotYetValid)));
        assert!(v.verify(&with("iat", now + 30)?).is_ok(), "within the leeway");
        let ten_years = with("iat", now + 10 * 365 * 86_400)?;
        assert!(matches!(v.verify(&ten_years), Err(AuthError::IssuedInFuture)));
        Ok(())
    }

    #[test]
    fn alg_none_unknown_roles_and_odd_customer_claims_are_refused() -> Result<(), String> {
        let v = Verifier::new(&config())?;
        // {"alg":"none","typ":"JWT"} . {"sub":"x","role":"admin","exp":9999999999,"iat":0} .
        let none =
            "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJ4Iiwicm9sZSI6ImFkbWluIiwiZXhwIjo5OTk5OTk5OTk5LCJpYXQiOjB9.";
        assert!(v.verify(none).is_err());
        let secret = [7u8; 32];
        let now = chrono::Utc::now().timestamp();
        let odd = serde_json::json!({"sub": "x", "role": "root", "exp": now + 60, "iat": now});
        let key = EncodingKey::from_secret(&secret).map_err(|e| e.to_string())?;
        let t = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &odd, &key).map_err(|e| e.to_string())?;
        assert!(matches!(v.verify(&t), Err(AuthError::Claims(_))));
        let customer_without_id = mint(&secret, &claims("c", Role::Customer, None, 60))?;
        assert!(v.verify(&customer_without_id).is_err());
        let agent_with_id = mint(&secret, &claims("a", Role::Agent, Some(Uuid::now_v7()), 60))?;
        assert!(v.verify(&agent_with_id).is_err());
        assert!(
            Verifier::new(&AuthConfig { secret: Some(vec![1; 8]), public_key_pem: None, service_token: None }).is_err()
        );
        Ok(())
    }

    #[test]
    fn the_secret_never_shows_in_debug_output() {
        let text = format!(
            "{:?}",
            AuthConfig {
                secret: Some(b"super-secret-value-1234567890abcd".to_vec()),
                public_key_pem: None,
                service_token: Some("tok".into())
            }
        );
        assert!(!text.contains("super-secret") && !text.contains("tok\""));
    }
}
