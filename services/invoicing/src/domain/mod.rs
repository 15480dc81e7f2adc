//! Invoicing's business rules and use cases. No HTTP and no SQL here: use cases take a
//! connection only to hand it to the store, inside the caller's transaction.

pub mod access;
pub mod invoices;
pub mod ledger;
pub mod lifecycle;
pub mod payments;

pub use shared::error::{Checks, Error, Result};

/// Checks a required name-like text: non-empty after trimming, at most `max` characters.
pub fn check_text(checks: &mut Checks, field: &str, value: &str, max: usize) {
    if value.trim().is_empty() {
        checks.push(field, "must not be empty");
    } else if value.chars().count() > max {
        checks.push(field, format!("must be at most {max} characters"));
    }
}
