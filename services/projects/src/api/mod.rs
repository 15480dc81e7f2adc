//! Projects' HTTP surface: thin handlers that parse, call one use case and map the answer.

pub mod billing;
pub mod projects;
pub mod tasks;
pub mod timesheets;

use actix_web::web;
use utoipa_actix_web::service_config::ServiceConfig;

/// Registers every route under `/api/v1`.
pub fn routes(cfg: &mut ServiceConfig<'_>) {
    cfg.app_data(web::Data::new(crate::domain::customers::Memo::default()))
        .service(projects::create_project)
        .service(projects::list_projects)
        .service(projects::get_project)
        .service(projects::update_project)
        .service(tasks::create_task)
        .service(tasks::list_tasks)
        .service(tasks::get_task)
        .service(tasks::update_task)
        .service(timesheets::create_timesheet)
        .service(timesheets::list_timesheets)
        .service(timesheets::get_timesheet)
        .service(timesheets::update_timesheet)
        .service(timesheets::delete_timesheet)
        .service(billing::claim_timesheets)
        .service(billing::release_timesheets);
}

/// The schemas of the lists' `sort` parameters.
pub fn schemas() -> Vec<(String, utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>)> {
    use shared::openapi::schema;
    vec![
        schema::<crate::domain::projects::ProjectSort>(),
        schema::<crate::domain::tasks::TaskSort>(),
        schema::<crate::domain::timesheets::TimesheetSort>(),
    ]
}
