//! The projects service: projects, tasks and timesheets, the one ledger of time. Every change
//! to a timesheet is announced, in the same transaction, to the sale line and the ticket whose
//! totals it changes.

pub mod api;
pub mod domain;
pub mod peers;
pub mod reconcile;
pub mod store;

use std::sync::Arc;

use diesel_migrations::{EmbeddedMigrations, embed_migrations};
use shared::config::Service;
use shared::db::Migrations;
use shared::server::ServiceApp;

const POSTGRES: EmbeddedMigrations = embed_migrations!("../../migrations/projects/postgres");
const SQLITE: EmbeddedMigrations = embed_migrations!("../../migrations/projects/sqlite");

/// The projects service, ready to be started.
pub fn app() -> ServiceApp {
    ServiceApp {
        service: Service::Projects,
        migrations: Migrations { postgres: || POSTGRES, sqlite: || SQLITE },
        routes: api::routes,
        on_delivered: Arc::new(|_, _, _| Ok(())),
        background: |ctx, stop| Box::pin(reconcile::run(ctx, stop)),
        refusals: domain::Refusal::CODES,
        schemas: api::schemas,
    }
}
