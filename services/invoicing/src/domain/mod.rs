//! Invoicing's business rules and use cases. No HTTP and no SQL here: use cases take a
//! connection only to hand it to the store, inside the caller's transaction.

pub mod access;
pub mod invoices;
pub mod ledger;
pub mod lifecycle;
pub mod payments;

pub use shared::error::{Checks, Error, Result, check_text};
