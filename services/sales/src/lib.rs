//! The sales service: customers, products, units of measure, orders and their lines. It owns
//! each line's delivered and invoiced quantities, fed by projects and invoicing through
//! versioned totals, and asks projects for the tasks and projects confirmed lines want.

pub mod api;
pub mod domain;
pub mod store;

use std::sync::Arc;

use diesel_migrations::{EmbeddedMigrations, embed_migrations};
use shared::config::Service;
use shared::db::Migrations;
use shared::server::ServiceApp;

const POSTGRES: EmbeddedMigrations = embed_migrations!("../../migrations/sales/postgres");
const SQLITE: EmbeddedMigrations = embed_migrations!("../../migrations/sales/sqlite");

/// The sales service, ready to be started.
pub fn app() -> ServiceApp {
    ServiceApp {
        service: Service::Sales,
        migrations: Migrations { postgres: || POSTGRES, sqlite: || SQLITE },
        routes: api::routes,
        background: shared::server::no_background,
        refusals: domain::Refusal::CODES,
        schemas: api::schemas,
        on_delivered: Arc::new(domain::generation::on_delivered),
    }
}
