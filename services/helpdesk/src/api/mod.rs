//! Helpdesk's HTTP surface: thin handlers that parse, call one use case and map the answer.

pub mod teams;
pub mod tickets;
pub mod time;

use utoipa_actix_web::service_config::ServiceConfig;

/// Registers every route under `/api/v1`.
pub fn routes(cfg: &mut ServiceConfig<'_>) {
    cfg.service(teams::create_team)
        .service(teams::list_teams)
        .service(teams::get_team)
        .service(teams::update_team)
        .service(tickets::create_ticket)
        .service(tickets::list_tickets)
        .service(tickets::get_ticket)
        .service(tickets::update_ticket)
        .service(tickets::put_timesheet_total)
        .service(time::log_ticket_time)
        .service(time::list_ticket_time)
        .service(time::get_ticket_time);
}
