use actix_web::{HttpResponse, get, patch, post, put, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use shared::Dec2;
use shared::auth::Caller;
use shared::contracts::{TimesheetTotal, TotalApplied};
use shared::error::Checks;
use shared::error::Error;
use shared::extract::{Body, IfMatch, Query};
use shared::idempotency::{Answer, Idempotency};
use shared::ids::{CustomerId, SaleLineId, TaskId, TeamId, TicketId};
use shared::page::{Limit, ListRequest, Page};
use shared::problem::{ApiError, Problem};
use shared::respond::ok;
use shared::server::Ctx;
use utoipa::{IntoParams, ToSchema};

use crate::domain::tickets::{self, NewTicket, Shown, Stage, TicketChanges, TicketFilter, TicketSort};

/// Where a ticket stands.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = TicketStage)]
#[schema(example = "in_progress")]
pub enum StageDto {
    New,
    InProgress,
    Solved,
    Cancelled,
}

impl From<Stage> for StageDto {
    fn from(s: Stage) -> Self {
        match s {
            Stage::New => StageDto::New,
            Stage::InProgress => StageDto::InProgress,
            Stage::Solved => StageDto::Solved,
            Stage::Cancelled => StageDto::Cancelled,
        }
    }
}

/// A support ticket.
#[derive(Debug, Serialize, ToSchema)]
pub struct TicketDto {
    /// The ticket's id, given by the server.
    pub id: TicketId,
    /// 1, 2, … per database, gap-free.
    #[schema(example = 42, value_type = i32, minimum = 1)]
    pub number: i64,
    /// The team that answers the ticket.
    pub team_id: TeamId,
    /// The customer who asks (sales service).
    pub customer_id: CustomerId,
    /// One-line summary of the request.
    #[schema(example = "Cannot log in")]
    pub title: String,
    /// The request in full; null when not given.
    pub description: Option<String>,
    /// Where the ticket stands.
    pub stage: StageDto,
    /// The linked task (projects service), if any.
    pub task_id: Option<TaskId>,
    /// The sale line (sales service) the ticket's time counts on; null when not billable.
    pub sale_line_id: Option<SaleLineId>,
    /// Hours logged on the ticket.
    pub hours_spent: Dec2,
    /// Hours left on the ticket's sale line (negative when overrun); null without a line or
    /// for a line that does not count hours.
    pub remaining_hours: Option<Dec2>,
    /// When the ticket was opened (UTC); set by the server.
    #[schema(example = "2026-11-29T09:30:00Z")]
    pub created_at: DateTime<Utc>,
    /// When the ticket last changed (UTC); set by the server.
    #[schema(example = "2026-11-29T09:30:00Z")]
    pub updated_at: DateTime<Utc>,
}

impl From<Shown> for TicketDto {
    fn from(s: Shown) -> Self {
        let t = s.ticket;
        TicketDto {
            id: t.id,
            number: t.number,
            team_id: t.team_id,
            customer_id: t.customer_id,
            title: t.title,
            description: t.description,
            stage: t.stage.into(),
            task_id: t.task_id,
            sale_line_id: t.sale_line_id,
            hours_spent: t.hours_spent.into(),
            remaining_hours: s.remaining_hours.map(Dec2),
            created_at: t.created_at,
            updated_at: t.updated_at,
        }
    }
}

/// A new ticket. Its sale line is the one given (teams with `use_time_reinvoicing` only),
/// else its task's, else, on a team with `use_time_reinvoicing`, the customer's oldest
/// confirmed prepaid line that still has hours left.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTicket {
    /// The team that answers the ticket; it must exist.
    pub team_id: TeamId,
    /// The customer who asks; required, except from a `customer` token, whose own it is by
    /// default (it may give only its own).
    pub customer_id: Option<CustomerId>,
    /// One-line summary, required and non-empty.
    #[schema(example = "Cannot log in")]
    #[schema(max_length = 300)]
    pub title: String,
    /// The request in full; optional.
    #[schema(max_length = 10000)]
    pub description: Option<String>,
    /// Default `new`.
    #[schema(value_type = Option<StageDto>)]
    pub stage: Option<String>,
    /// A task of the ticket's customer; the ticket takes its sale line.
    pub task_id: Option<TaskId>,
    /// A service line of a confirmed order of the ticket's customer.
    pub sale_line_id: Option<SaleLineId>,
}

/// Changes to a ticket; absent fields stay, `null` clears. A new sale line (set directly or
/// through a new task) takes the ticket's timesheets that are not invoiced along.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTicket {
    /// Move to this team; absent keeps it.
    pub team_id: Option<TeamId>,
    /// New summary, non-empty; absent keeps it.
    #[schema(max_length = 300)]
    pub title: Option<String>,
    /// New description; `null` clears it.
    #[serde(default, deserialize_with = "shared::error::patch")]
    #[schema(value_type = Option<String>)]
    #[schema(max_length = 10000)]
    pub description: Option<Option<String>>,
    /// New stage; absent keeps it.
    #[schema(value_type = Option<StageDto>)]
    pub stage: Option<String>,
    /// Link to this task (projects service) and take its sale line; `null` unlinks it.
    #[serde(default, deserialize_with = "shared::error::patch")]
    #[schema(value_type = Option<TaskId>)]
    pub task_id: Option<Option<TaskId>>,
    /// The sale line the ticket's time counts on; `null` makes it not billable.
    #[serde(default, deserialize_with = "shared::error::patch")]
    #[schema(value_type = Option<SaleLineId>)]
    pub sale_line_id: Option<Option<SaleLineId>>,
}

/// Filters and paging for the ticket list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TicketQuery {
    /// Only this team's tickets.
    pub team_id: Option<TeamId>,
    /// Only this customer's tickets.
    pub customer_id: Option<CustomerId>,
    /// `new`, `in_progress`, `solved` or `cancelled`.
    #[param(example = "in_progress", value_type = Option<StageDto>)]
    pub stage: Option<String>,
    /// The order: `created_at`, `updated_at` or `number`, `-` for descending; default newest first.
    #[param(value_type = Option<TicketSort>, example = "-created_at")]
    pub sort: Option<String>,
    /// Page size, 1 to 200 (default 50).
    pub limit: Option<Limit>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A ticket's logged hours, as projects reports them: absolute, with a version that grows.
/// (The handler reads `shared::contracts::TimesheetTotal`, leniently; this documents it.)
#[derive(Debug, Deserialize, ToSchema)]
pub struct TimesheetTotalBody {
    /// Total hours logged on the ticket.
    pub hours: Dec2,
    /// Applied only when newer than the version held.
    #[schema(example = 3)]
    pub version: i64,
}

/// Whether a reported total was applied, and the version now held (the shape of
/// `shared::contracts::TotalApplied`).
#[derive(Debug, Serialize, ToSchema)]
pub struct TotalAppliedDto {
    /// True when the total was newer than the one held and replaced it.
    pub applied: bool,
    /// The version the ticket holds now.
    #[schema(example = 3)]
    pub version: i64,
}

/// Open a ticket. A `customer` opens one for itself only (another `customer_id` is unknown:
/// 422), with its team, title and description (the support team sets the rest: 403).
///
/// Roles: admin, agent, customer (for itself only).
#[utoipa::path(tag = "tickets", operation_id = "create_ticket", request_body = CreateTicket,
    responses((status = 201, body = TicketDto), (status = 422, body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "projects or sales is unreachable; nothing was changed", body = Problem, content_type = "application/problem+json")))]
#[post("/tickets")]
#[tracing::instrument(skip_all)]
pub async fn create_ticket(
    ctx: web::Data<Ctx>,
    caller: Caller,
    idem: Idempotency,
    body: Body<CreateTicket>,
) -> Result<HttpResponse, ApiError> {
    let b = body.0;
    let new = NewTicket {
        team_id: b.team_id,
        customer_id: b.customer_id,
        title: b.title,
        description: b.description,
        stage: b.stage,
        task_id: b.task_id,
        sale_line_id: b.sale_line_id,
    };
    let ticket = tickets::prepare(&ctx, &caller, new).await?;
    let answer = idem
        .write(&ctx.db, move |c| {
            let t = tickets::open(c, ticket)?;
            Ok::<_, Error>(Answer::created(format!("/api/v1/tickets/{}", t.ticket.id), &TicketDto::from(t))?)
        })
        .await?;
    Ok(answer.into())
}

/// List tickets, newest first (or as `sort` says).
///
/// Roles: admin, sales, accounting, agent, customer (its own only), service.
#[utoipa::path(tag = "tickets", operation_id = "list_tickets", params(TicketQuery),
    responses((status = 200, body = Page<TicketDto>), (status = 503, description = "sales is unreachable", body = Problem, content_type = "application/problem+json")))]
#[get("/tickets")]
#[tracing::instrument(skip_all)]
pub async fn list_tickets(
    ctx: web::Data<Ctx>,
    caller: Caller,
    q: Query<TicketQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let req = ListRequest::parse(q.limit, q.cursor.as_deref(), q.sort.as_deref())?;
    let mut checks = Checks::new();
    let stage = q.stage.as_deref().and_then(|s| Stage::check(&mut checks, "stage", s));
    checks.finish()?;
    let filter = TicketFilter { team_id: q.team_id, customer_id: q.customer_id, stage };
    let list = tickets::list(&ctx, &caller, filter, req).await?;
    Ok(ok(Page { items: list.items.into_iter().map(TicketDto::from).collect(), next_cursor: list.next_cursor }))
}

/// Get a ticket.
///
/// Roles: admin, sales, accounting, agent, customer (its own only; 404 for another), service.
#[utoipa::path(tag = "tickets", operation_id = "get_ticket", params(("id" = TicketId, Path, description = "The ticket's id.")),
    responses((status = 200, body = TicketDto), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "sales is unreachable", body = Problem, content_type = "application/problem+json")))]
#[get("/tickets/{id}")]
#[tracing::instrument(skip_all, fields(ticket = %id))]
pub async fn get_ticket(
    ctx: web::Data<Ctx>,
    caller: Caller,
    id: web::Path<TicketId>,
) -> Result<HttpResponse, ApiError> {
    let t = tickets::get(&ctx, &caller, id.into_inner()).await?;
    Ok(ok(TicketDto::from(t)))
}

/// Change a ticket.
///
/// Roles: admin, agent.
#[utoipa::path(tag = "tickets", operation_id = "update_ticket", params(("id" = TicketId, Path, description = "The ticket's id.")), request_body = UpdateTicket,
    responses((status = 200, body = TicketDto), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "projects or sales is unreachable; the ticket was not changed", body = Problem, content_type = "application/problem+json")))]
#[patch("/tickets/{id}")]
#[tracing::instrument(skip_all, fields(ticket = %id))]
pub async fn update_ticket(
    ctx: web::Data<Ctx>,
    caller: Caller,
    id: web::Path<TicketId>,
    body: Body<UpdateTicket>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let (id, b) = (id.into_inner(), body.0);
    let changes = TicketChanges {
        team_id: b.team_id,
        title: b.title,
        description: b.description,
        stage: b.stage,
        task_id: b.task_id,
        sale_line_id: b.sale_line_id,
    };
    let expected = if_match.on(|s: &Shown| TicketDto::from(s.clone()));
    let t = tickets::update(&ctx, &caller, id, changes, expected).await?;
    Ok(ok(TicketDto::from(t)))
}

/// Report a ticket's logged hours (service to service: sent by projects' outbox whenever the
/// total changes). Applied only when `version` is newer than the one held.
///
/// Roles: admin, service.
#[utoipa::path(tag = "internal", operation_id = "put_ticket_timesheet_total", params(("id" = TicketId, Path, description = "The ticket's id.")),
    request_body = TimesheetTotalBody,
    responses((status = 200, body = TotalAppliedDto), (status = 404, body = Problem, content_type = "application/problem+json")))]
#[put("/tickets/{id}/timesheet-total")]
#[tracing::instrument(skip_all, fields(ticket = %id))]
pub async fn put_timesheet_total(
    ctx: web::Data<Ctx>,
    caller: Caller,
    id: web::Path<TicketId>,
    body: Body<TimesheetTotal>,
) -> Result<HttpResponse, ApiError> {
    let (id, b) = (id.into_inner(), body.0);
    let (applied, version) = tickets::apply_total(&ctx, &caller, id, b.hours.0, b.version).await?;
    Ok(ok(TotalApplied { applied, version }))
}
