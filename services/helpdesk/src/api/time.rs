use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use shared::auth::Caller;
use shared::extract::{Body, IfMatch, Query};
use shared::idempotency::{Answer, Idempotency};
use shared::ids::{InvoiceId, ProjectId, SaleLineId, TaskId, TicketId, TimesheetId};
use shared::page::{DEFAULT_LIMIT, Limit, Page, Sort};
use shared::problem::{ApiError, Problem};
use shared::respond::ok;
use shared::server::Ctx;
use shared::{Date, Dec2};
use utoipa::{IntoParams, ToSchema};

use crate::domain::time::{self, LogTime, TicketTimesheetSort, TimeChanges};

/// A timesheet of the projects service, as it answers (documented here; passed through as
/// projects sent it).
#[derive(Debug, Serialize, ToSchema)]
pub struct TicketTimesheetDto {
    /// The timesheet's id (projects service).
    pub id: TimesheetId,
    /// The day the time was spent.
    #[schema(example = "2026-11-29")]
    pub date: NaiveDate,
    /// Who spent the time (a display name).
    #[schema(example = "Marc Demo")]
    pub employee: String,
    /// What was done; null when not given.
    pub description: Option<String>,
    /// More than 0, at most 24.
    pub hours: Dec2,
    /// The project the time is logged on: the task's, or the team's.
    pub project_id: ProjectId,
    /// The ticket's task, if any.
    pub task_id: Option<TaskId>,
    /// The ticket.
    pub ticket_id: Option<TicketId>,
    /// The sale line these hours count on; null when not billable.
    pub sale_line_id: Option<SaleLineId>,
    /// The invoice that billed this time.
    pub invoice_id: Option<InvoiceId>,
    /// Who recorded it: the agent's token subject.
    #[schema(example = "alice")]
    pub created_by: Option<String>,
    /// When the timesheet was recorded (UTC).
    #[schema(example = "2026-11-29T09:30:00Z")]
    pub created_at: DateTime<Utc>,
    /// When the timesheet last changed (UTC); set by the server.
    #[schema(example = "2026-11-29T09:30:00Z")]
    pub updated_at: DateTime<Utc>,
}

/// Time spent on a ticket.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LogTicketTime {
    /// Who spent the time (a display name); required.
    #[schema(example = "Marc Demo")]
    #[schema(max_length = 200)]
    pub employee: String,
    /// More than 0, at most 24, at most 2 decimals.
    pub hours: Dec2,
    /// The day the time was spent, 2000-01-01 to 2099-12-31; default today (UTC).
    #[schema(example = "2026-11-29")]
    pub date: Option<Date>,
    /// What was done (at most 10000 characters; tabs and line breaks allowed); optional.
    #[schema(max_length = 10000)]
    pub description: Option<String>,
}

/// Changes to time on a ticket; absent fields stay, `null` clears the description. The entry
/// stays on the ticket (and its task and sale line): a ticket's time moves with the ticket.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTicketTime {
    /// Who spent the time; non-empty.
    #[schema(example = "Marc Demo")]
    #[schema(max_length = 200)]
    pub employee: Option<String>,
    /// More than 0, at most 24, at most 2 decimals.
    pub hours: Option<Dec2>,
    /// The day the time was spent, 2000-01-01 to 2099-12-31.
    #[schema(example = "2026-11-29")]
    pub date: Option<Date>,
    /// What was done; `null` clears it.
    #[serde(default, deserialize_with = "shared::error::patch")]
    #[schema(value_type = Option<String>)]
    #[schema(max_length = 10000)]
    pub description: Option<Option<String>>,
}

/// Paging for a ticket's timesheets.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TicketTimeQuery {
    /// The order: `created_at`, `updated_at`, `date` or `hours`, `-` for descending; default newest first.
    #[param(value_type = Option<TicketTimesheetSort>, example = "-created_at")]
    pub sort: Option<String>,
    /// Page size, 1 to 200 (default 50).
    pub limit: Option<Limit>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Record time on a ticket: a timesheet in projects with this ticket, its task (or the team's
/// project) and its sale line. It is recorded as created by the caller (its token's subject).
///
/// Roles: admin, agent.
#[utoipa::path(tag = "tickets", operation_id = "create_ticket_timesheet", params(("id" = TicketId, Path, description = "The ticket's id.")), request_body = LogTicketTime,
    responses((status = 201, body = TicketTimesheetDto), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "the ticket's team does not use timesheets", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`unavailable`: projects is unreachable, nothing was recorded; `outcome_unknown`: projects did not answer in time, so the time may have been recorded: send the same request with the same `Idempotency-Key` to learn it (it is never recorded twice)", body = Problem, content_type = "application/problem+json")))]
#[post("/tickets/{id}/timesheets")]
#[tracing::instrument(skip_all, fields(ticket = %id))]
pub async fn log_ticket_time(
    ctx: web::Data<Ctx>,
    caller: Caller,
    idem: Idempotency,
    id: web::Path<TicketId>,
    body: Body<LogTicketTime>,
) -> Result<HttpResponse, ApiError> {
    let (id, b) = (id.into_inner(), body.0);
    let cmd =
        LogTime { employee: b.employee, hours: b.hours.0, date: b.date.map(Date::day), description: b.description };
    let sheet = time::log(&ctx, &caller, id, cmd, &idem.key_for("helpdesk-time")).await?;
    let sheet_id = sheet
        .get("id")
        .and_then(|v| v.as_str())
        .ok_or_else(|| ApiError::Internal("projects answered a timesheet without an id".into()))?;
    // The entry is projects', made under a key derived from this request's: remembering the
    // answer here only spares a repeat the round trip.
    let answer = Answer::created(format!("/api/v1/tickets/{id}/timesheets/{sheet_id}"), &sheet)?;
    idem.remember(&ctx.db, &answer).await;
    Ok(answer.into())
}

/// List a ticket's timesheets, newest first (or as `sort` says).
///
/// Roles: admin, sales, accounting, agent, service.
#[utoipa::path(tag = "tickets", operation_id = "list_ticket_timesheets", params(("id" = TicketId, Path, description = "The ticket's id."), TicketTimeQuery),
    responses((status = 200, body = Page<TicketTimesheetDto>), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "projects is unreachable", body = Problem, content_type = "application/problem+json")))]
#[get("/tickets/{id}/timesheets")]
#[tracing::instrument(skip_all, fields(ticket = %id))]
pub async fn list_ticket_time(
    ctx: web::Data<Ctx>,
    caller: Caller,
    id: web::Path<TicketId>,
    q: Query<TicketTimeQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let sort = Sort::<TicketTimesheetSort>::parse(q.sort.as_deref())?;
    let limit = q.limit.map_or(DEFAULT_LIMIT, |l| l.0);
    let list = time::list(&ctx, &caller, id.into_inner(), limit, q.cursor.as_deref(), sort).await?;
    Ok(ok(list))
}

/// Get one timesheet of a ticket.
///
/// Roles: admin, sales, accounting, agent, service.
#[utoipa::path(tag = "tickets", operation_id = "get_ticket_timesheet", params(("id" = TicketId, Path, description = "The ticket's id."), ("timesheet_id" = TimesheetId, Path, description = "The timesheet's id (projects service); it must be one of the ticket's.")),
    responses((status = 200, body = TicketTimesheetDto), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "projects is unreachable", body = Problem, content_type = "application/problem+json")))]
#[get("/tickets/{id}/timesheets/{timesheet_id}")]
#[tracing::instrument(skip_all, fields(ticket = %path.0))]
pub async fn get_ticket_time(
    ctx: web::Data<Ctx>,
    caller: Caller,
    path: web::Path<(TicketId, TimesheetId)>,
) -> Result<HttpResponse, ApiError> {
    let (id, sheet) = path.into_inner();
    let s = time::get(&ctx, &caller, id, sheet).await?;
    Ok(ok(s))
}

/// Change time logged on the ticket, under the same rules as projects' timesheets: an invoiced
/// entry is a 409 `timesheet_invoiced`; `If-Match` with the entry's `ETag` makes the change
/// only if nobody changed it since. The line's delivered hours follow.
///
/// Roles: admin, agent.
#[utoipa::path(tag = "tickets", operation_id = "update_ticket_timesheet", params(("id" = TicketId, Path, description = "The ticket's id."), ("timesheet_id" = TimesheetId, Path, description = "The timesheet's id (projects service); it must be one of the ticket's.")),
    request_body = UpdateTicketTime,
    responses((status = 200, body = TicketTimesheetDto), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`timesheet_invoiced`: the entry is billed on an invoice", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`unavailable`: projects is unreachable, nothing was changed; `outcome_unknown`: projects did not answer in time, so the change may have been made (sending it again is harmless)", body = Problem, content_type = "application/problem+json")))]
#[patch("/tickets/{id}/timesheets/{timesheet_id}")]
#[tracing::instrument(skip_all, fields(ticket = %path.0))]
pub async fn edit_ticket_time(
    ctx: web::Data<Ctx>,
    caller: Caller,
    path: web::Path<(TicketId, TimesheetId)>,
    body: Body<UpdateTicketTime>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let ((id, sheet), b) = (path.into_inner(), body.0);
    let changes = TimeChanges {
        employee: b.employee,
        hours: b.hours.map(|h| h.0),
        date: b.date.map(Date::day),
        description: b.description,
    };
    let s = time::edit(&ctx, &caller, id, sheet, changes, if_match.header()).await?;
    Ok(ok(s))
}

/// Delete time logged on the ticket, under the same rules as projects' timesheets (an invoiced
/// entry is a 409); the hours leave the line's delivered quantity.
///
/// Roles: admin, agent.
#[utoipa::path(tag = "tickets", operation_id = "delete_ticket_timesheet", params(("id" = TicketId, Path, description = "The ticket's id."), ("timesheet_id" = TimesheetId, Path, description = "The timesheet's id (projects service); it must be one of the ticket's.")),
    responses((status = 204, description = "Deleted."), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`timesheet_invoiced`: the entry is billed on an invoice", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`unavailable`: projects is unreachable, nothing was changed; `outcome_unknown`: projects did not answer in time, so the entry may be gone (a GET tells)", body = Problem, content_type = "application/problem+json")))]
#[delete("/tickets/{id}/timesheets/{timesheet_id}")]
#[tracing::instrument(skip_all, fields(ticket = %path.0))]
pub async fn delete_ticket_time(
    ctx: web::Data<Ctx>,
    caller: Caller,
    path: web::Path<(TicketId, TimesheetId)>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let (id, sheet) = path.into_inner();
    time::delete(&ctx, &caller, id, sheet, if_match.header()).await?;
    Ok(HttpResponse::NoContent().finish())
}
