use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use shared::auth::Caller;
use shared::config::Service;
use shared::error::Error;
use shared::extract::{Body, IfMatch, Query};
use shared::idempotency::{Answer, Idempotency};
use shared::ids::{CustomerId, InvoiceId, ProjectId, SaleLineId, TaskId, TicketId, TimesheetId};
use shared::page::{Limit, ListRequest, Page};
use shared::problem::{ApiError, Problem};
use shared::respond::ok;
use shared::server::Ctx;
use shared::{Date, Dec2};
use utoipa::{IntoParams, ToSchema};

use crate::domain::customers::Memo;
use crate::domain::timesheets::{self, LogTime, Timesheet, TimesheetChanges, TimesheetFilter, TimesheetSort};

/// Time spent by someone on a project, a task or a ticket.
#[derive(Debug, Serialize, ToSchema)]
pub struct TimesheetDto {
    /// The timesheet's id, given by the server.
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
    /// The project the time is logged on.
    pub project_id: ProjectId,
    /// The task the time is logged on, if any.
    pub task_id: Option<TaskId>,
    /// The helpdesk ticket the time was spent on, if any.
    pub ticket_id: Option<TicketId>,
    /// The sale line these hours count on; null when not billable.
    pub sale_line_id: Option<SaleLineId>,
    /// The invoice that billed this time; while it is not cancelled the timesheet is locked.
    pub invoice_id: Option<InvoiceId>,
    /// Who recorded it: the subject of the token that did (for ticket time, the agent that
    /// helpdesk recorded it for); null for time recorded before tokens were required.
    #[schema(example = "alice")]
    pub created_by: Option<String>,
    /// When the timesheet was recorded (UTC); set by the server.
    #[schema(example = "2026-11-29T09:30:00Z")]
    pub created_at: DateTime<Utc>,
    /// When the timesheet last changed (UTC); set by the server.
    #[schema(example = "2026-11-29T09:30:00Z")]
    pub updated_at: DateTime<Utc>,
}

impl From<Timesheet> for TimesheetDto {
    fn from(t: Timesheet) -> Self {
        TimesheetDto {
            id: t.id,
            date: t.date,
            employee: t.employee,
            description: t.description,
            hours: t.hours.into(),
            project_id: t.project_id,
            task_id: t.task_id,
            ticket_id: t.ticket_id,
            sale_line_id: t.sale_line_id,
            invoice_id: t.invoice_id,
            created_by: t.created_by,
            created_at: t.created_at,
            updated_at: t.updated_at,
        }
    }
}

/// Time to record. It takes its project and sale line from its task when not given, and,
/// without a task, the sale line from its project.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTimesheet {
    /// The day the time was spent, 2000-01-01 to 2099-12-31; default today (UTC).
    #[schema(example = "2026-11-29")]
    pub date: Option<Date>,
    /// Who spent the time (a display name, at most 200 characters, one line); required.
    #[schema(example = "Marc Demo")]
    #[schema(max_length = 200)]
    pub employee: String,
    /// What was done (at most 10000 characters; tabs and line breaks allowed); optional.
    #[schema(max_length = 10000)]
    pub description: Option<String>,
    /// Hours spent: more than 0, at most 24, at most 2 decimals.
    pub hours: Dec2,
    /// The project; default the task's project (a project or a task is required).
    pub project_id: Option<ProjectId>,
    /// The task, if any; it must belong to the project when both are given.
    pub task_id: Option<TaskId>,
    /// The helpdesk ticket the time was spent on, if any.
    pub ticket_id: Option<TicketId>,
    /// The sale line the hours count on; default the task's, else the project's.
    pub sale_line_id: Option<SaleLineId>,
    /// Services only (403 for any other role): whom the time is recorded for, e.g. helpdesk
    /// passing on the agent who logged ticket time. Default the caller (its token's subject).
    #[schema(example = "alice")]
    #[schema(max_length = 200)]
    pub created_by: Option<String>,
    /// Helpdesk only: whose `ticket_id` is, as helpdesk (the owner of tickets) knows it.
    /// Taken from helpdesk's own token only, so that projects checks the entry's customer
    /// without asking helpdesk; ignored from any other caller.
    pub ticket_customer_id: Option<CustomerId>,
}

/// Changes to a timesheet; absent fields stay, `null` clears. A new task moves the timesheet
/// to that task's project and sale line unless the same request names them.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTimesheet {
    /// New day, 2000-01-01 to 2099-12-31; absent keeps it.
    #[schema(example = "2026-11-29")]
    pub date: Option<Date>,
    /// New employee name; absent keeps it.
    #[schema(max_length = 200)]
    pub employee: Option<String>,
    /// New description; `null` clears it.
    #[serde(default, deserialize_with = "shared::error::patch")]
    #[schema(value_type = Option<String>)]
    #[schema(max_length = 10000)]
    pub description: Option<Option<String>>,
    /// New hours: more than 0, at most 24; absent keeps them.
    pub hours: Option<Dec2>,
    /// Move to this project; absent keeps it.
    pub project_id: Option<ProjectId>,
    /// Move to this task; `null` detaches it from its task.
    #[serde(default, deserialize_with = "shared::error::patch")]
    #[schema(value_type = Option<TaskId>)]
    pub task_id: Option<Option<TaskId>>,
    /// The ticket the time was spent on; `null` clears it.
    #[serde(default, deserialize_with = "shared::error::patch")]
    #[schema(value_type = Option<TicketId>)]
    pub ticket_id: Option<Option<TicketId>>,
    /// The sale line the hours count on; `null` makes them not billable.
    #[serde(default, deserialize_with = "shared::error::patch")]
    #[schema(value_type = Option<SaleLineId>)]
    pub sale_line_id: Option<Option<SaleLineId>>,
}

/// Filters and paging for the timesheet list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TimesheetQuery {
    /// Only timesheets of this project.
    pub project_id: Option<ProjectId>,
    /// Only timesheets of this task.
    pub task_id: Option<TaskId>,
    /// Only timesheets of this helpdesk ticket.
    pub ticket_id: Option<TicketId>,
    /// Only timesheets counting on this sale line.
    pub sale_line_id: Option<SaleLineId>,
    /// Only this employee's timesheets (exact name; at most 200 characters, no control
    /// characters).
    #[param(example = "Marc Demo")]
    #[param(max_length = 200)]
    pub employee: Option<String>,
    /// Only timesheets dated on or after this day (`YYYY-MM-DD`, 2000-01-01 to 2099-12-31).
    #[param(example = "2026-11-01")]
    pub date_from: Option<Date>,
    /// Only timesheets dated on or before this day (`YYYY-MM-DD`, 2000-01-01 to 2099-12-31).
    #[param(example = "2026-11-30")]
    pub date_to: Option<Date>,
    /// The order: `created_at`, `updated_at`, `date` or `hours`, `-` for descending; default newest first.
    #[param(value_type = Option<TimesheetSort>, example = "-created_at")]
    pub sort: Option<String>,
    /// Page size, 1 to 200 (default 50).
    pub limit: Option<Limit>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Record time.
///
/// A timesheet without a `sale_line_id` takes its task's line. If the task is moved to another
/// line at that very moment, the answer is 409 `task_moved` (or `links_changed`) and nothing is
/// recorded: send it again (with the same `Idempotency-Key`, if any) and it counts on the new line.
///
/// The sale line, the task's line and the ticket must all be one customer's (else 422 naming
/// the field). Projects asks sales whose a line is and helpdesk whose a ticket is the first time
/// one is used (503 when it cannot ask, nothing recorded).
///
/// Roles: admin, agent, service.
#[utoipa::path(tag = "timesheets", operation_id = "create_timesheet", request_body = CreateTimesheet,
    responses((status = 201, body = TimesheetDto), (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
#[post("/timesheets")]
pub async fn create_timesheet(
    ctx: web::Data<Ctx>,
    memo: web::Data<Memo>,
    caller: Caller,
    idem: Idempotency,
    body: Body<CreateTimesheet>,
) -> Result<HttpResponse, ApiError> {
    let b = body.0;
    if let (Some(ticket), Some(customer)) = (b.ticket_id, b.ticket_customer_id)
        && caller.is_service(Service::Helpdesk)
    {
        memo.told_ticket(ticket, customer);
    }
    let cmd = LogTime {
        date: b.date.map(Date::day),
        employee: b.employee,
        description: b.description,
        hours: b.hours.0,
        project_id: b.project_id,
        task_id: b.task_id,
        ticket_id: b.ticket_id,
        sale_line_id: b.sale_line_id,
    };
    let record = |cmd: LogTime| {
        let (caller, by, memo) = (caller.clone(), b.created_by.clone(), memo.clone());
        move |c: &mut shared::db::DbConn| {
            let (t, counted) = timesheets::record(c, &caller, cmd, by, Some(&memo))?;
            let answer = Answer::created(format!("/api/v1/timesheets/{}", t.id), &TimesheetDto::from(t))?;
            Ok::<_, Error>((answer, move |c: &mut shared::db::DbConn| counted.apply(c)))
        }
    };
    // Whose its line and ticket are is known locally but for the first entry on each: the
    // write is tried first, and only when it names one projects has not learned yet (409
    // `links_changed`) is the owner asked, outside the transaction, and the write tried again.
    // So the time-logging path pays no read before its transaction.
    let answer = match idem.write_then(&ctx.db, record(cmd.clone())).await {
        Err(ApiError::Conflict { code: "links_changed", .. }) if timesheets::needs_customers(&cmd) => {
            crate::peers::learn_for_log(&ctx, &caller, &cmd, b.created_by.as_deref()).await?;
            idem.write_then(&ctx.db, record(cmd)).await?
        }
        other => other?,
    };
    ctx.outbox.kick();
    Ok(answer.into())
}

/// List timesheets, newest first (or as `sort` says).
///
/// Roles: admin, sales, accounting, agent, service.
#[utoipa::path(tag = "timesheets", operation_id = "list_timesheets", params(TimesheetQuery),
    responses((status = 200, body = Page<TimesheetDto>)))]
#[get("/timesheets")]
pub async fn list_timesheets(
    ctx: web::Data<Ctx>,
    caller: Caller,
    q: Query<TimesheetQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let req = ListRequest::parse(q.limit, q.cursor.as_deref(), q.sort.as_deref())?;
    let filter = TimesheetFilter {
        project_id: q.project_id,
        task_id: q.task_id,
        ticket_id: q.ticket_id,
        sale_line_id: q.sale_line_id,
        employee: q.employee,
        date_from: q.date_from.map(Date::day),
        date_to: q.date_to.map(Date::day),
    };
    let list = ctx.db.run(move |c| timesheets::list(c, &caller, &filter, &req)).await?;
    Ok(ok(Page { items: list.items.into_iter().map(TimesheetDto::from).collect(), next_cursor: list.next_cursor }))
}

/// Get a timesheet.
///
/// Roles: admin, sales, accounting, agent, service.
#[utoipa::path(tag = "timesheets", operation_id = "get_timesheet", params(("id" = TimesheetId, Path, description = "The timesheet's id.")),
    responses((status = 200, body = TimesheetDto), (status = 404, body = Problem, content_type = "application/problem+json")))]
#[get("/timesheets/{id}")]
pub async fn get_timesheet(
    ctx: web::Data<Ctx>,
    caller: Caller,
    id: web::Path<TimesheetId>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let t = ctx.db.run(move |c| timesheets::get(c, &caller, id)).await?;
    Ok(ok(TimesheetDto::from(t)))
}

/// Edit or move a timesheet (409 while it is billed on an invoice that is not cancelled, and
/// `task_moved` or `links_changed` when it takes the line of a task that is moved to another
/// line meanwhile). Its line, task and ticket must stay one customer's (else 422 naming the
/// field; 503 when sales or helpdesk cannot say whose a new line or ticket is).
///
/// Roles: admin, agent, service.
#[utoipa::path(tag = "timesheets", operation_id = "update_timesheet", params(("id" = TimesheetId, Path, description = "The timesheet's id.")), request_body = UpdateTimesheet,
    responses((status = 200, body = TimesheetDto), (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
#[patch("/timesheets/{id}")]
pub async fn update_timesheet(
    ctx: web::Data<Ctx>,
    caller: Caller,
    id: web::Path<TimesheetId>,
    body: Body<UpdateTimesheet>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let (id, b) = (id.into_inner(), body.0);
    let changes = TimesheetChanges {
        date: b.date.map(Date::day),
        employee: b.employee,
        description: b.description,
        hours: b.hours.map(|h| h.0),
        project_id: b.project_id,
        task_id: b.task_id,
        ticket_id: b.ticket_id,
        sale_line_id: b.sale_line_id,
    };
    crate::peers::learn_for_edit(&ctx, &caller, id, &changes).await?;
    let expected = if_match.on(|t: &Timesheet| TimesheetDto::from(t.clone()));
    let t = ctx.db.write(move |c| timesheets::edit(c, &caller, id, changes, expected)).await?;
    ctx.outbox.kick();
    Ok(ok(TimesheetDto::from(t)))
}

/// Delete a timesheet (409 while it is billed on an invoice that is not cancelled).
///
/// Roles: admin, agent, service.
#[utoipa::path(tag = "timesheets", operation_id = "delete_timesheet", params(("id" = TimesheetId, Path, description = "The timesheet's id.")),
    responses((status = 204), (status = 409, body = Problem, content_type = "application/problem+json")))]
#[delete("/timesheets/{id}")]
pub async fn delete_timesheet(
    ctx: web::Data<Ctx>,
    caller: Caller,
    id: web::Path<TimesheetId>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let expected = if_match.on(|t: &Timesheet| TimesheetDto::from(t.clone()));
    ctx.db.write(move |c| timesheets::delete(c, &caller, id, expected)).await?;
    ctx.outbox.kick();
    Ok(HttpResponse::NoContent().finish())
}
