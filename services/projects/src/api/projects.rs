use actix_web::{HttpResponse, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use shared::auth::Caller;
use shared::error::Error;
use shared::extract::{Body, IfMatch, Query};
use shared::idempotency::{Answer, Idempotency};
use shared::ids::{CustomerId, ProjectId, SaleLineId};
use shared::page::{Limit, ListRequest, Page};
use shared::problem::{ApiError, Problem};
use shared::respond::ok;
use shared::server::Ctx;
use utoipa::{IntoParams, ToSchema};

use crate::domain::projects::{self, NewProject, Project, ProjectChanges, ProjectFilter, ProjectSort};

/// A project: where tasks and timesheets live.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProjectDto {
    /// The project's id, given by the server (or chosen by the caller that created it).
    pub id: ProjectId,
    /// Display name.
    #[schema(example = "Helpdesk Services")]
    pub name: String,
    /// The customer the project serves, if any.
    pub customer_id: Option<CustomerId>,
    /// The sale line that time logged on the project counts on by default.
    pub sale_line_id: Option<SaleLineId>,
    /// Whether timesheets may be logged on the project.
    pub allow_timesheets: bool,
    /// When the project was created (UTC); set by the server.
    #[schema(example = "2026-11-29T09:30:00Z")]
    pub created_at: DateTime<Utc>,
    /// When the project last changed (UTC); set by the server.
    #[schema(example = "2026-11-29T09:30:00Z")]
    pub updated_at: DateTime<Utc>,
}

impl From<Project> for ProjectDto {
    fn from(p: Project) -> Self {
        ProjectDto {
            id: p.id,
            name: p.name,
            customer_id: p.customer_id,
            sale_line_id: p.sale_line_id,
            allow_timesheets: p.allow_timesheets,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

/// A new project.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateProject {
    /// Optional id chosen by the caller; a repeat with the same id returns the same project.
    pub id: Option<ProjectId>,
    /// Display name, required and non-empty.
    #[schema(example = "Helpdesk Services")]
    #[schema(max_length = 200)]
    pub name: String,
    /// The customer the project serves, if any.
    pub customer_id: Option<CustomerId>,
    /// The sale line that time logged on the project counts on by default.
    pub sale_line_id: Option<SaleLineId>,
    /// Default true.
    pub allow_timesheets: Option<bool>,
}

/// Changes to a project; absent fields stay, `null` clears.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateProject {
    /// New display name, non-empty; absent keeps it.
    #[schema(max_length = 200)]
    pub name: Option<String>,
    /// The customer the project serves; `null` clears it.
    #[serde(default, deserialize_with = "shared::error::patch")]
    #[schema(value_type = Option<CustomerId>)]
    pub customer_id: Option<Option<CustomerId>>,
    /// The default sale line of the project's time; `null` clears it.
    #[serde(default, deserialize_with = "shared::error::patch")]
    #[schema(value_type = Option<SaleLineId>)]
    pub sale_line_id: Option<Option<SaleLineId>>,
    /// Whether timesheets may be logged on the project; absent keeps it.
    pub allow_timesheets: Option<bool>,
}

/// Filters and paging for the project list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ProjectQuery {
    /// Only projects of this customer.
    pub customer_id: Option<CustomerId>,
    /// Only projects whose default sale line is this one.
    pub sale_line_id: Option<SaleLineId>,
    /// The order: `created_at`, `updated_at` or `name`, `-` for descending; default newest first.
    #[param(value_type = Option<ProjectSort>, example = "-created_at")]
    pub sort: Option<String>,
    /// Page size, 1 to 200 (default 50).
    pub limit: Option<Limit>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Create a project.
///
/// Roles: admin, sales, service.
#[utoipa::path(tag = "projects", operation_id = "create_project", request_body = CreateProject,
    responses((status = 201, body = ProjectDto), (status = 422, body = Problem, content_type = "application/problem+json")))]
#[post("/projects")]
pub async fn create_project(
    ctx: web::Data<Ctx>,
    caller: Caller,
    idem: Idempotency,
    body: Body<CreateProject>,
) -> Result<HttpResponse, ApiError> {
    let b = body.0;
    let new = NewProject {
        id: b.id,
        name: b.name,
        customer_id: b.customer_id,
        sale_line_id: b.sale_line_id,
        allow_timesheets: b.allow_timesheets.unwrap_or(true),
    };
    let answer = idem
        .write(&ctx.db, move |c| {
            let p = projects::create(c, &caller, new)?;
            Ok::<_, Error>(Answer::created(format!("/api/v1/projects/{}", p.id), &ProjectDto::from(p))?)
        })
        .await?;
    Ok(answer.into())
}

/// List projects, newest first (or as `sort` says).
///
/// Roles: admin, sales, accounting, agent, service.
#[utoipa::path(tag = "projects", operation_id = "list_projects", params(ProjectQuery),
    responses((status = 200, body = Page<ProjectDto>)))]
#[get("/projects")]
pub async fn list_projects(
    ctx: web::Data<Ctx>,
    caller: Caller,
    q: Query<ProjectQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let req = ListRequest::parse(q.limit, q.cursor.as_deref(), q.sort.as_deref())?;
    let filter = ProjectFilter { customer_id: q.customer_id, sale_line_id: q.sale_line_id };
    let list = ctx.db.run(move |c| projects::list(c, &caller, &filter, &req)).await?;
    Ok(ok(Page { items: list.items.into_iter().map(ProjectDto::from).collect(), next_cursor: list.next_cursor }))
}

/// Get a project.
///
/// Roles: admin, sales, accounting, agent, service.
#[utoipa::path(tag = "projects", operation_id = "get_project", params(("id" = ProjectId, Path, description = "The project's id.")),
    responses((status = 200, body = ProjectDto), (status = 404, body = Problem, content_type = "application/problem+json")))]
#[get("/projects/{id}")]
pub async fn get_project(
    ctx: web::Data<Ctx>,
    caller: Caller,
    id: web::Path<ProjectId>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let p = ctx.db.run(move |c| projects::get(c, &caller, id)).await?;
    Ok(ok(ProjectDto::from(p)))
}

/// Change a project.
///
/// Roles: admin, sales, service.
#[utoipa::path(tag = "projects", operation_id = "update_project", params(("id" = ProjectId, Path, description = "The project's id.")), request_body = UpdateProject,
    responses((status = 200, body = ProjectDto), (status = 404, body = Problem, content_type = "application/problem+json")))]
#[patch("/projects/{id}")]
pub async fn update_project(
    ctx: web::Data<Ctx>,
    caller: Caller,
    id: web::Path<ProjectId>,
    body: Body<UpdateProject>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let (id, b) = (id.into_inner(), body.0);
    let changes = ProjectChanges {
        name: b.name,
        customer_id: b.customer_id,
        sale_line_id: b.sale_line_id,
        allow_timesheets: b.allow_timesheets,
    };
    let expected = if_match.on(|p: &Project| ProjectDto::from(p.clone()));
    let p = ctx.db.write(move |c| projects::update(c, &caller, id, changes, expected)).await?;
    Ok(ok(ProjectDto::from(p)))
}
