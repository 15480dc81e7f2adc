//! Time on tickets. It is not kept here: each entry becomes a timesheet in projects, created
//! synchronously, so that when projects is down the caller is told (503) and nothing is
//! recorded anywhere, rather than time being lost silently. The call always carries a key
//! (derived from the client's, or made for this request), and a call whose outcome is unknown
//! (a timeout, a broken connection) is asked again with it until projects says what became of
//! it: the caller is never told "nothing was recorded" about time that was.

use super::Refusal;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use shared::Dec2;
use shared::auth::Caller;
use shared::contracts::NewTimesheet;
use shared::decimal::check_decimal;
use shared::ids::{TicketId, TimesheetId};
use shared::page::Sort;
use shared::peer::PeerError;
use shared::server::Ctx;

use super::{Checks, Error, Result, check_description, check_text, peer_rejection, tickets};
use crate::peers;

/// Most hours one entry may hold: one day (as projects holds too).
pub const MAX_HOURS: Decimal = Decimal::from_parts(24, 0, 0, false, 0);

#[derive(Debug, Clone)]
pub struct LogTime {
    pub employee: String,
    pub hours: Decimal,
    pub date: Option<NaiveDate>,
    pub description: Option<String>,
}

/// Records time on a ticket as a timesheet in projects, on the ticket's task (or the team's
/// project) and sale line; answers the timesheet as projects sent it.
pub async fn log(
    ctx: &Ctx,
    caller: &Caller,
    id: TicketId,
    cmd: LogTime,
    projects_key: &str,
) -> Result<serde_json::Value> {
    super::access::may_work_tickets(caller)?;
    let (ticket, team) = tickets::load_with_team(ctx, id).await?;
    if !team.use_timesheets {
        return Err(Error::conflict(
            Refusal::TimesheetsDisabled,
            format!("team {} does not use timesheets on tickets", team.id),
        ));
    }
    let mut checks = Checks::new();
    check_text(&mut checks, "employee", &cmd.employee, 200);
    check_decimal(&mut checks, "hours", cmd.hours, true, Some(MAX_HOURS));
    check_description(&mut checks, cmd.description.as_deref());
    checks.finish()?;
    let project_id = match (ticket.task_id, team.project_id) {
        (Some(_), _) => None,
        (None, Some(p)) => Some(p.0),
        (None, None) => {
            return Err(Error::conflict(
                Refusal::TeamWithoutProject,
                format!("team {} has no project for ticket time", team.id),
            ));
        }
    };
    let body = NewTimesheet {
        employee: cmd.employee.trim().to_owned(),
        hours: Dec2(cmd.hours),
        date: cmd.date,
        description: cmd.description,
        project_id,
        task_id: ticket.task_id.map(|t| t.0),
        ticket_id: Some(ticket.id.0),
        sale_line_id: ticket.sale_line_id.map(|l| l.0),
        // Helpdesk records it with its own token, for the agent who logged it.
        created_by: Some(caller.sub.clone()),
        ticket_customer_id: Some(ticket.customer_id.0),
    };
    peers::log_time(&ctx.peers, &body, projects_key).await.map_err(peer_rejection)
}

shared::sort_fields! {
    /// How a ticket's timesheets can be ordered: as projects orders its timesheets (the same
    /// fields as its `TimesheetSort`), which does the sorting and makes the cursors.
    pub enum TicketTimesheetSort {
        CreatedAt = "created_at": Time,
        UpdatedAt = "updated_at": Time,
        Date = "date": Date,
        Hours = "hours": Decimal,
    }
    default CreatedAt
}

/// A page of the ticket's timesheets, as projects sent it, in `sort`'s order. The cursor is
/// projects' own, passed on as given: projects refuses one it did not give, or gave under
/// another `sort` (a 422 naming `cursor`, passed on).
pub async fn list(
    ctx: &Ctx,
    caller: &Caller,
    id: TicketId,
    limit: i64,
    cursor: Option<&str>,
    sort: Sort<TicketTimesheetSort>,
) -> Result<serde_json::Value> {
    super::access::may_read_ticket_time(caller)?;
    tickets::load(ctx, id).await?;
    let cursor = cursor.filter(|c| !c.is_empty());
    peers::timesheet_page(&ctx.peers, id, limit, cursor, Some(&sort.name())).await.map_err(peer_rejection)
}

/// One timesheet of the ticket; 404 when it is not this ticket's.
pub async fn get(ctx: &Ctx, caller: &Caller, id: TicketId, timesheet: TimesheetId) -> Result<serde_json::Value> {
    super::access::may_read_ticket_time(caller)?;
    own(ctx, id, timesheet).await
}

async fn own(ctx: &Ctx, id: TicketId, timesheet: TimesheetId) -> Result<serde_json::Value> {
    tickets::load(ctx, id).await?;
    let sheet = peers::timesheet(&ctx.peers, timesheet).await?;
    match sheet {
        Some(s) if s.get("ticket_id").and_then(|t| t.as_str()) == Some(id.to_string().as_str()) => Ok(s),
        _ => Err(Error::not_found("timesheet of this ticket", timesheet)),
    }
}

/// Changes to time on a ticket; absent fields stay. What moves an entry elsewhere (its task,
/// ticket or line) is not here: a ticket's time follows the ticket.
#[derive(Debug, Clone, Default)]
pub struct TimeChanges {
    pub employee: Option<String>,
    pub hours: Option<Decimal>,
    pub date: Option<NaiveDate>,
    /// `Some(None)` clears it.
    pub description: Option<Option<String>>,
}

/// Changes a timesheet of the ticket in projects, under projects' rules (an invoiced entry is
/// a 409; `held`, the caller's `If-Match`, must still be its version); answers it as projects
/// sent it.
pub async fn edit(
    ctx: &Ctx,
    caller: &Caller,
    id: TicketId,
    timesheet: TimesheetId,
    changes: TimeChanges,
    held: Option<String>,
) -> Result<serde_json::Value> {
    super::access::may_work_tickets(caller)?;
    let mut checks = Checks::new();
    if let Some(e) = &changes.employee {
        check_text(&mut checks, "employee", e, 200);
    }
    if let Some(h) = changes.hours {
        check_decimal(&mut checks, "hours", h, true, Some(MAX_HOURS));
    }
    if let Some(d) = &changes.description {
        check_description(&mut checks, d.as_deref());
    }
    checks.finish()?;
    own(ctx, id, timesheet).await?;
    let mut body = serde_json::Map::new();
    if let Some(e) = changes.employee {
        body.insert("employee".into(), e.trim().into());
    }
    if let Some(h) = changes.hours {
        body.insert("hours".into(), h.to_string().into());
    }
    if let Some(d) = changes.date {
        body.insert("date".into(), d.to_string().into());
    }
    if let Some(d) = changes.description {
        body.insert("description".into(), d.into());
    }
    peers::edit_timesheet(&ctx.peers, timesheet, body.into(), held.as_deref()).await.map_err(|e| refused(e, timesheet))
}

/// Deletes a timesheet of the ticket in projects, under projects' rules.
pub async fn delete(
    ctx: &Ctx,
    caller: &Caller,
    id: TicketId,
    timesheet: TimesheetId,
    held: Option<String>,
) -> Result<()> {
    super::access::may_work_tickets(caller)?;
    own(ctx, id, timesheet).await?;
    peers::delete_timesheet(&ctx.peers, timesheet, held.as_deref()).await.map_err(|e| refused(e, timesheet))
}

/// Projects' refusal of a change to an entry, in this service's words: the same status and
/// code where the rule is the same.
fn refused(e: PeerError, timesheet: TimesheetId) -> Error {
    match e {
        PeerError::Rejected { status: 412, .. } => Error::PreconditionFailed,
        PeerError::Rejected { status: 404, .. } => Error::not_found("timesheet of this ticket", timesheet),
        PeerError::Rejected { status: 409, body, .. }
            if body.get("code").is_some_and(|c| c == "timesheet_invoiced") =>
        {
            let detail = body.get("detail").and_then(|d| d.as_str()).unwrap_or("the timesheet is invoiced");
            Error::conflict(Refusal::TimesheetInvoiced, detail)
        }
        other => peer_rejection(other),
    }
}
