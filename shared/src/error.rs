//! The error every use case returns: what went wrong in business terms, with no HTTP in it.
//! `ApiError` renders it once.

use uuid::Uuid;

use crate::db::StoreError;
use crate::peer::PeerError;
use crate::problem::{ApiError, FieldError};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{what} {id} not found")]
    NotFound { what: &'static str, id: String },
    #[error("invalid: {0:?}")]
    Invalid(Vec<FieldError>),
    #[error("{detail}")]
    Conflict { code: &'static str, detail: String },
    /// The caller's role may not do this (a `customer` asking for another's record gets
    /// `NotFound` instead, so nothing leaks).
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Peer(#[from] PeerError),
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn not_found(what: &'static str, id: impl std::fmt::Display) -> Error {
        Error::NotFound { what, id: id.to_string() }
    }

    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Error {
        Error::Invalid(vec![FieldError::new(field, message)])
    }

    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Error {
        Error::Conflict { code, detail: detail.into() }
    }

    /// A record named in a request body that does not exist: a 422 on that field.
    pub fn unknown(field: &str, what: &str, id: Uuid) -> Error {
        Error::invalid(field, format!("no {what} with id {id}"))
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        match e {
            Error::NotFound { what, id } => ApiError::NotFound(format!("no {what} with id {id}")),
            Error::Invalid(errors) => ApiError::Validation(errors),
            Error::Conflict { code, detail } => ApiError::Conflict { code, detail },
            Error::Forbidden(d) => ApiError::Forbidden(d),
            Error::Store(s) => s.into(),
            Error::Peer(p) => p.into(),
        }
    }
}

/// Collects field errors, so a request learns all that is wrong with it at once.
#[derive(Debug, Default)]
pub struct Checks(Vec<FieldError>);

impl Checks {
    pub fn new() -> Checks {
        Checks::default()
    }

    pub fn check(&mut self, ok: bool, field: impl Into<String>, message: impl Into<String>) -> &mut Self {
        if !ok {
            self.0.push(FieldError::new(field, message));
        }
        self
    }

    pub fn push(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError::new(field, message));
    }

    pub fn finish(self) -> Result<()> {
        if self.0.is_empty() { Ok(()) } else { Err(Error::Invalid(self.0)) }
    }
}

/// Checks a required name-like text: non-empty after trimming, at most `max` characters.
pub fn check_text(checks: &mut Checks, field: &str, value: &str, max: usize) {
    if value.trim().is_empty() {
        checks.push(field, "must not be empty");
    } else if value.chars().count() > max {
        checks.push(field, format!("must be at most {max} characters"));
    }
}

/// Deserializes a PATCH field where `null` means "clear" and absence means "keep":
/// use with `#[serde(default, deserialize_with = "shared::error::patch")]` on `Option<Option<T>>`.
pub fn patch<'de, D, T>(d: D) -> std::result::Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    <Option<T> as serde::Deserialize>::deserialize(d).map(Some)
}
