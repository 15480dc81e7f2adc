//! What every service shares and nothing domain-specific: configuration, storage, errors as
//! problem+json, decimals and ids, lists, the outbox, idempotency, peer calls and telemetry.

pub mod auth;
pub mod config;
pub mod connection;
pub mod contracts;
pub mod date;
pub mod db;
pub mod decimal;
pub mod error;
pub mod extract;
pub mod fault;
pub mod id;
pub mod idempotency;
pub mod ids;
pub mod openapi;
pub mod outbox;
pub mod page;
pub mod peer;
pub mod problem;
pub mod respond;
pub mod schema;
pub mod server;
mod strict_json;
pub mod telemetry;
#[cfg(feature = "testing")]
pub mod testing;
pub mod uom;

pub use date::Date;
pub use decimal::Dec2;
pub use problem::{ApiError, FieldError};
