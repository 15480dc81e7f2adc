use actix_web::{HttpResponse, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use shared::Dec2;
use shared::auth::Caller;
use shared::error::Error;
use shared::extract::{Body, IfMatch, Query};
use shared::idempotency::{Answer, Idempotency};
use shared::ids::{CustomerId, OrderId, ProjectId, SaleLineId, TaskId};
use shared::page::{Limit, ListRequest, Page};
use shared::problem::{ApiError, Problem};
use shared::respond::ok;
use shared::server::Ctx;
use utoipa::{IntoParams, ToSchema};

use crate::domain::tasks::{self, NewTask, Task, TaskChanges, TaskFilter, TaskSort};

/// A task: a piece of work in a project, often the one a sale line created.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaskDto {
    /// The task's id, given by the server (or chosen by the caller that created it).
    pub id: TaskId,
    /// The project the task belongs to.
    pub project_id: ProjectId,
    /// Display name.
    #[schema(example = "S00001 - Support hours")]
    pub name: String,
    /// The customer the task is for, if any.
    pub customer_id: Option<CustomerId>,
    /// The sales order whose confirmation created the task, if any.
    pub sale_order_id: Option<OrderId>,
    /// The sale line the task's time counts on.
    pub sale_line_id: Option<SaleLineId>,
    /// Hours planned (for a sale line: its quantity in hours; a day is 8 hours).
    pub allocated_hours: Dec2,
    /// Hours logged in the task's timesheets.
    pub effective_hours: Dec2,
    /// Allocated minus effective; negative when overrun.
    pub remaining_hours: Dec2,
    /// When the task was created (UTC); set by the server.
    #[schema(example = "2026-11-29T09:30:00Z")]
    pub created_at: DateTime<Utc>,
    /// When the task last changed (UTC); set by the server.
    #[schema(example = "2026-11-29T09:30:00Z")]
    pub updated_at: DateTime<Utc>,
}

impl From<Task> for TaskDto {
    fn from(t: Task) -> Self {
        TaskDto {
            remaining_hours: t.remaining_hours().into(),
            id: t.id,
            project_id: t.project_id,
            name: t.name,
            customer_id: t.customer_id,
            sale_order_id: t.sale_order_id,
            sale_line_id: t.sale_line_id,
            allocated_hours: t.allocated_hours.into(),
            effective_hours: t.effective_hours.into(),
            created_at: t.created_at,
            updated_at: t.updated_at,
        }
    }
}

/// A new task.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTask {
    /// Optional id chosen by the caller; a repeat with the same id returns the same task.
    pub id: Option<TaskId>,
    /// The project the task belongs to; it must exist.
    pub project_id: ProjectId,
    /// Display name, required and non-empty.
    #[schema(example = "S00001 - Support hours")]
    #[schema(max_length = 300)]
    pub name: String,
    /// Defaults to the project's customer.
    pub customer_id: Option<CustomerId>,
    /// The sales order the task comes from, if any.
    pub sale_order_id: Option<OrderId>,
    /// Defaults to the project's sale line.
    pub sale_line_id: Option<SaleLineId>,
    /// Default 0.
    pub allocated_hours: Option<Dec2>,
}

/// Changes to a task; absent fields stay, `null` clears.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTask {
    /// New display name, non-empty; absent keeps it.
    #[schema(max_length = 300)]
    pub name: Option<String>,
    /// New planned hours, at least 0; absent keeps them.
    pub allocated_hours: Option<Dec2>,
    /// The customer the task is for; `null` clears it.
    #[serde(default, deserialize_with = "shared::error::patch")]
    #[schema(value_type = Option<CustomerId>)]
    pub customer_id: Option<Option<CustomerId>>,
    /// A new sale line takes the task's unbilled timesheets along.
    #[serde(default, deserialize_with = "shared::error::patch")]
    #[schema(value_type = Option<SaleLineId>)]
    pub sale_line_id: Option<Option<SaleLineId>>,
}

/// Filters and paging for the task list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TaskQuery {
    /// Only tasks of this project.
    pub project_id: Option<ProjectId>,
    /// Only tasks whose time counts on this sale line.
    pub sale_line_id: Option<SaleLineId>,
    /// Only tasks of this customer.
    pub customer_id: Option<CustomerId>,
    /// The order: `created_at`, `updated_at` or `name`, `-` for descending; default newest first.
    #[param(value_type = Option<TaskSort>, example = "-created_at")]
    pub sort: Option<String>,
    /// Page size, 1 to 200 (default 50).
    pub limit: Option<Limit>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Create a task.
///
/// Roles: admin, sales, service.
#[utoipa::path(tag = "tasks", operation_id = "create_task", request_body = CreateTask,
    responses((status = 201, body = TaskDto), (status = 422, body = Problem, content_type = "application/problem+json")))]
#[post("/tasks")]
pub async fn create_task(
    ctx: web::Data<Ctx>,
    caller: Caller,
    idem: Idempotency,
    body: Body<CreateTask>,
) -> Result<HttpResponse, ApiError> {
    let b = body.0;
    let new = NewTask {
        id: b.id,
        project_id: b.project_id,
        name: b.name,
        customer_id: b.customer_id,
        sale_order_id: b.sale_order_id,
        sale_line_id: b.sale_line_id,
        allocated_hours: b.allocated_hours.unwrap_or_default().0,
    };
    let answer = idem
        .write(&ctx.db, move |c| {
            let t = tasks::create(c, &caller, new)?;
            Ok::<_, Error>(Answer::created(format!("/api/v1/tasks/{}", t.id), &TaskDto::from(t))?)
        })
        .await?;
    Ok(answer.into())
}

/// List tasks, newest first (or as `sort` says).
///
/// Roles: admin, sales, accounting, agent, service.
#[utoipa::path(tag = "tasks", operation_id = "list_tasks", params(TaskQuery), responses((status = 200, body = Page<TaskDto>)))]
#[get("/tasks")]
pub async fn list_tasks(ctx: web::Data<Ctx>, caller: Caller, q: Query<TaskQuery>) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let req = ListRequest::parse(q.limit, q.cursor.as_deref(), q.sort.as_deref())?;
    let filter = TaskFilter { project_id: q.project_id, sale_line_id: q.sale_line_id, customer_id: q.customer_id };
    let list = ctx.db.run(move |c| tasks::list(c, &caller, &filter, &req)).await?;
    Ok(ok(Page { items: list.items.into_iter().map(TaskDto::from).collect(), next_cursor: list.next_cursor }))
}

/// Get a task.
///
/// Roles: admin, sales, accounting, agent, service.
#[utoipa::path(tag = "tasks", operation_id = "get_task", params(("id" = TaskId, Path, description = "The task's id.")),
    responses((status = 200, body = TaskDto), (status = 404, body = Problem, content_type = "application/problem+json")))]
#[get("/tasks/{id}")]
pub async fn get_task(ctx: web::Data<Ctx>, caller: Caller, id: web::Path<TaskId>) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let t = ctx.db.run(move |c| tasks::get(c, &caller, id)).await?;
    Ok(ok(TaskDto::from(t)))
}

/// Change a task. Moving it to another sale line moves its unbilled time along; the new line
/// must be the customer's of that time's tickets (else 422 on `sale_line_id`; 409
/// `links_changed` when the time changed meanwhile: send it again).
///
/// Roles: admin, sales, service.
#[utoipa::path(tag = "tasks", operation_id = "update_task", params(("id" = TaskId, Path, description = "The task's id.")), request_body = UpdateTask,
    responses((status = 200, body = TaskDto), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
#[patch("/tasks/{id}")]
pub async fn update_task(
    ctx: web::Data<Ctx>,
    caller: Caller,
    id: web::Path<TaskId>,
    body: Body<UpdateTask>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let (id, b) = (id.into_inner(), body.0);
    let changes = TaskChanges {
        name: b.name,
        allocated_hours: b.allocated_hours.map(|d| d.0),
        customer_id: b.customer_id,
        sale_line_id: b.sale_line_id,
    };
    crate::peers::learn_for_task(&ctx, &caller, id, &changes).await?;
    let expected = if_match.on(|t: &Task| TaskDto::from(t.clone()));
    let t = ctx.db.write(move |c| tasks::update(c, &caller, id, changes, expected)).await?;
    ctx.outbox.kick();
    Ok(ok(TaskDto::from(t)))
}
