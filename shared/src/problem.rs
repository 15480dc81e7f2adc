//! RFC 9457 problem+json: one error type for every HTTP answer that is not a success, rendered
//! in one place, and the framework's own rejections brought to the same shape.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::StoreError;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// One invalid field of a request.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct FieldError {
    /// Path of the field in the request, e.g. `lines[0].quantity`.
    #[schema(example = "lines[0].quantity")]
    pub field: String,
    /// What is wrong with it.
    #[schema(example = "must have at most 2 decimals")]
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError { field: field.into(), message: message.into() }
    }
}

/// An RFC 9457 problem document.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem; stable, one per `code`.
    #[serde(rename = "type")]
    #[schema(example = "urn:prepaid-support:problem:validation")]
    pub kind: String,
    /// Short summary of the kind of problem.
    #[schema(example = "Validation failed")]
    pub title: String,
    /// The HTTP status code.
    #[schema(example = 422)]
    pub status: u16,
    /// What went wrong in this occurrence.
    #[schema(example = "lines[0].quantity: must be greater than 0")]
    pub detail: String,
    /// A stable, machine-readable code for the problem.
    #[schema(example = "validation")]
    pub code: String,
    /// The invalid fields, for validation problems.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
}

/// Every `code` the shared machinery answers with, whatever the service (each service adds
/// its own refusals, the 409 codes of its catalogue). `Problem.code` in each document is the
/// enum of both.
pub const SHARED_CODES: &[&str] = &[
    "bad_request",
    "unauthorized",
    "forbidden",
    "not_found",
    "method_not_allowed",
    "conflict",
    "precondition_failed",
    "too_large",
    "request_timeout",
    "headers_too_large",
    "unsupported_media_type",
    "validation",
    "idempotency_key_reused",
    "unavailable",
    "outcome_unknown",
    "internal",
    "refused",
];

/// Which part of a request did not arrive in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TooSlow {
    Headers,
    Body,
}

/// Every error the API answers with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("malformed request: {detail}")]
    BadRequest { detail: String, errors: Vec<FieldError> },
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("conflict ({code}): {detail}")]
    Conflict { code: &'static str, detail: String },
    /// `If-Match` names another version than the record's current one.
    #[error("precondition failed: {0}")]
    PreconditionFailed(String),
    #[error("body too large")]
    TooLarge,
    /// The request's headers or body did not arrive in time.
    #[error("request {0:?} too slow")]
    RequestTimeout(TooSlow),
    /// The request's headers are larger than the server reads.
    #[error("request headers too large")]
    HeadersTooLarge,
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),
    #[error("validation failed: {0:?}")]
    Validation(Vec<FieldError>),
    #[error("idempotency key reused with another body")]
    IdempotencyMismatch,
    #[error("peer unavailable: {0}")]
    Unavailable(String),
    /// A change was asked of a peer and no answer came: it may have been made.
    #[error("outcome unknown: {0}")]
    OutcomeUnknown(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::Validation(vec![FieldError::new(field, message)])
    }

    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        ApiError::Conflict { code, detail: detail.into() }
    }

    fn parts(&self) -> (StatusCode, &'static str, &'static str) {
        match self {
            ApiError::BadRequest { .. } => (StatusCode::BAD_REQUEST, "bad_request", "Malformed request"),
            ApiError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized", "Unauthorized"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden", "Forbidden"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found", "Not found"),
            ApiError::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "Method not allowed"),
            ApiError::Conflict { code, .. } => (StatusCode::CONFLICT, code, "Not allowed in the current state"),
            ApiError::PreconditionFailed(_) => {
                (StatusCode::PRECONDITION_FAILED, "precondition_failed", "Precondition failed")
            }
            ApiError::TooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "too_large", "Body too large"),
            ApiError::RequestTimeout(_) => (StatusCode::REQUEST_TIMEOUT, "request_timeout", "Request too slow"),
            ApiError::HeadersTooLarge => {
                (StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE, "headers_too_large", "Request headers too large")
            }
            ApiError::UnsupportedMediaType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", "Unsupported media type")
            }
            ApiError::Validation(_) => (StatusCode::UNPROCESSABLE_ENTITY, "validation", "Validation failed"),
            ApiError::IdempotencyMismatch => {
                (StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused", "Idempotency key reused")
            }
            ApiError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable", "Service unavailable"),
            ApiError::OutcomeUnknown(_) => (StatusCode::SERVICE_UNAVAILABLE, "outcome_unknown", "Outcome unknown"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal", "Internal error"),
        }
    }

    pub fn to_problem(&self) -> Problem {
        let (status, code, title) = self.parts();
        let (detail, errors) = match self {
            ApiError::BadRequest { detail, errors } => (detail.clone(), Some(errors.clone()).filter(|e| !e.is_empty())),
            ApiError::Unauthorized(d)
            | ApiError::Forbidden(d)
            | ApiError::NotFound(d)
            | ApiError::PreconditionFailed(d) => (d.clone(), None),
            ApiError::MethodNotAllowed => ("this method is not allowed on this resource".into(), None),
            ApiError::Conflict { detail, .. } => (detail.clone(), None),
            ApiError::TooLarge => ("the request body is larger than 1 MiB".into(), None),
            ApiError::RequestTimeout(part) => {
                let (what, limit) = match part {
                    TooSlow::Headers => ("headers", crate::server::HEADER_TIMEOUT),
                    TooSlow::Body => ("body", crate::extract::BODY_TIMEOUT),
                };
                (
                    format!(
                        "the request {what} did not arrive within {} seconds; the connection is closed",
                        limit.as_secs()
                    ),
                    None,
                )
            }
            ApiError::HeadersTooLarge => {
                ("the request line and headers are larger than the server reads; the connection is closed".into(), None)
            }
            ApiError::UnsupportedMediaType(d) => (d.clone(), None),
            ApiError::Validation(errors) => (
                errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; "),
                Some(errors.clone()),
            ),
            ApiError::IdempotencyMismatch => (
                "this Idempotency-Key was already used with a different request body".into(),
                Some(vec![FieldError::new("Idempotency-Key", "already used with a different body")]),
            ),
            ApiError::Unavailable(d) => {
                (format!("a service needed to answer is unavailable: {d}; nothing was changed"), None)
            }
            ApiError::OutcomeUnknown(d) => (
                format!(
                    "{d}. The change may have been made: send the same request again with the same \
                     Idempotency-Key to learn its outcome (it is never made twice)"
                ),
                None,
            ),
            // 5xx bodies stay opaque: the cause goes to the log only.
            ApiError::Internal(_) => {
                ("an internal error occurred; see the server log for this request id".into(), None)
            }
        };
        Problem {
            kind: format!("urn:prepaid-support:problem:{code}"),
            title: title.into(),
            status: status.as_u16(),
            detail,
            code: code.into(),
            errors,
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::NotFound("no such record".into()),
            StoreError::Conflict(d) => ApiError::conflict("conflict", d),
            StoreError::Unavailable(d) => ApiError::Unavailable(format!("database: {d}")),
            StoreError::Unconfirmed(d) => {
                ApiError::OutcomeUnknown(format!("the database did not confirm the commit ({d})"))
            }
            StoreError::Other(d) => ApiError::Internal(d),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.parts().0
    }

    fn error_response(&self) -> HttpResponse {
        if let ApiError::Internal(cause) = self {
            tracing::error!(cause = %cause, "internal error");
        }
        problem_response(&self.to_problem())
    }
}

pub fn problem_response(p: &Problem) -> HttpResponse {
    let status = StatusCode::from_u16(p.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::to_vec(p).unwrap_or_default();
    HttpResponse::build(status).insert_header((header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON))).body(body)
}

/// Turns any error answer the framework made on its own (unknown route, wrong method, a
/// rejected extractor) into problem+json; answers already in that shape pass untouched.
pub async fn problem_for_framework_errors<B: actix_web::body::MessageBody + 'static>(
    res: actix_web::dev::ServiceResponse<B>,
) -> actix_web::dev::ServiceResponse<actix_web::body::EitherBody<B>> {
    let status = res.status();
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(PROBLEM_JSON));
    if status.as_u16() < 400 || is_problem {
        return res.map_into_left_body();
    }
    let err = match status {
        StatusCode::NOT_FOUND => ApiError::NotFound(format!("no resource at {}", res.request().path())),
        StatusCode::METHOD_NOT_ALLOWED => ApiError::MethodNotAllowed,
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::TooLarge,
        StatusCode::REQUEST_TIMEOUT => ApiError::RequestTimeout(TooSlow::Body),
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => ApiError::HeadersTooLarge,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            ApiError::UnsupportedMediaType("the request body must be application/json".into())
        }
        s if s.is_server_error() => ApiError::Internal(format!("framework answered {s}")),
        StatusCode::BAD_REQUEST => ApiError::BadRequest { detail: "malformed request".into(), errors: vec![] },
        // Any other refusal keeps its status (e.g. 431), in the same shape.
        s => {
            let reason = s.canonical_reason().unwrap_or("Client error");
            let code = "refused";
            let problem = Problem {
                kind: format!("urn:prepaid-support:problem:{code}"),
                title: reason.to_owned(),
                status: s.as_u16(),
                detail: reason.to_lowercase(),
                code: code.into(),
                errors: None,
            };
            let (req, res) = res.into_parts();
            let mut response = problem_response(&problem);
            copy_allow(&res, &mut response);
            return actix_web::dev::ServiceResponse::new(req, response).map_into_right_body();
        }
    };
    let (req, res) = res.into_parts();
    let mut response = problem_response(&err.to_problem());
    copy_allow(&res, &mut response);
    actix_web::dev::ServiceResponse::new(req, response).map_into_right_body()
}

/// Keeps the `Allow` header of a 405 made by the framework.
fn copy_allow<B>(from: &HttpResponse<B>, to: &mut HttpResponse) {
    if let Some(allow) = from.headers().get(header::ALLOW) {
        to.headers_mut().insert(header::ALLOW, allow.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shared_answer_has_a_declared_code() {
        let all = [
            ApiError::BadRequest { detail: String::new(), errors: vec![] },
            ApiError::Unauthorized(String::new()),
            ApiError::Forbidden(String::new()),
            ApiError::NotFound(String::new()),
            ApiError::MethodNotAllowed,
            ApiError::conflict("conflict", ""),
            ApiError::PreconditionFailed(String::new()),
            ApiError::TooLarge,
            ApiError::RequestTimeout(TooSlow::Body),
            ApiError::HeadersTooLarge,
            ApiError::UnsupportedMediaType(String::new()),
            ApiError::Validation(vec![]),
            ApiError::IdempotencyMismatch,
            ApiError::Unavailable(String::new()),
            ApiError::OutcomeUnknown(String::new()),
            ApiError::Internal(String::new()),
        ];
        for e in &all {
            assert!(SHARED_CODES.contains(&e.to_problem().code.as_str()), "{e:?}");
        }
        // Each declared code but `refused` (the framework's other refusals) is answered by one.
        for code in SHARED_CODES.iter().filter(|c| **c != "refused") {
            assert!(all.iter().any(|e| e.to_problem().code == *code), "{code} is declared but never answered");
        }
    }
}
