use super::Refusal;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use shared::auth::Caller;
use shared::db::DbConn;
use shared::decimal::check_decimal;
use shared::ids::{InvoiceId, ProjectId, SaleLineId, TaskId, TicketId, TimesheetId};
use shared::page::{Key, ListRequest, Page};

use super::customers::{Fact, Memo, Party, Rules, Whose};
use super::ledger::Deltas;
use super::tasks::Task;
use super::{Checks, Error, Result, check_period, check_text};
use crate::store;
use shared::error::{DESCRIPTION_MAX, Precondition, check_filter, check_long_text};

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
    /// When the timesheet last changed (an edit, a move, a bill or its release); its creation
    /// time until then.
    pub updated_at: DateTime<Utc>,
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
    if let Some(d) = description {
        check_long_text(checks, "description", d, DESCRIPTION_MAX);
    }
}

/// Where a timesheet belongs.
struct Place {
    project_id: ProjectId,
    sale_line_id: Option<SaleLineId>,
    /// When the line came from the task: the task and the line it had when read, which it
    /// must still have when the timesheet is written (see `Deltas::expect_task_line`).
    task_line: Option<(TaskId, Option<SaleLineId>)>,
    /// The task, as read.
    task: Option<Task>,
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
    let (sale_line_id, task_line) = match (sale_line_id, &task) {
        (Some(l), _) => (l, None),
        (None, Some(t)) => (t.sale_line_id.or(project.sale_line_id), Some((t.id, t.sale_line_id))),
        (None, None) => (project.sale_line_id, None),
    };
    Ok(Place { project_id, sale_line_id, task_line, task })
}

/// What must be the same customer's on a timesheet: its sale line and its ticket; its sale line
/// and its task's, when the task is sold and the line is another one; its ticket and its task
/// (the task's line's customer, or, unsold, its own customer, if it has one).
fn link_rules(line: Option<Party>, ticket: Option<Party>, task: Option<(&Task, bool)>) -> Rules {
    let mut rules = Rules::new();
    let task = task.and_then(|(t, named)| {
        let whose = match (t.sale_line_id, t.customer_id) {
            (Some(l), _) => Whose::TaskLine(t.id, l),
            (None, Some(c)) => Whose::Task(t.id, c),
            (None, None) => return None,
        };
        Some(Party { whose, field: "task_id", named })
    });
    // The task's own line on the timesheet: the line's rules say all there is to say.
    let on_task_line = |l: &Party, t: &Party| matches!(t.whose, Whose::TaskLine(_, tl) if l.whose == Whose::Line(tl));
    if let (Some(l), Some(k)) = (line, ticket) {
        rules.same(l, k);
    }
    if let (Some(l), Some(t)) = (line, task)
        && matches!(t.whose, Whose::TaskLine(..))
        && !on_task_line(&l, &t)
    {
        rules.same(l, t);
    }
    if let (Some(k), Some(t)) = (ticket, task)
        && !line.is_some_and(|l| on_task_line(&l, &t))
    {
        rules.same(k, t);
    }
    rules
}

/// Without a ticket or a sale line of its own, a new timesheet counts on its task's line (or
/// its project's): there is nothing to compare, so nothing to learn first.
pub fn needs_customers(cmd: &LogTime) -> bool {
    cmd.ticket_id.is_some() || cmd.sale_line_id.is_some()
}

/// The customer rules of a new timesheet placed at `placed`.
fn log_rules(cmd: &LogTime, placed: &Place) -> Rules {
    let line = placed.sale_line_id.map(|l| {
        let field = match (cmd.sale_line_id, cmd.task_id) {
            (Some(_), _) => "sale_line_id",
            (None, Some(_)) => "task_id",
            (None, None) => "project_id",
        };
        Party { whose: Whose::Line(l), field, named: true }
    });
    let ticket = cmd.ticket_id.map(|t| Party { whose: Whose::Ticket(t), field: "ticket_id", named: true });
    link_rules(line, ticket, placed.task.as_ref().map(|t| (t, true)))
}

/// Whose lines and tickets recording `cmd` needs to know and projects does not know yet; the
/// request's other faults first, as `log` would find them.
pub fn unknown_customers_for_log(
    conn: &mut DbConn,
    caller: &Caller,
    cmd: &LogTime,
    on_behalf_of: Option<&str>,
) -> Result<Vec<(Fact, &'static str)>> {
    let (_, placed) = prepare_log(conn, caller, cmd, on_behalf_of)?;
    log_rules(cmd, &placed).unknown(conn)
}

/// Who records `cmd`, and where it belongs, once the caller and the entry are found fit.
fn prepare_log(
    conn: &mut DbConn,
    caller: &Caller,
    cmd: &LogTime,
    on_behalf_of: Option<&str>,
) -> Result<(String, Place)> {
    super::access::may_record_time(caller)?;
    let created_by = match on_behalf_of {
        Some(who) => {
            super::access::may_record_for_others(caller)?;
            let mut checks = Checks::new();
            check_text(&mut checks, "created_by", who, 200);
            checks.finish()?;
            who.trim().to_owned()
        }
        None => caller.sub.clone(),
    };
    let mut checks = Checks::new();
    check_entry(&mut checks, Some(&cmd.employee), Some(cmd.hours), cmd.description.as_deref());
    checks.finish()?;
    let placed = place(conn, cmd.project_id, cmd.task_id, cmd.sale_line_id.map(Some))?;
    Ok((created_by, placed))
}

/// Records time and counts it on its task, sale line and ticket. It was created by the caller,
/// or, when a service records it for someone (helpdesk for an agent), by `on_behalf_of`.
pub fn log(conn: &mut DbConn, caller: &Caller, cmd: LogTime, on_behalf_of: Option<String>) -> Result<Timesheet> {
    let (sheet, counted) = record(conn, caller, cmd, on_behalf_of, None)?;
    counted.apply(conn)?;
    Ok(sheet)
}

/// As [`log`], leaving the counting to the caller's last step ([`Deltas::apply`] takes the
/// totals' row locks, which every other client of the line waits for: what comes before it is
/// better done first).
pub fn record(
    conn: &mut DbConn,
    caller: &Caller,
    cmd: LogTime,
    on_behalf_of: Option<String>,
    memo: Option<&Memo>,
) -> Result<(Timesheet, Deltas)> {
    let (created_by, placed) = prepare_log(conn, caller, &cmd, on_behalf_of.as_deref())?;
    log_rules(&cmd, &placed).check(conn, memo)?;
    let Place { project_id, sale_line_id, task_line, .. } = placed;
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
        updated_at: now,
    };
    store::timesheets::insert(conn, &sheet)?;
    let mut deltas = Deltas::default();
    sheet.count(&mut deltas, Decimal::ONE);
    deltas.expect_task_line(task_line);
    Ok((sheet, deltas))
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
            Refusal::TimesheetInvoiced,
            format!(
                "timesheet {} is billed on invoice {inv}; cancel the invoice or credit it to change this time",
                sheet.id
            ),
        )),
        None => Ok(()),
    }
}

/// A timesheet as it was and as an edit makes it.
struct Edit {
    old: Timesheet,
    new: Timesheet,
    task_line: Option<(TaskId, Option<SaleLineId>)>,
    rules: Rules,
}

/// Whose lines and tickets `changes` needs to know and projects does not know yet; the
/// request's other faults first, as `edit` would find them.
pub fn unknown_customers_for_edit(
    conn: &mut DbConn,
    caller: &Caller,
    id: TimesheetId,
    changes: &TimesheetChanges,
) -> Result<Vec<(Fact, &'static str)>> {
    prepare_edit(conn, caller, id, changes, &Precondition::none())?.rules.unknown(conn)
}

/// The timesheet `changes` make, and the customer rules it must pass when its links change.
fn prepare_edit(
    conn: &mut DbConn,
    caller: &Caller,
    id: TimesheetId,
    changes: &TimesheetChanges,
    expected: &Precondition<Timesheet>,
) -> Result<Edit> {
    super::access::may_record_time(caller)?;
    expected.lock(conn, "timesheets", id.0)?;
    let old = find(conn, id)?;
    expected.check(&old)?;
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
    let mut task = None;
    let task_moved = changes.task_id.is_some_and(|t| t != old.task_id);
    if let Some(t) = changes.task_id {
        new.task_id = t;
    }
    let placed_again = task_moved || changes.project_id.is_some() || changes.sale_line_id.is_some();
    if placed_again {
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
        task = placed.task;
    }
    if let Some(d) = changes.date {
        new.date = d;
    }
    if let Some(e) = &changes.employee {
        new.employee = e.trim().to_owned();
    }
    if let Some(d) = &changes.description {
        new.description = d.clone();
    }
    if let Some(h) = changes.hours {
        new.hours = h;
    }
    if let Some(t) = changes.ticket_id {
        new.ticket_id = t;
    }
    // A timesheet is checked when its links change; its hours, date or words alone change
    // nothing about whose time it is.
    let mut rules = Rules::new();
    if placed_again || changes.ticket_id.is_some() {
        if !placed_again && let Some(t) = new.task_id {
            task = store::tasks::find(conn, t)?;
        }
        let line = new.sale_line_id.map(|l| {
            let (field, named) = match (changes.sale_line_id, task_moved) {
                (Some(_), _) => ("sale_line_id", true),
                (None, true) => ("task_id", true),
                (None, false) => ("sale_line_id", false),
            };
            Party { whose: Whose::Line(l), field, named }
        });
        let ticket = new.ticket_id.map(|t| Party {
            whose: Whose::Ticket(t),
            field: "ticket_id",
            named: changes.ticket_id.is_some(),
        });
        rules = link_rules(line, ticket, task.as_ref().map(|t| (t, task_moved)));
    }
    Ok(Edit { old, new, task_line, rules })
}

/// Edits or moves a timesheet. Moving it to another task moves it to that task's project and
/// sale line unless the same request names them; every total it left or joined follows.
pub fn edit(
    conn: &mut DbConn,
    caller: &Caller,
    id: TimesheetId,
    changes: TimesheetChanges,
    expected: Precondition<Timesheet>,
) -> Result<Timesheet> {
    let Edit { old, mut new, task_line, rules } = prepare_edit(conn, caller, id, &changes, &expected)?;
    rules.check(conn, None)?;
    new.updated_at = shared::db::now_utc();
    store::timesheets::update(conn, &new)?;
    let mut deltas = Deltas::default();
    old.count(&mut deltas, -Decimal::ONE);
    new.count(&mut deltas, Decimal::ONE);
    deltas.expect_task_line(task_line);
    deltas.apply(conn)?;
    Ok(new)
}

pub fn delete(conn: &mut DbConn, caller: &Caller, id: TimesheetId, expected: Precondition<Timesheet>) -> Result<()> {
    super::access::may_record_time(caller)?;
    expected.lock(conn, "timesheets", id.0)?;
    let old = find(conn, id)?;
    expected.check(&old)?;
    ensure_unbilled(&old)?;
    store::timesheets::delete(conn, id)?;
    let mut deltas = Deltas::default();
    old.count(&mut deltas, -Decimal::ONE);
    deltas.apply(conn)
}

shared::sort_fields! {
    /// How the timesheet list can be ordered.
    pub enum TimesheetSort {
        CreatedAt = "created_at": Time,
        UpdatedAt = "updated_at": Time,
        Date = "date": Date,
        Hours = "hours": Decimal,
    }
    default CreatedAt
}

impl TimesheetSort {
    pub fn key(self, t: &Timesheet) -> Key {
        match self {
            TimesheetSort::CreatedAt => Key::Time(t.created_at.naive_utc()),
            TimesheetSort::UpdatedAt => Key::Time(t.updated_at.naive_utc()),
            TimesheetSort::Date => Key::Date(t.date),
            TimesheetSort::Hours => Key::Decimal(t.hours),
        }
    }
}

/// Timesheets, in the asked order (newest first by default).
pub fn list(
    conn: &mut DbConn,
    caller: &Caller,
    filter: &TimesheetFilter,
    req: &ListRequest<TimesheetSort>,
) -> Result<Page<Timesheet>> {
    super::access::may_read_work(caller)?;
    check_period(filter.date_from, filter.date_to)?;
    check_filter("employee", filter.employee.as_deref())?;
    let rows = store::timesheets::list(conn, filter, req)?;
    Ok(req.page(rows, |t| (req.sort.field.key(t), t.id.0), |t| t))
}
