//! The invoicing service (being built).

use std::sync::Arc;

use shared::config::Service;
use shared::db::Migrations;
use shared::server::ServiceApp;

pub fn app() -> ServiceApp {
    todo!()
}
