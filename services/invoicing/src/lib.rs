//! The invoicing service: invoices, credit notes, payments and their gap-free numbers. Every
//! change to what a sale line has invoiced is announced to sales, in the same transaction,
//! as an absolute, versioned quantity; cancelling or crediting billed time releases it in
//! projects the same way.

pub mod api;
pub mod domain;
pub mod store;

use std::sync::Arc;

use diesel_migrations::{EmbeddedMigrations, embed_migrations};
use shared::config::Service;
use shared::db::Migrations;
use shared::server::ServiceApp;

const POSTGRES: EmbeddedMigrations = embed_migrations!("../../migrations/invoicing/postgres");
const SQLITE: EmbeddedMigrations = embed_migrations!("../../migrations/invoicing/sqlite");

/// The invoicing service, ready to be started.
pub fn app() -> ServiceApp {
    ServiceApp {
        service: Service::Invoicing,
        migrations: Migrations { postgres: || POSTGRES, sqlite: || SQLITE },
        routes: api::routes,
        background: shared::server::no_background,
        refusals: domain::Refusal::CODES,
        schemas: api::schemas,
        on_delivered: Arc::new(|_, _, _| Ok(())),
    }
}
