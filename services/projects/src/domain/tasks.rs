use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use shared::auth::Caller;
use shared::db::DbConn;
use shared::decimal::check_decimal;
use shared::error::Precondition;
use shared::ids::{CustomerId, OrderId, ProjectId, SaleLineId, TaskId, TicketId};
use shared::page::{Key, ListRequest, Page};

use super::customers::{Customers, Fact, Party, Rules, Whose};
use super::ledger::Deltas;
use super::{Checks, Error, Result, check_text};
use crate::store;

#[derive(Debug, Clone)]
pub struct Task {
    pub id: TaskId,
    pub project_id: ProjectId,
    pub name: String,
    pub customer_id: Option<CustomerId>,
    pub sale_order_id: Option<OrderId>,
    pub sale_line_id: Option<SaleLineId>,
    pub allocated_hours: Decimal,
    /// Sum of the task's timesheets, kept with every timesheet change.
    pub effective_hours: Decimal,
    pub created_at: DateTime<Utc>,
    /// When the task last changed (its effective hours included); its creation time until then.
    pub updated_at: DateTime<Utc>,
}

impl Task {
    pub fn remaining_hours(&self) -> Decimal {
        self.allocated_hours - self.effective_hours
    }
}

#[derive(Debug, Clone)]
pub struct NewTask {
    pub id: Option<TaskId>,
    pub project_id: ProjectId,
    pub name: String,
    pub customer_id: Option<CustomerId>,
    pub sale_order_id: Option<OrderId>,
    pub sale_line_id: Option<SaleLineId>,
    pub allocated_hours: Decimal,
}

#[derive(Debug, Clone, Default)]
pub struct TaskChanges {
    pub name: Option<String>,
    pub allocated_hours: Option<Decimal>,
    pub customer_id: Option<Option<CustomerId>>,
    pub sale_line_id: Option<Option<SaleLineId>>,
}

#[derive(Debug, Clone, Default)]
pub struct TaskFilter {
    pub project_id: Option<ProjectId>,
    pub sale_line_id: Option<SaleLineId>,
    pub customer_id: Option<CustomerId>,
}

/// Creates a task in an existing project; a caller that chose the id (sales, for the task of
/// a sale line) gets the existing task on a repeat, never a second one.
pub fn create(conn: &mut DbConn, caller: &Caller, new: NewTask) -> Result<Task> {
    super::access::may_plan_work(caller)?;
    let mut checks = Checks::new();
    check_text(&mut checks, "name", &new.name, 300);
    check_decimal(&mut checks, "allocated_hours", new.allocated_hours, false, None);
    checks.finish()?;
    if let Some(existing) = new.id.map(|id| store::tasks::find(conn, id)).transpose()?.flatten() {
        return Ok(existing);
    }
    let project = store::projects::find(conn, new.project_id)?
        .ok_or_else(|| Error::unknown("project_id", "project", new.project_id.0))?;
    let now = shared::db::now_utc();
    let task = Task {
        id: new.id.unwrap_or_else(TaskId::new),
        project_id: project.id,
        name: new.name.trim().to_owned(),
        customer_id: new.customer_id.or(project.customer_id),
        sale_order_id: new.sale_order_id,
        sale_line_id: new.sale_line_id.or(project.sale_line_id),
        allocated_hours: new.allocated_hours,
        effective_hours: Decimal::ZERO,
        created_at: now,
        updated_at: now,
    };
    store::tasks::insert(conn, &task)?;
    // Sales owns lines: the task it makes for one says whose the line is, as its answer would,
    // so time logged on the task is checked without asking sales.
    if let (Some(line), Some(customer)) = (task.sale_line_id, task.customer_id)
        && caller.is_service(shared::config::Service::Sales)
    {
        store::customers::remember(conn, &Customers::of_line(line, customer))?;
    }
    Ok(task)
}

pub fn get(conn: &mut DbConn, caller: &Caller, id: TaskId) -> Result<Task> {
    super::access::may_read_work(caller)?;
    find(conn, id)
}

fn find(conn: &mut DbConn, id: TaskId) -> Result<Task> {
    store::tasks::find(conn, id)?.ok_or_else(|| Error::not_found("task", id))
}

/// The task `changes` are for, once the caller and the changes are found fit.
fn prepare_update(
    conn: &mut DbConn,
    caller: &Caller,
    id: TaskId,
    changes: &TaskChanges,
    expected: &Precondition<Task>,
) -> Result<Task> {
    super::access::may_plan_work(caller)?;
    expected.lock(conn, "tasks", id.0)?;
    let task = find(conn, id)?;
    expected.check(&task)?;
    let mut checks = Checks::new();
    if let Some(name) = &changes.name {
        check_text(&mut checks, "name", name, 300);
    }
    if let Some(h) = changes.allocated_hours {
        check_decimal(&mut checks, "allocated_hours", h, false, None);
    }
    checks.finish()?;
    Ok(task)
}

/// The timesheets that move with a task to its new sale line keep their tickets: each ticket
/// must be the new line's customer's.
fn move_rules(line: Option<SaleLineId>, tickets: &[TicketId]) -> Rules {
    let mut rules = Rules::new();
    if let Some(l) = line {
        let line = Party { whose: Whose::Line(l), field: "sale_line_id", named: true };
        for &t in tickets {
            rules.same(line, Party { whose: Whose::Ticket(t), field: "sale_line_id", named: false });
        }
    }
    rules
}

/// Whose lines and tickets `changes` need to know and projects does not know yet; the
/// request's other faults first, as `update` would find them.
pub fn unknown_customers_for_update(
    conn: &mut DbConn,
    caller: &Caller,
    id: TaskId,
    changes: &TaskChanges,
) -> Result<Vec<(Fact, &'static str)>> {
    let task = prepare_update(conn, caller, id, changes, &Precondition::none())?;
    let Some(new_line) = changes.sale_line_id.filter(|l| *l != task.sale_line_id) else {
        return Ok(Vec::new());
    };
    let tickets = store::timesheets::unbilled_tickets(conn, task.id, task.sale_line_id)?;
    move_rules(new_line, &tickets).unknown(conn)
}

/// Edits a task. A new sale line takes the task's unbilled timesheets that counted on the
/// old one along, and both lines' totals follow; the tickets of the time that moves must be
/// the new line's customer's.
pub fn update(
    conn: &mut DbConn,
    caller: &Caller,
    id: TaskId,
    changes: TaskChanges,
    expected: Precondition<Task>,
) -> Result<Task> {
    let mut task = prepare_update(conn, caller, id, &changes, &expected)?;
    if let Some(name) = changes.name {
        task.name = name.trim().to_owned();
    }
    if let Some(h) = changes.allocated_hours {
        task.allocated_hours = h;
    }
    if let Some(c) = changes.customer_id {
        task.customer_id = c;
    }
    if let Some(new_line) = changes.sale_line_id.filter(|l| *l != task.sale_line_id) {
        let (moved, tickets) = store::timesheets::move_unbilled_line(conn, task.id, task.sale_line_id, new_line)?;
        move_rules(new_line, &tickets).check(conn, None)?;
        let mut deltas = Deltas::default();
        deltas.add(-moved, None, task.sale_line_id, None);
        deltas.add(moved, None, new_line, None);
        deltas.apply(conn)?;
        task.sale_line_id = new_line;
    }
    task.updated_at = shared::db::now_utc();
    store::tasks::update(conn, &task)?;
    find(conn, id)
}

shared::sort_fields! {
    /// How the task list can be ordered.
    pub enum TaskSort {
        CreatedAt = "created_at": Time,
        UpdatedAt = "updated_at": Time,
        Name = "name": Text,
    }
    default CreatedAt
}

impl TaskSort {
    pub fn key(self, t: &Task) -> Key {
        match self {
            TaskSort::CreatedAt => Key::Time(t.created_at.naive_utc()),
            TaskSort::UpdatedAt => Key::Time(t.updated_at.naive_utc()),
            TaskSort::Name => Key::Text(t.name.clone()),
        }
    }
}

/// Tasks, in the asked order (newest first by default).
pub fn list(
    conn: &mut DbConn,
    caller: &Caller,
    filter: &TaskFilter,
    req: &ListRequest<TaskSort>,
) -> Result<Page<Task>> {
    super::access::may_read_work(caller)?;
    let rows = store::tasks::list(conn, filter, req)?;
    Ok(req.page(rows, |t| (req.sort.field.key(t), t.id.0), |t| t))
}
