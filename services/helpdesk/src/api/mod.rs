//! Helpdesk's HTTP surface: thin handlers that parse, call one use case and map the answer.

pub mod teams;
pub mod tickets;
pub mod time;

use utoipa_actix_web::service_config::ServiceConfig;

/// Registers every route under `/api/v1`. The router tries routes in this order, matching each
/// path with a parameter by a regular expression: the time-logging path's two routes come
/// first (ticket time from agents, ticket totals from projects), so they are found at once.
pub fn routes(cfg: &mut ServiceConfig<'_>) {
    cfg.service(time::log_ticket_time)
        .service(tickets::put_timesheet_total)
        .service(teams::create_team)
        .service(teams::list_teams)
        .service(teams::get_team)
        .service(teams::update_team)
        .service(tickets::create_ticket)
        .service(tickets::list_tickets)
        .service(tickets::get_ticket)
        .service(tickets::update_ticket)
        .service(time::list_ticket_time)
        .service(time::get_ticket_time)
        .service(time::edit_ticket_time)
        .service(time::delete_ticket_time);
}

/// The schemas of the lists' `sort` parameters.
pub fn schemas() -> Vec<(String, utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>)> {
    use shared::openapi::schema;
    vec![
        schema::<crate::domain::teams::TeamSort>(),
        schema::<crate::domain::tickets::TicketSort>(),
        schema::<crate::domain::time::TicketTimesheetSort>(),
    ]
}
