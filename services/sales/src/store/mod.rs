//! Sales' storage: rows, queries and their mapping to domain records. No HTTP here.

pub mod customers;
pub mod lines;
pub mod orders;
pub mod products;
pub mod schema;

pub use shared::db::StoreError;
pub type Result<T> = std::result::Result<T, StoreError>;

/// Reads a stored enum value; a value the code does not know is a corrupt row.
pub(crate) fn parse<T>(value: &str, parse: fn(&str) -> Option<T>) -> Result<T> {
    parse(value).ok_or_else(|| StoreError::Other(format!("unknown stored value {value:?}")))
}
