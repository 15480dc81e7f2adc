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
    /// The record is not the version the caller holds (`If-Match`); nothing was changed.
    #[error("precondition failed")]
    PreconditionFailed,
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

    /// A change the record's current state does not allow: a 409 with `code` from the
    /// service's catalogue of refusals.
    pub fn conflict(code: impl Refusal, detail: impl Into<String>) -> Error {
        Error::Conflict { code: code.code(), detail: detail.into() }
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
            Error::PreconditionFailed => ApiError::PreconditionFailed(
                "the record changed since the version in If-Match was read (its ETag is another now); nothing \
                 was changed: read it again and decide"
                    .into(),
            ),
            Error::Store(s) => s.into(),
            Error::Peer(p) => p.into(),
        }
    }
}

/// A service's catalogue of refusals: each 409 `code` it can answer, declared once (see
/// [`refusals!`](crate::refusals)).
pub trait Refusal: Copy {
    fn code(self) -> &'static str;
}

/// Declares a service's refusals: an enum whose variants are the codes, and `CODES`, the list
/// its OpenAPI document gives as `Problem.code`. A code that is not declared does not compile.
#[macro_export]
macro_rules! refusals {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $($(#[$vmeta:meta])* $variant:ident = $code:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        $vis enum $name { $($(#[$vmeta])* $variant,)+ }

        impl $name {
            /// Every code of the catalogue.
            pub const CODES: &'static [&'static str] = &[$($code,)+];
        }

        impl $crate::error::Refusal for $name {
            fn code(self) -> &'static str {
                match self { $($name::$variant => $code,)+ }
            }
        }
    };
}

/// What the caller holds of a record it changes (HTTP's `If-Match`): checked against the record
/// as the change finds it, inside the change's transaction with the record's row locked, so a
/// stale edit fails instead of silently overwriting the one made since.
pub struct Precondition<R>(Option<Holds<R>>);

/// Whether a record is the caller's version.
type Holds<R> = std::sync::Arc<dyn Fn(&R) -> bool + Send + Sync>;

impl<R> Clone for Precondition<R> {
    fn clone(&self) -> Self {
        Precondition(self.0.clone())
    }
}

impl<R> Precondition<R> {
    /// No condition: the change proceeds whatever the record is.
    pub fn none() -> Self {
        Precondition(None)
    }

    /// The change proceeds only when `holds` says the record is the caller's version.
    pub fn new(holds: impl Fn(&R) -> bool + Send + Sync + 'static) -> Self {
        Precondition(Some(std::sync::Arc::new(holds)))
    }

    /// Whether there is a condition.
    pub fn is_set(&self) -> bool {
        self.0.is_some()
    }

    /// When there is a condition, takes the row lock of the record (`id` in `table`) before the
    /// change reads it, so no other change slips in between the check and the write.
    pub fn lock(&self, conn: &mut crate::db::DbConn, table: &str, id: Uuid) -> Result<()> {
        if self.is_set() {
            crate::db::lock_row(conn, table, id)?;
        }
        Ok(())
    }

    pub fn check(&self, current: &R) -> Result<()> {
        match &self.0 {
            Some(holds) if !holds(current) => Err(Error::PreconditionFailed),
            _ => Ok(()),
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

/// Longest name-like text (a customer's, a product's, a project's, a team's name, an employee).
pub const NAME_MAX: usize = 200;

/// Longest title-like text (a task's name, a ticket's title).
pub const TITLE_MAX: usize = 300;

/// Longest long text (a timesheet's or a ticket's description).
pub const DESCRIPTION_MAX: usize = 10_000;

/// Most items an array of a request may hold: lines of an order, an invoice or a credit
/// note, sale line ids of a claim. An order holds at most this many lines in all.
pub const MAX_ITEMS: usize = 200;

/// Checks the length of an array of a request: at most `max` items.
pub fn check_count(checks: &mut Checks, field: &str, len: usize, max: usize) {
    if len > max {
        checks.push(field, format!("must have at most {max} items, not {len}"));
    }
}

/// Longest text filter of a list (`?employee=`).
pub const FILTER_MAX: usize = 200;

/// Checks a required name-like text: non-empty after trimming, at most `max` characters, on one
/// line: no control character at all (NUL, tab, newline, …).
pub fn check_text(checks: &mut Checks, field: &str, value: &str, max: usize) {
    if value.trim().is_empty() {
        checks.push(field, "must not be empty");
    } else if value.chars().count() > max {
        checks.push(field, format!("must be at most {max} characters"));
    } else if value.chars().any(char::is_control) {
        checks.push(field, "must not contain control characters (such as NUL, tab or a line break)");
    }
}

/// Checks a long text (a description): at most `max` characters; tabs and line breaks (`\n`)
/// are fine, other control characters (NUL, `\r`, …) are not.
pub fn check_long_text(checks: &mut Checks, field: &str, value: &str, max: usize) {
    if value.chars().count() > max {
        checks.push(field, format!("must be at most {max} characters"));
    } else if value.chars().any(|c| c.is_control() && c != '\t' && c != '\n') {
        checks.push(field, "must not contain control characters other than tab and line feed (such as NUL)");
    }
}

/// Checks a text filter of a list (`?employee=`): at most [`FILTER_MAX`] characters, no control
/// character; a 422 naming the parameter otherwise.
pub fn check_filter(field: &str, value: Option<&str>) -> Result<()> {
    let mut checks = Checks::new();
    if let Some(v) = value {
        if v.chars().count() > FILTER_MAX {
            checks.push(field, format!("must be at most {FILTER_MAX} characters"));
        } else if v.chars().any(char::is_control) {
            checks.push(field, "must not contain control characters (such as NUL)");
        }
    }
    checks.finish()
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

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(f: impl FnOnce(&mut Checks)) -> usize {
        let mut c = Checks::new();
        f(&mut c);
        c.0.len()
    }

    #[test]
    fn texts_refuse_control_characters_and_descriptions_keep_tabs_and_newlines() {
        assert_eq!(errors(|c| check_text(c, "name", "Azure Interior", 200)), 0);
        for bad in ["a\u{0}b", "a\tb", "a\nb", "a\u{7f}", "a\u{85}b", " ", &"x".repeat(201)] {
            assert_eq!(errors(|c| check_text(c, "name", bad, 200)), 1, "{bad:?}");
        }
        assert_eq!(errors(|c| check_long_text(c, "description", "line 1\n\tline 2", 100)), 0);
        for bad in ["a\u{0}b", "a\rb", "a\u{1b}[31m", &"x".repeat(101)] {
            assert_eq!(errors(|c| check_long_text(c, "description", bad, 100)), 1, "{bad:?}");
        }
        assert!(check_filter("employee", Some("Ann")).is_ok());
        assert!(check_filter("employee", None).is_ok());
        assert!(check_filter("employee", Some("a\u{0}b")).is_err());
    }
}
