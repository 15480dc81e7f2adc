//! Flow 1: what confirming an order creates in projects. The requests leave through the
//! outbox in the transaction that confirms (or adds the line), with ids chosen here so that a
//! resend never creates a second task or project; the answers come back through
//! `on_delivered`, which stores the task and project ids on the lines.

use super::Refusal;
use std::time::{Duration, Instant};

use shared::config::Service;
use shared::contracts::{NewProject, NewTask, ProjectView, TaskView, sale_line_aggregate};
use shared::db::{DbConn, StoreError};
use shared::ids::{OrderId, ProjectId, SaleLineId, TaskId};
use shared::outbox::{self, AnswerError, Message, OutboxRow};
use shared::server::Ctx;

use super::lines::Line;
use super::orders::Order;
use super::{Error, ProductType, Result, ServiceTracking};
use crate::store;

pub const TASKS_PATH: &str = "/api/v1/tasks";
pub const PROJECTS_PATH: &str = "/api/v1/projects";

/// Outbox aggregate of an order's new project and the tasks in it, delivered in that order.
pub fn order_aggregate(order: OrderId) -> String {
    format!("sale_order:{order}")
}

/// The first non-blank line of a line's description, as a name projects accepts: one line,
/// tabs made spaces, at most 180 characters (projects takes 200 for a project's name with the
/// order's name before it, 300 for a task's).
fn first_line(text: &str) -> String {
    let line = text.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("");
    line.chars().map(|c| if c.is_control() { ' ' } else { c }).take(180).collect::<String>().trim().to_owned()
}

fn post(aggregate: String, path: &str, body: serde_json::Value) -> Message {
    Message { aggregate, target: Service::Projects, method: "POST", path: path.to_owned(), body, absolute: false }
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<serde_json::Value> {
    serde_json::to_value(v).map_err(|e| Error::Store(StoreError::Other(e.to_string())))
}

/// Asks for the tasks and projects `lines` of `order` want, unless already asked for.
pub fn generate(conn: &mut DbConn, order: &mut Order, lines: &[Line]) -> Result<()> {
    let mut lines: Vec<&Line> = lines
        .iter()
        .filter(|l| l.product_type == ProductType::Service && l.service_tracking != ServiceTracking::None)
        .collect();
    lines.sort_by_key(|l| l.seq);
    for line in lines {
        match line.service_tracking {
            ServiceTracking::None => {}
            ServiceTracking::TaskInProject => {
                if line.pending_task_id.is_some() || line.task_id.is_some() {
                    continue;
                }
                let product = store::products::find(conn, line.product_id)?
                    .ok_or_else(|| Error::not_found("product", line.product_id))?;
                let Some(project) = product.project_id else {
                    return Err(Error::conflict(
                        Refusal::ProjectRequired,
                        format!(
                            "product {} creates tasks in a project but names none; set its project_id",
                            product.name
                        ),
                    ));
                };
                let task = TaskId::new();
                let body = NewTask {
                    id: Some(task.0),
                    project_id: project.0,
                    name: format!("{} - {}", order.name, first_line(&line.description)),
                    customer_id: Some(order.customer_id.0),
                    sale_order_id: Some(order.id.0),
                    sale_line_id: Some(line.id.0),
                    allocated_hours: line.ordered_hours().into(),
                };
                outbox::enqueue(conn, post(sale_line_aggregate(line.id.0), TASKS_PATH, to_json(&body)?))?;
                store::lines::set_pending(conn, line.id, Some(task), None, None)?;
            }
            ServiceTracking::TaskInNewProject | ServiceTracking::ProjectOnly => {
                if line.pending_project_id.is_some() || line.project_id.is_some() {
                    continue;
                }
                let aggregate = order_aggregate(order.id);
                let (project, delivered) = match order.new_project_id {
                    Some(p) => (p, store::lines::project_delivered(conn, p)?),
                    None => {
                        let project = ProjectId::new();
                        let customer = store::customers::find(conn, order.customer_id)?
                            .ok_or_else(|| Error::not_found("customer", order.customer_id))?;
                        let body = NewProject {
                            id: Some(project.0),
                            name: format!("{} - {}", order.name, first_line(&customer.name)),
                            customer_id: Some(order.customer_id.0),
                            sale_line_id: Some(line.id.0),
                        };
                        outbox::enqueue(conn, post(aggregate.clone(), PROJECTS_PATH, to_json(&body)?))?;
                        store::orders::set_new_project(conn, order.id, project)?;
                        order.new_project_id = Some(project);
                        (project, false)
                    }
                };
                let task = (line.service_tracking == ServiceTracking::TaskInNewProject).then(TaskId::new);
                if let Some(task) = task {
                    let body = NewTask {
                        id: Some(task.0),
                        project_id: project.0,
                        name: first_line(&line.description),
                        customer_id: Some(order.customer_id.0),
                        sale_order_id: Some(order.id.0),
                        sale_line_id: Some(line.id.0),
                        allocated_hours: line.ordered_hours().into(),
                    };
                    outbox::enqueue(conn, post(aggregate, TASKS_PATH, to_json(&body)?))?;
                }
                store::lines::set_pending(conn, line.id, task, Some(project), delivered.then_some(project))?;
            }
        }
    }
    Ok(())
}

/// Stores what projects answered to a delivered request: the task's id (and project) on its
/// line, or a new project's id on every line waiting for it.
pub fn on_delivered(
    conn: &mut DbConn,
    row: &OutboxRow,
    answer: &serde_json::Value,
) -> std::result::Result<(), AnswerError> {
    if row.target != Service::Projects.name() || row.method != "POST" {
        return Ok(());
    }
    if row.path == TASKS_PATH {
        let sent: NewTask = match serde_json::from_str(&row.body) {
            Ok(b) => b,
            Err(e) => return Err(unreadable(row, "the request", e)),
        };
        let task: TaskView = match serde_json::from_value(answer.clone()) {
            Ok(t) => t,
            Err(e) => return Err(unreadable(row, "the task", e)),
        };
        if let Some(line) = sent.sale_line_id {
            store::lines::set_task(conn, SaleLineId(line), TaskId(task.id), ProjectId(task.project_id))?;
        }
    } else if row.path == PROJECTS_PATH {
        let project: ProjectView = match serde_json::from_value(answer.clone()) {
            Ok(p) => p,
            Err(e) => return Err(unreadable(row, "the project", e)),
        };
        store::lines::set_project_delivered(conn, ProjectId(project.id))?;
    }
    Ok(())
}

/// An answer that cannot be read keeps its message pending (it is sent again, and projects
/// answers the same task or project), rather than leaving the line without its ids forever.
fn unreadable(row: &OutboxRow, what: &str, e: serde_json::Error) -> AnswerError {
    AnswerError::Unreadable(format!("{what} of {} {}: {e}", row.method, row.path))
}

/// How long a request waits for projects to create what it asked for.
pub const WAIT: Duration = Duration::from_millis(1500);

/// Delivers the order's requests now if it can and waits (at most `WAIT`) until every line
/// has its ids, or a delivery failed (projects is down: the dispatcher retries later).
pub async fn await_delivery(ctx: &Ctx, order: OrderId) {
    let deadline = Instant::now() + WAIT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        ctx.outbox.flush(left).await;
        let state = ctx.db.run(move |c| store::lines::delivery_state(c, order)).await;
        match state {
            Ok((0, _)) | Ok((_, true)) => return,
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "could not read the delivery state of an order");
                return;
            }
        }
        if Instant::now() >= deadline {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}
