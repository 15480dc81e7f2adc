use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use shared::auth::Caller;
use shared::db::DbConn;
use shared::decimal::check_decimal;
use shared::ids::{InvoiceId, ProjectId, SaleLineId, TaskId, TicketId, TimesheetId};
use shared::page::{Page, PageRequest};

use super::ledger::Deltas;
use super::{Checks, Error, Result, check_period, check_text};
use crate::store;

/// Most hours one timesheet may hold: one day.
pub const MAX_HOURS: Decimal = Decimal::from_parts(24, 0, 0, false, 0);

#[derive(Debug, Clone)]
pub struct Timesheet {
    pub id: TimesheetId,
    pub date: NaiveDate,
    pub employee: String,
    pub description: Option<String>,
    pub hours: Decimal,
    pub project_id: ProjectId,
    pub task_id: Option<TaskId>,
    pub ticket_id: Option<TicketId>,
    /// The sale line the hours count on; none means not billable.
    pub sale_line_id: Option<SaleLineId>,
    /// The invoice that billed this time (on `timesheet` policy lines); locks it.
    pub invoice_id: Option<InvoiceId>,
    pub created_by: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl Timesheet {
    fn count(&self, deltas: &mut Deltas, sign: Decimal) {
        deltas.add(self.hours * sign, self.task_id, self.sale_line_id, self.ticket_id);
    }
}

#[derive(Debug, Clone)]
pub struct LogTime {
    pub date: Option<NaiveDate>,
    pub employee: String,
    pub description: Option<String>,
    pub hours: Decimal,
    pub project_id: Option<ProjectId>,
    pub task_id: Option<TaskId>,
    pub ticket_id: Option<TicketId>,
    pub sale_line_id: Option<SaleLineId>,
}

#[derive(Debug, Clone, Default)]
pub struct TimesheetChanges {
    pub date: Option<NaiveDate>,
    pub employee: Option<String>,
    pub description: Option<Option<String>>,
    pub hours: Option<Decimal>,
    pub project_id: Option<ProjectId>,
    pub task_id: Option<Option<TaskId>>,
    pub ticket_id: Option<Option<TicketId>>,
    pub sale_line_id: Option<Option<SaleLineId>>,
}

#[derive(Debug, Clone, Default)]
pub struct TimesheetFilter {
    pub project_id: Option<ProjectId>,
    pub task_id: Option<TaskId>,
    pub ticket_id: Option<TicketId>,
    pub sale_line_id: Option<SaleLineId>,
    pub employee: Option<String>,
    pub date_from: Option<NaiveDate>,
    pub date_to: Option<NaiveDate>,
}

fn check_entry(checks: &mut Checks, employee: Option<&str>, hours: Option<Decimal>, description: Option<&str>) {
    if let Some(e) = employee {
        check_text(checks, "employee", e, 200);
    }
    if let Some(h) = hours {
        check_decimal(checks, "hours", h, true, Some(MAX_HOURS));
    }
    if description.is_some_and(|d| d.chars().count() > 10_000) {
        checks.push("description", "must be at most 10000 characters");
    }
}

/// Where a timesheet belongs.
struct Place {
    project_id: ProjectId,
    sale_line_id: Option<SaleLineId>,
    /// When the line came from the task: the task and the line it had when read, which it
    /// must still have when the timesheet is written (see `Deltas::expect_task_line`).
    task_line: Option<(TaskId, Option<SaleLineId>)>,
}

/// Where a timesheet belongs: its project and sale line, from what the request names, else
/// from its task, else (for the line) from its project.
fn place(
    conn: &mut DbConn,
    project_id: Option<ProjectId>,
    task_id: Option<TaskId>,
    sale_line_id: Option<Option<SaleLineId>>,
) -> Result<Place> {
    let (task, project) = match task_id {
        Some(t) => {
            let (task, project) =
                store::tasks::find_with_project(conn, t)?.ok_or_else(|| Error::unknown("task_id", "task", t.0))?;
            if project_id.is_some_and(|p| p != task.project_id) {
                return Err(Error::invalid(
                    "project_id",
                    format!("task {} belongs to project {}", task.id, task.project_id),
                ));
            }
            (Some(task), project)
        }
        None => {
            let Some(p) = project_id else {
                return Err(Error::invalid("project_id", "a timesheet needs a project_id or a task_id"));
            };
            (None, store::projects::find(conn, p)?.ok_or_else(|| Error::unknown("project_id", "project", p.0))?)
        }
    };
    let project_id = project.id;
    if !project.allow_timesheets {
        return Err(Error::invalid("project_id", "this project does not allow timesheets"));
    }
    let (sale_line_id, task_line) = match (sale_line_id, task) {
        (Some(l), _) => (l, None),
        (None, Some(t)) => (t.sale_line_id.or(project.sale_line_id), Some((t.id, t.sale_line_id))),
        (None, None) => (project.sale_line_id, None),
    };
    Ok(Place { project_id, sale_line_id, task_line })
}

/// Records time and counts it on its task, sale line and ticket. It was created by the caller,
/// or, when a service records it for someone (helpdesk for an agent), by `on_behalf_of`.
pub fn log(conn: &mut DbConn, caller: &Caller, cmd: LogTime, on_behalf_of: Option<String>) -> Result<Timesheet> {
    super::access::may_record_time(caller)?;
    let created_by = match on_behalf_of {
        Some(who) => {
            super::access::may_record_for_others(caller)?;
            let mut checks = Checks::new();
            check_text(&mut checks, "created_by", &who, 200);
            checks.finish()?;
            who.trim().to_owned()
        }
        None => caller.sub.clone(),
    };
    let mut checks = Checks::new();
    check_entry(&mut checks, Some(&cmd.employee), Some(cmd.hours), cmd.description.as_deref());
    checks.finish()?;
    let Place { project_id, sale_line_id, task_line } =
        place(conn, cmd.project_id, cmd.task_id, cmd.sale_line_id.map(Some))?;
    let now = shared::db::now_utc();
    let sheet = Timesheet {
        id: TimesheetId::new(),
        date: cmd.date.unwrap_or_else(|| now.date_naive()),
        employee: cmd.employee.trim().to_owned(),
        description: cmd.description,
        hours: cmd.hours,
        project_id,
        task_id: cmd.task_id,
        ticket_id: cmd.ticket_id,
        sale_line_id,
        invoice_id: None,
        created_by: Some(created_by),
        created_at: now,
    };
    store::timesheets::insert(conn, &sheet)?;
    let mut deltas = Deltas::default();
    sheet.count(&mut deltas, Decimal::ONE);
    deltas.expect_task_line(task_line);
    deltas.apply(conn)?;
    Ok(sheet)
}

pub fn get(conn: &mut DbConn, caller: &Caller, id: TimesheetId) -> Result<Timesheet> {
    super::access::may_read_work(caller)?;
    find(conn, id)
}

fn find(conn: &mut DbConn, id: TimesheetId) -> Result<Timesheet> {
    store::timesheets::find(conn, id)?.ok_or_else(|| Error::not_found("timesheet", id))
}

fn ensure_unbilled(sheet: &Timesheet) -> Result<()> {
    match sheet.invoice_id {
        Some(inv) => Err(Error::conflict(
            "timesheet_invoiced",
            format!(
                "timesheet {} is billed on invoice {inv}; cancel the invoice or credit it to change this time",
                sheet.id
            ),
        )),
        None => Ok(()),
    }
}

/// Edits or moves a timesheet. Moving it to another task moves it to that task's project and
/// sale line unless the same request names them; every total it left or joined follows.
pub fn edit(conn: &mut DbConn, caller: &Caller, id: TimesheetId, changes: TimesheetChanges) -> Result<Timesheet> {
    super::access::may_record_time(caller)?;
    let old = find(conn, id)?;
    ensure_unbilled(&old)?;
    let mut checks = Checks::new();
    check_entry(
        &mut checks,
        changes.employee.as_deref(),
        changes.hours,
        changes.description.as_ref().and_then(|d| d.as_deref()),
    );
    checks.finish()?;
    let mut new = old.clone();
    let mut task_line = None;
    let task_moved = changes.task_id.is_some_and(|t| t != old.task_id);
    if let Some(t) = changes.task_id {
        new.task_id = t;
    }
    if task_moved || changes.project_id.is_some() || changes.sale_line_id.is_some() {
        let project =
            changes.project_id.or(if task_moved && new.task_id.is_some() { None } else { Some(old.project_id) });
        let line = match (changes.sale_line_id, task_moved) {
            (Some(l), _) => Some(l),
            (None, true) => None,
            (None, false) => Some(old.sale_line_id),
        };
        let placed = place(conn, project, new.task_id, line)?;
        new.project_id = placed.project_id;
        new.sale_line_id = placed.sale_line_id;
        task_line = placed.task_line;
    }
    if let Some(d) = changes.date {
        new.date = d;
    }
    if let Some(e) = changes.employee {
        new.employee = e.trim().to_owned();
    }
    if let Some(d) = changes.description {
        new.description = d;
    }
    if let Some(h) = changes.hours {
        new.hours = h;
    }
    if let Some(t) = changes.ticket_id {
        new.ticket_id = t;
    }
    store::timesheets::update(conn, &new)?;
    let mut deltas = Deltas::default();
    old.count(&mut deltas, -Decimal::ONE);
    new.count(&mut deltas, Decimal::ONE);
    deltas.expect_task_line(task_line);
    deltas.apply(conn)?;
    Ok(new)
}

pub fn delete(conn: &mut DbConn, caller: &Caller, id: TimesheetId) -> Result<()> {
    super::access::may_record_time(caller)?;
    let old = find(conn, id)?;
    ensure_unbilled(&old)?;
    store::timesheets::delete(conn, id)?;
    let mut deltas = Deltas::default();
    old.count(&mut deltas, -Decimal::ONE);
    deltas.apply(conn)
}

pub fn list(
    conn: &mut DbConn,
    caller: &Caller,
    filter: &TimesheetFilter,
    page: PageRequest,
) -> Result<Page<Timesheet>> {
    super::access::may_read_work(caller)?;
    check_period(filter.date_from, filter.date_to)?;
    let rows = store::timesheets::list(conn, filter, page)?;
    Ok(page.page(rows, |t| t.id.0, |t| t))
}
