//! The helpdesk service: teams and tickets. Ticket time is not kept here: it is recorded
//! synchronously as a timesheet in the projects service, which reports each ticket's total
//! back through its outbox. Links to tasks and sale lines are checked with their owners.

pub mod api;
pub mod domain;
pub mod peers;
pub mod store;

use std::sync::Arc;

use diesel_migrations::{EmbeddedMigrations, embed_migrations};
use shared::config::Service;
use shared::db::Migrations;
use shared::server::ServiceApp;

const POSTGRES: EmbeddedMigrations = embed_migrations!("../../migrations/helpdesk/postgres");
const SQLITE: EmbeddedMigrations = embed_migrations!("../../migrations/helpdesk/sqlite");

/// The helpdesk service, ready to be started.
pub fn app() -> ServiceApp {
    ServiceApp {
        service: Service::Helpdesk,
        migrations: Migrations { postgres: || POSTGRES, sqlite: || SQLITE },
        routes: api::routes,
        background: shared::server::no_background,
        refusals: domain::Refusal::CODES,
        schemas: api::schemas,
        on_delivered: Arc::new(|_, _, _| Ok(())),
    }
}
