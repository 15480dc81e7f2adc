use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use shared::auth::{Caller, Role};
use shared::contracts::{OrderLineView, TaskView};
use shared::db::DbConn;
use shared::decimal::check_decimal;
use shared::error::Precondition;
use shared::ids::{CustomerId, SaleLineId, TaskId, TeamId, TicketId};
use shared::page::{Key, ListRequest, Page};
use shared::server::Ctx;

use super::teams::{self, Team};
use super::{Checks, Error, Result, check_description, check_text};
use crate::peers::{self, PrepaidLine};
use crate::store;

/// Where a ticket stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    New,
    InProgress,
    Solved,
    Cancelled,
}

impl Stage {
    pub const ALL: [Stage; 4] = [Stage::New, Stage::InProgress, Stage::Solved, Stage::Cancelled];

    pub fn as_str(self) -> &'static str {
        match self {
            Stage::New => "new",
            Stage::InProgress => "in_progress",
            Stage::Solved => "solved",
            Stage::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// Parses a stage named in a request, recording a field error when it is not one.
    pub fn check(checks: &mut Checks, field: &str, s: &str) -> Option<Stage> {
        let stage = Stage::parse(s);
        if stage.is_none() {
            checks.push(field, "must be one of new, in_progress, solved, cancelled");
        }
        stage
    }
}

#[derive(Debug, Clone)]
pub struct Ticket {
    pub id: TicketId,
    /// 1, 2, … per database, gap-free.
    pub number: i64,
    pub team_id: TeamId,
    pub customer_id: CustomerId,
    pub title: String,
    pub description: Option<String>,
    pub stage: Stage,
    pub task_id: Option<TaskId>,
    /// The sale line the ticket's time counts on; none means not billable.
    pub sale_line_id: Option<SaleLineId>,
    /// Hours logged on the ticket, as projects last reported them.
    pub hours_spent: Decimal,
    pub created_at: DateTime<Utc>,
    /// When the ticket last changed (its hours spent included); its creation time until then.
    pub updated_at: DateTime<Utc>,
}

/// A ticket as answered: with its sale line's remaining hours, read from sales.
#[derive(Debug, Clone)]
pub struct Shown {
    pub ticket: Ticket,
    pub remaining_hours: Option<Decimal>,
}

#[derive(Debug, Clone)]
pub struct NewTicket {
    pub team_id: TeamId,
    /// `None`: the caller's own (a customer's token); required from anyone else.
    pub customer_id: Option<CustomerId>,
    pub title: String,
    pub description: Option<String>,
    pub stage: Option<String>,
    pub task_id: Option<TaskId>,
    pub sale_line_id: Option<SaleLineId>,
}

#[derive(Debug, Clone, Default)]
pub struct TicketChanges {
    pub team_id: Option<TeamId>,
    pub title: Option<String>,
    pub description: Option<Option<String>>,
    pub stage: Option<String>,
    pub task_id: Option<Option<TaskId>>,
    pub sale_line_id: Option<Option<SaleLineId>>,
}

#[derive(Debug, Clone, Default)]
pub struct TicketFilter {
    pub team_id: Option<TeamId>,
    pub customer_id: Option<CustomerId>,
    pub stage: Option<Stage>,
}

/// A task linked to a ticket must exist and serve the ticket's customer; the sale line it
/// brings, if any, must be a service line of a confirmed order of that customer.
async fn linked_task(ctx: &Ctx, id: TaskId, customer: CustomerId) -> Result<TaskView> {
    let task = peers::task(&ctx.peers, id).await?.ok_or_else(|| Error::unknown("task_id", "task", id.0))?;
    if task.customer_id != Some(customer.0) {
        let whose = task.customer_id.map_or("no customer".to_owned(), |c| format!("customer {c}"));
        return Err(Error::invalid(
            "task_id",
            format!("task {id} belongs to {whose}, not to the ticket's customer {customer}"),
        ));
    }
    if let Some(line) = task.sale_line_id {
        let view = peers::order_line(&ctx.peers, SaleLineId(line)).await?.ok_or_else(|| {
            Error::invalid("task_id", format!("task {id} is linked to sale line {line}, which sales does not know"))
        })?;
        if let Some(p) = line_problem(&view, customer) {
            return Err(Error::invalid("task_id", format!("task {id} is linked to a line that does not fit: {p}")));
        }
    }
    Ok(task)
}

/// What is wrong with a sale line for a ticket of `customer`, if anything: it must be a
/// service line of a confirmed order of that customer.
pub fn line_problem(line: &OrderLineView, customer: CustomerId) -> Option<String> {
    let id = line.id;
    if line.customer_id != customer.0 {
        Some(format!(
            "sale line {id} belongs to customer {}, not to the ticket's customer {customer}",
            line.customer_id
        ))
    } else if line.order_state != "sale" {
        Some(format!("sale line {id} is on an order in state {}, not a confirmed one", line.order_state))
    } else if line.product_type != "service" {
        Some(format!("sale line {id} sells {}, not a service", line.product_type))
    } else {
        None
    }
}

/// A sale line set directly: only on teams that reinvoice time, and only a service line of a
/// confirmed order of the ticket's customer. Answers the line's remaining hours.
async fn direct_line(ctx: &Ctx, team: &Team, id: SaleLineId, customer: CustomerId) -> Result<Option<Decimal>> {
    if !team.use_time_reinvoicing {
        return Err(Error::invalid("sale_line_id", "may be set only on tickets of a team with use_time_reinvoicing"));
    }
    let line =
        peers::order_line(&ctx.peers, id).await?.ok_or_else(|| Error::unknown("sale_line_id", "sale line", id.0))?;
    match line_problem(&line, customer) {
        Some(p) => Err(Error::invalid("sale_line_id", p)),
        None => Ok(line.remaining_hours.map(|h| h.0)),
    }
}

/// The oldest line (first bought, first used: the smallest order name, and within one order
/// the first listed) that still has hours left; none when every line is used up. Our rule,
/// where Odoo takes the last one.
pub fn oldest_with_hours(lines: Vec<PrepaidLine>) -> Option<PrepaidLine> {
    let mut lines: Vec<_> = lines.into_iter().filter(|l| l.remaining_hours.0 > Decimal::ZERO).collect();
    // Names are `S00001`, `S00002`, …; a longer name is a later order once the digits run over.
    lines.sort_by(|a, b| (a.order_name.len(), &a.order_name).cmp(&(b.order_name.len(), &b.order_name)));
    lines.into_iter().next()
}

/// The customer's oldest confirmed prepaid line with hours left, with its remaining hours.
async fn oldest_prepaid_line(ctx: &Ctx, customer: CustomerId) -> Result<Option<(SaleLineId, Decimal)>> {
    let prepaid = peers::prepaid_hours(&ctx.peers, customer)
        .await?
        .ok_or_else(|| Error::unknown("customer_id", "customer", customer.0))?;
    Ok(oldest_with_hours(prepaid.lines).map(|l| (l.sale_line_id, l.remaining_hours.0)))
}

/// A sale line's remaining hours, from sales; none for a line without (not prepaid, not in
/// hours) or one sales does not know.
async fn remaining_hours(ctx: &Ctx, line: Option<SaleLineId>) -> Result<Option<Decimal>> {
    let Some(line) = line else { return Ok(None) };
    Ok(peers::order_line(&ctx.peers, line).await?.and_then(|l| l.remaining_hours).map(|h| h.0))
}

/// After a write has happened the answer must not be a failure: if sales cannot say how many
/// hours remain, the answer says null and the log says why.
async fn remaining_after_write(ctx: &Ctx, line: Option<SaleLineId>) -> Option<Decimal> {
    match remaining_hours(ctx, line).await {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(error = %e, "remaining hours of the ticket's sale line unavailable");
            None
        }
    }
}

/// Moves a ticket's unbilled timesheets to its new sale line (and task, when that changed),
/// one `PATCH` each in projects. Each change is absolute, so a retry after a failure halfway
/// finishes the job. A timesheet billed meanwhile stays where it is.
async fn move_time(ctx: &Ctx, ticket: &Ticket, team: &Team, new_task: Option<Option<TaskId>>) -> Result<()> {
    let sheets = peers::ticket_timesheets(&ctx.peers, ticket.id).await?;
    for sheet in sheets.into_iter().filter(|s| s.invoice_id.is_none()) {
        let task_moves = new_task.is_some_and(|t| t != sheet.task_id);
        if !task_moves && sheet.sale_line_id == ticket.sale_line_id {
            continue;
        }
        let mut changes = serde_json::json!({ "sale_line_id": ticket.sale_line_id });
        if task_moves {
            changes["task_id"] = serde_json::json!(ticket.task_id);
            if ticket.task_id.is_none()
                && let Some(p) = team.project_id
            {
                changes["project_id"] = serde_json::json!(p);
            }
        }
        match peers::patch_timesheet(&ctx.peers, sheet.id, &changes).await {
            Ok(()) => {}
            Err(e) if e.rejected_status() == Some(409) => {
                tracing::info!(timesheet = %sheet.id, "timesheet billed meanwhile; it stays on its line");
            }
            Err(e) => return Err(super::peer_rejection(e)),
        }
    }
    Ok(())
}

fn find(conn: &mut DbConn, id: TicketId) -> Result<Ticket> {
    store::tickets::find(conn, id)?.ok_or_else(|| Error::not_found("ticket", id))
}

async fn team_of(ctx: &Ctx, field: &'static str, id: TeamId) -> Result<Team> {
    match teams::load(ctx, id).await {
        Err(Error::NotFound { .. }) => Err(Error::unknown(field, "team", id.0)),
        other => other,
    }
}

/// Opens a ticket. Its sale line comes from the line given (reinvoicing teams only), else
/// from its task, else, on a reinvoicing team, from the customer's oldest prepaid line with
/// hours left. Every peer is asked before anything is written.
/// Checks a new ticket and everything it links to (asking projects and sales), without writing
/// anything: [`open`] writes it, in the transaction that also keeps the request's answer.
pub async fn prepare(ctx: &Ctx, caller: &Caller, new: NewTicket) -> Result<Shown> {
    super::access::may_open_tickets(caller)?;
    let customer = match new.customer_id.or(caller.own_customer()) {
        Some(c) => c,
        None => {
            return Err(Error::invalid(
                "customer_id",
                "is required: the customer who asks (only a customer's own token may leave it out)",
            ));
        }
    };
    if caller.role == Role::Customer {
        // A customer opens tickets for itself only; another customer is as unknown to it as
        // one that does not exist.
        if !caller.sees(Some(customer)) {
            return Err(Error::unknown("customer_id", "customer", customer.0));
        }
        if new.task_id.is_some() || new.sale_line_id.is_some() || new.stage.is_some() {
            return Err(Error::Forbidden(
                "a customer opens a ticket with its team, title and description; the support team sets the rest".into(),
            ));
        }
    }
    let mut checks = Checks::new();
    check_text(&mut checks, "title", &new.title, 300);
    check_description(&mut checks, new.description.as_deref());
    let stage = match &new.stage {
        Some(s) => Stage::check(&mut checks, "stage", s),
        None => Some(Stage::New),
    };
    checks.finish()?;
    let team = team_of(ctx, "team_id", new.team_id).await?;
    let mut line = None;
    let mut remaining = None;
    if let Some(task) = new.task_id {
        line = linked_task(ctx, task, customer).await?.sale_line_id.map(SaleLineId);
    }
    if let Some(l) = new.sale_line_id {
        remaining = Some(direct_line(ctx, &team, l, customer).await?);
        line = Some(l);
    } else if new.task_id.is_none()
        && team.use_time_reinvoicing
        && let Some((l, hours)) = oldest_prepaid_line(ctx, customer).await?
    {
        line = Some(l);
        remaining = Some(Some(hours));
    }
    let now = shared::db::now_utc();
    let ticket = Ticket {
        id: TicketId::new(),
        number: 0,
        team_id: team.id,
        customer_id: customer,
        title: new.title.trim().to_owned(),
        description: new.description,
        stage: stage.unwrap_or(Stage::New),
        task_id: new.task_id,
        sale_line_id: line,
        hours_spent: Decimal::ZERO,
        created_at: now,
        updated_at: now,
    };
    let remaining_hours = match remaining {
        Some(r) => r,
        None => remaining_after_write(ctx, ticket.sale_line_id).await,
    };
    Ok(Shown { ticket, remaining_hours })
}

/// Writes a prepared ticket with its number, in the caller's transaction.
pub fn open(conn: &mut DbConn, mut shown: Shown) -> Result<Shown> {
    shown.ticket.number = store::tickets::take_number(conn, "ticket")?;
    store::tickets::insert(conn, &shown.ticket)?;
    Ok(shown)
}

/// Changes a ticket. A new task brings its sale line; a new line (from a task or set
/// directly) takes the ticket's unbilled timesheets along, in projects, before the ticket
/// itself is written.
pub async fn update(
    ctx: &Ctx,
    caller: &Caller,
    id: TicketId,
    changes: TicketChanges,
    expected: Precondition<Shown>,
) -> Result<Shown> {
    super::access::may_work_tickets(caller)?;
    let mut ticket = ctx.db.run(move |c| find(c, id)).await?;
    // The caller's version is the ticket as answered, its line's remaining hours included.
    let held = if expected.is_set() { remaining_hours(ctx, ticket.sale_line_id).await? } else { None };
    expected.check(&Shown { ticket: ticket.clone(), remaining_hours: held })?;
    let mut checks = Checks::new();
    if let Some(t) = &changes.title {
        check_text(&mut checks, "title", t, 300);
    }
    if let Some(Some(d)) = &changes.description {
        check_description(&mut checks, Some(d));
    }
    let stage = changes.stage.as_deref().and_then(|s| Stage::check(&mut checks, "stage", s));
    checks.finish()?;
    let team = match changes.team_id {
        Some(t) => team_of(ctx, "team_id", t).await?,
        None => teams::load(ctx, ticket.team_id).await?,
    };
    let (old_task, old_line) = (ticket.task_id, ticket.sale_line_id);
    let mut remaining = None;
    if let Some(task) = changes.task_id.filter(|t| *t != old_task) {
        ticket.task_id = task;
        if let Some(t) = task {
            ticket.sale_line_id = linked_task(ctx, t, ticket.customer_id).await?.sale_line_id.map(SaleLineId);
        }
    }
    match changes.sale_line_id {
        Some(Some(l)) if Some(l) != old_line => {
            remaining = Some(direct_line(ctx, &team, l, ticket.customer_id).await?);
            ticket.sale_line_id = Some(l);
        }
        Some(l) => ticket.sale_line_id = l,
        None => {}
    }
    let task_changed = ticket.task_id != old_task;
    let moves_time = task_changed || ticket.sale_line_id != old_line;
    if moves_time {
        move_time(ctx, &ticket, &team, task_changed.then_some(ticket.task_id)).await?;
    }
    ticket.team_id = team.id;
    if let Some(t) = changes.title {
        ticket.title = t.trim().to_owned();
    }
    if let Some(d) = changes.description {
        ticket.description = d;
    }
    if let Some(s) = stage {
        ticket.stage = s;
    }
    let ticket = ctx
        .db
        .write(move |c| {
            expected.lock(c, "tickets", id.0)?;
            let current = find(c, id)?;
            // Checked again with the row locked, unless time already moved in projects: then
            // the check above stands, as failing now would leave that move half done.
            if !moves_time {
                expected.check(&Shown { ticket: current, remaining_hours: held })?;
            }
            let ticket = Ticket { updated_at: shared::db::now_utc(), ..ticket };
            store::tickets::update(c, &ticket)?;
            find(c, id)
        })
        .await?;
    let remaining_hours = match remaining {
        Some(r) => r,
        None => remaining_after_write(ctx, ticket.sale_line_id).await,
    };
    Ok(Shown { ticket, remaining_hours })
}

/// A ticket, for the use cases that already checked their caller.
pub async fn load(ctx: &Ctx, id: TicketId) -> Result<Ticket> {
    ctx.db.run(move |c| find(c, id)).await
}

/// A ticket and its team, with one trip to the store.
pub async fn load_with_team(ctx: &Ctx, id: TicketId) -> Result<(Ticket, super::teams::Team)> {
    ctx.db.run(move |c| store::tickets::find_with_team(c, id)?.ok_or_else(|| Error::not_found("ticket", id))).await
}

/// A ticket with its line's remaining hours; 503 when sales cannot say. A `customer` caller
/// sees only its own (404 for any other).
pub async fn get(ctx: &Ctx, caller: &Caller, id: TicketId) -> Result<Shown> {
    super::access::may_read_tickets(caller)?;
    let ticket = load(ctx, id).await?;
    caller.must_see(ticket.customer_id, "ticket", id)?;
    let remaining_hours = remaining_hours(ctx, ticket.sale_line_id).await?;
    Ok(Shown { ticket, remaining_hours })
}

shared::sort_fields! {
    /// How the ticket list can be ordered.
    pub enum TicketSort {
        CreatedAt = "created_at": Time,
        UpdatedAt = "updated_at": Time,
        Number = "number": Integer,
    }
    default CreatedAt
}

impl TicketSort {
    pub fn key(self, t: &Ticket) -> Key {
        match self {
            TicketSort::CreatedAt => Key::Time(t.created_at.naive_utc()),
            TicketSort::UpdatedAt => Key::Time(t.updated_at.naive_utc()),
            TicketSort::Number => Key::Integer(t.number),
        }
    }
}

/// A page of tickets, in the asked order (newest first by default); each distinct sale line
/// is read from sales once. A `customer` caller lists only its own tickets.
pub async fn list(
    ctx: &Ctx,
    caller: &Caller,
    filter: TicketFilter,
    req: ListRequest<TicketSort>,
) -> Result<Page<Shown>> {
    super::access::may_read_tickets(caller)?;
    let Some(customer_id) = caller.list_scope(filter.customer_id) else {
        return Ok(Page { items: vec![], next_cursor: None });
    };
    let filter = TicketFilter { customer_id, ..filter };
    let asked = req.clone();
    let rows = ctx.db.run(move |c| Ok::<_, Error>(store::tickets::list(c, &filter, &asked)?)).await?;
    let lines: BTreeSet<SaleLineId> = rows.iter().filter_map(|t| t.sale_line_id).collect();
    let answers = futures_util::future::join_all(lines.iter().map(|l| remaining_hours(ctx, Some(*l)))).await;
    let mut remaining = HashMap::new();
    for (line, answer) in lines.into_iter().zip(answers) {
        remaining.insert(line, answer?);
    }
    Ok(req.page(
        rows,
        |t| (req.sort.field.key(t), t.id.0),
        |ticket| Shown {
            remaining_hours: ticket.sale_line_id.and_then(|l| remaining.get(&l).copied().flatten()),
            ticket,
        },
    ))
}

/// Stores the ticket's total hours reported by projects, if newer than what is held;
/// answers whether it was applied and the version now held.
pub async fn apply_total(
    ctx: &Ctx,
    caller: &Caller,
    id: TicketId,
    hours: Decimal,
    version: i64,
) -> Result<(bool, i64)> {
    super::access::may_report_totals(caller)?;
    let mut checks = Checks::new();
    check_decimal(&mut checks, "hours", hours, false, None);
    checks.check(version >= 0, "version", "must not be negative");
    checks.finish()?;
    ctx.db
        .write(move |c| {
            if store::tickets::apply_total(c, id, hours, version)? {
                return Ok((true, version));
            }
            match store::tickets::total_version(c, id)? {
                Some(held) => Ok((false, held)),
                None => Err(Error::not_found("ticket", id)),
            }
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;
    use shared::Dec2;
    use uuid::Uuid;

    fn prepaid(order: &str, hours: Decimal) -> PrepaidLine {
        PrepaidLine { sale_line_id: SaleLineId::new(), order_name: order.into(), remaining_hours: Dec2(hours) }
    }

    #[test]
    fn a_new_ticket_takes_the_oldest_line_with_hours_left() {
        let used_up = prepaid("S00001", dec!(0));
        let overrun = prepaid("S00002", dec!(-1.5));
        let oldest = prepaid("S00003", dec!(0.25));
        let same_order_later = prepaid("S00003", dec!(10));
        let newer = prepaid("S00010", dec!(40));
        let much_later = prepaid("S100000", dec!(5));
        let lines = vec![much_later, newer, used_up, overrun, oldest.clone(), same_order_later];
        assert_eq!(oldest_with_hours(lines).map(|l| l.sale_line_id), Some(oldest.sale_line_id));
        assert!(oldest_with_hours(vec![prepaid("S00001", dec!(0))]).is_none());
        assert!(oldest_with_hours(vec![]).is_none());
    }

    fn line(customer: Uuid, state: &str, kind: &str) -> OrderLineView {
        OrderLineView {
            id: Uuid::now_v7(),
            order_id: Uuid::now_v7(),
            customer_id: customer,
            order_state: state.into(),
            product_type: kind.into(),
            remaining_hours: None,
            task_id: None,
            project_id: None,
        }
    }

    #[test]
    fn a_line_must_be_a_confirmed_service_line_of_the_ticket_customer() {
        let customer = CustomerId::new();
        assert_eq!(line_problem(&line(customer.0, "sale", "service"), customer), None);
        assert!(
            line_problem(&line(Uuid::now_v7(), "sale", "service"), customer).is_some_and(|p| p.contains("customer"))
        );
        assert!(line_problem(&line(customer.0, "draft", "service"), customer).is_some_and(|p| p.contains("draft")));
        assert!(line_problem(&line(customer.0, "cancel", "service"), customer).is_some());
        assert!(line_problem(&line(customer.0, "sale", "goods"), customer).is_some_and(|p| p.contains("goods")));
    }

    #[test]
    fn stages_read_and_write_the_contract_names() {
        for s in Stage::ALL {
            assert_eq!(Stage::parse(s.as_str()), Some(s));
        }
        assert_eq!(Stage::parse("open"), None);
    }
}
