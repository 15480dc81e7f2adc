//! Projects' storage: rows, queries and their mapping to domain records. No HTTP here.

pub mod claims;
pub mod customers;
pub mod projects;
pub mod schema;
pub mod tasks;
pub mod timesheets;
pub mod totals;

pub use shared::db::StoreError;
pub type Result<T> = std::result::Result<T, StoreError>;
