use actix_web::{HttpResponse, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use shared::auth::Caller;
use shared::error::Error;
use shared::extract::{Body, IfMatch, Query};
use shared::idempotency::{Answer, Idempotency};
use shared::ids::{ProjectId, TeamId};
use shared::page::{Limit, ListRequest, Page};
use shared::problem::{ApiError, Problem};
use shared::respond::ok;
use shared::server::Ctx;
use utoipa::{IntoParams, ToSchema};

use crate::domain::teams::{self, NewTeam, Team, TeamChanges, TeamSort};

/// A helpdesk team: who answers tickets, and how their time is counted.
#[derive(Debug, Serialize, ToSchema)]
pub struct TeamDto {
    /// The team's id, given by the server.
    pub id: TeamId,
    /// Display name.
    #[schema(example = "Customer Care")]
    pub name: String,
    /// "Timesheet on Ticket": time may be logged on the team's tickets.
    pub use_timesheets: bool,
    /// "Time Reinvoicing": tickets count their time on a sale line of their customer (needs
    /// `use_timesheets`).
    pub use_time_reinvoicing: bool,
    /// The project (projects service) that ticket time goes to when the ticket has no task.
    pub project_id: Option<ProjectId>,
    /// When the team was created (UTC); set by the server.
    #[schema(example = "2026-11-29T09:30:00Z")]
    pub created_at: DateTime<Utc>,
    /// When the team last changed (UTC); set by the server.
    #[schema(example = "2026-11-29T09:30:00Z")]
    pub updated_at: DateTime<Utc>,
}

impl From<Team> for TeamDto {
    fn from(t: Team) -> Self {
        TeamDto {
            id: t.id,
            name: t.name,
            use_timesheets: t.use_timesheets,
            use_time_reinvoicing: t.use_time_reinvoicing,
            project_id: t.project_id,
            created_at: t.created_at,
            updated_at: t.updated_at,
        }
    }
}

/// A new team. With `use_timesheets` and no `project_id`, a project named after the team is
/// created in the projects service.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTeam {
    /// Display name, required and non-empty.
    #[schema(example = "Customer Care")]
    #[schema(max_length = 200)]
    pub name: String,
    /// Default false.
    pub use_timesheets: Option<bool>,
    /// Default false; needs `use_timesheets`.
    pub use_time_reinvoicing: Option<bool>,
    /// An existing project (projects service) for the team's ticket time.
    pub project_id: Option<ProjectId>,
}

/// Changes to a team; absent fields stay, `null` clears. A team left with `use_timesheets`
/// and no project gets a new project named after it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTeam {
    /// New display name, non-empty; absent keeps it.
    #[schema(max_length = 200)]
    pub name: Option<String>,
    /// Whether time may be logged on the team's tickets; absent keeps it.
    pub use_timesheets: Option<bool>,
    /// Needs `use_timesheets` on the resulting team.
    pub use_time_reinvoicing: Option<bool>,
    /// The project for the team's ticket time; `null` clears it.
    #[serde(default, deserialize_with = "shared::error::patch")]
    #[schema(value_type = Option<ProjectId>)]
    pub project_id: Option<Option<ProjectId>>,
}

/// Paging for the team list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TeamQuery {
    /// The order: `created_at`, `updated_at` or `name`, `-` for descending; default newest first.
    #[param(value_type = Option<TeamSort>, example = "-created_at")]
    pub sort: Option<String>,
    /// Page size, 1 to 200 (default 50).
    pub limit: Option<Limit>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Create a team.
///
/// Roles: admin.
#[utoipa::path(tag = "teams", operation_id = "create_team", request_body = CreateTeam,
    responses((status = 201, body = TeamDto), (status = 422, body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "projects is unreachable; nothing was changed", body = Problem, content_type = "application/problem+json")))]
#[post("/teams")]
#[tracing::instrument(skip_all)]
pub async fn create_team(
    ctx: web::Data<Ctx>,
    caller: Caller,
    idem: Idempotency,
    body: Body<CreateTeam>,
) -> Result<HttpResponse, ApiError> {
    let b = body.0;
    let new = NewTeam {
        name: b.name,
        use_timesheets: b.use_timesheets.unwrap_or(false),
        use_time_reinvoicing: b.use_time_reinvoicing.unwrap_or(false),
        project_id: b.project_id,
    };
    let team = teams::prepare(&ctx, &caller, new).await?;
    let answer = idem
        .write(&ctx.db, move |c| {
            let t = teams::insert(c, team)?;
            Ok::<_, Error>(Answer::created(format!("/api/v1/teams/{}", t.id), &TeamDto::from(t))?)
        })
        .await?;
    Ok(answer.into())
}

/// List teams, newest first (or as `sort` says).
///
/// Roles: any (admin, sales, accounting, agent, customer, service).
#[utoipa::path(tag = "teams", operation_id = "list_teams", params(TeamQuery), responses((status = 200, body = Page<TeamDto>)))]
#[get("/teams")]
#[tracing::instrument(skip_all)]
pub async fn list_teams(ctx: web::Data<Ctx>, caller: Caller, q: Query<TeamQuery>) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let req = ListRequest::parse(q.limit, q.cursor.as_deref(), q.sort.as_deref())?;
    let list = teams::list(&ctx, &caller, req).await?;
    Ok(ok(Page { items: list.items.into_iter().map(TeamDto::from).collect(), next_cursor: list.next_cursor }))
}

/// Get a team.
///
/// Roles: any (admin, sales, accounting, agent, customer, service).
#[utoipa::path(tag = "teams", operation_id = "get_team", params(("id" = TeamId, Path, description = "The team's id.")),
    responses((status = 200, body = TeamDto), (status = 404, body = Problem, content_type = "application/problem+json")))]
#[get("/teams/{id}")]
#[tracing::instrument(skip_all, fields(team = %id))]
pub async fn get_team(ctx: web::Data<Ctx>, caller: Caller, id: web::Path<TeamId>) -> Result<HttpResponse, ApiError> {
    let t = teams::get(&ctx, &caller, id.into_inner()).await?;
    Ok(ok(TeamDto::from(t)))
}

/// Change a team.
///
/// Roles: admin.
#[utoipa::path(tag = "teams", operation_id = "update_team", params(("id" = TeamId, Path, description = "The team's id.")), request_body = UpdateTeam,
    responses((status = 200, body = TeamDto), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "projects is unreachable; nothing was changed", body = Problem, content_type = "application/problem+json")))]
#[patch("/teams/{id}")]
#[tracing::instrument(skip_all, fields(team = %id))]
pub async fn update_team(
    ctx: web::Data<Ctx>,
    caller: Caller,
    id: web::Path<TeamId>,
    body: Body<UpdateTeam>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let (id, b) = (id.into_inner(), body.0);
    let changes = TeamChanges {
        name: b.name,
        use_timesheets: b.use_timesheets,
        use_time_reinvoicing: b.use_time_reinvoicing,
        project_id: b.project_id,
    };
    let expected = if_match.on(|t: &Team| TeamDto::from(t.clone()));
    let t = teams::update(&ctx, &caller, id, changes, expected).await?;
    Ok(ok(TeamDto::from(t)))
}
