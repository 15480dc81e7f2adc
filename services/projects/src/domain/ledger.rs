//! Running totals of hours per sale line, per ticket and per task, changed in the same
//! transaction as the timesheets they sum. A sale line's or ticket's new total leaves through
//! the outbox as an absolute value with a growing version, so its receiver can apply it once,
//! in order, whatever is retried or duplicated on the way.

use super::Refusal;
use std::collections::BTreeMap;

use rust_decimal::Decimal;
use shared::config::Service;
use shared::contracts::{TimesheetTotal, line_timesheet_total_path, sale_line_aggregate, ticket_timesheet_total_path};
use shared::db::DbConn;
use shared::ids::{SaleLineId, TaskId, TicketId};
use shared::outbox::{self, Message};

use super::{Error, Result};
use crate::store;

/// What a change to timesheets does to the totals: hours added (or, negative, removed) per
/// task, sale line and ticket.
#[derive(Debug, Default)]
pub struct Deltas {
    tasks: BTreeMap<TaskId, Decimal>,
    lines: BTreeMap<SaleLineId, Decimal>,
    tickets: BTreeMap<TicketId, Decimal>,
    task_line: Option<(TaskId, Option<SaleLineId>)>,
}

impl Deltas {
    /// Counts `hours` (negative to remove) wherever a timesheet with these links counts.
    pub fn add(&mut self, hours: Decimal, task: Option<TaskId>, line: Option<SaleLineId>, ticket: Option<TicketId>) {
        if let Some(t) = task {
            *self.tasks.entry(t).or_default() += hours;
        }
        if let Some(l) = line {
            *self.lines.entry(l).or_default() += hours;
        }
        if let Some(t) = ticket {
            *self.tickets.entry(t).or_default() += hours;
        }
    }

    /// The timesheet took its sale line from this task, read as `line`: the task must still
    /// be on that line when its hours are counted, or nothing is written. Without this, on
    /// PostgreSQL a task moved to another line between the read and the commit (its unbilled
    /// time moved along) would leave this timesheet counting on the old line.
    pub fn expect_task_line(&mut self, task_line: Option<(TaskId, Option<SaleLineId>)>) {
        self.task_line = task_line;
    }

    /// Applies the deltas and announces every sale line and ticket total that changed. A
    /// line whose delta nets to zero (an edit that changed nothing it counts) sends nothing.
    pub fn apply(self, conn: &mut DbConn) -> Result<()> {
        let task_line = self.task_line;
        let changes = store::totals::Changes {
            lines: self.lines.into_iter().filter(|(_, d)| !d.is_zero()).collect(),
            tickets: self.tickets.into_iter().filter(|(_, d)| !d.is_zero()).collect(),
            tasks: self
                .tasks
                .into_iter()
                .filter(|(_, d)| !d.is_zero())
                .map(|(task, d)| (task, d, task_line.filter(|(t, _)| *t == task).map(|(_, l)| l)))
                .collect(),
        };
        let applied = store::totals::apply(conn, &changes)?;
        if let Some(&(task, _, _)) = changes.tasks.iter().find(|(t, _, _)| !applied.tasks.contains(t)) {
            return Err(Error::conflict(
                Refusal::TaskMoved,
                format!(
                    "task {task} was moved to another sale line while this time was recorded; nothing was \
                     recorded, send it again"
                ),
            ));
        }
        let lines = applied.lines.into_iter().map(|(line, hours, version)| {
            total_message(
                sale_line_aggregate(line.0),
                Service::Sales,
                line_timesheet_total_path(line.0),
                hours,
                version,
            )
        });
        let tickets = applied.tickets.into_iter().map(|(ticket, hours, version)| {
            total_message(
                format!("ticket:{ticket}"),
                Service::Helpdesk,
                ticket_timesheet_total_path(ticket.0),
                hours,
                version,
            )
        });
        // One statement for all of them: every round trip here is made under the totals' row locks.
        outbox::enqueue_all(conn, lines.chain(tickets).collect::<std::result::Result<_, _>>()?)?;
        Ok(())
    }
}

/// A total announced as an absolute value with its version: the newest one wins.
fn total_message(
    aggregate: String,
    target: Service,
    path: String,
    hours: Decimal,
    version: i64,
) -> std::result::Result<Message, shared::db::StoreError> {
    Message::new(aggregate, target, "PUT", path, &TimesheetTotal { hours: hours.into(), version }, true)
}
