//! Helpdesk's storage: rows, queries and their mapping to domain records. No HTTP here.

pub mod schema;
pub mod teams;
pub mod tickets;

pub use shared::db::StoreError;
pub type Result<T> = std::result::Result<T, StoreError>;
