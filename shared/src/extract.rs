//! Request extractors that reject in problem+json and name the offending field.

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;

use crate::problem::{ApiError, FieldError};

/// Largest request body accepted, in bytes.
pub const BODY_LIMIT: usize = 1 << 20;

/// A JSON request body. Malformed JSON and wrong types are a 400, missing or unknown fields a
/// 422, each naming the field; a body that is not JSON is a 415, one over 1 MiB a 413.
pub struct Body<T>(pub T);

/// An optional JSON request body: an empty body is `None`.
pub struct OptionalBody<T>(pub Option<T>);

fn is_json(req: &HttpRequest) -> bool {
    req.headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|m| {
            let m = m.trim().to_ascii_lowercase();
            m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
        })
        .unwrap_or(false)
}

fn read_body(
    req: &HttpRequest,
    payload: &mut Payload,
) -> LocalBoxFuture<'static, Result<(bool, web::Bytes), ApiError>> {
    let json = is_json(req);
    let bytes = web::Bytes::from_request(req, payload);
    Box::pin(async move {
        let bytes = bytes.await.map_err(|e| {
            if e.as_response_error().status_code() == actix_web::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::TooLarge
            } else {
                ApiError::BadRequest { detail: format!("could not read the body: {e}"), errors: vec![] }
            }
        })?;
        Ok((json, bytes))
    })
}

impl<T: DeserializeOwned + 'static> FromRequest for Body<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = read_body(req, payload);
        Box::pin(async move {
            let (json, bytes) = body.await?;
            if !json {
                return Err(ApiError::UnsupportedMediaType);
            }
            parse_json(&bytes).map(Body)
        })
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for OptionalBody<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = read_body(req, payload);
        Box::pin(async move {
            let (json, bytes) = body.await?;
            if bytes.iter().all(u8::is_ascii_whitespace) {
                return Ok(OptionalBody(None));
            }
            if !json {
                return Err(ApiError::UnsupportedMediaType);
            }
            parse_json(&bytes).map(|v| OptionalBody(Some(v)))
        })
    }
}

/// Parses JSON, classifying failures: syntax and wrong types are 400, missing and unknown
/// fields 422, and every one names the field by its path.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Ok(v) => {
            de.end().map_err(|e| ApiError::BadRequest {
                detail: format!("malformed JSON: {}", strip_position(&e.to_string())),
                errors: vec![],
            })?;
            Ok(v)
        }
        Err(err) => {
            // serde_json's arbitrary precision reads a number through a private map key, which
            // shows in the path (`list_price.$serde_json::private::Number`): not a field of ours.
            let path = err.path().to_string().replace(".$serde_json::private::Number", "");
            let inner = err.into_inner();
            let message = strip_position(&inner.to_string());
            if inner.is_syntax() || inner.is_eof() {
                return Err(ApiError::BadRequest { detail: format!("malformed JSON: {message}"), errors: vec![] });
            }
            let named = |field: &str| {
                if path == "." { field.to_owned() } else { format!("{path}.{field}") }
            };
            if let Some(f) = backticked(&message, "missing field ") {
                return Err(ApiError::Validation(vec![FieldError::new(named(&f), "is required")]));
            }
            if let Some(f) = backticked(&message, "unknown field ") {
                // The path already ends at the unknown field.
                let field = if path == "." { f } else { path };
                return Err(ApiError::Validation(vec![FieldError::new(field, "is not a known field")]));
            }
            let field = if path == "." { "body".to_owned() } else { path };
            Err(ApiError::BadRequest {
                detail: format!("{field}: {message}"),
                errors: vec![FieldError::new(field, message)],
            })
        }
    }
}

fn backticked(message: &str, prefix: &str) -> Option<String> {
    let rest = message.strip_prefix(prefix)?.strip_prefix('`')?;
    Some(rest.split('`').next()?.to_owned())
}

fn strip_position(message: &str) -> String {
    match message.find(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// The header that makes a POST safe to retry.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// The `Idempotency-Key` header of a request, if any.
pub fn idempotency_key(req: &HttpRequest) -> Option<String> {
    req.headers().get(IDEMPOTENCY_KEY).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

/// The extractor configurations that make actix's own rejections problem+json.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::PayloadConfig::new(BODY_LIMIT))
        .app_data(
            web::PathConfig::default()
                .error_handler(|err, req| ApiError::NotFound(format!("{}: {err}", req.path())).into()),
        )
        .app_data(web::QueryConfig::default().error_handler(|err, _req| {
            let message = err.to_string();
            let field = backticked(&message.replace("Query deserialize error: ", ""), "unknown field ")
                .unwrap_or_else(|| "query".to_owned());
            ApiError::BadRequest { detail: message.clone(), errors: vec![FieldError::new(field, message)] }.into()
        }));
}
