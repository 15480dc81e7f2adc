//! Time on tickets. It is not kept here: each entry becomes a timesheet in projects, created
//! synchronously, so that when projects is down the caller is told (503) and nothing is
//! recorded anywhere, rather than time being lost silently.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use shared::Dec2;
use shared::auth::Caller;
use shared::contracts::NewTimesheet;
use shared::decimal::check_decimal;
use shared::ids::{TicketId, TimesheetId};
use shared::page::PageRequest;
use shared::server::Ctx;
use uuid::Uuid;

use super::{Checks, Error, Result, check_description, check_text, peer_rejection, tickets};
use crate::peers;

/// Most hours one entry may hold: one day (as projects holds too).
pub const MAX_HOURS: Decimal = Decimal::from_parts(24, 0, 0, false, 0);

/// Longest `Idempotency-Key` a peer accepts.
const MAX_KEY: usize = 255;

#[derive(Debug, Clone)]
pub struct LogTime {
    pub employee: String,
    pub hours: Decimal,
    pub date: Option<NaiveDate>,
    pub description: Option<String>,
}

/// The key projects sees: the caller's, scoped to the ticket (so one key on two tickets is
/// two entries). Without one there is none: the call is never retried with the same key, so a
/// fresh key would only cost projects two more write transactions per entry (BENCHMARKS.md).
fn projects_key(ticket: TicketId, caller_key: Option<&str>) -> Option<String> {
    match caller_key {
        Some(k) if ticket.to_string().len() + 1 + k.len() <= MAX_KEY => Some(format!("{ticket}:{k}")),
        Some(k) => Some(format!("{ticket}:{}", Uuid::new_v5(&ticket.0, k.as_bytes()))),
        None => None,
    }
}

/// Records time on a ticket as a timesheet in projects, on the ticket's task (or the team's
/// project) and sale line; answers the timesheet as projects sent it.
pub async fn log(
    ctx: &Ctx,
    caller: &Caller,
    id: TicketId,
    cmd: LogTime,
    caller_key: Option<&str>,
) -> Result<serde_json::Value> {
    super::access::may_work_tickets(caller)?;
    let (ticket, team) = tickets::load_with_team(ctx, id).await?;
    if !team.use_timesheets {
        return Err(Error::conflict(
            "timesheets_disabled",
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
                "team_without_project",
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
    };
    peers::log_time(&ctx.peers, &body, projects_key(id, caller_key).as_deref()).await.map_err(peer_rejection)
}

/// A page of the ticket's timesheets, as projects sent it.
pub async fn list(ctx: &Ctx, caller: &Caller, id: TicketId, page: PageRequest) -> Result<serde_json::Value> {
    super::access::may_read_ticket_time(caller)?;
    tickets::load(ctx, id).await?;
    let cursor = page.before.map(|c| c.to_string());
    peers::timesheet_page(&ctx.peers, id, page.limit, cursor.as_deref()).await.map_err(peer_rejection)
}

/// One timesheet of the ticket; 404 when it is not this ticket's.
pub async fn get(ctx: &Ctx, caller: &Caller, id: TicketId, timesheet: TimesheetId) -> Result<serde_json::Value> {
    super::access::may_read_ticket_time(caller)?;
    tickets::load(ctx, id).await?;
    let sheet = peers::timesheet(&ctx.peers, timesheet).await?;
    match sheet {
        Some(s) if s.get("ticket_id").and_then(|t| t.as_str()) == Some(id.to_string().as_str()) => Ok(s),
        _ => Err(Error::not_found("timesheet of this ticket", timesheet)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_sent_to_projects_is_scoped_to_the_ticket_and_never_too_long() {
        let (a, b) = (TicketId::new(), TicketId::new());
        assert_eq!(projects_key(a, Some("k1")), Some(format!("{a}:k1")));
        assert_ne!(projects_key(a, Some("k1")), projects_key(b, Some("k1")));
        let long = "x".repeat(255);
        let key = projects_key(a, Some(&long));
        assert!(key.as_ref().is_some_and(|k| k.len() <= MAX_KEY));
        assert_eq!(key, projects_key(a, Some(&long)), "the same caller key maps to the same key");
        assert_eq!(projects_key(a, None), None, "no caller key, no key: nothing would ever repeat it");
    }
}
