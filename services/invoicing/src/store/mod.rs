//! Invoicing's storage: rows, queries and their mapping to domain records. No HTTP here.

pub mod invoices;
pub mod payments;
pub mod schema;
pub mod sequences;
pub mod totals;

pub use shared::db::StoreError;
pub type Result<T> = std::result::Result<T, StoreError>;
